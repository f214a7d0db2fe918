#!/usr/bin/env bash
# Make this machine a control node for the classroom box: Debian packages
# (Docker engine, mmdebstrap, Chromium), a running Docker engine, the base
# images of the demo/test boxes, and the control venv (.venv); with --tests
# also the venv of the unit tests (.venv-hub) and the Debian 12 image; with
# --pi the emulator (qemu-user with binfmt) and the arm64 base image of the
# Raspberry Pi scenario. Safe to run again: each step is skipped when already
# done. --packages-only installs the Debian packages (with --pi, registers the
# emulator too) and stops (how scripts/check-fresh-setup.sh tries it on a
# Debian 12 with nothing installed).
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
$pi && needs+=(arch-test:arch-test)

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
  # arm64 programs run through qemu-user. Version 10 at least: Debian 12's 7.2
  # runs Debian 13's programs about three times slower (Python 3.13 takes 2.4 s
  # to import asyncio under 7.2, 0.9 s under 10.0). Debian 12 has it in its
  # backports; Debian 13 in its release.
  qemu_major=$(qemu-aarch64 --version 2>/dev/null | sed -n 's/^qemu-aarch64 version \([0-9]*\)\..*/\1/p' || true)
  if [ "${qemu_major:-0}" -lt 10 ]; then
    echo "==> Installing qemu-user 10 (found: ${qemu_major:-none})"
    from=()
    if [ "$(. /etc/os-release && echo "$VERSION_CODENAME")" = bookworm ]; then
      printf '%s\n' 'Types: deb' 'URIs: http://deb.debian.org/debian' 'Suites: bookworm-backports' \
        'Components: main' 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' \
        | as_root tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null
      from=(-t bookworm-backports)
    fi
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${from[@]}" qemu-user qemu-user-binfmt
  fi
  # The kernel hands arm64 programs to qemu once registered; the 'F' flag
  # (in qemu's own registration) lets containers use it too. systemd registers
  # it at boot; a machine without systemd, here.
  mountpoint -q /proc/sys/fs/binfmt_misc || as_root mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] \
    || as_root sh -c 'cat /usr/lib/binfmt.d/qemu-aarch64.conf > /proc/sys/fs/binfmt_misc/register'
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

# The boxes' base images (scripts/build-image.sh): Debian 13 for the demo and
# the tests; with --tests Debian 12 too (the upgrade scenario's box, and
# check-fresh-setup's machine with nothing installed); with --pi both for
# the Raspberry Pi's arm64 (a whole box on Debian 12; Debian 13's systemd does
# not start its services under qemu-user: molecule/pi-trixie/molecule.yml).
host_arch=$(dpkg --print-architecture)
BOX_RELEASE=trixie BOX_ARCH=$host_arch scripts/build-image.sh
if $tests; then BOX_RELEASE=bookworm BOX_ARCH=$host_arch scripts/build-image.sh; fi
if $pi; then
  BOX_RELEASE=bookworm BOX_ARCH=arm64 scripts/build-image.sh
  BOX_RELEASE=trixie BOX_ARCH=arm64 scripts/build-image.sh
fi

# A venv is made again when one of its pin files changes. Its stamp holds one
# sha256 per pin file: scripts/setup-control.sh (the teacher's laptop, control
# pins only) finds its line in the stamp of a .venv made here too.
make_venv() {  # make_venv DIR PINFILE...: hashed locks, installed in one call
  local dir=$1; shift
  local stamp="$dir/.pins.sha256" want pins args=()
  want=$(for pins in "$@"; do sha256sum < "$pins" | cut -d' ' -f1; done)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$dir/bin/python" -c '' 2>/dev/null; then return; fi
  echo "==> Creating $dir from $*"
  rm -rf "$dir"
  python3 -m venv "$dir"
  for pins in "$@"; do args+=(-r "$pins"); done
  "$dir/bin/pip" install -q --no-input --require-hashes "${args[@]}"
  echo "$want" > "$stamp"
}
# This checkout's classbox package, editable: the tests and `python -m
# classbox.<tool>` import it like any installed package.
install_classbox() {  # install_classbox DIR
  [ "$("$1/bin/python" -I -c 'import classbox; print(classbox.__file__)' 2>/dev/null)" = "$PWD/classbox/__init__.py" ] && return
  # flit_core from the pins (no build isolation: nothing unpinned is fetched)
  "$1/bin/pip" install -q --no-input --no-deps --no-build-isolation -e "$PWD"
}
# The controller's pins and the test tools (which keep the same versions).
make_venv .venv requirements-control.txt requirements-test.txt
install_classbox .venv
$tests || exit 0
# The unit tests run against the hub's own pinned stack for this machine's
# Python (the box's lock of the same Python), plus pytest and what it needs
# beyond that stack, hashes and all, from the test lock. onetimepass comes as
# the repository's own wheel, as on the box.
python=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
hub_lock=roles/jupyterhub/files/requirements-python$python.txt
if [ ! -f "$hub_lock" ]; then
  echo "No lock of the hub's packages for this machine's Python $python ($hub_lock):" \
    "the unit tests need Python 3.11 or 3.13, the boxes' (Debian 12 or 13)" >&2
  exit 1
fi
pytest_pins=$(mktemp)
trap 'rm -f "$pytest_pins"' EXIT
awk '/^[^ #]/ { keep = $1 ~ /^(pytest|iniconfig|pluggy)==/ } keep' requirements-test.txt > "$pytest_pins"
PIP_FIND_LINKS=$PWD/roles/jupyterhub/files/wheels make_venv .venv-hub "$hub_lock" "$pytest_pins"
install_classbox .venv-hub
