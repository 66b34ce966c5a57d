#!/usr/bin/env python3
"""The lab's topology, read from its inventory through the plan: the one place
it is written is the inventory (inventory/lab, or a molecule scenario's).

    python3 lab/topology.py [-i INVENTORY] endpoint.vip      prints one value
    python3 lab/topology.py [-i INVENTORY]                   prints the endpoint as JSON

bench/run.py, the molecule tests and lab/scripts/report.sh use it; nothing
else in the lab repeats a name, an address or a port. ansible_env() is the
one environment every ansible-playbook run of the bench and the tests gets.
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, '.build', 'collections'))

from ansible_collections.kubeha.control_plane.plugins.filter.plan import plan  # noqa: E402

DEFAULT_INVENTORY = os.path.join(ROOT, 'inventory', 'lab')


def ansible_env(**extra):
    """The environment of every ansible or ansible-playbook run of the lab, the
    bench and the tests: the lab's ansible.cfg (lab/ansible.cfg) and this checkout's collection link, and
    ``extra`` (ANSIBLE_NOCOLOR='1', say)."""
    return dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'lab', 'ansible.cfg'),
                ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.build', 'collections'), **extra)


def _groups(data):
    """{group: [hosts]} with children flattened, from ansible-inventory --list."""
    def members(name, seen=()):
        entry = data.get(name) or {}
        hosts = list(entry.get('hosts') or [])
        for child in entry.get('children') or []:
            if child not in seen:
                hosts += [h for h in members(child, seen + (name,)) if h not in hosts]
        return hosts
    return dict((name, members(name)) for name in data if name != '_meta')


def inventory_data(inventory=DEFAULT_INVENTORY):
    """(hostvars, groups) as ansible-inventory reads them."""
    out = subprocess.run(['ansible-inventory', '-i', inventory, '--list'], check=True,
                         capture_output=True, text=True).stdout
    data = json.loads(out)
    return data.get('_meta', {}).get('hostvars', {}), _groups(data)


def inventory_plan(inventory=DEFAULT_INVENTORY):
    """The plan of the endpoint an inventory describes (no host is contacted)."""
    hostvars, groups = inventory_data(inventory)
    any_vars = next(iter(hostvars.values()), {})
    settings = dict((key, any_vars.get(key)) for key in
                    ('kubeha_lb_group', 'kubeha_cp_group', 'kubeha_client_group', 'kubeha_clusters'))
    result = plan(hostvars, groups, settings)
    if result['errors']:
        raise SystemExit('the lab inventory has problems: %s' % '; '.join(result['errors']))
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('-i', '--inventory', default=DEFAULT_INVENTORY)
    parser.add_argument('field', nargs='?', help='a dotted path, e.g. endpoint.vip')
    args = parser.parse_args()
    value = inventory_plan(args.inventory)
    if not args.field:
        value = value['endpoint']
    for part in (args.field or '').split('.') if args.field else []:
        value = value[part]
    print(' '.join(str(v) for v in value) if isinstance(value, list) else
          (json.dumps(value, indent=1, sort_keys=True) if isinstance(value, dict) else value))


if __name__ == '__main__':
    main()
