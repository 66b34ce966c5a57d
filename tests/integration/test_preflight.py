"""site.yml refuses a bad inventory before it touches any host.

The inventory's hosts are Docker containers that do not exist, behind a Docker
socket that does not exist either (DOCKER_HOST points into the test's temporary
directory), so a run never touches a real container, lab or not, and any task
that tried to reach a host fails with the same message whether or not a Docker
daemon runs on this machine. Each bad case must fail on the controller with the
message naming host, variable and fix, and reach no host.
"""
import os
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def inventory(tmp_path, group_vars=None, host_vars=None, colocated=False):
    lbs = {'nolab-lb1': {'kubeha_address': '10.250.0.11'},
           'nolab-lb2': {'kubeha_address': '10.250.0.12'}}
    cps = {'nolab-cp1': {'kubeha_address': '10.250.0.21'},
           'nolab-cp2': {'kubeha_address': '10.250.0.22'}}
    if colocated:
        cps = {name: {} for name in lbs}
    for host, values in (host_vars or {}).items():
        (lbs if host in lbs else cps).setdefault(host, {}).update(values)
    data = {'all': {
        'vars': dict({'ansible_connection': 'community.docker.docker',
                      'keepalived_vip': '10.250.0.100/24', 'keepalived_auth_pass': 'secret1'},
                     **(group_vars or {})),
        'children': {'loadbalancers': {'hosts': lbs}, 'control_plane': {'hosts': cps}}}}
    path = tmp_path / 'hosts.yml'
    path.write_text(yaml.safe_dump(data))
    return path


# What a task that tries to reach one of the hosts prints (docker CLI, then ansible).
REACHED_A_HOST = ('Cannot connect to the Docker daemon', 'UNREACHABLE', 'unreachable=1')


def reached_a_host(out):
    return any(marker in out for marker in REACHED_A_HOST)


def run_site(path):
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / 'ansible.cfg'),
               ANSIBLE_COLLECTIONS_PATH=str(ROOT / '.build' / 'collections'), ANSIBLE_NOCOLOR='1',
               DOCKER_HOST='unix://%s' % (path.parent / 'no-docker.sock'))
    return subprocess.run(['ansible-playbook', '-i', str(path), str(ROOT / 'site.yml')],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize('kwargs, message', [
    ({'group_vars': {'keepalived_auth_pass': 'longer-than-8'}},
     'nolab-lb1: keepalived_auth_pass has 13 characters'),
    ({'group_vars': {'keepalived_vip': '10.250.0.21/24'}},
     'nolab-lb1: keepalived_vip 10.250.0.21 is the address of host nolab-cp1'),
    ({'group_vars': {'keepalived_vip': '10.99.0.100/24'}},
     "nolab-lb1: keepalived_vip 10.99.0.100/24 is outside this load balancer's subnet"),
    ({'host_vars': {'nolab-lb2': {'keepalived_priority': 101}}},
     'nolab-lb2: keepalived_priority 101 is also the priority of nolab-lb1'),
    ({'group_vars': {'keepalived_vrid': 300}}, 'nolab-lb1: keepalived_vrid 300 is out of range'),
    ({'group_vars': {'haproxy_frontend_port': 6443}, 'colocated': True},
     'nolab-lb1: is a load balancer and a control-plane node, so haproxy cannot bind port 6443'),
    ({'host_vars': {'nolab-cp2': {'kubeha_address': 'cp2.example'}}},
     "nolab-cp2: kubeha_address 'cp2.example' is not an IP address"),
])
def test_bad_inventory_is_refused_before_any_host_changes(tmp_path, kwargs, message):
    result = run_site(inventory(tmp_path, **kwargs))
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert 'The inventory has problems; no host was changed' in out
    assert message in out, out[-3000:]
    assert not reached_a_host(out), out[-3000:]
    assert 'changed=1' not in out


@pytest.mark.parametrize('host_vars, message', [
    ({'nolab-lb2': {'haproxy_observe_on_error': 'markdown'}},
     'value of haproxy_observe_on_error must be one of'),
    ({'nolab-lb1': {'keepalived_restart_delay': 'soon'}}, 'keepalived_restart_delay'),
])
def test_a_bad_role_variable_is_refused_before_any_host_changes(tmp_path, host_vars, message):
    """Role variables are checked against both roles' argument specs in the first
    play; otherwise a bad keepalived variable would surface only after haproxy had
    been changed on the first load balancer."""
    result = run_site(inventory(tmp_path, host_vars=host_vars))
    out = result.stdout + result.stderr
    host = next(iter(host_vars))
    assert result.returncode != 0
    assert 'fatal: [%s]' % host in out and message in out, out[-3000:]
    assert not reached_a_host(out), out[-3000:]
    assert 'changed=1' not in out


def test_a_good_inventory_gets_past_the_check(tmp_path):
    """The control case: the same inventory, valid, passes the check and only then
    fails, because the hosts do not exist."""
    out = run_site(inventory(tmp_path))
    text = out.stdout + out.stderr
    assert out.returncode != 0
    assert 'The inventory has problems' not in text
    assert 'PLAY [Order the load balancers' in text, text[-3000:]
    assert reached_a_host(text), text[-3000:]
