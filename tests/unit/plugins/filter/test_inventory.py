import copy

import pytest

from ansible_collections.kubeha.control_plane.plugins.filter.inventory import (
    frontend_port, interface_for_address, inventory_errors, node_address, vrrp_priorities,
)


def lb(address, **keepalived):
    ka = {'vip': '192.168.1.100/24', 'vrid': 51, 'vrrp_version': 2, 'auth_pass_length': 2,
          'priority': None, 'reserved_vrids': [], 'allow_outside_subnet': False}
    ka.update(keepalived)
    return {'kubeha_address': address, '__keepalived_preflight': ka,
            '__haproxy_preflight': {'frontend_port': 6443, 'backend_port': 6443,
                                    'monitor_port': 8404}}


def guide():
    """The guide's topology: two load balancers, three control planes."""
    hostvars = {
        'lb1': lb('192.168.1.9', priority=101),
        'lb2': lb('192.168.1.10', priority=100),
        'cp1': {'ansible_host': '192.168.1.1'},
        'cp3': {'ansible_host': '192.168.1.3'},
        'cp5': {'ansible_host': '192.168.1.5'},
    }
    groups = {'loadbalancers': ['lb1', 'lb2'], 'control_plane': ['cp1', 'cp3', 'cp5']}
    return hostvars, groups


def test_guide_topology_is_clean():
    assert inventory_errors(*guide()) == []


def change(host, section, **values):
    hostvars, groups = guide()
    if section:
        hostvars[host][section].update(values)
    else:
        hostvars[host].update(values)
    return hostvars, groups


@pytest.mark.parametrize('hostvars_groups, message', [
    (change('lb1', '__keepalived_preflight', vip='192.168.1.1/24'),
     'lb1: keepalived_vip 192.168.1.1 is the address of host cp1'),
    (change('lb1', '__keepalived_preflight', vip='192.168.2.100/24'),
     "lb1: keepalived_vip 192.168.2.100/24 is outside this load balancer's subnet"),
    (change('lb1', '__keepalived_preflight', vip='192.168.1.300/24'),
     "lb1: keepalived_vip '192.168.1.300/24' is not an IP address"),
    (change('lb2', '__keepalived_preflight', vip='192.168.1.101/24'),
     'lb2: keepalived_vip 192.168.1.101/24 differs from 192.168.1.100/24'),
    (change('lb1', '__keepalived_preflight', vip=''), 'lb1: keepalived_vip is not set'),
    (change('lb2', '__keepalived_preflight', priority=101),
     'lb2: keepalived_priority 101 is also the priority of lb1'),
    (change('lb1', '__keepalived_preflight', priority=300),
     'lb1: keepalived_priority 300 is out of range'),
    (change('lb1', '__keepalived_preflight', vrid=0), 'lb1: keepalived_vrid 0 is out of range'),
    (change('lb1', '__keepalived_preflight', vrid=256), 'keepalived_vrid 256 is out of range'),
    (change('lb1', '__keepalived_preflight', reserved_vrids=[51]),
     'lb1: keepalived_vrid 51 is already used by another VRRP router'),
    (change('lb2', '__keepalived_preflight', vrid=52), 'load balancers disagree on keepalived_vrid'),
    (change('lb1', '__keepalived_preflight', auth_pass_length=9),
     'lb1: keepalived_auth_pass has 9 characters'),
    (change('lb1', '__keepalived_preflight', auth_pass_length=0),
     'lb1: keepalived_auth_pass is not set'),
    (change('lb1', '__keepalived_preflight', vip='fd00::100/64'),
     'lb1: keepalived_vip fd00::100/64 is IPv6; set keepalived_vrrp_version: 3'),
    (change('lb1', '__haproxy_preflight', frontend_port=70000),
     'lb1: haproxy_frontend_port 70000 is out of range'),
    (change('lb1', '__haproxy_preflight', backend_port=0),
     'lb1: haproxy_backend_port 0 is out of range'),
    (change('lb2', '__haproxy_preflight', frontend_port=8443),
     'load balancers disagree on haproxy_frontend_port'),
    (change('lb1', '__haproxy_preflight', monitor_port=6443),
     'lb1: haproxy_monitor_port equals haproxy_frontend_port 6443'),
    (change('cp1', None, ansible_host='cp1.example.org'),
     "cp1: no IP address; set kubeha_address to its address on the cluster network "
     "(ansible_host 'cp1.example.org' is not an IP)"),
    (change('cp3', None, kubeha_address='192.168.1.999'),
     "cp3: kubeha_address '192.168.1.999' is not an IP address"),
    (change('cp3', None, ansible_host='192.168.1.1'),
     'cp3: kubeha_address 192.168.1.1 is also the address of cp1'),
])
def test_each_problem_is_named(hostvars_groups, message):
    errors = inventory_errors(*hostvars_groups)
    assert any(message in e for e in errors), errors


def test_vip_outside_subnet_can_be_allowed():
    hostvars, groups = guide()
    for host in ('lb1', 'lb2'):
        hostvars[host]['__keepalived_preflight'].update(vip='10.0.0.1/24', allow_outside_subnet=True)
    assert inventory_errors(hostvars, groups) == []


def test_plain_vip_skips_the_subnet_check():
    hostvars, groups = guide()
    for host in ('lb1', 'lb2'):
        hostvars[host]['__keepalived_preflight']['vip'] = '10.9.9.9'
    assert inventory_errors(hostvars, groups) == []


@pytest.mark.parametrize('groups, message', [
    ({'loadbalancers': [], 'control_plane': ['cp1']}, "group 'loadbalancers' is missing or empty"),
    ({'loadbalancers': ['lb1', 'lb2']}, "group 'control_plane' is missing or empty"),
])
def test_missing_groups(groups, message):
    hostvars = guide()[0]
    assert any(message in e for e in inventory_errors(hostvars, groups))


def test_all_problems_are_reported_at_once():
    hostvars, groups = guide()
    hostvars['lb1']['__keepalived_preflight'].update(auth_pass_length=12, vrid=0)
    hostvars['lb2']['__haproxy_preflight']['frontend_port'] = 0
    assert len(inventory_errors(hostvars, groups)) >= 3


def test_colocated_port_conflict_and_default():
    hostvars = {name: lb('10.0.0.%d' % index, vip='10.0.0.100/24', priority=110 - index)
                for index, name in enumerate(['n1', 'n2', 'n3'], start=1)}
    groups = {'loadbalancers': ['n1', 'n2', 'n3'], 'control_plane': ['n1', 'n2', 'n3']}
    errors = inventory_errors(hostvars, groups)
    assert any('n1: is a load balancer and a control-plane node, so haproxy cannot bind '
               'port 6443' in e for e in errors), errors
    assert frontend_port(groups) == 8443
    for name in hostvars:
        hostvars[name]['__haproxy_preflight']['frontend_port'] = frontend_port(groups)
    assert inventory_errors(hostvars, groups) == []


def test_frontend_port_dedicated():
    assert frontend_port(guide()[1]) == 6443


def test_priorities_follow_inventory_order_unless_explicit():
    hostvars = {'a': {}, 'b': {'keepalived_priority': 150}, 'c': {}}
    assert vrrp_priorities(['a', 'b', 'c'], hostvars) == {'a': 101, 'b': 150, 'c': 99}


def test_node_address_prefers_kubeha_address():
    hostvars = {'x': {'kubeha_address': '10.1.1.1', 'ansible_host': '10.2.2.2'},
                'y': {'ansible_host': '10.2.2.3'}, 'z': {'ansible_host': 'z.example'}}
    assert [node_address(h, hostvars) for h in 'xyz'] == ['10.1.1.1', '10.2.2.3', '']


FACTS = {
    'interfaces': ['lo', 'eno1', 'enp2s0'],
    'lo': {'ipv4': {'address': '127.0.0.1', 'netmask': '255.0.0.0'}},
    'eno1': {'ipv4': {'address': '192.168.1.9', 'netmask': '255.255.255.0'}},
    'enp2s0': {'ipv4': {'address': '10.0.0.5', 'netmask': '255.255.0.0'},
               'ipv6': [{'address': 'fd00::5', 'prefix': '64', 'scope': 'global'}]},
}


@pytest.mark.parametrize('address, expected', [
    ('192.168.1.100', 'eno1'),
    ('192.168.1.100/24', 'eno1'),
    ('10.0.200.1', 'enp2s0'),
    ('fd00::100', 'enp2s0'),
    ('172.16.0.1', ''),
])
def test_interface_for_address(address, expected):
    assert interface_for_address(address, copy.deepcopy(FACTS)) == expected
