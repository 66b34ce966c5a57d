"""The plan's metrics addresses: kubeha_metrics_address, the exporters' ports, and
what it refuses (the VIP, wildcards, clashing ports) before any host."""
import pytest

from ansible_collections.kubeha.control_plane.tests.unit.plugins.plugin_utils.test_plan import build


def test_default_is_localhost_with_both_exporters():
    plan = build(with_facts=True)
    assert plan['errors'] == []
    assert plan['hosts']['lb1']['metrics'] == {'address': '127.0.0.1', 'haproxy': '127.0.0.1:8405',
                                               'vrrp': '127.0.0.1:9650', 'bgp': ''}
    assert plan['hosts']['lb1']['haproxy']['metrics_bind'] == '127.0.0.1:8405'
    assert plan['hosts']['lb1']['vrrp']['exporter'] == '127.0.0.1:9650'
    assert plan['hosts']['lb1']['vrrp']['vips'] == ['192.168.1.100']
    assert plan['endpoint']['metrics'] == {'lb1': {'haproxy': '127.0.0.1:8405', 'vrrp': '127.0.0.1:9650', 'bgp': ''},
                                           'lb2': {'haproxy': '127.0.0.1:8405', 'vrrp': '127.0.0.1:9650', 'bgp': ''}}


def test_node_means_each_load_balancers_own_address():
    plan = build(group_vars={'kubeha_metrics_address': 'node'}, with_facts=True)
    assert plan['errors'] == []
    assert plan['endpoint']['metrics']['lb2'] == {'haproxy': '192.168.1.10:8405', 'vrrp': '192.168.1.10:9650', 'bgp': ''}


def test_ipv6_address_is_bracketed():
    plan = build(host_vars={'lb1': {'kubeha_metrics_address': '::1'}})
    assert plan['errors'] == []
    assert plan['endpoint']['metrics']['lb1'] == {'haproxy': '[::1]:8405', 'vrrp': '[::1]:9650', 'bgp': ''}


def test_exporters_can_be_turned_off():
    plan = build(group_vars={'haproxy_prometheus_exporter': False, 'keepalived_metrics_exporter': False})
    assert plan['errors'] == []
    assert plan['endpoint']['metrics']['lb1'] == {'haproxy': '', 'vrrp': '', 'bgp': ''}
    assert plan['hosts']['lb1']['haproxy']['metrics_bind'] == ''


def test_the_guide_profile_keeps_the_guides_haproxy_config():
    plan = build(group_vars={'kubeha_profile': 'guide'})
    assert plan['errors'] == []
    assert plan['endpoint']['metrics']['lb1'] == {'haproxy': '', 'vrrp': '127.0.0.1:9650', 'bgp': ''}


@pytest.mark.parametrize('value, words', [
    ('192.168.1.100', ['lb1: kubeha_metrics_address 192.168.1.100 is the VIP', '"node"']),
    ('0.0.0.0', ['lb1: kubeha_metrics_address 0.0.0.0 is a wildcard', 'on the VIP too']),
    ('::', ['kubeha_metrics_address :: is a wildcard']),
    ('nod', ["kubeha_metrics_address 'nod' is not an IP address", '"node" for this host']),
])
def test_refused_addresses_name_host_variable_and_fix(value, words):
    plan = build(host_vars={'lb1': {'kubeha_metrics_address': value}})
    text = ' '.join(plan['errors'])
    for word in words:
        assert word in text, plan['errors']
    assert all(not e.startswith('lb2') for e in plan['errors'])


def test_a_port_used_twice_is_refused_once():
    plan = build(group_vars={'keepalived_metrics_port': 8405})
    assert plan['errors'] == ['lb1, lb2: haproxy_metrics_port equals keepalived_metrics_port (8405): give each '
                              'its own port'], plan['errors']


def test_a_metrics_port_on_the_monitor_port_is_refused():
    plan = build(group_vars={'haproxy_metrics_port': 8404})
    assert any('haproxy_metrics_port equals haproxy_monitor_port (8404)' in e for e in plan['errors']), plan['errors']


def test_out_of_range_port():
    plan = build(group_vars={'keepalived_metrics_port': 70000})
    assert any('keepalived_metrics_port 70000 is out of range' in e for e in plan['errors']), plan['errors']
