#!/usr/bin/env bash
# Lock the controller's and the test machine's Python packages:
#   requirements-control.in -> requirements-control.txt (the teacher's laptop)
#   requirements-test.in    -> requirements-test.txt    (the test tools, with the
#                                                        control lock as constraint)
# One resolution for every platform and every Python from 3.11 (--universal):
# the laptop may be macOS or any Linux. Every file of each pinned version has
# its hash, and pip installs with them. Versions already in a lock are kept;
# UPGRADE=--upgrade (or --upgrade-package NAME) moves them. Needs PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
lock() {  # lock IN OUT [uv options...]
  local in=$1 out=$2; shift 2
  # shellcheck disable=SC2086  # UPGRADE may be two words (--upgrade-package NAME)
  uv pip compile "$in" --output-file "$out" --universal --python-version 3.11 \
    --generate-hashes --index-url https://pypi.org/simple --no-config \
    --custom-compile-command scripts/control-pins.sh --quiet ${UPGRADE:-} "$@"
}
lock requirements-control.in requirements-control.txt
lock requirements-test.in requirements-test.txt --constraint requirements-control.txt
