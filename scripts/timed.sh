#!/usr/bin/env bash
# timed.sh NAME COMMAND...: run COMMAND, then say how long NAME took (CI's log
# shows each scenario's time this way), and exit as COMMAND did. With TIMINGS
# set (.ci/run), the same line is added to that file too.
name=$1; shift
start=$(date +%s)
status=0
"$@" || status=$?
line="$name took $(( $(date +%s) - start )) s (exit $status)"
echo "==> $line"
if [ -n "${TIMINGS:-}" ]; then echo "$line" >> "$TIMINGS"; fi
exit $status
