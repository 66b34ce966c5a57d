"""site.yml refuses a bad inventory before it touches any host.

The inventory's hosts exist only there: each is reached over SSH at a closed
port of the controller's loopback, so a run never touches a real host, lab or
not, and any task that tried to reach one fails at once as UNREACHABLE, with
only ansible-core installed. Each bad case must fail on the controller with the
message naming host, variable and fix, and reach no host.
"""
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'lab'))
from topology import ansible_env  # noqa: E402


# These hosts exist only in the inventory: any attempt to reach one goes to a
# closed port of the controller's loopback and is refused at once (UNREACHABLE).
NOWHERE = {'ansible_connection': 'ssh', 'ansible_host': '127.0.0.1', 'ansible_port': 1}


def inventory(tmp_path, group_vars=None, host_vars=None, colocated=False, no_cps=False,
              single_lb=False, rename=None, monitoring=None):
    lbs = {'nolab-lb1': {'kubeha_address': '10.250.0.11'},
           'nolab-lb2': {'kubeha_address': '10.250.0.12'}}
    cps = {'nolab-cp1': {'kubeha_address': '10.250.0.21'},
           'nolab-cp2': {'kubeha_address': '10.250.0.22'}}
    if colocated:
        cps = {name: {} for name in lbs}
    if no_cps:
        cps = {}
    if single_lb:
        del lbs['nolab-lb2']
    for host, values in (host_vars or {}).items():
        (lbs if host in lbs else cps).setdefault(host, {}).update(values)
    data = {'all': {
        'vars': dict(NOWHERE, **dict({'kubeha_vip': '10.250.0.100/24', 'keepalived_auth_pass': 'secret1'},
                                     **(group_vars or {}))),
        'children': {(rename or {}).get('loadbalancers', 'loadbalancers'): {'hosts': lbs},
                     (rename or {}).get('control_plane', 'control_plane'): {'hosts': cps}}}}
    if monitoring:
        data['all']['children']['monitoring'] = {'hosts': {monitoring: {'kubeha_address': '10.250.0.50'}}}
    path = tmp_path / 'hosts.yml'
    path.write_text(yaml.safe_dump(data))
    return path


# What a task that tries to reach one of the hosts prints.
REACHED_A_HOST = ('UNREACHABLE', 'unreachable=1')


def reached_a_host(out):
    return any(marker in out for marker in REACHED_A_HOST)


def run_site(path, playbook=None, *args):
    env = ansible_env(ANSIBLE_NOCOLOR='1', ANSIBLE_CALLBACK_RESULT_FORMAT='json')
    return subprocess.run(['ansible-playbook', '-i', str(path), str(playbook or ROOT / 'site.yml')]
                          + list(args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def text(result):
    """Output with line wrapping undone (the yaml callback folds long messages)."""
    return ' '.join((result.stdout + result.stderr).split())


def refused(result, message):
    out = text(result)
    assert result.returncode != 0
    assert 'The inventory has problems; no host was changed' in out, out[-3000:]
    assert message in out, out[-3000:]
    assert not reached_a_host(out), out[-3000:]
    assert 'changed=1' not in out


# The done-criteria of the "one source of truth" issue that need no host facts;
# the ones that do (an interface a host lacks, a plain VIP outside the
# interface's subnet) run against the lab in molecule (test_refusals.py).
@pytest.mark.parametrize('kwargs, message', [
    ({'group_vars': {'kubeha_vip': '10.250.0.21/24'}},
     'nolab-lb1, nolab-lb2: kubeha_vip 10.250.0.21 is the address of host nolab-cp1'),
    ({'group_vars': {'kubeha_vip': '10.250.0.300/24'}},
     "kubeha_vip '10.250.0.300/24' is not an IP address"),
    ({'group_vars': {'kubeha_vip': ''}}, 'nolab-lb1, nolab-lb2: kubeha_vip is not set'),
    ({'group_vars': {'kubeha_vip': '10.99.0.100/24'}},
     "kubeha_vip 10.99.0.100/24 is outside this load balancer's subnet"),
    ({'group_vars': {'kubeha_vip': 'fd00::100/64'}},
     'keepalived_vrrp_version 2: the IPv6 VIP fd00::100/64 needs VRRP version 3'),
    ({'group_vars': {'keepalived_auth_pass': 'ninechars'}},
     'nolab-lb1, nolab-lb2: keepalived_auth_pass has 9 characters: use 1-8'),
    ({'group_vars': {'keepalived_auth_pass': 'a b'}},
     'keepalived_auth_pass must be printable ASCII without spaces'),
    ({'group_vars': {'keepalived_vrid': 0}}, 'keepalived_vrid 0 is out of range: use 1-255'),
    ({'group_vars': {'keepalived_vrid': 256}}, 'keepalived_vrid 256 is out of range: use 1-255'),
    ({'group_vars': {'keepalived_reserved_vrids': [51]}},
     'keepalived_vrid 51 is already used by another VRRP router on this network'),
    ({'host_vars': {'nolab-lb1': {'keepalived_priority': 255}}},
     'nolab-lb1: keepalived_priority 255 is out of range: use 1-254'),
    ({'host_vars': {'nolab-lb2': {'keepalived_priority': 101}}},
     'nolab-lb2: keepalived_priority 101 is also the priority of nolab-lb1'),
    ({'group_vars': {'haproxy_frontend_port': 70000}},
     'haproxy_frontend_port 70000 is out of range: use 1-65535'),
    ({'group_vars': {'haproxy_backend_port': 'abc'}},
     "haproxy_backend_port 'abc' is not a whole number; e.g. haproxy_backend_port: 6443"),
    ({'group_vars': {'keepalived_advert_int': 0.5}},
     'keepalived_advert_int 0.5: VRRPv2 needs whole seconds >= 1'),
    ({'group_vars': {'keepalived_interface': 'eth 0'}},
     "keepalived_interface 'eth 0' is not a valid interface name"),
    ({'group_vars': {'keepalived_interface': 'sixteen-chars-xx'}},
     "keepalived_interface 'sixteen-chars-xx' is not a valid interface name"),
    ({'group_vars': {'haproxy_health_check': 'http2'}},
     "haproxy_health_check 'http2' is not one of 'https', 'tcp'"),
    ({'group_vars': {'keepalived_unicast': 'maybe'}},
     "keepalived_unicast 'maybe' is not true or false"),
    ({'group_vars': {'haproxy_timeout_client': 'forever'}},
     "haproxy_timeout_client 'forever' is not a haproxy time"),
    ({'no_cps': True}, "group 'control_plane' (kubeha_cp_group) is missing or empty"),
    ({'single_lb': True}, 'nolab-lb1: keepalived_unicast is true but this is the only load balancer'),
    ({'group_vars': {'haproxy_frontend_port': 6443}, 'colocated': True},
     'nolab-lb1, nolab-lb2: is a load balancer and a control-plane node, so haproxy cannot bind port 6443'),
    ({'group_vars': {'kubeha_profile': 'Fast'}},
     "kubeha_profile 'Fast' is not one of 'default', 'fast', 'guide' (did you mean 'fast'?)"),
    ({'host_vars': {'nolab-cp2': {'kubeha_address': 'cp2.example'}}},
     "nolab-cp2: kubeha_address 'cp2.example' is not an IP address"),
    ({'host_vars': {'nolab-lb2': {'haproxy_observe_on_error': 'markdown'}}},
     "nolab-lb2: haproxy_observe_on_error 'markdown' is not one of"),
    ({'host_vars': {'nolab-lb1': {'keepalived_restart_delay': 'soon'}}},
     "nolab-lb1: keepalived_restart_delay 'soon' is not a whole number"),
    ({'group_vars': {'kubeha_metrics_address': '10.250.0.100'}},
     'nolab-lb1, nolab-lb2: kubeha_metrics_address 10.250.0.100 is the VIP'),
    ({'monitoring': 'nolab-mon'},
     'nolab-lb1: serves kubeha-haproxy metrics on 127.0.0.1:8405, which nolab-mon cannot scrape: set '
     'kubeha_metrics_address: node'),
    ({'group_vars': {'keepalived_prority': 90, 'kubeha_strict_variables': True}},
     'keepalived_prority is not a variable of kubeha.control_plane (did you mean keepalived_priority?)'),
    # VIPs that are nobody's to take, by their address class
    ({'group_vars': {'kubeha_vip': '10.250.0.0/24'}},
     'nolab-lb1, nolab-lb2: kubeha_vip 10.250.0.0 is the network address of 10.250.0.0/24: '
     "choose a free host address in the load balancers' subnet"),
    ({'group_vars': {'kubeha_vip': '10.250.0.255/24'}},
     'kubeha_vip 10.250.0.255 is the broadcast address of 10.250.0.0/24'),
    ({'group_vars': {'kubeha_vip_ipv6': 'fe80::100/64', 'keepalived_vrrp_version': 3}},
     'kubeha_vip_ipv6 fe80::100 is a link-local address'),
])
def test_bad_inventory_is_refused_before_any_host_is_contacted(tmp_path, kwargs, message):
    refused(run_site(inventory(tmp_path, **kwargs)), message)


def test_a_misspelt_variable_is_a_warning_by_default(tmp_path):
    out = text(run_site(inventory(tmp_path, group_vars={'keepalived_prority': 90})))
    assert 'The inventory has problems' not in out
    assert 'keepalived_prority is not a variable of kubeha.control_plane (did you mean ' \
           'keepalived_priority?)' in out, out[-3000:]


@pytest.mark.parametrize('role, group_vars, message', [
    ('keepalived', {'keepalived_auth_pass': 'ninechars'},
     'nolab-lb1, nolab-lb2: keepalived_auth_pass has 9 characters'),
    ('haproxy', {'haproxy_observe_on_error': 'markdown'},
     "nolab-lb1, nolab-lb2: haproxy_observe_on_error 'markdown' is not one of"),
])
def test_a_role_included_directly_checks_the_inventory(tmp_path, role, group_vars, message):
    """A play of the user's own that includes a role runs the same check first,
    before the role's argument spec, so a bad value reads as one line, not the spec."""
    play = tmp_path / 'mine.yml'
    play.write_text(yaml.safe_dump([{'name': 'Mine', 'hosts': 'loadbalancers', 'gather_facts': False,
                                     'roles': ['kubeha.control_plane.' + role]}]))
    result = run_site(inventory(tmp_path, group_vars=group_vars), play)
    refused(result, message)
    assert 'argument_spec_data' not in text(result)


def test_other_group_names_are_honoured(tmp_path):
    """With kubeha_lb_group / kubeha_cp_group naming them, other groups work: the
    check passes and the run goes on to the load balancers of those groups."""
    path = inventory(tmp_path, group_vars={'kubeha_lb_group': 'lbs', 'kubeha_cp_group': 'apiservers'},
                     rename={'loadbalancers': 'lbs', 'control_plane': 'apiservers'})
    out = text(run_site(path))
    assert 'The inventory has problems' not in out, out[-3000:]
    assert "PLAY [Check the load balancers' interfaces before any host changes]" in out
    assert 'fatal: [nolab-lb1]' in out and reached_a_host(out), out[-3000:]


def test_a_good_inventory_gets_past_the_check(tmp_path):
    """The control case: the same inventory, valid, passes the check and only then
    fails, because the hosts do not exist."""
    out = text(run_site(inventory(tmp_path)))
    assert 'The inventory has problems' not in out
    assert "PLAY [Check the load balancers' interfaces before any host changes]" in out, out[-3000:]
    assert reached_a_host(out), out[-3000:]


def test_metrics_the_monitoring_host_reaches_get_past_the_check(tmp_path):
    out = text(run_site(inventory(tmp_path, monitoring='nolab-mon', group_vars={'kubeha_metrics_address': 'node'})))
    assert 'The inventory has problems' not in out
    assert "PLAY [Check the load balancers' interfaces before any host changes]" in out, out[-3000:]


EXAMPLES = ROOT / 'inventory' / 'example'
DUMMY_VAULT = EXAMPLES / 'dummy-vault-password'


@pytest.mark.parametrize('name, line', [
    ('minimal', 'lb2 in kubeha_loadbalancers'),
    ('bgp', 'lb2 in kubeha_loadbalancers, kubeha_cluster_kubernetes, kubeha_all_serve'),
    ('fleet', 'stg-lb1 in kubeha_loadbalancers, kubeha_cluster_staging'),
])
def test_every_example_inventory_plans_cleanly_with_its_vault(name, line):
    """inventory/example/*: planned on the controller with its (dummy) vault,
    no problem and no unknown variable; no host is contacted (the plan runs on
    the controller, and every host is made local in case anything tried)."""
    result = run_site(EXAMPLES / name, ROOT / 'playbooks' / 'plan.yml', '--vault-password-file', str(DUMMY_VAULT),
                      '-e', 'ansible_connection=local')
    out = text(result)
    assert result.returncode == 0, out[-3000:]
    assert line in out and 'do not know' not in out, out[-3000:]


def test_an_example_without_its_vault_names_the_vault_variable():
    """Without the vault's password the secret cannot be read: named as such, per cluster."""
    result = run_site(EXAMPLES / 'fleet', ROOT / 'playbooks' / 'plan.yml', '-e', 'ansible_connection=local',
                      '-e', 'vault_keepalived_auth_pass=s3cret')
    out = text(result)
    assert result.returncode != 0
    assert 'Attempting to decrypt but no vault secrets found' in out or \
        "keepalived_auth_pass cannot be read" in out, out[-3000:]


def fleet_inventory(tmp_path, alpha=None, beta=None, extra_beta_hosts=()):
    """Two clusters in one inventory (kubeha_clusters), each with its group_vars."""
    hosts = {'loadbalancers': {'a-lb1': '10.250.1.11', 'a-lb2': '10.250.1.12',
                               'b-lb1': '10.250.2.11', 'b-lb2': '10.250.2.12'},
             'control_plane': {'a-cp1': '10.250.1.21', 'b-cp1': '10.250.2.21'}}
    children = dict((group, {'hosts': dict((h, {'kubeha_address': a}) for h, a in members.items())})
                    for group, members in hosts.items())
    children['alpha'] = {'hosts': {'a-lb1': {}, 'a-lb2': {}, 'a-cp1': {}},
                         'vars': dict({'kubeha_vip': '10.250.1.100/24', 'keepalived_vrid': 51},
                                      **(alpha or {}))}
    children['beta'] = {'hosts': dict((h, {}) for h in ['b-lb1', 'b-lb2', 'b-cp1'] + list(extra_beta_hosts)),
                        'vars': dict({'kubeha_vip': '10.250.2.100/24', 'keepalived_vrid': 52},
                                     **(beta or {}))}
    data = {'all': {'vars': dict(NOWHERE, keepalived_auth_pass='secret1', kubeha_clusters=['alpha', 'beta']),
                    'children': children}}
    path = tmp_path / 'hosts.yml'
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize('kwargs, message', [
    ({'beta': {'kubeha_vip': '10.250.1.100/16', 'keepalived_vrid': 51},
      'alpha': {'kubeha_vip': '10.250.1.101/16'}},
     "clusters 'alpha' and 'beta' both use keepalived_vrid 51 on the same network (10.250.0.0/16)"),
    ({'beta': {'kubeha_vip': '10.250.1.100/24', 'keepalived_allow_vip_outside_subnet': True}},
     "clusters 'alpha' and 'beta' both use the VIP 10.250.1.100"),
    ({'extra_beta_hosts': ['a-lb2']}, "a-lb2: is in cluster 'alpha' and in cluster 'beta'"),
])
def test_clusters_that_collide_are_refused_naming_both(tmp_path, kwargs, message):
    refused(run_site(fleet_inventory(tmp_path, **kwargs)), message)


def test_a_clean_fleet_gets_past_the_check_to_its_hosts(tmp_path):
    result = run_site(fleet_inventory(tmp_path))
    out = text(result)
    assert 'The inventory has problems' not in out, out[-3000:]
    assert reached_a_host(out), out[-3000:]
