"""No string writes a line, and the ports and addresses a load balancer binds
are checked against the host: every string variable has a form
(plan/syntax.py), FRR's limits, BGP peers that are load balancers, and the
listening sockets and addresses read with the facts (plan/listeners.py)."""
import copy

import pytest

from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan import build as P, syntax as S
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.inputs import role_defaults, role_specs

SETTINGS = {'kubeha_lb_group': 'loadbalancers', 'kubeha_cp_group': 'control_plane',
            'kubeha_client_group': 'clients', 'kubeha_strict_variables': False}
ADDRESSES = {'lb1': '192.168.1.9', 'lb2': '192.168.1.10', 'cp1': '192.168.1.1', 'cp3': '192.168.1.3'}
VRRP = {'kubeha_vip': '192.168.1.100', 'keepalived_auth_pass': 'secret'}
BGP = {'kubeha_vip_mode': 'bgp', 'kubeha_vip': '10.9.100.10', 'bgp_asn': 65101,
       'bgp_peers': [{'address': '192.168.1.1', 'asn': 65000, 'password': 'pw'}]}
SSHD = {'proto': 'tcp', 'family': 4, 'address': '0.0.0.0', 'port': 22, 'pid': 411, 'process': 'sshd',
        'unit': 'ssh.service'}


def facts(host, sockets=None):
    out = {'interfaces': ['lo', 'eno1'], 'os_family': 'Debian', 'gateways': [], 'effective_user_id': 0,
           'lo': {'ipv4': {'address': '127.0.0.1', 'netmask': '255.0.0.0'}},
           'eno1': {'ipv4': {'address': ADDRESSES[host], 'netmask': '255.255.255.0'}}}
    if sockets is not None:
        out['sockets'] = sockets
    return out


def build(group_vars, sockets=None, with_facts=True):
    groups = {'loadbalancers': ['lb1', 'lb2'], 'control_plane': ['cp1', 'cp3']}
    raw = dict((h, dict(copy.deepcopy(group_vars), kubeha_address=ADDRESSES[h])) for g in groups.values() for h in g)
    fax = dict((h, facts(h, sockets)) for h in groups['loadbalancers']) if with_facts else None
    return P.build(raw, copy.deepcopy(groups), SETTINGS, role_defaults(), role_specs(), facts=fax)


def errors(group_vars, **kw):
    return '\n'.join(build(group_vars, **kw)['errors'])


def test_every_string_variable_has_a_form():
    """A new string variable must say what it may hold before it can be rendered."""
    for name, spec in role_specs().items():
        kind, elements = spec.get('type', 'str'), spec.get('elements')
        if kind in ('str', 'path') or elements == 'str':
            assert name in S.FORMS or name in S.CHECKED, name
        if elements == 'dict':
            assert any(variable == name for variable, _key in S.NESTED), name


def test_the_clean_inventories_pass():
    assert build(VRRP)['errors'] == [] and build(BGP)['errors'] == []


@pytest.mark.parametrize('name, value', [
    ('haproxy_health_check_path', '/readyz\n    server evil 10.0.0.1:6443'),
    ('haproxy_health_check_path', '/readyz #x'),
    ('haproxy_log_target', '/dev/log"'),
    ('haproxy_monitor_uri', '/ok}'),
    ('haproxy_health_check_ca_file', 'ca.pem'),
    ('keepalived_track_url', "http://127.0.0.1:8404/' ; reboot ; '"),
    ('keepalived_script_user', 'root\nuser2'),
    ('keepalived_health_timer_interval', '30s\nExecStart=/bin/sh'),
    ('keepalived_health_timer_on_failure', 'x.service\nExecStart=/bin/sh'),
    ('kubeha_hostname', 'lb1;reboot'),
    ('haproxy_frontend_address', '*:22 v4v6'),
])
def test_a_string_that_would_write_a_line_or_a_word_is_refused_by_name(name, value):
    assert ('%s ' % name) in errors(dict(VRRP, **{name: value}))


def test_a_peer_password_that_injects_a_neighbour_is_refused_without_showing_it():
    peers = [{'address': '192.168.1.1', 'asn': 65000, 'password': 'pw\n neighbor 10.213.0.22 remote-as 64999'}]
    found = errors(dict(BGP, bgp_peers=peers))
    assert 'bgp_peers[0] password has a control character' in found
    assert 'neighbor 10.213.0.22' not in found  # a secret is never quoted


def test_frr_limits_are_checked_in_the_plan():
    peers = [{'address': '192.168.1.1', 'asn': 65000, 'password': 'x' * 81, 'name': 'y' * 81}]
    found = errors(dict(BGP, bgp_peers=peers, bgp_standby_prepend=11))
    assert 'bgp_peers[0] password has 81 characters: use at most 80' in found
    assert 'bgp_peers[0] name has 81 characters: use at most 80' in found
    assert 'bgp_standby_prepend 11 is out of range: FRR prepends 0-10 times' in found
    peers = [{'address': '192.168.1.1', 'asn': 65000, 'password': 'x' * 80, 'name': 'core router 1'}]
    assert errors(dict(BGP, bgp_peers=peers, bgp_standby_prepend=10)) == ''


def test_a_peer_that_is_a_load_balancer_is_refused():
    own = [{'address': '192.168.1.9', 'asn': 65000}]
    found = build(dict(BGP, bgp_peers=own))['errors']
    assert 'lb1: bgp_peers[0] address 192.168.1.9 is this load balancer' in '\n'.join(found)
    assert 'lb2: bgp_peers[0] address 192.168.1.9 is the load balancer lb1 of this cluster' in '\n'.join(found)


def test_a_peer_on_another_address_of_the_host_is_refused_with_facts():
    plan = build(dict(BGP, bgp_peers=[{'address': '192.168.1.200', 'asn': 65000}]), with_facts=False)
    assert plan['errors'] == []
    groups = {'loadbalancers': ['lb1', 'lb2'], 'control_plane': ['cp1', 'cp3']}
    raw = dict((h, dict(BGP, bgp_peers=[{'address': '192.168.1.200', 'asn': 65000}], kubeha_address=ADDRESSES[h]))
               for g in groups.values() for h in g)
    fax = dict((h, facts(h)) for h in groups['loadbalancers'])
    fax['lb1']['eno1']['ipv4_secondaries'] = [{'address': '192.168.1.200', 'netmask': '255.255.255.0'}]
    found = P.build(raw, groups, SETTINGS, role_defaults(), role_specs(), facts=fax)['errors']
    assert found == ['lb1: bgp_peers[0] address 192.168.1.200 is an address of this load balancer: the peers '
                     "are the routers the VIP is announced to; give the routers' addresses"]


def test_backend_servers_are_checked():
    found = errors(dict(VRRP, haproxy_backend_servers=[{'name': 'cp1', 'adress': '192.168.1.1'},
                                                       {'name': 'cp 2', 'address': '192.168.1.2', 'port': 70000}]))
    assert 'haproxy_backend_servers[0] has adress, which a server does not take' in found
    assert 'haproxy_backend_servers[0] has no address' in found
    assert "haproxy_backend_servers[1] name 'cp 2' is not of the form" in found
    assert 'haproxy_backend_servers[1] port 70000 is not a port' in found


def test_a_port_another_daemon_holds_is_refused_naming_the_process():
    found = errors(dict(VRRP, haproxy_frontend_port=22), sockets=[SSHD])
    assert ('lb1, lb2: haproxy_frontend_port: TCP port 22 is already held by sshd (pid 411, ssh.service) on '
            '0.0.0.0: choose another port for haproxy_frontend_port, or stop that service first') in found


def test_a_port_held_elsewhere_or_by_our_own_units_is_fine():
    ours = [dict(SSHD, port=6443, process='haproxy', unit='haproxy.service'),
            dict(SSHD, port=8404, address='127.0.0.1', process='haproxy', unit='haproxy.service'),
            dict(SSHD, port=9100, address='127.0.0.1', process='node_exporter', unit='node-exporter.service'),
            dict(SSHD, port=8405, address='10.1.1.1', process='other', unit='other.service')]
    assert errors(VRRP, sockets=ours) == ''
    # the monitor on 127.0.0.1:8404 against something on every address
    found = errors(VRRP, sockets=[dict(SSHD, port=8404, process='python3', unit='session-3.scope')])
    assert 'haproxy_monitor_port: TCP port 8404 is already held by python3 (pid 411, session-3.scope)' in found


def test_bgp_ports_and_the_hand_off_port():
    bird = dict(SSHD, port=179, process='bird', unit='bird.service')
    assert "kubeha_vip_mode: bgp (BGP, FRR's bgpd): TCP port 179 is already held by bird" in errors(
        BGP, sockets=[bird])
    # the hand-off's VXLAN socket is the kernel's (no process): ours
    vxlan = dict(SSHD, proto='udp', port=4799, pid=0, process='', unit='')
    assert errors(BGP, sockets=[vxlan, dict(bird, unit='frr.service', process='bgpd')]) == ''


def test_addresses_the_host_does_not_have_are_refused():
    found = errors(dict(VRRP, kubeha_metrics_address='192.168.1.77', haproxy_frontend_address='192.168.1.100'))
    assert 'kubeha_metrics_address 192.168.1.77 is not an address of this host (it has 127.0.0.1, 192.168.1.' \
        in found
    assert 'haproxy_frontend_address 192.168.1.100 is not an address of this host' in found
    assert errors(dict(VRRP, kubeha_metrics_address='node')) == ''
    # without facts nothing is said of the host's addresses
    assert build(dict(VRRP, kubeha_metrics_address='192.168.1.77'), with_facts=False)['errors'] == []


def _files(state):
    return set(f['path'] for f in state['files'])


def test_the_leftovers_of_each_mode_are_the_other_roles_own_files():
    """What a switch retires is what the other mode's role writes (but FRR's own
    files, and check-haproxy and the exporters' HTTP server, which both modes run)."""
    from ansible_collections.kubeha.control_plane.plugins.module_utils.vrrp_config import HEADER
    from ansible_collections.kubeha.control_plane.plugins.plugin_utils import desired
    from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan import announcer as A
    from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.endpoint import view
    everything = dict(VRRP, keepalived_health_timer=True, keepalived_vrrp_firewall=True,
                      keepalived_metrics_exporter=True, keepalived_restart_on_failure=True)
    vrrp_plan, bgp_plan = build(everything), build(dict(BGP, bgp_metrics_exporter=True))
    vrrp_view, bgp_view = view(vrrp_plan, 'lb1'), view(bgp_plan, 'lb1')
    shared = {'/usr/local/libexec/kubeha/check-haproxy', '/usr/local/libexec/kubeha/exporter_http.py'}
    keepalived = desired.keepalived(vrrp_view)
    assert set(bgp_view['host']['leftovers']['files']) == (
        _files(keepalived) - shared | {keepalived['conf_file']['path']})
    routed = desired.bgp(bgp_view, peers=BGP['bgp_peers'])
    frr_own = {'/etc/frr/frr.conf', '/etc/frr/daemons'}
    assert set(vrrp_view['host']['leftovers']['files']) == _files(routed) - shared - frr_own
    assert A.KEEPALIVED_MARKER in HEADER
    assert A.FRR_MARKER in [f for f in routed['files'] if f['path'] == '/etc/frr/frr.conf'][0]['content']
    # VRRP retires the gate's routes to the VIP, BGP the VIP held as an address
    assert vrrp_view['host']['leftovers']['routes'] == ['192.168.1.100/32']
    assert bgp_view['host']['leftovers']['addresses'] == ['10.9.100.10']
    assert [u['unit'] for u in vrrp_view['host']['leftovers']['configured_units']] == ['frr']
    assert [u['unit'] for u in bgp_view['host']['leftovers']['configured_units']] == ['keepalived']


def test_a_mode_switch_rolls_one_load_balancer_at_a_time_the_old_holder_last():
    """The new VIP has no holder yet (a first converge would take both at once),
    but the old mode's announcer still runs: one at a time, so the old VIP stays
    served by the ones not yet switched and the new one by those switched."""
    from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan import rollout as R
    gate = [dict(kind='unit', name='kubeha-bgp-gate.service', detail='active and enabled')]
    fresh = {'converged': False, 'held_vips': [], 'inactive_services': ['keepalived']}
    to_vrrp = build(VRRP)
    drift = {'lb1': dict(fresh, leftovers=gate), 'lb2': dict(fresh, leftovers=gate)}
    out = R.from_drift(to_vrrp, drift)
    assert (out['order'], out['batches']) == (['lb2', 'lb1'], [1, 1])
    assert out['steps'] == {h: {'drain': False, 'rejoin': False} for h in ('lb1', 'lb2')}  # one holder: no drain
    keepalived = [dict(kind='unit', name='keepalived', detail='active and enabled')]
    to_bgp = build(BGP)
    drift = {'lb1': dict(fresh, leftovers=keepalived, inactive_services=['kubeha-bgp-gate.service']),
             'lb2': dict(fresh, leftovers=keepalived, inactive_services=['kubeha-bgp-gate.service'])}
    out = R.from_drift(to_bgp, drift)
    assert (out['order'], out['batches']) == (['lb2', 'lb1'], [1, 1])
    # the new gate does not run yet (nothing to drain); each announces before the next goes
    assert out['steps'] == {h: {'drain': False, 'rejoin': True} for h in ('lb1', 'lb2')}
    # a unit only enabled (stopped) is not an announcer that serves: a first converge
    drift['lb1']['leftovers'] = drift['lb2']['leftovers'] = [dict(keepalived[0], detail='enabled')]
    assert R.from_drift(to_bgp, drift)['batches'] == [2]


def test_the_vip_is_kubeha_vip_in_every_mode_and_the_old_name_is_refused():
    for mode in (VRRP, BGP):
        old = dict((('keepalived_vip' if k == 'kubeha_vip' else k), v) for k, v in mode.items())
        found = errors(old, with_facts=False)
        assert 'keepalived_vip was renamed to kubeha_vip: use kubeha_vip' in found
        assert 'kubeha_vip is not set' in found
    found = errors(dict(VRRP, keepalived_vip_ipv6='fd00::100'), with_facts=False)
    assert 'keepalived_vip_ipv6 was renamed to kubeha_vip_ipv6: use kubeha_vip_ipv6' in found


def test_a_protocol_port_held_by_another_daemon_names_no_variable_to_change():
    bird = dict(SSHD, port=179, process='bird', unit='bird.service')
    found = errors(BGP, sockets=[bird])
    assert ("kubeha_vip_mode: bgp (BGP, FRR's bgpd): TCP port 179 is already held by bird (pid 411, bird.service) "
            "on 0.0.0.0: stop that service first") in found
