#!/usr/bin/env bash
# Build the base image of the demo and test boxes: a minimal Debian 12 with
# systemd, made locally with mmdebstrap (no image registry is needed).
# It carries this machine's CA bundle so that the box can reach Debian and
# PyPI through the same TLS inspection as the host; the roles do not rely on it.
set -euo pipefail
IMAGE=${BOX_IMAGE:-classbox/debian12-systemd:bookworm}
ARCH=${BOX_ARCH:-$(dpkg --print-architecture)}

if docker image inspect "$IMAGE" >/dev/null 2>&1; then exit 0; fi
echo "==> Building $IMAGE ($ARCH) with mmdebstrap"
mmdebstrap --variant=minbase --architectures="$ARCH" \
  --include=systemd,systemd-sysv,dbus,python3,ca-certificates,iproute2 \
  --customize-hook='copy-in /etc/ssl/certs/ca-certificates.crt /usr/local/share/ca-certificates/' \
  --customize-hook='chroot "$1" update-ca-certificates' \
  bookworm - \
  | docker import --platform "linux/$ARCH" -c 'CMD ["/lib/systemd/systemd"]' - "$IMAGE"
