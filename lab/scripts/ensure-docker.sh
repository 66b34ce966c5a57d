#!/usr/bin/env bash
# Make sure a Docker engine answers: install docker.io + debootstrap from
# Debian packages when missing, and start dockerd when no daemon answers.
# Idempotent. Needs root (or sudo).
set -euo pipefail

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need_pkgs+=(debootstrap)
command -v iptables >/dev/null 2>&1 || need_pkgs+=(iptables)
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  echo "ensure-docker: installing ${need_pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

if docker info >/dev/null 2>&1; then
  exit 0
fi

echo "ensure-docker: no daemon answers; starting dockerd"
log=/var/log/kubeha-dockerd.log
$SUDO sh -c "nohup dockerd >>$log 2>&1 &"
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    echo "ensure-docker: dockerd is up"
    exit 0
  fi
  sleep 1
done
echo "ensure-docker: dockerd did not come up; last lines of $log:" >&2
tail -n 30 "$log" >&2 || true
exit 1
