#!/usr/bin/env bash
# The ansible-core matrix of make test, beside the pinned version that the rest
# of make test runs (bookworm, the venv's ansible-core). Each entry has its own
# venv, made by the Python its ansible-core runs with, and runs with that
# ansible-core (tests/matrix_controller.sh):
#   - the unit and integration tests;
#   - ansible-test sanity over the shipped tarball (tests/sanity.sh);
#   - the lab (molecule/default's hosts, on the entry's Debian release) created
#     and prepared, then site.yml from bare, site.yml again (changed=0 on every
#     host), verify.yml and the failover drill, over SSH as the lab's sudo user,
#     and no unit left for a daemon-reload; the lab is removed afterwards, also
#     on failure.
# An entry whose Python a fresh Debian 12 lacks runs its controller side in a
# container of the lab's image of its Debian release, whose system Python it
# uses (the host's network, this checkout mounted at the same path): nothing
# depends on pyenv or on a Python installed by hand.
#
#   tests/matrix.sh [floor|newest ...]     (default: both)
#   MATRIX_KEEP_LAB=1 leaves the last entry's lab up after a pass, to look at it.
#
# floor:  the oldest ansible-core meta/runtime.yml claims, on Debian 12, the
#         controller on the host (Python 3.11).
# newest: the newest ansible-core, 2.22's release candidate (tested here, claimed
#         once released; it needs Python 3.13), on Debian 13 (haproxy 3.0,
#         keepalived 2.3), the controller in a Debian 13 container (Python 3.13).
set -euo pipefail
shopt -s inherit_errexit  # a failure inside $(...) stops the run too
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

declare -A CORE=([floor]=2.16.19 [newest]=2.22.0rc1)
declare -A SUITE=([floor]=bookworm [newest]=trixie)
declare -A CONTROLLER=([floor]=host [newest]=container)
# ansible-test sanity tests an entry leaves out: 2.22.0rc1's pylint requirements
# pin a package to a GitHub archive, which this workplace cannot reach (pylint
# runs in make test's own sanity and in the floor entry).
declare -A SKIP=([floor]="" [newest]="pylint")
# what the controller side needs in a container of the lab's image
CONTROLLER_PACKAGES="python3-venv openssh-client"

# on_controller ENTRY ARGS...: tests/matrix_controller.sh with ARGS where the entry's controller runs.
on_controller() {
  local entry="$1"; shift
  export SANITY_SKIP="${SKIP[$entry]}"
  if [ "${CONTROLLER[$entry]}" = host ]; then
    bash tests/matrix_controller.sh "$@"
    return
  fi
  # the host's certificate authorities (a machine behind a TLS-inspecting proxy
  # trusts its CA there), for pip in the container
  local ca=/etc/ssl/host-ca-certificates.crt
  docker run --rm --network host -v "$root:$root" -w "$root" -e HOME=/root \
    -v /etc/ssl/certs/ca-certificates.crt:$ca:ro -e PIP_CERT=$ca -e SSL_CERT_FILE=$ca -e REQUESTS_CA_BUNDLE=$ca \
    -e ANSIBLE_CONFIG -e ANSIBLE_COLLECTIONS_PATH -e ANSIBLE_FORCE_COLOR=0 -e PY_COLORS=0 -e SANITY_SKIP \
    "kubeha-lab:${SUITE[$entry]}" bash -euo pipefail -c \
    "export DEBIAN_FRONTEND=noninteractive
     printf '[global]\\ncert = %s\\n' $ca > /etc/pip.conf  # also for the venvs ansible-test makes (it drops PIP_CERT)
     apt-get update -qq && apt-get install -y -qq --no-install-recommends $CONTROLLER_PACKAGES >/dev/null
     bash tests/matrix_controller.sh $*"
}

# Every host's recap line says changed=0 (and no host failed or was unreachable).
unchanged() {
  awk '/PLAY RECAP/ {recap = 1; next} recap && / : ok=/ {
         if ($0 !~ /changed=0 / || $0 ~ /unreachable=[1-9]/ || $0 ~ /failed=[1-9]/) { bad = 1; print "matrix: not idempotent: " $0 } }
       END { exit bad }' "$1"
}

run_entry() {
  local entry="$1" suite venv log
  suite="${SUITE[$entry]}"
  venv="$root/.venv-core${CORE[$entry]}-$suite-${CONTROLLER[$entry]}"
  log="$root/.build/matrix-$entry"
  mkdir -p "$log"
  echo "=== matrix $entry: ansible-core ${CORE[$entry]}, Debian $suite, the controller on the ${CONTROLLER[$entry]}"
  bash lab/scripts/build-image.sh "$suite"
  on_controller "$entry" "$venv" "${CORE[$entry]}" tests
  export KUBEHA_LAB_SUITE="$suite"
  trap 'molecule destroy -s default >/dev/null 2>&1 || true' EXIT
  { molecule destroy -s default && molecule create -s default && molecule prepare -s default --force; } \
    > "$log/molecule.log" 2>&1 || { tail -n 60 "$log/molecule.log"; exit 1; }
  on_controller "$entry" "$venv" "${CORE[$entry]}" lab "$log"
  unchanged "$log/idempotence.log" || { grep -B3 'changed: \[' "$log/idempotence.log" | tail -n 40; exit 1; }
  # systemd has loaded every unit file as it is on disk (systemd 257, Debian 13,
  # warns on each systemctl call otherwise): nothing left for a daemon-reload
  if grep -q yes "$log/units.log"; then
    echo "matrix: units changed on disk since systemd last loaded them:" >&2; cat "$log/units.log" >&2; exit 1
  fi
  trap - EXIT
  [ -n "${MATRIX_KEEP_LAB:-}" ] || molecule destroy -s default >> "$log/molecule.log" 2>&1
  echo "=== matrix $entry: ok (logs in .build/matrix-$entry/)"
}

for entry in "${@:-floor newest}"; do
  for e in $entry; do
    [ -n "${CORE[$e]:-}" ] || { echo "matrix: unknown entry '$e' (floor, newest)" >&2; exit 2; }
    run_entry "$e"
  done
done
