#!/usr/bin/env bash
# Build the base image of the demo and test boxes: a minimal Debian 12 with
# systemd, made locally with mmdebstrap (no image registry is needed).
# It carries this machine's CA bundle so that the box can reach Debian and
# PyPI through the same TLS inspection as the host; the roles do not rely on it.
#
# An image is only ever tagged once it is checked (it runs, has systemd, and
# is of the expected architecture): a failed build leaves no image behind, and
# an existing image that fails the check (say, an empty one left by an older
# version of this script) is built again.
set -euo pipefail
IMAGE=${BOX_IMAGE:-classbox/debian12-systemd:bookworm}
ARCH=${BOX_ARCH:-$(dpkg --print-architecture)}

image_problem() {  # image_problem TAG: why TAG is not a usable box image; nothing if it is
  local tag=$1 arch
  docker image inspect "$tag" >/dev/null 2>&1 || { echo "it does not exist"; return; }
  arch=$(docker run --rm --entrypoint /bin/sh "$tag" \
    -c 'test -x /lib/systemd/systemd && dpkg --print-architecture' 2>/dev/null) \
    || { echo "it does not run or has no /lib/systemd/systemd"; return; }
  [ "$arch" = "$ARCH" ] || echo "it is for $arch, not $ARCH"
}

problem=$(image_problem "$IMAGE")
[ -z "$problem" ] && exit 0
if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "==> $IMAGE is unusable ($problem): building it again"
fi

echo "==> Building $IMAGE ($ARCH) with mmdebstrap"
work=$(mktemp -d /var/tmp/classbox-image.XXXXXX)
building="$IMAGE-building"
trap 'rm -rf "$work"; docker rmi -f "$building" >/dev/null 2>&1 || true' EXIT
mmdebstrap --variant=minbase --architectures="$ARCH" \
  --include=systemd,systemd-sysv,dbus,python3,ca-certificates,iproute2 \
  --customize-hook='copy-in /etc/ssl/certs/ca-certificates.crt /usr/local/share/ca-certificates/' \
  --customize-hook='chroot "$1" update-ca-certificates' \
  bookworm "$work/rootfs.tar"
docker import --platform "linux/$ARCH" -c 'CMD ["/lib/systemd/systemd"]' \
  "$work/rootfs.tar" "$building" >/dev/null
problem=$(image_problem "$building")
if [ -n "$problem" ]; then
  echo "The new image of $IMAGE is unusable: $problem" >&2
  exit 1
fi
docker tag "$building" "$IMAGE"
echo "==> Built $IMAGE ($ARCH, $(stat -c %s "$work/rootfs.tar") bytes)"
