#!/usr/bin/env bash
# Does scripts/setup-host.sh install everything its paths run on a machine
# that has never run it (as CI's machine is)? In a fresh Debian 12 container
# (the base image: minbase, nothing of ours installed) it installs the Debian
# packages of every path (--tests --pi) and registers the emulator, then the
# programs the paths run are started, mmdebstrap for arm64 included:
# mmdebstrap refuses a foreign architecture without arch-test, which it only
# recommends, and Debian 12's archive keyring must verify Debian 13's archive;
# qemu-user comes from Debian 12's backports (version 10).
#   scripts/check-fresh-setup.sh [SETUP_SCRIPT]   (default: this checkout's)
set -euo pipefail
cd "$(dirname "$0")/.."
SETUP=$(realpath "${1:-scripts/setup-host.sh}")
IMAGE=${BOX_IMAGE:-classbox/debian-systemd:bookworm}

# SYS_ADMIN: setup-host.sh mounts binfmt_misc to register the arm64 emulator.
docker run --rm -i --cap-add SYS_ADMIN --security-opt apparmor=unconfined \
  -v "$SETUP:/setup-host.sh:ro" --entrypoint /bin/bash "$IMAGE" -s <<'EOF'
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends python3-minimal >/dev/null
# setup-host.sh looks for scripts/ beside it; it stops after the packages.
mkdir -p /repo/scripts && cp /setup-host.sh /repo/scripts/setup-host.sh
/repo/scripts/setup-host.sh --packages-only --tests --pi | tail -n 1
# each path's programs start
dockerd --version
qemu-aarch64 --version | head -n 1
chromium --version 2>/dev/null
python3 -m venv /tmp/venv-check
# what mmdebstrap checks before it builds the images, without building them:
# the Pi's (arm64), and Debian 13's (apt verifies trixie's signed package
# lists with this Debian 12's keyring)
mmdebstrap --simulate --variant=minbase --architectures=arm64 bookworm /dev/null 2>&1 | tail -n 1
mmdebstrap --simulate --variant=minbase trixie /dev/null 2>&1 | tail -n 1
echo "fresh setup: every program of every path is there"
EOF
