#!/usr/bin/env bash
# Make this machine a control node for the classroom box: Debian packages
# (Docker engine, mmdebstrap, Chromium), a running Docker engine, the base
# image of the demo/test box, and the control venv (.venv); with --tests also
# the venv of the unit tests (.venv-hub); with --pi the emulator (qemu-user
# with binfmt) and the arm64 base image of the Raspberry Pi scenario. Safe to
# run again: each step is skipped when already done. --packages-only installs
# the Debian packages (with --pi, registers the emulator too) and stops (how scripts/check-fresh-setup.sh tries it on
# a Debian 12 with nothing installed).
set -euo pipefail
cd "$(dirname "$0")/.."
tests=false pi=false packages_only=false
for option in "$@"; do
  case $option in
    --tests) tests=true ;;
    --pi) pi=true ;;
    --packages-only) packages_only=true ;;  # stop before the Docker engine (scripts/check-fresh-setup.sh)
    *) echo "usage: $0 [--tests] [--pi] [--packages-only]" >&2; exit 2 ;;
  esac
done

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Every program a path runs, with the Debian package that brings it. Packages
# are installed without their recommendations, so each program a script or a
# tool calls is listed here, not left to a recommendation (mmdebstrap needs
# arch-test for a foreign architecture, and only recommends it).
needs=(
  dockerd:docker.io
  mmdebstrap:mmdebstrap
  /usr/share/keyrings/debian-archive-keyring.gpg:debian-archive-keyring
  make:make
  git:git
)
$tests && needs+=(chromium:chromium)
$pi && needs+=(
  arch-test:arch-test
  qemu-aarch64-static:qemu-user-static
  update-binfmts:binfmt-support
)

missing() {  # the packages whose program is not on this machine
  local need program
  for need in "${needs[@]}"; do
    program=${need%%:*}
    if [[ $program == /* ]]; then [ -e "$program" ] && continue
    else command -v "$program" >/dev/null && continue; fi
    echo "${need#*:}"
  done
  python3 -c 'import ensurepip, venv' 2>/dev/null || echo python3-venv
}

mapfile -t need_debs < <(missing)
if [ ${#need_debs[@]} -gt 0 ]; then
  echo "==> Installing Debian packages: ${need_debs[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need_debs[@]}"
  mapfile -t need_debs < <(missing)
  if [ ${#need_debs[@]} -gt 0 ]; then
    echo "Installed, yet their programs are still missing: ${need_debs[*]}" >&2
    exit 1
  fi
fi
if $pi && [ "$(dpkg --print-architecture)" != arm64 ]; then
  # arm64 programs run through qemu; 'F' in the registration lets containers use it too.
  mountpoint -q /proc/sys/fs/binfmt_misc || as_root mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || as_root update-binfmts --enable qemu-aarch64
  grep -q '^flags: .*F' /proc/sys/fs/binfmt_misc/qemu-aarch64 \
    || { echo "qemu-aarch64 is registered without the F flag: containers cannot use it" >&2; exit 1; }
fi
$packages_only && exit 0

if ! as_root docker info >/dev/null 2>&1; then
  echo "==> Starting the Docker engine"
  if [ -d /run/systemd/system ]; then
    as_root systemctl start docker
  else
    # Only stdin/out/err go with it: a file the caller holds open (a flock
    # around `make test`) would otherwise stay held as long as dockerd runs.
    as_root bash -c 'for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
                     nohup dockerd >/var/log/dockerd.log 2>&1 </dev/null &'
  fi
  for _ in $(seq 60); do as_root docker info >/dev/null 2>&1 && break; sleep 1; done
  as_root docker info >/dev/null 2>&1 || { echo "The Docker engine did not start; see /var/log/dockerd.log" >&2; exit 1; }
fi

scripts/build-image.sh
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
  "$dir/bin/pip" install -q --no-input -r "$pins"
  # after the pins: a hashed lock takes no unhashed extra in the same call
  if [ $# -gt 0 ]; then "$dir/bin/pip" install -q --no-input "$@"; fi
  echo "$want" > "$stamp"
}
# This checkout's classbox package, editable: the tests and `python -m
# classbox.<tool>` import it like any installed package.
install_classbox() {  # install_classbox DIR
  [ "$("$1/bin/python" -I -c 'import classbox; print(classbox.__file__)' 2>/dev/null)" = "$PWD/classbox/__init__.py" ] && return
  # flit_core from the pins (no build isolation: nothing unpinned is fetched)
  "$1/bin/pip" install -q --no-input --no-deps --no-build-isolation -e "$PWD"
}
make_venv .venv requirements-control.txt
install_classbox .venv
$tests || exit 0
# The unit tests run against the hub's own pinned stack, plus pytest.
# onetimepass comes as the repository's own wheel, as on the box.
PIP_FIND_LINKS=$PWD/roles/jupyterhub/files/wheels \
  make_venv .venv-hub roles/jupyterhub/files/requirements.txt \
  "$(grep -E '^pytest==' requirements-control.txt)"
install_classbox .venv-hub
