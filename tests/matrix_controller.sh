#!/usr/bin/env bash
# The controller side of one entry of the ansible-core matrix (tests/matrix.sh
# runs it on the host, or in a container of the lab's image of the entry's
# Debian release): the entry's venv, made by the Python it runs with, then
#   tests: the unit and integration tests and ansible-test sanity;
#   lab:   site.yml from bare and again, verify.yml and the failover drill
#          against the lab (inventory/lab), each log in LOGDIR, and what
#          systemd says of the load balancers' units (LOGDIR/units.log).
#
#   tests/matrix_controller.sh VENV CORE tests|lab [LOGDIR]
set -euo pipefail
venv="$1" core="$2" phase="$3" log="${4:-}"
cd "$(dirname "$0")/.."
if [ ! -f "$venv/.installed-$core" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "ansible-core==$core" \
    "$(grep -i '^pytest==' requirements-dev.txt)" "$(grep -i '^matplotlib==' requirements-dev.txt)"
  touch "$venv/.installed-$core"
fi
export PATH="$venv/bin:$PATH"
version="$(ansible --version | sed -n 1p)"
case "$version" in
  *"core $core]"*) echo "$version, $(python3 --version)" ;;
  *) echo "matrix: should run ansible-core $core, not: $version" >&2; exit 1 ;;
esac

run() {  # run NAME ansible-playbook ...: its output in LOGDIR/NAME.log, the end of it on failure
  local name="$1"; shift
  "$@" > "$log/$name.log" 2>&1 || { tail -n 60 "$log/$name.log"; exit 1; }
}

case "$phase" in
  tests)
    pytest -q -p no:cacheprovider tests/unit tests/integration
    bash tests/sanity.sh
    ;;
  lab)
    run converge ansible-playbook -i inventory/lab site.yml
    run idempotence ansible-playbook -i inventory/lab site.yml
    run verify ansible-playbook -i inventory/lab playbooks/verify.yml
    run drill ansible-playbook -i inventory/lab playbooks/failover_drill.yml -e drill_confirm=true
    run units ansible loadbalancers -i inventory/lab -m ansible.builtin.command \
      -a 'systemctl show haproxy keepalived kubeha-vrrp-exporter -p NeedDaemonReload --value'
    ;;
  *) echo "matrix_controller: unknown phase '$phase' (tests, lab)" >&2; exit 2 ;;
esac
