#!/usr/bin/env bash
# timed.sh NAME COMMAND...: run COMMAND, then say how long NAME took (CI's log
# shows each scenario's time this way), and exit as COMMAND did.
name=$1; shift
start=$(date +%s)
status=0
"$@" || status=$?
echo "==> $name took $(( $(date +%s) - start )) s (exit $status)"
exit $status
