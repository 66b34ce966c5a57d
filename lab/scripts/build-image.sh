#!/usr/bin/env bash
# Build the lab's base image offline-capable: Debian + systemd + python3 +
# sshd + sudo via debootstrap from the host's configured Debian mirror, then
# `docker import`. The image has the user `deploy` with passwordless sudo and
# the lab's SSH key (.build/ssh/lab_ed25519, made here when missing): the lab is
# reached over SSH as that user with become, as a user's hosts are.
# haproxy and keepalived are NOT in the image: the roles install them.
# The rootfs is cached by suite and package list (FORCE=1 rebuilds it); the
# image on top is rebuilt by docker's cache whenever the key or Dockerfile changes.
#
#   build-image.sh [bookworm|trixie]      (default: bookworm)
set -euo pipefail

SUITE="${1:-${KUBEHA_LAB_SUITE:-bookworm}}"
TAG="kubeha-lab:${SUITE}"
HERE="$(cd "$(dirname "$0")" && pwd)"
KEY="$HERE/../../.build/ssh/lab_ed25519"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

pkgs=systemd,systemd-sysv,dbus,python3,python3-apt,iproute2,iputils-ping,iptables,curl,openssl,ca-certificates,procps,gnupg,openssh-server,sudo
ROOTFS_TAG="kubeha-lab-rootfs:${SUITE}-$(echo "$pkgs" | sha1sum | cut -c1-8)"

# The controller side of SSH: the client, and the lab's own key (never a user's).
command -v ssh >/dev/null 2>&1 || {
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends openssh-client >/dev/null; }
if [ ! -f "$KEY" ]; then
  mkdir -p "$(dirname "$KEY")"
  chmod 700 "$(dirname "$KEY")"
  ssh-keygen -q -t ed25519 -N '' -C kubeha-lab -f "$KEY"
fi

# The mirror this machine already uses (deb822 or one-line format).
mirror="${KUBEHA_DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  mirror=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
fi
if [ -z "$mirror" ]; then
  mirror=$(awk '/^deb / && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
fi
if [ -z "$mirror" ]; then
  echo "build-image: cannot find a Debian mirror in /etc/apt; set KUBEHA_DEBIAN_MIRROR" >&2
  exit 1
fi
security="${KUBEHA_DEBIAN_SECURITY_MIRROR:-$(awk '/^URIs:/ && $2 ~ /security/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)}"

build_rootfs() {
  root=$(mktemp -d /tmp/kubeha-rootfs.XXXXXX)
  trap '$SUDO rm -rf "$root"' EXIT
  echo "build-image: debootstrap $SUITE into $root"
  $SUDO debootstrap --variant=minbase --include="$pkgs" "$SUITE" "$root" "$mirror" >/tmp/kubeha-debootstrap.log 2>&1 || {
    tail -n 30 /tmp/kubeha-debootstrap.log >&2; exit 1; }

  # apt sources inside the image: same mirror, plus updates and security.
  {
    printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$mirror" "$SUITE" "$SUITE"
    if [ -n "$security" ]; then
      printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$security" "$SUITE"
    fi
  } | $SUDO tee "$root/etc/apt/sources.list.d/debian.sources" >/dev/null
  $SUDO rm -f "$root/etc/apt/sources.list"

  # Container-friendly systemd: no gettys, no udev triggers, no first-boot.
  for unit in getty.target console-getty.service systemd-udevd.service \
              systemd-udev-trigger.service systemd-firstboot.service \
              systemd-remount-fs.service sys-kernel-debug.mount \
              sys-kernel-tracing.mount apt-daily.timer apt-daily-upgrade.timer; do
    $SUDO ln -sf /dev/null "$root/etc/systemd/system/$unit"
  done
  echo 'kubeha-lab' | $SUDO tee "$root/etc/hostname" >/dev/null
  $SUDO rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  # An emptied list dir must not look fresh to cache_valid_time checks.
  $SUDO touch -d @0 "$root/var/lib/apt/lists"
  echo "build-image: importing rootfs as $ROOTFS_TAG"
  $SUDO tar -C "$root" -c . | docker import - "$ROOTFS_TAG" >/dev/null
}

if [ "${FORCE:-0}" = 1 ] || ! docker image inspect "$ROOTFS_TAG" >/dev/null 2>&1; then
  build_rootfs
fi
context=$(mktemp -d /tmp/kubeha-image.XXXXXX)
cp "$HERE/../image/Dockerfile" "$KEY.pub" "$context/"
docker build -q --pull=false --build-arg "ROOTFS=$ROOTFS_TAG" -t "$TAG" "$context" >/dev/null
rm -rf "$context"
echo "build-image: $TAG ready"
