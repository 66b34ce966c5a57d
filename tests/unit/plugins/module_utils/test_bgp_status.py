"""FRR's JSON as the bgp_speaker module and the BGP exporter read it, and the
exporter's text (plugins/module_utils/bgp_status.py), from FRR 8.4's output."""
import json

from ansible_collections.kubeha.control_plane.plugins.module_utils import bgp_status as S

PEER, VIP = '10.215.1.2', '10.215.100.10/32'
SUMMARY = json.dumps({'ipv4Unicast': {'routerId': '10.215.1.11', 'as': 65101, 'peers': {PEER: {
    'remoteAs': 65000, 'peerUptimeMsec': 194000, 'pfxRcd': 0, 'pfxSnt': 1, 'state': 'Established',
    'connectionsEstablished': 2, 'connectionsDropped': 1}}}})
BFD = json.dumps([{'peer': PEER, 'status': 'up', 'detect-multiplier': 3}])
ADVERTISED = json.dumps({'advertisedRoutes': {VIP: {'network': VIP}}, 'totalPrefixCounter': 1})


def shows(summary=SUMMARY, bfd=BFD, advertised=ADVERTISED):
    """vtysh as collect() calls it; None: vtysh failed."""
    def show(command):
        if command.startswith('show bgp summary'):
            return summary
        if command.startswith('show bfd'):
            return bfd
        return advertised
    return show


def gate_dir(tmp_path, state):
    (tmp_path / 'gate.json').write_text(json.dumps(state))
    return str(tmp_path)


def collect(tmp_path, state, now_offset=0.0, **kw):
    directory = gate_dir(tmp_path, state)
    mtime = (tmp_path / 'gate.json').stat().st_mtime
    options = dict(state_dir=directory, interval=1.0, peers=[PEER], prefixes=[VIP])
    return S.collect(options, show=shows(**kw), now=mtime + now_offset).splitlines()


SERVING = dict(announced=True, metric=100, standby=False, check_ok=True, since=1796361276.5)


def test_sessions_carry_their_drops():
    assert S.sessions(SUMMARY)[PEER] == dict(state='Established', established=True, uptime_s=194.0,
                                             prefixes_sent=1, prefixes_received=0, drops=1)
    assert S.sessions('not json') == {}


def test_a_serving_load_balancer_is_announced_with_its_session_and_bfd_up(tmp_path):
    lines = collect(tmp_path, SERVING)
    for sample in ('kubeha_bgp_frr_up 1', 'kubeha_bgp_session_up{peer="10.215.1.2"} 1',
                   'kubeha_bgp_session_drops_total{peer="10.215.1.2"} 1', 'kubeha_bgp_bfd_up{peer="10.215.1.2"} 1',
                   'kubeha_bgp_prefix_advertised{peer="10.215.1.2",prefix="10.215.100.10/32"} 1',
                   'kubeha_bgp_announced 1', 'kubeha_bgp_gate_up 1', 'kubeha_bgp_gate_check_ok 1',
                   'kubeha_bgp_gate_announcing 1', 'kubeha_bgp_gate_standby 0',
                   'kubeha_bgp_gate_state_since_timestamp_seconds 1796361276.5'):
        assert sample in lines
    assert '# TYPE kubeha_bgp_session_drops_total counter' in lines


def test_a_lost_session_is_not_announced_whatever_the_gate_says(tmp_path):
    summary = json.dumps({'ipv4Unicast': {'peers': {PEER: {'state': 'Active', 'connectionsDropped': 2}}}})
    lines = collect(tmp_path, SERVING, summary=summary, bfd=json.dumps([{'peer': PEER, 'status': 'down'}]),
                    advertised='{}')
    assert 'kubeha_bgp_session_up{peer="10.215.1.2"} 0' in lines
    assert 'kubeha_bgp_bfd_up{peer="10.215.1.2"} 0' in lines
    assert 'kubeha_bgp_announced 0' in lines and 'kubeha_bgp_gate_announcing 1' in lines


def test_frr_down_says_so_and_announces_nothing(tmp_path):
    lines = collect(tmp_path, SERVING, summary=None, bfd=None, advertised=None)
    assert 'kubeha_bgp_frr_up 0' in lines and 'kubeha_bgp_announced 0' in lines
    assert not any(line.startswith('kubeha_bgp_bfd_up') for line in lines)  # no BFD status read


def test_a_stale_or_stopped_gate_is_down(tmp_path):
    assert 'kubeha_bgp_gate_up 0' in collect(tmp_path, SERVING, now_offset=6.0)  # no write for 3 intervals (5 s)
    stopped = dict(SERVING, announced=False, metric=None, check_ok=None)  # its last write, on the way out
    lines = collect(tmp_path, stopped)
    assert 'kubeha_bgp_gate_up 0' in lines
    assert not any(line.startswith('kubeha_bgp_gate_announcing') for line in lines)
    assert 'kubeha_bgp_gate_up 0' in S.collect(dict(state_dir=str(tmp_path / 'none'), interval=1.0, peers=[PEER],
                                                    prefixes=[VIP]), show=shows()).splitlines()


def test_a_standby_path_and_a_failing_check_are_visible(tmp_path):
    lines = collect(tmp_path, dict(SERVING, metric=200, standby=True, check_ok=False))
    assert 'kubeha_bgp_gate_standby 1' in lines and 'kubeha_bgp_gate_check_ok 0' in lines


def test_label_values_are_escaped():
    assert S._escape('a"b\\c\nd') == 'a\\"b\\\\c\\nd'
