"""The VRRP exporter's logic (the same file runs on the load balancers)."""
import pytest

from ansible_collections.kubeha.control_plane.plugins.module_utils import vrrp_metrics as M

IP_OUTPUT = '''1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
2: eth0    inet 10.213.0.11/24 brd 10.213.0.255 scope global eth0\\       valid_lft forever
2: eth0    inet 10.213.0.100/24 scope global secondary eth0\\       valid_lft forever
2: eth0    inet6 fd00:213::100/64 scope global nodad \\       valid_lft forever
'''


def samples(text):
    """{'name{labels}': value} of the exposition text, comments left out."""
    return dict(line.rsplit(' ', 1) for line in text.splitlines() if line and not line.startswith('#'))


@pytest.mark.parametrize('text, want', [
    ('MASTER 101 1795586432.57\n', ('MASTER', 101, 1795586432.57)),
    ('BACKUP 100', ('BACKUP', 100, None)),
    ('MASTER_RX_LOWER_PRI 100 1', (None, 100, 1.0)),
    ('', (None, None, None)),
    (None, (None, None, None)),
])
def test_parse_state(text, want):
    assert M.parse_state(text) == want


@pytest.mark.parametrize('text, want', [('3\n', 3), ('', 0), (None, 0), ('x', 0), ('-2', 0)])
def test_parse_count(text, want):
    assert M.parse_count(text) == want


@pytest.mark.parametrize('text, want', [('0 1795586762\n', (True, 1795586762.0)), ('7 12', (False, 12.0)),
                                        ('0', None), ('', None), (None, None)])
def test_parse_track(text, want):
    assert M.parse_track(text) == want


def test_parse_addresses_reads_both_families():
    held = M.parse_addresses(IP_OUTPUT)
    assert {str(a) for a in held} == {'127.0.0.1', '10.213.0.11', '10.213.0.100', 'fd00:213::100'}


def test_pid_running_needs_a_live_keepalived(tmp_path):
    (tmp_path / '42').mkdir()
    (tmp_path / '42' / 'comm').write_text('keepalived\n')
    (tmp_path / '43').mkdir()
    (tmp_path / '43' / 'comm').write_text('bash\n')
    assert M.pid_running('42\n', proc_root=str(tmp_path))
    assert not M.pid_running('43', proc_root=str(tmp_path))  # pid reused by another program
    assert not M.pid_running('44', proc_root=str(tmp_path))  # gone
    assert not M.pid_running('', proc_root=str(tmp_path))
    assert not M.pid_running(None, proc_root=str(tmp_path))


def test_render_a_holder():
    text = M.render('VI_1', True, 'MASTER', 101, 12.5, {'MASTER': 2, 'BACKUP': 1}, ['10.213.0.100'],
                    M.parse_addresses(IP_OUTPUT), {'chk_haproxy': (True, 20.0), 'chk_haproxy_alive': None})
    got = samples(text)
    assert got['kubeha_vrrp_keepalived_up'] == '1'
    assert got['kubeha_vrrp_state{vrrp_instance="VI_1",state="MASTER"}'] == '1'
    assert [k for k, v in got.items() if k.startswith('kubeha_vrrp_state{') and v == '1'] == [
        'kubeha_vrrp_state{vrrp_instance="VI_1",state="MASTER"}']
    assert got['kubeha_vrrp_priority{vrrp_instance="VI_1"}'] == '101'
    assert got['kubeha_vrrp_state_since_timestamp_seconds{vrrp_instance="VI_1"}'] == '12.5'
    assert got['kubeha_vrrp_transitions_total{vrrp_instance="VI_1",state="MASTER"}'] == '2'
    assert got['kubeha_vrrp_transitions_total{vrrp_instance="VI_1",state="FAULT"}'] == '0'
    assert got['kubeha_vrrp_vip_held{vrrp_instance="VI_1",vip="10.213.0.100"}'] == '1'
    assert got['kubeha_vrrp_track_script_ok{script="chk_haproxy"}'] == '1'
    assert 'kubeha_vrrp_track_script_ok{script="chk_haproxy_alive"}' not in got  # never ran
    # each metric family once, HELP and TYPE before its samples
    assert text.count('# TYPE kubeha_vrrp_transitions_total counter') == 1
    assert text.index('# TYPE kubeha_vrrp_vip_held gauge') < text.index('kubeha_vrrp_vip_held{')


def test_render_a_stopped_keepalived_is_stop_whatever_it_last_said():
    got = samples(M.render('VI_1', False, 'MASTER', 101, 1.0, {}, ['10.213.0.100', 'fd00:213::100'],
                           set(), {}))
    assert got['kubeha_vrrp_keepalived_up'] == '0'
    assert got['kubeha_vrrp_state{vrrp_instance="VI_1",state="STOP"}'] == '1'
    assert got['kubeha_vrrp_state{vrrp_instance="VI_1",state="MASTER"}'] == '0'
    assert got['kubeha_vrrp_vip_held{vrrp_instance="VI_1",vip="fd00:213::100"}'] == '0'


def test_render_before_any_report_is_unknown():
    got = samples(M.render('VI_1', True, None, None, None, {}, [], set(), {}))
    assert got['kubeha_vrrp_state{vrrp_instance="VI_1",state="UNKNOWN"}'] == '1'
    assert not any(k.startswith(('kubeha_vrrp_priority', 'kubeha_vrrp_vip_held')) for k in got)


def test_label_values_are_escaped():
    got = samples(M.render('a"b\\c', True, 'BACKUP', 1, 1.0, {}, [], set(), {}))
    assert 'kubeha_vrrp_priority{vrrp_instance="a\\"b\\\\c"}' in got


def test_collect_reads_the_state_directory(tmp_path):
    (tmp_path / 'VI_1.state').write_text('BACKUP 100 5.0\n')
    (tmp_path / 'VI_1.BACKUP.count').write_text('4\n')
    (tmp_path / 'chk_haproxy.track').write_text('22 9\n')
    (tmp_path / 'keepalived.pid').write_text('999999999\n')
    got = samples(M.collect(dict(state_dir=str(tmp_path), instance='VI_1', vips=['10.213.0.100'],
                                 scripts=['chk_haproxy'], pidfile=str(tmp_path / 'keepalived.pid')),
                            ip_output=IP_OUTPUT))
    assert got['kubeha_vrrp_keepalived_up'] == '0'  # no such process
    assert got['kubeha_vrrp_state{vrrp_instance="VI_1",state="STOP"}'] == '1'
    assert got['kubeha_vrrp_transitions_total{vrrp_instance="VI_1",state="BACKUP"}'] == '4'
    assert got['kubeha_vrrp_vip_held{vrrp_instance="VI_1",vip="10.213.0.100"}'] == '1'
    assert got['kubeha_vrrp_track_script_ok{script="chk_haproxy"}'] == '0'
