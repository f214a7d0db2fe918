#!/usr/bin/env bash
# Make this machine a control node for the classroom box: Debian packages
# (Docker engine, mmdebstrap, Chromium), a running Docker engine, the base
# image of the demo/test box, and the control venv (.venv); with --tests also
# the venv of the unit tests (.venv-hub); with --pi the emulator (qemu-user
# with binfmt) and the arm64 base image of the Raspberry Pi scenario. Safe to
# run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
tests=false pi=false
for option in "$@"; do
  case $option in
    --tests) tests=true ;;
    --pi) pi=true ;;
    *) echo "usage: $0 [--tests] [--pi]" >&2; exit 2 ;;
  esac
done

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

need_debs=()
command -v dockerd >/dev/null || need_debs+=(docker.io)
command -v mmdebstrap >/dev/null || need_debs+=(mmdebstrap)
command -v chromium >/dev/null || need_debs+=(chromium)
if $pi; then
  [ -e /usr/libexec/qemu-binfmt/aarch64-binfmt-P ] || need_debs+=(qemu-user-static)
  command -v update-binfmts >/dev/null || need_debs+=(binfmt-support)
fi
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
if $pi && [ "$(dpkg --print-architecture)" != arm64 ]; then
  # arm64 programs run through qemu; 'F' in the registration lets containers use it too.
  mountpoint -q /proc/sys/fs/binfmt_misc || as_root mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || as_root update-binfmts --enable qemu-aarch64
  grep -q '^flags: .*F' /proc/sys/fs/binfmt_misc/qemu-aarch64 \
    || { echo "qemu-aarch64 is registered without the F flag: containers cannot use it" >&2; exit 1; }
fi
if $pi; then
  BOX_ARCH=arm64 BOX_IMAGE=classbox/debian12-systemd:bookworm-arm64 scripts/build-image.sh
fi

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
$tests || exit 0
# The unit tests run against the hub's own pinned stack, plus pytest.
make_venv .venv-hub roles/jupyterhub/files/requirements.txt \
  "$(grep -E '^pytest==' requirements-control.txt)"
