#!/usr/bin/env bash
# promtool for `make rules`, without installing (or starting) a Prometheus:
# Debian's prometheus package is downloaded and unpacked under .build/promtool.
# Idempotent; prints the path of promtool.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dest="$root/.build/promtool"
tool="$dest/usr/bin/promtool"
if [ ! -x "$tool" ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  if ! (cd "$tmp" && apt-get download -qq prometheus >/dev/null 2>&1); then
    $SUDO apt-get update -qq
    (cd "$tmp" && apt-get download -qq prometheus >/dev/null)
  fi
  mkdir -p "$dest"
  dpkg-deb -x "$tmp"/prometheus_*.deb "$dest"
fi
echo "$tool"
