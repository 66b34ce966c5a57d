"""The plan: derived values and every rule, with the roles' real defaults and specs."""
import copy

import pytest

from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.inputs import role_defaults, role_specs
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan import addresses, build as P
from ansible_collections.kubeha.control_plane.plugins.module_utils.vrrp_config import render

SETTINGS = {'kubeha_lb_group': 'loadbalancers', 'kubeha_cp_group': 'control_plane',
            'kubeha_client_group': 'clients', 'kubeha_strict_variables': False}
ADDRESSES = {'lb1': '192.168.1.9', 'lb2': '192.168.1.10',
             'cp1': '192.168.1.1', 'cp3': '192.168.1.3', 'cp5': '192.168.1.5'}


def facts(host, name='eno1', extra=()):
    """Gathered network facts of a host with its address on ``name``."""
    out = {'interfaces': ['lo', name] + list(extra), 'os_family': 'Debian',
           'lo': {'ipv4': {'address': '127.0.0.1', 'netmask': '255.0.0.0'}},
           name: {'ipv4': {'address': ADDRESSES[host], 'netmask': '255.255.255.0'}}}
    for other in extra:
        out[other] = {'ipv4': {'address': '10.0.0.5', 'netmask': '255.255.0.0'}}
    return out


def build(group_vars=None, host_vars=None, groups=None, with_facts=False, settings=None, **kw):
    """The guide's topology: two load balancers, three control planes."""
    groups = groups or {'loadbalancers': ['lb1', 'lb2'], 'control_plane': ['cp1', 'cp3', 'cp5']}
    base = {'kubeha_vip': '192.168.1.100/24', 'keepalived_auth_pass': 'secret1'}
    base.update(group_vars or {})
    raw = {}
    for group in groups.values():
        for host in group:
            raw[host] = dict(base, kubeha_address=ADDRESSES.get(host, host))
    for host, values in (host_vars or {}).items():
        raw.setdefault(host, dict(base)).update(values)
    fax = dict((h, facts(h)) for h in groups['loadbalancers']) if with_facts else None
    if isinstance(with_facts, dict):
        fax.update(with_facts)
    return P.build(raw, copy.deepcopy(groups), dict(SETTINGS, **(settings or {})),
                   role_defaults(), role_specs(), facts=fax, **kw)


def test_guide_topology_is_clean_and_planned():
    plan = build(with_facts=True)
    assert plan['errors'] == [] and plan['warnings'] == []
    ep = plan['endpoint']
    assert ep['vip'] == '192.168.1.100' and ep['vip_cidr'] == '192.168.1.100/24'
    assert ep['port'] == 6443 and ep['url'] == 'https://192.168.1.100:6443'
    assert ep['expected_holder'] == 'lb1' and ep['by_priority'] == ['lb1', 'lb2']
    assert ep['kubeadm'] == {'control_plane_endpoint': '192.168.1.100:6443',
                             'cert_sans': ['192.168.1.100'],
                             'init_command': 'kubeadm init --control-plane-endpoint '
                                             '"192.168.1.100:6443" --upload-certs',
                             'snippet_file': ''}
    assert ep['name'] == 'kubernetes' and ep['vips'] == ['192.168.1.100']
    assert plan['clusters'] == ['kubernetes'] and plan['endpoints'] == {'kubernetes': ep}
    lb1, lb2 = plan['hosts']['lb1'], plan['hosts']['lb2']
    assert lb1['cluster'] == lb2['cluster'] == 'kubernetes'
    assert lb1['haproxy']['binds'] == ['*:6443']
    inst = lb1['vrrp']['instance']
    assert (inst['interface'], inst['priority'], inst['state']) == ('eno1', 101, 'MASTER')
    assert lb2['vrrp']['instance']['state'] == 'BACKUP'
    assert inst['unicast_src_ip'] == '192.168.1.9' and inst['unicast_peers'] == ['192.168.1.10']
    assert [s['address'] for s in lb1['haproxy']['backend_servers']] == [
        '192.168.1.1', '192.168.1.3', '192.168.1.5']
    assert lb1['haproxy']['socket'] == '/run/haproxy/admin.sock'
    assert lb1['haproxy']['monitor_url'] == 'http://127.0.0.1:8404/kubeha/ready'


def test_the_plan_holds_no_secret():
    assert 'secret1' not in repr(build(with_facts=True))


@pytest.mark.parametrize('group_vars, host_vars, groups, message', [
    ({'kubeha_vip': '192.168.1.1/24'}, None, None,
     'lb1, lb2: kubeha_vip 192.168.1.1 is the address of host cp1'),
    ({'kubeha_vip': '192.168.1.9/24'}, None, None,
     'kubeha_vip 192.168.1.9 is the address of host lb1'),
    ({'kubeha_vip': '192.168.1.300/24'}, None, None,
     "kubeha_vip '192.168.1.300/24' is not an IP address"),
    ({'kubeha_vip': ''}, None, None, 'lb1, lb2: kubeha_vip is not set'),
    ({'kubeha_vip': '192.168.2.100/24'}, None, None,
     "kubeha_vip 192.168.2.100/24 is outside this load balancer's subnet"),
    ({'kubeha_vip': 'fd00::100/64'}, None, None,
     'keepalived_vrrp_version 2: the IPv6 VIP fd00::100/64 needs VRRP version 3'),
    ({'keepalived_auth_pass': 'ninechars'}, None, None,
     'keepalived_auth_pass has 9 characters: use 1-8'),
    ({'keepalived_auth_pass': 'a b'}, None, None,
     'keepalived_auth_pass must be printable ASCII without spaces'),
    ({'keepalived_auth_pass': ''}, None, None, 'keepalived_auth_pass is not set'),
    ({'keepalived_vrid': 0}, None, None, 'keepalived_vrid 0 is out of range: use 1-255'),
    ({'keepalived_vrid': 256}, None, None, 'keepalived_vrid 256 is out of range'),
    ({'keepalived_reserved_vrids': [51]}, None, None,
     'keepalived_vrid 51 is already used by another VRRP router'),
    ({}, {'lb1': {'keepalived_priority': 255}}, None,
     'lb1: keepalived_priority 255 is out of range: use 1-254'),
    ({}, {'lb2': {'keepalived_priority': 101}}, None,
     'lb2: keepalived_priority 101 is also the priority of lb1'),
    ({'haproxy_frontend_port': 70000}, None, None,
     'haproxy_frontend_port 70000 is out of range: use 1-65535'),
    ({'haproxy_backend_port': 'abc'}, None, None,
     "haproxy_backend_port 'abc' is not a whole number; e.g. haproxy_backend_port: 6443"),
    ({'keepalived_advert_int': 0.5}, None, None,
     'keepalived_advert_int 0.5: VRRPv2 needs whole seconds >= 1'),
    ({'keepalived_interface': 'eth 0'}, None, None,
     "keepalived_interface 'eth 0' is not a valid interface name"),
    ({'keepalived_interface': 'a' * 16}, None, None,
     "keepalived_interface '%s' is not a valid interface name" % ('a' * 16)),
    ({'haproxy_health_check': 'http2'}, None, None,
     "haproxy_health_check 'http2' is not one of 'https', 'tcp'"),
    ({'keepalived_unicast': 'maybe'}, None, None,
     "keepalived_unicast 'maybe' is not true or false"),
    ({'haproxy_timeout_client': 'forever'}, None, None,
     "haproxy_timeout_client 'forever' is not a haproxy time"),
    ({}, None, {'loadbalancers': ['lb1', 'lb2'], 'control_plane': []},
     "group 'control_plane' (kubeha_cp_group) is missing or empty"),
    ({}, None, {'loadbalancers': ['lb1'], 'control_plane': ['cp1']},
     'lb1: keepalived_unicast is true but this is the only load balancer'),
    ({'haproxy_frontend_port': 6443}, None,
     {'loadbalancers': ['lb1', 'lb2'], 'control_plane': ['lb1', 'lb2']},
     'is a load balancer and a control-plane node, so haproxy cannot bind port 6443'),
    ({'kubeha_profile': 'Fast'}, None, None,
     "kubeha_profile 'Fast' is not one of 'default', 'fast', 'guide' (did you mean 'fast'?)"),
    ({}, {'cp3': {'kubeha_address': 'cp3.example'}}, None,
     "cp3: kubeha_address 'cp3.example' is not an IP address"),
    ({}, {'cp3': {'kubeha_address': '', 'ansible_host': 'cp3.example'}}, None,
     "cp3: no IP address: set kubeha_address"),
    ({}, {'cp3': {'kubeha_address': '192.168.1.1'}}, None,
     'cp3: kubeha_address 192.168.1.1 is also the address of cp1'),
    ({}, {'lb2': {'keepalived_vrid': 52}}, None,
     'the load balancers disagree on keepalived_vrid'),
    ({}, {'lb2': {'keepalived_auth_pass': 'other'}}, None,
     'the load balancers disagree on keepalived_auth_pass (values not shown)'),
    ({'keepalived_track_interval': 0.5}, None, None,
     'keepalived_track_interval 0.5: keepalived before 2.3 reads whole seconds only'),
    ({'keepalived_track_weight': -1}, None, None,
     "keepalived_track_weight weight -1 of 'chk_haproxy': when it fails, priority 101 drops only to 100"),
    # addresses no VIP can have, in either family
    ({'kubeha_vip': '192.168.1.0/24'}, None, None,
     "lb1, lb2: kubeha_vip 192.168.1.0 is the network address of 192.168.1.0/24: choose a free host "
     "address in the load balancers' subnet"),
    ({'kubeha_vip': '192.168.1.255/24'}, None, None,
     'kubeha_vip 192.168.1.255 is the broadcast address of 192.168.1.0/24'),
    ({'kubeha_vip': '169.254.0.100/16'}, None, None, 'kubeha_vip 169.254.0.100 is a link-local address'),
    ({'kubeha_vip': '127.0.0.100/8'}, None, None, 'kubeha_vip 127.0.0.100 is a loopback address'),
    ({'kubeha_vip': '224.0.0.18/24'}, None, None, 'kubeha_vip 224.0.0.18 is a multicast address'),
    ({'kubeha_vip': '0.0.0.0/24'}, None, None, 'kubeha_vip 0.0.0.0 is the unspecified address'),
    ({'kubeha_vip_ipv6': 'fe80::100/64'}, None, None,
     'kubeha_vip_ipv6 fe80::100 is a link-local address, which no router forwards to the clients'),
    ({'kubeha_vip_ipv6': 'fd00:10::/64'}, None, None,
     'kubeha_vip_ipv6 fd00:10:: is the network address of fd00:10::/64'),
    ({'kubeha_vip_ipv6': 'ff02::12/64'}, None, None, 'kubeha_vip_ipv6 ff02::12 is a multicast address'),
])
def test_each_problem_is_named(group_vars, host_vars, groups, message):
    errors = build(group_vars, host_vars, groups)['errors']
    assert any(message in e for e in errors), errors


ELSEWHERE = {'address': '192.168.1.77', 'netmask': '255.255.255.0'}


@pytest.mark.parametrize('group_vars, extra_facts, message', [
    ({'keepalived_interface': 'eno9'}, None,
     "lb1, lb2: keepalived_interface 'eno9' does not exist on this host (it has eno1, lo)"),
    ({'kubeha_vip': '192.168.2.100', 'keepalived_interface': 'eno1'}, None,
     'kubeha_vip 192.168.2.100 is outside the subnets of eno1 (192.168.1.0/24)'),
    ({'kubeha_vip': '172.16.0.1'}, None,
     'no interface has a subnet that contains kubeha_vip 172.16.0.1'),
    ({}, {'lb2': {'interfaces': ['eno1'], 'eno1': {'ipv4': ELSEWHERE}}},
     'lb2: kubeha_address 192.168.1.10 is not an address of this host'),
    # a VIP given without its prefix, judged by the subnet it lands in
    ({'kubeha_vip': '192.168.1.0'}, None,
     "lb1, lb2: kubeha_vip 192.168.1.0 is the network address of 192.168.1.0/24: choose a free host "
     "address in the load balancers' subnet"),
    ({'kubeha_vip': '192.168.1.255'}, None, 'kubeha_vip 192.168.1.255 is the broadcast address of 192.168.1.0/24'),
    # the segment's router: found in the load balancer's default route
    ({'kubeha_vip': '192.168.1.1/24'}, {'lb2': dict(facts('lb2'), gateways=['192.168.1.1'])},
     'lb2: kubeha_vip 192.168.1.1 is the default gateway of this host (the router of its subnet): taking '
     'it would cut every host on the subnet off; choose a free address'),
    # a file the inventory names on the load balancer, looked at with the facts
    ({'haproxy_health_check_client_cert': '/etc/kubeha/check.pem'},
     {'lb2': dict(facts('lb2'), files={'/etc/kubeha/check.pem': {'exists': False}})},
     'lb2: haproxy_health_check_client_cert /etc/kubeha/check.pem does not exist on this load balancer: put '
     'the PEM with the client certificate and its key there before running site.yml, or leave '
     'haproxy_health_check_client_cert empty'),
    ({'haproxy_health_check_ca_file': '/etc/kubeha'},
     {'lb1': dict(facts('lb1'), files={'/etc/kubeha': {'exists': True, 'isreg': False}})},
     'lb1: haproxy_health_check_ca_file /etc/kubeha is not a regular file on this load balancer'),
])
def test_problems_found_with_gathered_facts(group_vars, extra_facts, message):
    errors = build(group_vars, with_facts=extra_facts or True)['errors']
    assert any(message in e for e in errors), errors


def test_a_plain_vip_is_judged_by_the_interface_it_lands_on():
    plan = build({'kubeha_vip': '192.168.1.100'}, with_facts=True)
    assert plan['errors'] == []
    assert plan['hosts']['lb1']['vrrp']['instance']['virtual_ipaddresses'] == ['192.168.1.100/32']


def test_the_interface_is_the_one_whose_subnet_holds_the_vip():
    plan = build(with_facts={'lb1': facts('lb1', 'ens3', extra=['ens4'])})
    assert plan['errors'] == []
    assert plan['hosts']['lb1']['vrrp']['instance']['interface'] == 'ens3'


def test_vip_outside_subnet_can_be_allowed():
    plan = build({'kubeha_vip': '10.0.0.1/24', 'keepalived_allow_vip_outside_subnet': True})
    assert plan['errors'] == []


def test_every_problem_at_once():
    errors = build({'keepalived_auth_pass': 'x' * 12, 'keepalived_vrid': 0,
                    'haproxy_timeout_client': 'forever'})['errors']
    assert len(errors) >= 3


def test_misspelt_variable_is_a_warning_or_an_error():
    plan = build({'keepalived_prority': 90})
    assert plan['errors'] == []
    assert plan['warnings'] == ['lb1, lb2, cp1, cp3, cp5: keepalived_prority is not a variable of '
                                'kubeha.control_plane (did you mean keepalived_priority?)']
    strict = build({'keepalived_prority': 90}, settings={'kubeha_strict_variables': True})
    assert any('did you mean keepalived_priority?' in e for e in strict['errors'])


def test_renamed_group_variable_names_its_successor():
    """A renamed variable is refused (its old name would be ignored), naming the new one."""
    plan = build({'haproxy_lb_group': 'lbs'})
    assert any('haproxy_lb_group was renamed to kubeha_lb_group' in e for e in plan['errors'])


def test_other_group_names():
    groups = {'lbs': ['lb1', 'lb2'], 'apiservers': ['cp1', 'cp3', 'cp5']}
    plan = build(groups=groups, settings={'kubeha_lb_group': 'lbs',
                                          'kubeha_cp_group': 'apiservers'})
    assert plan['errors'] == []
    assert plan['endpoint']['load_balancers'] == ['lb1', 'lb2']
    assert plan['endpoint']['control_plane'] == ['cp1', 'cp3', 'cp5']


def test_colocated_defaults_to_8443():
    groups = {'loadbalancers': ['lb1', 'lb2'], 'control_plane': ['lb1', 'lb2']}
    plan = build(groups=groups)
    assert plan['errors'] == []
    assert plan['endpoint']['port'] == 8443


@pytest.mark.parametrize('profile, version, advert, check', [
    ('default', 2, 1.0, '2s'), ('fast', 3, 0.1, '1s'), ('guide', 2, 1.0, '2s')])
def test_profiles_set_defaults_and_a_variable_still_wins(profile, version, advert, check):
    plan = build({'kubeha_profile': profile})
    lb1 = plan['hosts']['lb1']
    assert plan['errors'] == []
    assert lb1['vrrp']['instance']['version'] == version
    assert lb1['vrrp']['instance']['advert_int'] == advert
    assert lb1['haproxy']['check_inter'] == check
    assert build({'kubeha_profile': profile, 'haproxy_check_inter': '7s'})[
        'hosts']['lb1']['haproxy']['check_inter'] == '7s'


def test_priorities_follow_inventory_order_unless_explicit():
    plan = build({}, {'lb2': {'keepalived_priority': 150}})
    assert plan['endpoint']['priorities'] == {'lb1': 101, 'lb2': 150}
    assert plan['endpoint']['expected_holder'] == 'lb2'


def test_nopreempt_has_no_expected_holder_and_every_node_is_backup():
    plan = build({'keepalived_preempt': False})
    assert plan['endpoint']['expected_holder'] == ''
    assert {h['vrrp']['instance']['state'] for h in plan['hosts'].values()} == {'BACKUP'}
    assert {h['vrrp']['scripts'][0]['weight'] for h in plan['hosts'].values()} == {0}


def test_a_preempt_delay_starts_every_node_backup_so_keepalived_keeps_it():
    """keepalived drops preempt_delay on a node whose initial state is MASTER: the
    delay would never apply to the node that takes the VIP back."""
    plan = build({'keepalived_preempt_delay': 15})
    assert plan['errors'] == []
    instances = [h['vrrp']['instance'] for h in plan['hosts'].values()]
    assert [(i['state'], i['preempt_delay']) for i in instances] == [('BACKUP', 15), ('BACKUP', 15)]
    assert plan['endpoint']['expected_holder'] == 'lb1'  # the election still picks the highest
    assert 'preempt_delay 15' in _render(plan, 'lb1')


def test_without_a_delay_the_highest_starts_master():
    plan = build()
    assert [h['vrrp']['instance']['state'] for h in plan['hosts'].values()] == ['MASTER', 'BACKUP']
    assert {h['vrrp']['instance']['preempt_delay'] for h in plan['hosts'].values()} == {None}


def test_a_preempt_delay_without_preemption_is_refused():
    plan = build({'keepalived_preempt': False, 'keepalived_preempt_delay': 10})
    assert any('keepalived_preempt_delay is 10 but keepalived_preempt is false' in e for e in plan['errors']), \
        plan['errors']


def _render(plan, host):
    inst = dict(plan['hosts'][host]['vrrp']['instance'], authentication=dict(auth_type='PASS', auth_pass='x'))
    return render(dict(global_defs={}, scripts=plan['hosts'][host]['vrrp']['scripts'], instances=[inst]))


def test_node_address_prefers_kubeha_address():
    assert addresses.node_address('x', {'kubeha_address': '10.1.1.1', 'ansible_host': '10.2.2.2'}) == '10.1.1.1'
    assert addresses.node_address('y', {'ansible_host': '10.2.2.3'}) == '10.2.2.3'
    assert addresses.node_address('z', {'ansible_host': 'z.example'}) == ''


@pytest.mark.parametrize('address, expected', [
    ('192.168.1.100', 'eno1'), ('192.168.1.100/24', 'eno1'), ('10.0.200.1', 'ens4'), ('172.16.0.1', '')])
def test_interface_for_address(address, expected):
    assert addresses.interface_for_address(address, facts('lb1', 'eno1', extra=['ens4'])) == expected


def test_a_variable_whose_template_fails_is_named_once():
    plan = build(unreadable={'lb1': {'keepalived_auth_pass': "'vault_pass' is undefined"},
                             'lb2': {'keepalived_auth_pass': "'vault_pass' is undefined"},
                             'cp1': {'keepalived_auth_pass': "'vault_pass' is undefined"}},
                 host_vars={'lb1': {'keepalived_auth_pass': None}, 'lb2': {'keepalived_auth_pass': None}})
    assert plan['errors'] == ["lb1, lb2: keepalived_auth_pass cannot be read: 'vault_pass' is undefined; "
                              "define what its template uses (a vault variable, say) for this host"]


@pytest.mark.parametrize('group_vars, check_src, garp, rt', [
    ({}, True, 60, 50),
    ({'kubeha_profile': 'fast'}, True, 60, 50),
    ({'kubeha_profile': 'guide'}, False, 0, 0),  # multicast: no peers to check against
    ({'keepalived_unicast': False}, False, 60, 50),
    ({'keepalived_check_unicast_src': False}, False, 60, 50),
    ({'keepalived_garp_master_refresh': 0, 'keepalived_max_auto_priority': 0}, True, 0, 0),
])
def test_hardening_follows_the_profile_and_the_mode(group_vars, check_src, garp, rt):
    """Adverts only from the peers in unicast mode, the holder's ARP refreshed,
    real-time priority for a late keepalived; the guide profile stays the guide's."""
    plan = build(group_vars)
    assert plan['errors'] == []
    vrrp = plan['hosts']['lb1']['vrrp']
    assert vrrp['instance']['check_unicast_src'] is check_src
    assert vrrp['instance']['garp_master_refresh'] == garp
    assert vrrp['global_defs']['max_auto_priority'] == rt


@pytest.mark.parametrize('group_vars, delay', [
    ({}, None),  # 1 s adverts: keepalived's own 1 s default, not written
    ({'kubeha_profile': 'fast'}, 100000),  # 0.1 s adverts: late by one advert is late
    ({'kubeha_profile': 'fast', 'keepalived_max_auto_priority': 0}, None),
])
def test_a_late_vrrp_process_turns_real_time_after_one_advert_interval(group_vars, delay):
    plan = build(group_vars)
    assert plan['errors'] == []
    assert plan['hosts']['lb1']['vrrp']['global_defs']['min_auto_priority_delay'] == delay


@pytest.mark.parametrize('group_vars, send, delay', [
    ({}, True, 1), ({'kubeha_profile': 'fast'}, True, 1),
    ({'kubeha_profile': 'guide'}, None, None),  # the guide's file has neither
    ({'keepalived_reannounce_after_split': False}, None, None),
])
def test_after_two_masters_met_the_holder_announces_last(group_vars, send, delay):
    plan = build(group_vars)
    assert plan['errors'] == []
    vrrp = plan['hosts']['lb1']['vrrp']
    gdefs = vrrp['global_defs']
    assert (gdefs['vrrp_higher_prio_send_advert'], gdefs['vrrp_garp_lower_prio_delay']) == (send, delay)


def test_max_auto_priority_out_of_range_is_refused():
    plan = build({'keepalived_max_auto_priority': 120})
    assert any('max_auto_priority 120 is out of range: use 1-99' in e for e in plan['errors']), plan['errors']


def test_the_vrrp_firewall_accepts_the_other_load_balancers_only():
    off = build()['hosts']['lb1']['vrrp']
    assert off['firewall'] is False and off['family'] == 4
    plan = build({'keepalived_vrrp_firewall': True, 'keepalived_unicast': False})
    assert plan['errors'] == []
    lb1, lb2 = plan['hosts']['lb1']['vrrp'], plan['hosts']['lb2']['vrrp']
    assert lb1['firewall'] is True
    assert lb1['peers'] == ['192.168.1.10'] and lb2['peers'] == ['192.168.1.9']  # multicast too


def _track(plan, host):
    vrrp = plan['hosts'][host]['vrrp']
    return vrrp['track_peer_urls'], vrrp['track_overload_hold']


def test_the_serving_check_asks_every_peer_frontend_on_its_own_address():
    plan = build(groups={'loadbalancers': ['lb1', 'lb2', 'cp5'], 'control_plane': ['cp1', 'cp3']})
    assert plan['errors'] == []
    assert _track(plan, 'lb1') == (['https://192.168.1.10:6443/readyz', 'https://192.168.1.5:6443/readyz'], 60)
    assert _track(plan, 'lb2')[0] == ['https://192.168.1.9:6443/readyz', 'https://192.168.1.5:6443/readyz']


@pytest.mark.parametrize('group_vars, host_vars, groups, urls, hold', [
    ({'keepalived_track_ask_peers': False, 'keepalived_track_overload_hold': 0}, {}, None, [], 0),
    # a peer whose frontend listens on the VIP only has no address to ask; one on its own address does
    ({}, {'lb2': {'haproxy_frontend_address': '192.168.1.100'}}, None, [], 60),
    ({}, {'lb2': {'haproxy_frontend_address': '192.168.1.10'}}, None, ['https://192.168.1.10:6443/readyz'], 60),
    # co-located with the apiservers: the peers' haproxy is on 8443
    ({}, {}, {'loadbalancers': ['lb1', 'lb2'], 'control_plane': ['lb1', 'lb2']},
     ['https://192.168.1.10:8443/readyz'], 60),
    # no track script: nothing to ask
    ({'keepalived_track_haproxy': False}, {}, None, [], 60),
])
def test_which_peers_the_serving_check_asks(group_vars, host_vars, groups, urls, hold):
    plan = build(group_vars=group_vars, host_vars=host_vars, groups=groups)
    assert plan['errors'] == []
    assert _track(plan, 'lb1') == (urls, hold)


def test_ipv6_peers_are_asked_in_brackets():
    plan = build(group_vars={'kubeha_vip': 'fd00:1::100/64', 'keepalived_vrrp_version': 3},
                 host_vars={'lb1': {'kubeha_address': 'fd00:1::9'}, 'lb2': {'kubeha_address': 'fd00:1::10'}})
    assert plan['errors'] == []
    assert _track(plan, 'lb1')[0] == ['https://[fd00:1::10]:6443/readyz']


def test_a_negative_overload_hold_is_refused():
    plan = build(group_vars={'keepalived_track_overload_hold': -5})
    assert plan['errors'] == ['lb1, lb2: keepalived_track_overload_hold -5 must be 0 (off) or more seconds; '
                              'e.g. keepalived_track_overload_hold: 60']


def test_the_facts_complete_the_plan_without_planning_again():
    """The plan needs no facts: the interface is unknown until with_facts finds the
    one whose subnet holds the VIP, and the OS's paths come from the one table."""
    from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.facts import with_facts
    plan = build()
    assert plan['errors'] == [] and plan['hosts']['lb1']['vrrp']['instance']['interface'] == ''
    done = with_facts(plan, {'lb1': facts('lb1', 'ens7'), 'lb2': facts('lb2', 'eno1')})
    assert done['errors'] == []
    assert [done['hosts'][h]['vrrp']['instance']['interface'] for h in ('lb1', 'lb2')] == ['ens7', 'eno1']
    assert done['hosts']['lb1']['haproxy']['socket'] == '/run/haproxy/admin.sock'
    assert done['hosts']['lb1']['vrrp']['os']['config_path'] == '/etc/keepalived/keepalived.conf'
    assert plan['hosts']['lb1']['vrrp']['instance']['interface'] == ''  # the plan itself is left as it was


def test_a_load_balancer_of_an_untested_os_family_is_refused():
    redhat = dict(facts('lb2'), os_family='RedHat')
    plan = build(with_facts={'lb2': redhat})
    assert plan['errors'] == ['lb2: runs RedHat, an OS family kubeha.control_plane is not tested on '
                              '(tested: Debian, as Debian 12 and 13): use a load balancer that runs one of those']


@pytest.mark.parametrize('uid, refused', [(0, False), ('0', False), (None, False), (1000, True)])
def test_a_run_without_become_is_refused_naming_the_fix(uid, refused):
    """Facts gathered as a user that is not root: every change would fail, so the
    run is refused before any, naming -b and ansible_become."""
    seen = dict(facts('lb2'), user_id='kubeha' if uid else 'root', effective_user_id=uid)
    plan = build(with_facts={'lb2': seen})
    if not refused:
        assert plan['errors'] == []
        return
    assert plan['errors'] == [
        'lb2: reached as kubeha (uid 1000) without become, but the load balancers need root '
        '(packages, /etc, units, VRRP sockets): run ansible-playbook with -b (--become), or set '
        'ansible_become: true for the load balancers in the inventory; add --ask-become-pass (-K) if sudo '
        'asks for a password']


def test_a_template_older_cores_hand_back_unrendered_is_named_unreadable():
    """ansible-core 2.16-2.18 return '{{ vault_x }}' from hostvars when vault_x is
    undefined (2.19 fails instead): the plan names it as 2.19 would, not as a
    32-character password."""
    from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.inputs import host_variables
    import collections

    class HostVarsVars(collections.UserDict):  # what 2.16 hands back: renders on read, not a dict
        pass

    written = {'keepalived_auth_pass': '{{ vault_keepalived_auth_pass }}',
               'kubeha_vip': '{{ vip }}/24', 'vip': '10.0.0.100', 'haproxy_frontend_port': 6443}
    unreadable = {}
    got = host_variables({'lb1': HostVarsVars(written)}, 'lb1', unreadable)
    assert unreadable == {'keepalived_auth_pass': "'vault_keepalived_auth_pass' is undefined"}
    assert got == {'kubeha_vip': '{{ vip }}/24', 'haproxy_frontend_port': 6443}
    # ansible-inventory's data (a dict) holds templates as written: nothing is unreadable there
    unreadable = {}
    assert host_variables({'lb1': written}, 'lb1', unreadable)['keepalived_auth_pass'].startswith('{{')
    assert unreadable == {}


@pytest.mark.parametrize('vip', ['192.168.1.100/24', '192.168.1.1/31', '192.168.1.7/32', '192.168.1.254/24'])
def test_a_host_address_at_the_subnets_edges_is_a_vip(vip):
    """The first and last host addresses are fine, and a /31 or /32 has no network or broadcast address."""
    from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.rules import vip_class
    interface = addresses.parse_vip(vip)
    assert vip_class(interface.ip, interface.network) is None


def test_the_files_a_load_balancer_must_have_are_read_from_what_facts_yml_saw():
    from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.inputs import network_facts
    looked = {'results': [{'item': {'variable': 'haproxy_health_check_ca_file', 'path': '/etc/ca.pem'},
                           'stat': {'exists': True, 'isreg': True, 'size': 1200, 'mode': '0644'}}]}
    hostvars = {'lb1': {'ansible_facts': dict(facts('lb1')), '__kubeha_host_files': looked}}
    assert network_facts(hostvars, 'lb1')['files'] == {'/etc/ca.pem': {'exists': True, 'isreg': True, 'size': 1200}}
    seen = {'/etc/ca.pem': {'exists': True, 'isreg': True, 'size': 1200}}
    plan = build({'haproxy_health_check_ca_file': '/etc/ca.pem'}, with_facts={'lb1': dict(facts('lb1'), files=seen)})
    assert plan['errors'] == []


def _running(plan, **priorities):
    """What each load balancer's keepalived fact says after ``plan`` was deployed."""
    return dict((h, dict(plan['hosts'][h]['vrrp']['fact'], priority=p)) for h, p in priorities.items())


def _facts_with(plan, fact_of):
    out = dict((h, facts(h)) for h in plan['hosts'])
    for host, fact in fact_of.items():
        out[host] = dict(out[host], keepalived=fact)
    return out


def test_running_load_balancers_keep_their_priority_when_one_joins_at_the_front():
    """Adding lb0 before lb1 and lb2 shifted every derived priority, and the VIP
    moved to lb0 (preempt). Now the running ones keep theirs; lb0 gets the next
    free one below them."""
    from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.facts import with_facts
    before = build()
    assert before['endpoint']['priorities'] == {'lb1': 101, 'lb2': 100}
    assert before['hosts']['lb1']['vrrp']['fact'] == {'vrid': 51, 'base': 101, 'priority': 101}
    ADDRESSES['lb0'] = '192.168.1.8'
    try:
        fact_of = {'lb1': before['hosts']['lb1']['vrrp']['fact'], 'lb2': before['hosts']['lb2']['vrrp']['fact']}
        grown = build(groups={'loadbalancers': ['lb0', 'lb1', 'lb2'], 'control_plane': ['cp1', 'cp3', 'cp5']})
        assert grown['endpoint']['priorities'] == {'lb0': 101, 'lb1': 100, 'lb2': 99}  # no facts: positions
        done = with_facts(grown, dict(_facts_with(grown, fact_of), lb0=facts('lb0')))
    finally:
        del ADDRESSES['lb0']
    assert done['errors'] == []
    ep = done['endpoint']
    assert ep['priorities'] == {'lb0': 99, 'lb1': 101, 'lb2': 100}
    assert ep['by_priority'] == ['lb1', 'lb2', 'lb0'] and ep['expected_holder'] == 'lb1'
    assert done['endpoints']['kubernetes'] is ep
    inst = dict((h, done['hosts'][h]['vrrp']['instance']) for h in ep['load_balancers'])
    assert [(inst[h]['priority'], inst[h]['state']) for h in ('lb0', 'lb1', 'lb2')] == [
        (99, 'BACKUP'), (101, 'MASTER'), (100, 'BACKUP')]
    assert inst['lb1']['peer_priorities'] == [99, 100]
    assert done['hosts']['lb0']['priority'] == 99 and done['hosts']['lb0']['vrrp']['fact']['priority'] == 99
    assert 'priority 99\n' in _render(done, 'lb0') and 'priority 101\n' in _render(done, 'lb1')


def test_a_replaced_load_balancer_takes_a_free_priority_below_the_running_ones():
    from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.facts import with_facts
    plan = build()
    # lb1 is a fresh host (no fact): lb2 keeps 100, lb1 gets 99 and the VIP stays on lb2
    done = with_facts(plan, _facts_with(plan, _running(plan, lb2=100)))
    assert done['endpoint']['priorities'] == {'lb1': 99, 'lb2': 100}
    assert done['endpoint']['expected_holder'] == 'lb2'
    # a deployment that already matches the plan changes nothing
    same = with_facts(plan, _facts_with(plan, _running(plan, lb1=101, lb2=100)))
    assert same['endpoint'] == plan['endpoint'] and same['hosts']['lb1']['vrrp'] == with_facts(
        plan, _facts_with(plan, {}))['hosts']['lb1']['vrrp']


@pytest.mark.parametrize('fact', [
    {'vrid': 52, 'base': 101, 'priority': 120},   # another VRID: another cluster's fact
    {'vrid': 51, 'base': 150, 'priority': 120},   # keepalived_priority_base changed since
    {'vrid': 51, 'base': 101, 'priority': 0},     # not a priority keepalived takes
    {'vrid': 51, 'base': 101, 'priority': '120'},
    {'vrid': 51, 'base': 101},
])
def test_a_fact_for_other_settings_is_not_kept(fact):
    from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.facts import with_facts
    plan = build()
    done = with_facts(plan, _facts_with(plan, {'lb2': fact}))
    assert done['endpoint']['priorities'] == {'lb1': 101, 'lb2': 100}


def test_an_explicit_priority_wins_over_the_running_one():
    from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.facts import with_facts
    plan = build({}, {'lb2': {'keepalived_priority': 120}})
    done = with_facts(plan, _facts_with(plan, _running(plan, lb1=101, lb2=100)))
    assert done['endpoint']['priorities'] == {'lb1': 101, 'lb2': 120}
    assert done['endpoint']['expected_holder'] == 'lb2'
    # two running hosts that claim one priority: the first keeps it, the other is re-derived
    twice = with_facts(build(), _facts_with(build(), _running(build(), lb1=90, lb2=90)))
    assert twice['endpoint']['priorities'] == {'lb1': 90, 'lb2': 89}


def test_the_local_facts_alone_keep_the_priorities():
    """verify, the drill and maintenance gather only the local facts: the plan keeps
    the running priorities and leaves the interface to keepalived_interface."""
    from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.facts import with_facts
    plan = build({'keepalived_interface': 'eno1'})
    done = with_facts(plan, {'lb1': {'keepalived': {'vrid': 51, 'base': 101, 'priority': 90}}})
    assert done['errors'] == [] and done['endpoint']['priorities'] == {'lb1': 90, 'lb2': 89}
    assert done['hosts']['lb1']['vrrp']['instance']['interface'] == 'eno1'


def test_kept_priorities_too_far_apart_for_the_track_weight_are_refused():
    """Priorities kept over many changes can drift apart: a failing check (weight
    -50) must still take the holder below its peers, or the VIP stays on it."""
    from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.facts import with_facts
    plan = build()
    done = with_facts(plan, _facts_with(plan, _running(plan, lb1=101, lb2=40)))
    assert any(e.startswith('lb1: keepalived_track_weight') and 'lowest peer priority 40' in e
               for e in done['errors']), done['errors']


def test_no_room_below_the_running_priorities_derives_them_again():
    from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.facts import with_facts
    plan = build()
    done = with_facts(plan, _facts_with(plan, _running(plan, lb1=1)))
    assert done['endpoint']['priorities'] == {'lb1': 101, 'lb2': 100}


def test_a_load_balancer_marked_absent_is_retired_and_no_peer():
    from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.endpoint import view
    ADDRESSES['lb3'] = '192.168.1.11'
    try:
        plan = build(host_vars={'lb1': {'kubeha_lb_state': 'absent'}},
                     groups={'loadbalancers': ['lb1', 'lb2', 'lb3'], 'control_plane': ['cp1', 'cp3', 'cp5']})
    finally:
        del ADDRESSES['lb3']
    assert plan['errors'] == []
    ep = plan['endpoint']
    assert ep['load_balancers'] == ['lb2', 'lb3'] and ep['expected_holder'] == 'lb2'
    assert 'lb1' not in plan['hosts'] and plan['hosts']['lb2']['vrrp']['instance']['unicast_peers'] == ['192.168.1.11']
    assert plan['groups']['lb1'] == ['kubeha_retired']
    retired = plan['retired']['lb1']
    # keepalived first (its priority-0 advert moves the VIP), haproxy last, the fact removed
    assert retired['units'][0] == 'keepalived' and retired['units'][-1] == 'haproxy'
    assert retired['files'] == ['/etc/ansible/facts.d/kubeha_keepalived.fact']
    assert retired['vips'] == ['192.168.1.100'] and retired['address'] == '192.168.1.9'
    mine = view(plan, 'lb1')
    assert mine['cluster'] == 'kubernetes' and mine['host'] is retired


def test_every_load_balancer_absent_is_refused():
    plan = build({'kubeha_lb_state': 'absent'})
    assert any("every load balancer of cluster 'kubernetes' has kubeha_lb_state: absent" in e
               for e in plan['errors']), plan['errors']
    typo = build(host_vars={'lb1': {'kubeha_lb_state': 'gone'}})
    assert any(e.startswith('lb1: kubeha_lb_state') and "'absent'" in e for e in typo['errors']), typo['errors']
