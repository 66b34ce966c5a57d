from pathlib import Path

import pytest

from ansible_collections.kubeha.control_plane.plugins.module_utils.haproxy_stat import (
    admin_states, frontend_sessions_total, is_up, parse_show_stat, settled,
)

SAMPLE = (Path(__file__).parent / 'fixtures' / 'haproxy_show_stat.csv').read_text()


def test_servers_of_the_apiserver_backend():
    servers = parse_show_stat(SAMPLE, 'kube-apiservers')
    assert [s['name'] for s in servers] == ['cp1', 'cp2', 'cp3']
    assert servers[0]['addr'] == '10.213.0.21:6443'
    assert servers[0]['check_status'] == 'L7OK'
    assert all(is_up(s) for s in servers)


def test_summary_rows_and_other_backends_are_left_out():
    names = {(s['backend'], s['name']) for s in parse_show_stat(SAMPLE)}
    assert ('kube-apiservers', 'BACKEND') not in names
    assert not any(pair[0] == 'kubeha-monitor' for pair in names)


def test_a_frontends_total_connections_from_its_summary_row():
    assert frontend_sessions_total(SAMPLE, 'kube-apiserver') == 2
    assert frontend_sessions_total(SAMPLE, 'kubeha-monitor') == 110
    assert frontend_sessions_total(SAMPLE, 'no-such-frontend') is None
    assert frontend_sessions_total('not show stat', 'kube-apiserver') is None


@pytest.mark.parametrize('status, up', [
    ('UP', True), ('UP 1/3', True), ('NOLB', True), ('DOWN', False), ('DOWN 1/2', False),
    ('MAINT', False), ('DRAIN', False), ('MAINT (via x/y)', False), ('no check', False),
])
def test_is_up(status, up):
    assert is_up({'status': status}) is up


def test_down_server_is_reported():
    text = SAMPLE.replace('kube-apiservers,cp2,0,0,0,1,,1,777,2152,,0,,0,0,0,0,UP,',
                          'kube-apiservers,cp2,0,0,0,1,,1,777,2152,,0,,0,0,0,0,DOWN,')
    status = {s['name']: s['status'] for s in parse_show_stat(text, 'kube-apiservers')}
    assert status == {'cp1': 'UP', 'cp2': 'DOWN', 'cp3': 'UP'}


def test_rejects_other_output():
    with pytest.raises(ValueError):
        parse_show_stat('Unknown command.\n')


@pytest.mark.parametrize('status, state', [
    ('UP', 'ready'), ('DOWN', 'ready'), ('UP 1/3', 'ready'), ('NOLB', 'ready'),
    ('DRAIN', 'drain'), ('MAINT', 'maint'), ('MAINT (via kube-apiservers/cp1)', 'maint'), ('', 'ready'),
])
def test_admin_state(status, state):
    from ansible_collections.kubeha.control_plane.plugins.module_utils.haproxy_stat import admin_state
    assert admin_state(status) == state


@pytest.mark.parametrize('servers, expected', [
    ([{'status': 'UP', 'check_status': 'L7OK'}, {'status': 'DOWN', 'check_status': 'L4CON'}], True),
    ([{'status': 'UP', 'check_status': '* L7OK'}], True),
    ([{'status': 'UP 1/3', 'check_status': 'L4CON'}], False),   # going down
    ([{'status': 'DOWN 1/2', 'check_status': 'L7OK'}], False),  # coming up
    ([{'status': 'UP', 'check_status': 'INI'}], False),         # not checked yet
    ([{'status': 'UP', 'check_status': ''}], False),
    ([{'status': 'MAINT', 'check_status': ''}], True),          # set aside on purpose
])
def test_settled(servers, expected):
    assert settled(servers) is expected


# `show servers state` from the lab's haproxy 2.6: cp2 drained, then its apiserver killed.
SERVERS_STATE = ("1\n"
                 "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight "
                 "srv_iweight srv_time_since_last_change srv_check_status srv_check_result "
                 "srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id "
                 "srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr "
                 "srv_agent_addr srv_agent_port\n") + """\
3 kube-apiservers 1 cp1 10.213.0.21 2 0 1 1 36 15 3 4 6 0 0 0 - 6443 - 0 0 - - 0
3 kube-apiservers 2 cp2 10.213.0.22 0 8 1 1 3 8 2 0 6 0 0 0 - 6443 - 0 0 - - 0
3 kube-apiservers 3 cp3 10.213.0.23 2 1 1 1 36 15 3 4 6 0 0 0 - 6443 - 0 0 - - 0
"""


def test_admin_states_read_the_flags_not_the_status():
    assert admin_states(SERVERS_STATE, 'kube-apiservers') == {'cp1': 'ready', 'cp2': 'drain', 'cp3': 'maint'}
    assert admin_states(SERVERS_STATE, 'other') == {}
    with pytest.raises(ValueError):
        admin_states('No such backend.\n', 'kube-apiservers')
