#!/usr/bin/env bash
# Make this machine a control node for the classroom box: Debian packages
# (Docker engine, mmdebstrap, Chromium), a running Docker engine, the base
# image of the demo/test box, and the control venv (.venv); with --tests also
# the venv of the unit tests (.venv-hub). Safe to run again: each step is
# skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

need_debs=()
command -v dockerd >/dev/null || need_debs+=(docker.io)
command -v mmdebstrap >/dev/null || need_debs+=(mmdebstrap)
command -v chromium >/dev/null || need_debs+=(chromium)
python3 -c 'import ensurepip, venv' 2>/dev/null || need_debs+=(python3-venv)
if [ ${#need_debs[@]} -gt 0 ]; then
  echo "==> Installing Debian packages: ${need_debs[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need_debs[@]}"
fi

if ! as_root docker info >/dev/null 2>&1; then
  echo "==> Starting the Docker engine"
  if [ -d /run/systemd/system ]; then
    as_root systemctl start docker
  else
    as_root sh -c 'nohup dockerd >/var/log/dockerd.log 2>&1 &'
  fi
  for _ in $(seq 60); do as_root docker info >/dev/null 2>&1 && break; sleep 1; done
  as_root docker info >/dev/null 2>&1 || { echo "The Docker engine did not start; see /var/log/dockerd.log" >&2; exit 1; }
fi

scripts/build-image.sh

# A venv is rebuilt when its pin file changes.
make_venv() {  # make_venv DIR PINFILE [EXTRA PIP ARGS...]
  local dir=$1 pins=$2; shift 2
  local stamp="$dir/.pins.sha256" want
  want=$({ cat "$pins"; echo "$*"; } | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
  echo "==> Creating $dir from $pins"
  rm -rf "$dir"
  python3 -m venv "$dir"
  "$dir/bin/pip" install -q --no-input -r "$pins" "$@"
  echo "$want" > "$stamp"
}
make_venv .venv requirements-control.txt
[ "${1:-}" = "--tests" ] || exit 0
# The unit tests run against the hub's own pinned stack, plus pytest.
make_venv .venv-hub roles/jupyterhub/files/requirements.txt \
  "$(grep -E '^pytest==' requirements-control.txt)"
