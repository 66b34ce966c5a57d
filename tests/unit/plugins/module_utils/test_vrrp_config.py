import copy

import pytest

from ansible_collections.kubeha.control_plane.plugins.module_utils.vrrp_config import (
    render, script_paths, validate, without_scripts,
)

BASE = {
    'host_addresses': ['192.168.1.10', '192.168.1.11'],
    'global_defs': {'router_id': 'lb1', 'enable_script_security': True,
                    'script_user': 'keepalived_script'},
    'scripts': [{'name': 'chk_haproxy', 'script': '/usr/local/libexec/kubeha/check-haproxy',
                 'interval': 1, 'timeout': 1, 'fall': 2, 'rise': 2, 'weight': -50}],
    'instances': [{
        'name': 'VI_1', 'interface': 'eno1', 'virtual_router_id': 51, 'priority': 101,
        'state': 'MASTER', 'advert_int': 1, 'version': 2,
        'virtual_ipaddresses': ['192.168.1.100/24'],
        'authentication': {'auth_type': 'PASS', 'auth_pass': '42'},
        'unicast_src_ip': '192.168.1.10', 'unicast_peers': ['192.168.1.11'],
        'peer_priorities': [100], 'track_scripts': [{'name': 'chk_haproxy'}],
        'nopreempt': False, 'notify': '/usr/local/libexec/kubeha/vrrp-notify',
    }],
}


def config(**instance_changes):
    cfg = copy.deepcopy(BASE)
    cfg['instances'][0].update(instance_changes)
    return cfg


def test_base_config_is_valid():
    assert validate(BASE) == []


@pytest.mark.parametrize('changes, message', [
    ({'virtual_router_id': 0}, 'virtual_router_id 0 is out of range: use 1-255'),
    ({'virtual_router_id': 256}, 'virtual_router_id 256 is out of range: use 1-255'),
    ({'priority': 255}, 'priority 255 is out of range: use 1-254'),
    ({'priority': 0}, 'priority 0 is out of range: use 1-254'),
    ({'authentication': {'auth_type': 'PASS', 'auth_pass': '123456789'}},
     'auth_pass has 9 characters: use 1-8 (keepalived silently truncates longer ones)'),
    ({'authentication': {'auth_type': 'PASS', 'auth_pass': ''}}, 'auth_pass has 0 characters'),
    ({'authentication': {'auth_type': 'PASS', 'auth_pass': 'a b'}}, 'printable ASCII'),
    ({'advert_int': 0.5}, 'advert_int 0.5: VRRPv2 needs whole seconds >= 1'),
    ({'advert_int': 1.5}, 'VRRPv2 needs whole seconds'),
    ({'virtual_ipaddresses': ['fd00::100/64'], 'unicast_peers': [], 'unicast_src_ip': None},
     'the IPv6 VIP fd00::100/64 needs VRRP version 3'),
    ({'virtual_ipaddresses': ['192.168.1.300/24']}, "'192.168.1.300/24' is not an IP address"),
    ({'virtual_ipaddresses': []}, 'give at least one VIP'),
    ({'virtual_ipaddresses': ['192.168.1.11/24']},
     'virtual_ipaddresses 192.168.1.11 is the address of a host in the group'),
    ({'virtual_ipaddresses': ['192.168.1.100/24', 'fd00::1/64'], 'version': 3,
      'authentication': None}, 'mixes IPv4 and IPv6'),
    ({'unicast_peers': ['192.168.1.10', '192.168.1.11']},
     "unicast_peers contains this host's own address 192.168.1.10"),
    ({'unicast_peers': ['192.168.1.11', '192.168.1.11']}, 'lists 192.168.1.11 twice'),
    ({'unicast_peers': ['lb2']}, "unicast_peers 'lb2' is not an IP address"),
    ({'unicast_peers': []}, 'unicast needs at least one peer'),
    ({'unicast_src_ip': 'nope'}, "unicast_src_ip 'nope' is not an IP address"),
    ({'state': 'MASTER', 'nopreempt': True, 'track_scripts': []},
     'nopreempt needs state BACKUP on every node'),
    ({'state': 'MASTER', 'preempt_delay': 5}, 'preempt_delay needs state BACKUP'),
    ({'state': 'BACKUP', 'nopreempt': True},
     "'chk_haproxy' has weight -50 but nopreempt is set"),
    ({'peer_priorities': [100], 'track_scripts': [{'name': 'chk_haproxy', 'weight': -1}]},
     'priority 101 drops only to 100, not below the lowest peer priority 100'),
    ({'peer_priorities': [100, 99], 'track_scripts': [{'name': 'chk_haproxy', 'weight': -2}]},
     'not below the lowest peer priority 99'),
    ({'track_scripts': [{'name': 'chk_missing'}]}, "'chk_missing' is not defined in scripts"),
    ({'version': 3, 'advert_int': 0.2}, 'VRRPv3 has no authentication'),
    ({'interface': 'this-name-is-too-long'}, 'is not a valid interface name'),
    ({'notify': 'relative/path'}, 'notify give an absolute path'),
    ({'name': 'bad name'}, ".name 'bad name': use 1-64 letters"),
])
def test_each_rule_names_the_field(changes, message):
    errors = validate(config(**changes))
    assert any(message in e for e in errors), errors


def test_error_names_the_instance():
    errors = validate(config(virtual_router_id=300))
    assert errors[0].startswith('instances[0] (VI_1).virtual_router_id')


@pytest.mark.parametrize('changes', [
    {'version': 3, 'advert_int': 0.2, 'authentication': None},
    {'version': 3, 'authentication': None, 'unicast_peers': [], 'unicast_src_ip': None,
     'virtual_ipaddresses': ['fd00::100/64']},
    {'state': 'BACKUP', 'nopreempt': True, 'track_scripts': [{'name': 'chk_haproxy', 'weight': 0}]},
    {'unicast_peers': [], 'unicast_src_ip': None},  # multicast, as in the guide
    {'peer_priorities': [100], 'track_scripts': [{'name': 'chk_haproxy', 'weight': -2}]},
    {'authentication': {'auth_type': 'PASS', 'auth_pass': '12345678'}},
])
def test_valid_variants(changes):
    assert validate(config(**changes)) == []


def test_script_rules():
    cfg = copy.deepcopy(BASE)
    cfg['scripts'].append(dict(cfg['scripts'][0]))
    cfg['scripts'].append({'name': 'x', 'script': 'say "hi"', 'weight': 300, 'fall': 0,
                           'interval': 0.5})
    errors = validate(cfg)
    assert any('interval 0.5: keepalived before 2.3 reads whole seconds only' in e for e in errors)
    assert any("'chk_haproxy' is defined twice" in e for e in errors)
    assert any('must not contain a double quote' in e for e in errors)
    assert any('keepalived accepts -253..253' in e for e in errors)
    assert any('fall 0: it must be at least 1' in e for e in errors)


def test_duplicate_vrid_on_one_interface():
    cfg = copy.deepcopy(BASE)
    second = copy.deepcopy(cfg['instances'][0])
    second['name'] = 'VI_2'
    second['virtual_ipaddresses'] = ['192.168.1.101/24']
    cfg['instances'].append(second)
    errors = validate(cfg)
    assert any("virtual_router_id 51 is already used by 'VI_1' on eno1" in e for e in errors)


def test_no_instances():
    assert 'instances: give at least one VRRP instance' in validate({'instances': []})


def test_render_matches_the_guide_shape():
    text = render(BASE)
    assert 'vrrp_instance VI_1 {\n    state MASTER\n    interface eno1\n' in text
    assert '    virtual_router_id 51\n    priority 101\n    advert_int 1\n' in text
    assert '        auth_type PASS\n        auth_pass 42\n' in text
    assert '    unicast_src_ip 192.168.1.10\n    unicast_peer {\n        192.168.1.11\n    }\n' in text
    assert '        192.168.1.100/24 dev eno1\n' in text
    assert 'vrrp_script chk_haproxy {\n    script "/usr/local/libexec/kubeha/check-haproxy"\n' in text
    assert '    weight -50\n' in text
    assert '    enable_script_security\n    script_user keepalived_script\n' in text
    assert 'notify "/usr/local/libexec/kubeha/vrrp-notify"' in text
    assert 'version 3' not in text


def test_render_is_deterministic_whatever_the_input_order():
    cfg = copy.deepcopy(BASE)
    cfg['instances'][0]['unicast_peers'] = ['192.168.1.12', '192.168.1.11', '192.168.1.9']
    other = copy.deepcopy(cfg)
    other['instances'][0]['unicast_peers'].reverse()
    assert render(cfg) == render(other)
    assert render(cfg).index('192.168.1.9\n') < render(cfg).index('192.168.1.11\n')


def test_render_v3_subsecond_and_nopreempt():
    text = render(config(version=3, advert_int=0.25, authentication=None, state='BACKUP',
                         nopreempt=True, preempt_delay=0))
    assert '    advert_int 0.25\n    version 3\n    nopreempt\n' in text
    assert 'authentication' not in text


def test_render_multicast_has_no_unicast_block():
    text = render(config(unicast_peers=[], unicast_src_ip=None))
    assert 'unicast' not in text


def test_masked_render_hides_the_secret():
    text = render(BASE, mask_secrets=True)
    assert 'auth_pass ********' in text
    assert 'auth_pass 42' not in text


def test_without_scripts_drops_every_script_reference():
    from ansible_collections.kubeha.control_plane.plugins.module_utils.vrrp_config import (
        without_scripts)
    text = render(without_scripts(BASE))
    for word in ('vrrp_script', 'track_script', 'notify', 'script_user', 'enable_script_security'):
        assert word not in text
    assert 'virtual_router_id 51' in text and 'auth_pass 42' in text
    assert BASE['instances'][0]['notify']  # the original is untouched


def test_script_paths_lists_what_keepalived_executes():
    from ansible_collections.kubeha.control_plane.plugins.module_utils.vrrp_config import (
        script_paths)
    cfg = copy.deepcopy(BASE)
    cfg['scripts'].append({'name': 'inline', 'script': 'killall -0 haproxy'})
    assert script_paths(cfg) == ['/usr/local/libexec/kubeha/check-haproxy',
                                 '/usr/local/libexec/kubeha/vrrp-notify']


@pytest.mark.parametrize('text', [
    '    authentication {\n        auth_type PASS\n        auth_pass oldsecret\n    }\n',
    'auth_pass x\n',
    '\tauth_pass  with-tab-9\n',
])
def test_mask_secrets_hides_any_auth_pass_in_old_text(text):
    from ansible_collections.kubeha.control_plane.plugins.module_utils.vrrp_config import (
        mask_secrets)
    masked = mask_secrets(text)
    assert 'auth_pass ********' in masked.replace('\t', '').replace('  ', ' ') or \
        'auth_pass  ********' in masked
    for secret in ('oldsecret', ' x\n', 'with-tab-9'):
        assert secret not in masked


def test_render_hardening_options():
    cfg = config(check_unicast_src=True, garp_master_refresh=60)
    cfg['global_defs']['max_auto_priority'] = 50
    text = render(cfg)
    assert '    max_auto_priority 50\n' in text.split('vrrp_script', maxsplit=1)[0]  # in global_defs
    instance = text.split('vrrp_instance VI_1 {')[1]
    assert '    check_unicast_src\n    unicast_peer {\n' in instance
    assert '    garp_master_refresh 60\n' in instance
    plain = render(BASE)
    assert 'check_unicast_src' not in plain and 'max_auto_priority' not in plain


def test_min_auto_priority_delay_follows_max_auto_priority_in_global_defs():
    cfg = copy.deepcopy(BASE)
    cfg.setdefault('global_defs', {}).update(max_auto_priority=50, min_auto_priority_delay=100000)
    assert validate(cfg) == []
    head = render(cfg).split('vrrp_script', maxsplit=1)[0]
    assert '    max_auto_priority 50\n    min_auto_priority_delay 100000\n' in head


@pytest.mark.parametrize('gdefs, problem', [
    ({'max_auto_priority': 50, 'min_auto_priority_delay': 0}, 'min_auto_priority_delay 0 is out of range'),
    ({'max_auto_priority': 50, 'min_auto_priority_delay': 20000000}, 'is out of range: use 1-10000000'),
    ({'min_auto_priority_delay': 100000}, 'min_auto_priority_delay needs max_auto_priority'),
])
def test_min_auto_priority_delay_rules(gdefs, problem):
    cfg = copy.deepcopy(BASE)
    cfg.setdefault('global_defs', {}).update(gdefs)
    assert any(problem in e for e in validate(cfg)), validate(cfg)


def test_reannounce_after_split_lines_in_global_defs():
    cfg = copy.deepcopy(BASE)
    cfg.setdefault('global_defs', {}).update(vrrp_higher_prio_send_advert=True, vrrp_garp_lower_prio_delay=1)
    assert validate(cfg) == []
    head = render(cfg).split('vrrp_script', maxsplit=1)[0]
    assert '    vrrp_higher_prio_send_advert true\n    vrrp_garp_lower_prio_delay 1\n' in head
    cfg['global_defs']['vrrp_garp_lower_prio_delay'] = -1
    assert any('vrrp_garp_lower_prio_delay -1 is out of range' in e for e in validate(cfg))
    assert 'higher_prio' not in render(BASE) and 'lower_prio' not in render(BASE)


def test_check_unicast_src_needs_peers_to_mean_anything():
    text = render(config(check_unicast_src=True, unicast_peers=[], unicast_src_ip=None))
    assert 'check_unicast_src' not in text  # multicast: keepalived has no peer list to check


@pytest.mark.parametrize('value, ok', [(None, True), (0, True), (1, True), (99, True), (100, False), (-1, False)])
def test_max_auto_priority_range(value, ok):
    cfg = copy.deepcopy(BASE)
    cfg['global_defs']['max_auto_priority'] = value
    errors = validate(cfg)
    assert (errors == []) is ok, errors


def test_render_the_notify_fifo_owned_by_the_script_user():
    cfg = copy.deepcopy(BASE)
    cfg['instances'][0]['notify'] = None
    cfg['global_defs'].update(vrrp_notify_fifo='/run/keepalived-kubeha/vrrp.fifo',
                              vrrp_notify_fifo_script='/usr/local/libexec/kubeha/vrrp-notify')
    assert validate(cfg) == []
    text = render(cfg)
    assert ('    vrrp_notify_fifo /run/keepalived-kubeha/vrrp.fifo keepalived_script\n'
            '    vrrp_notify_fifo_script /usr/local/libexec/kubeha/vrrp-notify\n'
            '    fifo_write_vrrp_states_on_reload\n') in text
    assert 'notify "' not in text
    assert script_paths(cfg) == ['/usr/local/libexec/kubeha/check-haproxy', '/usr/local/libexec/kubeha/vrrp-notify']
    assert 'vrrp_notify_fifo_script' not in render(without_scripts(cfg))  # keepalived 2.2.7's -t


@pytest.mark.parametrize('gdefs, message', [
    ({'vrrp_notify_fifo': 'relative.fifo'}, "global_defs.vrrp_notify_fifo 'relative.fifo': give an absolute path"),
    ({'vrrp_notify_fifo_script': '/bin/reader'}, 'global_defs.vrrp_notify_fifo_script needs vrrp_notify_fifo'),
])
def test_notify_fifo_rules(gdefs, message):
    cfg = copy.deepcopy(BASE)
    cfg['global_defs'].update(gdefs)
    assert any(message in e for e in validate(cfg)), validate(cfg)
