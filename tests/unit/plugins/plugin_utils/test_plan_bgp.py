"""The plan in BGP mode (kubeha_vip_mode: bgp): what the bgp role gets, and
every rule that refuses incomplete or inconsistent BGP settings."""
import copy

from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan import build as P, rollout as R
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.inputs import role_defaults, role_specs

SETTINGS = {'kubeha_lb_group': 'loadbalancers', 'kubeha_cp_group': 'control_plane',
            'kubeha_client_group': 'clients', 'kubeha_strict_variables': False}
ADDRESSES = {'lb1': '192.168.1.9', 'lb2': '192.168.1.10', 'cp1': '192.168.1.1', 'cp3': '192.168.1.3'}


def facts(host, gateways=()):
    return {'interfaces': ['lo', 'eno1'], 'os_family': 'Debian', 'gateways': list(gateways),
            'lo': {'ipv4': {'address': '127.0.0.1', 'netmask': '255.0.0.0'}},
            'eno1': {'ipv4': {'address': ADDRESSES[host], 'netmask': '255.255.255.0'}}}


def build(group_vars=None, host_vars=None, with_facts=False, gateways=()):
    groups = {'loadbalancers': ['lb1', 'lb2'], 'control_plane': ['cp1', 'cp3']}
    raw = dict((h, dict(group_vars or {}, kubeha_address=ADDRESSES[h])) for g in groups.values() for h in g)
    for host, values in (host_vars or {}).items():
        raw[host].update(values)
    fax = dict((h, facts(h, gateways)) for h in groups['loadbalancers']) if with_facts else None
    return P.build(raw, copy.deepcopy(groups), SETTINGS, role_defaults(), role_specs(), facts=fax)


BGP = {'kubeha_vip_mode': 'bgp', 'kubeha_vip': '10.9.100.10',
       'bgp_asn': 65101, 'bgp_peers': [{'address': '192.168.1.1', 'asn': 65000, 'password': 'pw'}]}


def bgp(group_vars=None, **kw):
    return build(group_vars=dict(BGP, **(group_vars or {})), **kw)


def test_a_bgp_inventory_is_clean_and_planned():
    plan = bgp(with_facts=True)
    assert plan['errors'] == []
    ep, lb1 = plan['endpoint'], plan['hosts']['lb1']
    assert ep['mode'] == 'bgp' and ep['vips'] == ['10.9.100.10']
    assert ep['kubeadm']['control_plane_endpoint'] == '10.9.100.10:6443'  # the snippet is unchanged
    b = lb1['bgp']
    assert lb1['vip_mode'] == 'bgp' and b['asn'] == 65101 and b['router_id'] == '192.168.1.9'
    assert b['prefixes'] == ['10.9.100.10/32'] and b['families'] == [4]
    assert b['peers'] == [{'address': '192.168.1.1', 'asn': 65000, 'family': 4, 'name': '', 'password': True}]
    assert 'pw' not in repr(plan)  # the password stays out of the plan
    assert b['bfd'] == {'interval_ms': 300, 'multiplier': 3} and b['mode'] == 'ecmp'
    # each tags its own announcement: ASN, router id as a number, 1
    assert b['community'] == '65101:3232235785:1'
    assert plan['hosts']['lb2']['bgp']['community'] == '65101:3232235786:1'
    assert b['os']['packages'] == ['frr', 'frr-pythontools', 'curl', 'iptables']
    assert lb1['vrrp'] is None  # no VRRP here: no vrrp block, no keepalived settings
    assert b['check']['track_peer_urls'] == ['https://192.168.1.10:6443/readyz']
    assert set(plan['groups']['lb1']) >= {'kubeha_loadbalancers', 'kubeha_all_serve'}


def test_each_mode_offers_the_same_announcer_interface():
    routed, vrrp = bgp(with_facts=True)['hosts']['lb1'], build({'kubeha_vip': '192.168.1.100'},
                                                               with_facts=True)['hosts']['lb1']
    assert set(routed['announcer']) == set(vrrp['announcer'])  # one interface, whatever the mode
    assert {k: routed['announcer'][k] for k in ('unit', 'packages', 'role', 'serves', 'services', 'drill')} == {
        'unit': 'kubeha-bgp-gate.service', 'packages': ['haproxy', 'frr', 'frr-pythontools', 'curl', 'iptables'],
        'role': 'kubeha.control_plane.bgp', 'serves': 'every', 'services': ['haproxy', 'kubeha-bgp-gate.service'],
        'drill': {'step': 'frr', 'service': 'frr'}}
    assert routed['announcer']['drain_paths'] == routed['bgp']['drain_paths']
    assert (routed['announcer']['on_segment'], routed['announcer']['reads']) == (False, True)
    assert {k: vrrp['announcer'][k] for k in ('unit', 'packages', 'role', 'serves', 'services', 'drain_paths')} == {
        'unit': 'keepalived', 'packages': ['haproxy', 'keepalived', 'curl'],
        'role': 'kubeha.control_plane.keepalived', 'serves': 'one', 'services': ['keepalived', 'haproxy'],
        'drain_paths': []}
    assert (vrrp['announcer']['on_segment'], vrrp['announcer']['reads']) == (True, False)
    # maintenance.yml plans without facts: the same, with the default OS's packages
    assert bgp()['hosts']['lb1']['announcer'] == routed['announcer']


def test_the_fast_profile_gives_bfd_and_the_gate_quicker_timers():
    b = bgp({'kubeha_profile': 'fast'})['hosts']['lb1']['bgp']
    assert b['bfd'] == {'interval_ms': 100, 'multiplier': 3}
    assert (b['gate']['interval'], b['gate']['fall'], b['gate']['rise']) == (0.5, 1, 2)


def test_incomplete_bgp_settings_are_refused_in_one_message():
    errors = '\n'.join(bgp({'bgp_asn': None, 'bgp_peers': [{'address': 'router1', 'asn': 'x', 'pasword': 1}],
                            'kubeha_vip': '10.9.100.10/24'})['errors'])
    assert 'bgp_asn is not set' in errors
    assert "bgp_peers[0] address 'router1' is not an IP address" in errors
    assert "bgp_peers[0] asn 'x' is not an AS number" in errors
    assert 'bgp_peers[0] has pasword, which a peer does not take' in errors
    assert 'kubeha_vip 10.9.100.10/24: in BGP mode the VIP is announced as a host route' in errors
    assert 'bgp_peers is empty' in '\n'.join(bgp({'bgp_peers': []})['errors'])
    assert 'equals bgp_asn' in '\n'.join(bgp({'bgp_asn': 65000})['errors'])


def test_settings_of_the_other_mode_are_refused():
    errors = '\n'.join(bgp({'keepalived_vrid': 7, 'keepalived_priority': 150})['errors'])
    assert 'keepalived_vrid is a VRRP setting, and kubeha_vip_mode is bgp' in errors
    assert 'keepalived_priority is a VRRP setting' in errors
    assert 'keepalived_auth_pass is not set' not in errors  # no VRRP, no secret needed
    vrrp = {'kubeha_vip': '192.168.1.100/24', 'keepalived_auth_pass': 'x', 'bgp_asn': 65101}
    errors = '\n'.join(build(group_vars=vrrp)['errors'])
    assert 'bgp_asn is a BGP setting, and kubeha_vip_mode is vrrp' in errors
    errors = '\n'.join(bgp(host_vars={'lb2': {'kubeha_vip_mode': 'vrrp'}})['errors'])
    assert 'the load balancers disagree on kubeha_vip_mode' in errors


def test_with_facts_a_peer_must_be_connected_and_the_vip_outside_every_subnet():
    errors = '\n'.join(bgp({'kubeha_vip': '192.168.1.100',
                            'bgp_peers': [{'address': '10.1.1.1', 'asn': 65000}]}, with_facts=True)['errors'])
    assert 'bgp_peers[0] address 10.1.1.1 is in no subnet of this host' in errors
    assert 'the VIP 192.168.1.100 lies in 192.168.1.0/24, a subnet of this host' in errors
    errors = '\n'.join(bgp(with_facts=True, gateways=['10.9.100.10'])['errors'])
    assert 'the VIP 10.9.100.10 is the default gateway of this host' in errors


def test_an_ipv6_vip_needs_an_ipv6_peer():
    errors = '\n'.join(bgp({'kubeha_vip_ipv6': 'fd00:9::10'})['errors'])
    assert 'the VIP fd00:9::10/128 is IPv6 and no BGP peer is' in errors


def test_a_rollout_in_bgp_mode_drains_one_load_balancer_at_a_time():
    plan = bgp(with_facts=True)
    running = {'converged': False, 'held_vips': [], 'inactive_services': [], 'missing_packages': [],
               'differing_paths': ['/etc/frr/frr.conf']}
    drift = {'lb1': dict(running), 'lb2': dict(running)}
    out = R.from_drift(plan, drift)
    assert (out['order'], out['batches']) == (['lb1', 'lb2'], [1, 1])
    assert out['steps'] == {h: {'drain': True, 'rejoin': True} for h in ('lb1', 'lb2')}
    # haproxy.cfg alone is reloaded in place: no drain, but each is waited for before the next
    reload = dict(running, differing_paths=['/etc/haproxy/haproxy.cfg'])
    assert R.from_drift(plan, {'lb1': reload, 'lb2': reload})['steps']['lb1'] == {'drain': False, 'rejoin': True}
    assert R.from_drift(plan, drift, check_mode=True)['steps']['lb1'] == {'drain': False, 'rejoin': False}
    first = dict(running, inactive_services=['haproxy', 'frr', 'kubeha-bgp-gate.service'])
    out = R.from_drift(plan, {'lb1': first, 'lb2': dict(first)})
    assert out['batches'] == [2]  # a first converge
    assert out['steps']['lb1'] == {'drain': False, 'rejoin': True}  # its gate does not run: nothing to drain


def test_a_retired_bgp_load_balancer_stops_its_gate_first():
    plan = bgp(host_vars={'lb2': {'kubeha_lb_state': 'absent'}})
    assert plan['retired']['lb2']['units'] == ['kubeha-bgp-gate.service', 'frr', 'haproxy']


def test_a_typo_in_a_bgp_variable_or_a_peer_key_is_named_with_the_fix(monkeypatch):
    monkeypatch.setitem(SETTINGS, 'kubeha_strict_variables', True)
    assert bgp({'bgp_asnn': 65101})['errors'] == [
        'lb1, lb2, cp1, cp3: bgp_asnn is not a variable of kubeha.control_plane (did you mean bgp_asn?)']
    errors = '\n'.join(bgp({'bgp_peers': [{'adress': '192.168.1.1', 'asn': 65000}]})['errors'])
    assert 'bgp_peers[0] has adress, which a peer does not take (it takes address, asn, password, name)' in errors


def test_a_rollout_drains_only_for_what_restarts_frr_or_the_gate_or_reloads_frr():
    b = bgp(with_facts=True)['hosts']['lb1']['bgp']
    # frr.conf: its reload drops BFD and the sessions (measured), so it is drained too
    assert b['drain_paths'] == ['/etc/frr/daemons', '/etc/frr/frr.conf', '/usr/local/libexec/kubeha/bgp-gate',
                                '/etc/kubeha/bgp-gate.json', '/etc/systemd/system/kubeha-bgp-gate.service']
    assert bgp()['hosts']['lb1']['bgp']['drain_paths'] == b['drain_paths']  # without facts: Debian's


def test_each_load_balancer_knows_the_hand_off_to_the_others():
    plan = bgp(with_facts=True)
    one, two = plan['hosts']['lb1']['bgp']['handoff'], plan['hosts']['lb2']['bgp']['handoff']
    assert plan['errors'] == [] and one['enabled'] and one['port'] == 4799
    assert (one['address'], one['mac'], one['inner4']) == ('192.168.1.9', '02:6b:68:00:00:01', '169.254.77.1')
    assert one['hosts'] == two['hosts'] == ['lb1', 'lb2']
    # each sees the other as the other sees itself
    assert one['peers'] == [dict((k, two[k]) for k in ('name', 'address', 'mac', 'inner4', 'inner6'))]
    assert one['vips'] == ['10.9.100.10'] and one['frontend_port'] == 6443
    assert not bgp({'bgp_handoff': False})['hosts']['lb1']['bgp']['handoff']['enabled']


def test_a_hand_off_it_cannot_do_is_refused():
    errors = '\n'.join(bgp({'haproxy_frontend_address': '10.9.100.10', 'bgp_handoff_port': 0})['errors'])
    assert 'bgp_handoff needs haproxy to listen on every address, and haproxy_frontend_address is ' \
           '10.9.100.10: remove haproxy_frontend_address' in errors
    assert 'bgp_handoff_port 0 is not a UDP port' in errors
    # an address that is a name cannot be the VXLAN device's end
    named = bgp(host_vars={'lb2': {'kubeha_address': 'lb2.example.org'}})['errors']
    assert any("the load balancer lb2 has the address 'lb2.example.org'" in e for e in named)
    # without the hand-off, neither matters
    assert bgp({'haproxy_frontend_address': '10.9.100.10', 'bgp_handoff': False})['errors'] == []
