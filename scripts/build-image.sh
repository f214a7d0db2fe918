#!/usr/bin/env bash
# Build a base image of the demo and test boxes: a minimal Debian with
# systemd, made locally with mmdebstrap (no image registry is needed).
#   BOX_RELEASE  trixie (Debian 13, the default) or bookworm (Debian 12)
#   BOX_ARCH     amd64 or arm64 (default: this machine's)
# The image is classbox/debian-systemd:<release>, with -<arch> added for any
# architecture but amd64 (classbox/debian-systemd:trixie-arm64, the Pi's).
# It carries this machine's CA bundle so that the box can reach Debian and
# PyPI through the same TLS inspection as the host; the roles do not rely on it.
#
# An image is only ever tagged once it is checked (it runs, has systemd, is
# of the expected architecture and Debian release): a failed build leaves no
# image behind, and an existing image that fails the check (say, an empty one
# left by an older version of this script) is built again.
set -euo pipefail
RELEASE=${BOX_RELEASE:-trixie}
ARCH=${BOX_ARCH:-$(dpkg --print-architecture)}
case $RELEASE in
  bookworm) VERSION=12 ;;
  trixie) VERSION=13 ;;
  *) echo "BOX_RELEASE=$RELEASE: the boxes run Debian bookworm or trixie" >&2; exit 2 ;;
esac
case $ARCH in
  amd64) IMAGE=classbox/debian-systemd:$RELEASE ;;
  arm64) IMAGE=classbox/debian-systemd:$RELEASE-$ARCH ;;
  *) echo "BOX_ARCH=$ARCH: the boxes are amd64 or arm64" >&2; exit 2 ;;
esac

image_problem() {  # image_problem TAG: why TAG is not a usable box image; nothing if it is
  local tag=$1 found
  docker image inspect "$tag" >/dev/null 2>&1 || { echo "it does not exist"; return; }
  found=$(docker run --rm --entrypoint /bin/sh "$tag" \
    -c 'test -x /lib/systemd/systemd && echo "$(dpkg --print-architecture) $(cut -d. -f1 /etc/debian_version)"' \
    2>/dev/null) || { echo "it does not run or has no /lib/systemd/systemd"; return; }
  [ "$found" = "$ARCH $VERSION" ] || echo "it is $found (architecture, Debian version), not $ARCH $VERSION"
}

problem=$(image_problem "$IMAGE")
[ -z "$problem" ] && exit 0
if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "==> $IMAGE is unusable ($problem): building it again"
fi

echo "==> Building $IMAGE (Debian $VERSION $RELEASE, $ARCH) with mmdebstrap"
work=$(mktemp -d /var/tmp/classbox-image.XXXXXX)
building="$IMAGE-building"
trap 'rm -rf "$work"; docker rmi -f "$building" >/dev/null 2>&1 || true' EXIT
mmdebstrap --variant=minbase --architectures="$ARCH" \
  --include=systemd,systemd-sysv,dbus,python3,ca-certificates,iproute2 \
  --customize-hook='copy-in /etc/ssl/certs/ca-certificates.crt /usr/local/share/ca-certificates/' \
  --customize-hook='chroot "$1" update-ca-certificates' \
  "$RELEASE" "$work/rootfs.tar"
docker import --platform "linux/$ARCH" -c 'CMD ["/lib/systemd/systemd"]' \
  "$work/rootfs.tar" "$building" >/dev/null
problem=$(image_problem "$building")
if [ -n "$problem" ]; then
  echo "The new image of $IMAGE is unusable: $problem" >&2
  exit 1
fi
docker tag "$building" "$IMAGE"
echo "==> Built $IMAGE ($ARCH, $(stat -c %s "$work/rootfs.tar") bytes)"
