#!/usr/bin/env bash
# The ansible-core matrix of make test, beside the pinned version that the rest
# of make test runs (bookworm, the venv's ansible-core). Each entry has its own
# venv with the Python its ansible-core needs, and runs with that ansible-core:
#   - the unit and integration tests;
#   - ansible-test sanity over the shipped tarball (tests/sanity.sh);
#   - the lab (molecule/default's hosts, on the entry's Debian release) created
#     and prepared, then site.yml from bare, site.yml again (changed=0 on every
#     host), verify.yml and the failover drill, over SSH as the lab's sudo user,
#     and no unit left for a daemon-reload; the lab is removed afterwards, also
#     on failure.
#
#   tests/matrix.sh [floor|newest ...]     (default: both)
#   MATRIX_KEEP_LAB=1 leaves the last entry's lab up after a pass, to look at it.
#
# floor:  the oldest ansible-core meta/runtime.yml claims, on Debian 12.
# newest: the newest ansible-core release, on Debian 13 (haproxy 3.0, keepalived 2.3).
set -euo pipefail
shopt -s inherit_errexit  # a failure inside $(...) stops the run too
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

declare -A CORE=([floor]=2.16.19 [newest]=2.21.5)
declare -A PYTHON=([floor]=3.11 [newest]=3.13)
declare -A SUITE=([floor]=bookworm [newest]=trixie)

# A Python of that minor: on PATH, or under pyenv (ansible-core 2.20+ needs >= 3.12).
find_python() {
  local minor="$1" candidate
  # (pyenv's shim is on PATH for every version it knows, but runs only the selected ones)
  for candidate in "$(command -v "python$minor" || true)" \
                   "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$minor".*/bin/python"$minor"; do
    if [ -n "$candidate" ] && "$candidate" -c '' >/dev/null 2>&1; then echo "$candidate"; return; fi
  done
  echo "matrix: no Python $minor on PATH or under pyenv; install it (pyenv install $minor)" >&2
  return 1
}

venv_for() {
  local entry="$1" venv=".venv-core${CORE[$1]%.*}"
  if [ ! -f "$venv/.installed-${CORE[$entry]}" ]; then
    rm -rf "$venv"
    "$(find_python "${PYTHON[$entry]}")" -m venv "$venv" >&2
    "$venv/bin/pip" install -q --disable-pip-version-check "ansible-core==${CORE[$entry]}" \
      "$(grep -i '^pytest==' requirements-dev.txt)" "$(grep -i '^matplotlib==' requirements-dev.txt)" >&2
    touch "$venv/.installed-${CORE[$entry]}"
  fi
  echo "$root/$venv"
}

# Every host's recap line says changed=0 (and no host failed or was unreachable).
unchanged() {
  awk '/PLAY RECAP/ {recap = 1; next} recap && / : ok=/ {
         if ($0 !~ /changed=0 / || $0 ~ /unreachable=[1-9]/ || $0 ~ /failed=[1-9]/) { bad = 1; print "matrix: not idempotent: " $0 } }
       END { exit bad }' "$1"
}

run_entry() {
  local entry="$1" venv suite log
  venv="$(venv_for "$entry")"
  suite="${SUITE[$entry]}"
  log="$root/.build/matrix-$entry"
  mkdir -p "$log"
  echo "=== matrix $entry: ansible-core ${CORE[$entry]} (Python ${PYTHON[$entry]}), Debian $suite"
  (
    export PATH="$venv/bin:$PATH"
    version="$(ansible --version | sed -n 1p)"
    echo "$version"
    case "$version" in
      *"core ${CORE[$entry]}]"*) ;;
      *) echo "matrix: $entry should run ansible-core ${CORE[$entry]}, not: $version" >&2; exit 1 ;;
    esac
    pytest -q tests/unit tests/integration
    bash tests/sanity.sh
  )
  bash lab/scripts/build-image.sh "$suite"
  export KUBEHA_LAB_SUITE="$suite"
  trap 'molecule destroy -s default >/dev/null 2>&1 || true' EXIT
  { molecule destroy -s default && molecule create -s default && molecule prepare -s default --force; } \
    > "$log/molecule.log" 2>&1 || { tail -n 60 "$log/molecule.log"; exit 1; }
  (
    export PATH="$venv/bin:$PATH"
    ansible-playbook -i inventory/lab site.yml > "$log/converge.log" || { tail -n 60 "$log/converge.log"; exit 1; }
    ansible-playbook -i inventory/lab site.yml > "$log/idempotence.log" || { tail -n 60 "$log/idempotence.log"; exit 1; }
    unchanged "$log/idempotence.log" || { grep -B3 'changed: \[' "$log/idempotence.log" | tail -n 40; exit 1; }
    ansible-playbook -i inventory/lab playbooks/verify.yml > "$log/verify.log" || { tail -n 60 "$log/verify.log"; exit 1; }
    ansible-playbook -i inventory/lab playbooks/failover_drill.yml -e drill_confirm=true > "$log/drill.log" || {
      tail -n 60 "$log/drill.log"; exit 1; }
    # systemd has loaded every unit file as it is on disk (systemd 257, Debian 13,
    # warns on each systemctl call otherwise): nothing left for a daemon-reload
    ansible loadbalancers -i inventory/lab -m ansible.builtin.command \
      -a 'systemctl show haproxy keepalived kubeha-vrrp-exporter -p NeedDaemonReload --value' > "$log/units.log"
    if grep -q yes "$log/units.log"; then
      echo "matrix: units changed on disk since systemd last loaded them:" >&2; cat "$log/units.log" >&2; exit 1
    fi
  )
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
