"""The lab's topology is written in its inventories; molecule's platforms (which
Docker needs) must name the same hosts, groups and addresses, and everything
else reads the inventory through the plan (lab/topology.py)."""
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / 'lab'))
from topology import inventory_plan  # noqa: E402

SCENARIOS = sorted(p.parent.name for p in (ROOT / 'molecule').glob('*/molecule.yml'))


def scenario(name):
    return yaml.safe_load((ROOT / 'molecule' / name / 'molecule.yml').read_text())


def inventory_of(name, tmp_path):
    """The scenario's inventory as molecule builds it: linked files, or inline vars."""
    inv = scenario(name)['provisioner'].get('inventory') or {}
    if 'links' in inv:
        return str((ROOT / 'molecule' / name / inv['links']['hosts']).resolve().parent)
    groups = {}
    for platform in scenario(name)['platforms']:
        for group in platform.get('groups') or []:
            groups.setdefault(group, {'hosts': {}})['hosts'][platform['name']] = None
    for group, values in inv['group_vars'].items():
        if group != 'all':
            groups.setdefault(group, {'hosts': {}})['vars'] = values
    data = {'all': {'vars': inv['group_vars']['all'], 'children': groups}}
    (tmp_path / 'hosts.yml').write_text(yaml.safe_dump(data))
    (tmp_path / 'host_vars').mkdir()
    for host, values in inv['host_vars'].items():
        (tmp_path / 'host_vars' / ('%s.yml' % host)).write_text(yaml.safe_dump(values))
    return str(tmp_path)


@pytest.mark.parametrize('name', SCENARIOS)
def test_platforms_match_the_inventory(name, tmp_path):
    plan = inventory_plan(inventory_of(name, tmp_path))
    platforms = dict((p['name'], p) for p in scenario(name)['platforms'])
    everyone = set()
    for cluster in plan['clusters']:
        ep = plan['endpoints'][cluster]
        everyone |= set(ep['members'])
        for host, address in ep['addresses'].items():
            assert platforms[host]['networks'][0]['ipv4_address'] == address, host
        for host in ep['load_balancers']:
            assert 'loadbalancers' in platforms[host]['groups']
        for host in ep['control_plane']:
            assert 'control_plane' in platforms[host]['groups']
        if len(plan['clusters']) > 1:  # a fleet: each host also in its cluster's group
            for host in ep['load_balancers'] + ep['control_plane']:
                assert cluster in platforms[host]['groups'], host
    # the lab's own hosts beside the endpoint's (the BGP scenario's router)
    lab_only = set(name for name, p in platforms.items() if 'routers' in (p.get('groups') or []))
    assert set(platforms) - lab_only == everyone
