#!/usr/bin/env bash
# How long installing from the offline bundle takes (make bench-offline): the
# bundle for this machine's architecture is built (or found up to date), then
# a fresh box with no network at all is provisioned from it by site.yml, and
# provisioned again. Prints the bundle's size and both times; removes the box.
set -euo pipefail
cd "$(dirname "$0")/.."
arch=$(dpkg --print-architecture)
release=trixie  # the demo box's release (scripts/demo.sh)
.venv/bin/ansible-playbook playbooks/bundle.yml \
  -e "packages_bundle_arch=$arch" -e "packages_bundle_release=$release" >/dev/null
bundle=$PWD/bundles/classbox-bundle-$release-$arch.tar
export BOX_NAME=classbox-offline-bench BOX_NETWORK=none BOX_STATE_DIR=.demo-offline-bench
log=$(mktemp)
trap 'scripts/demo.sh down >/dev/null; rm -f "$log"' EXIT
scripts/demo.sh down >/dev/null
for run in first second; do
  start=$(date +%s)
  scripts/demo.sh up -e "packages_bundle=$bundle" -e network_interface=lo >"$log" 2>&1 \
    || { tail -40 "$log"; exit 1; }
  printf '%-6s run: %4d s   %s\n' "$run" $(( $(date +%s) - start )) \
    "$(grep -E '^demo-box +:' "$log" | sed 's/  */ /g')"
done
printf 'bundle: %s, %s bytes, %s files\n' "$bundle" "$(stat -c %s "$bundle")" \
  "$(tar -tf "$bundle" | grep -vc '/$')"
