from pathlib import Path

import pytest

from ansible_collections.kubeha.control_plane.plugins.module_utils.haproxy_stat import (
    is_up, parse_show_stat, settled,
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
