"""The BGP gate's decisions (the program kubeha-bgp-gate.service runs) and the
speaker's parsers, without a host: a fake Host records what the gate does."""
import json

from ansible_collections.kubeha.control_plane.plugins.module_utils import bgp_gate as G, bgp_status as S

CONFIG = {'fall': 2, 'rise': 2, 'mode': 'ecmp', 'prefixes': ['10.9.100.10/32'], 'peers': ['10.0.1.1'],
          'metric_normal': 100, 'metric_standby': 200}


class FakeHost(object):
    def __init__(self, checks, others=()):
        self.checks, self.others = list(checks), list(others)
        self.routes, self.applied = [], []

    def check(self):
        return self.checks.pop(0)

    def others_announce(self, prefix):
        return self.others.pop(0) if self.others else False

    def set_routes(self, prefix, wanted):
        self.applied.append(G.route_commands(prefix, self.routes, wanted))
        self.routes = [] if wanted is None else [wanted]


def run(config, checks, others=()):
    host = FakeHost(checks, others)
    runner = G.Runner(config, host, clock=lambda: 1.0)
    return [runner.step()['metric'] for _check in checks], host


def test_it_announces_after_rise_passes_and_withdraws_after_fall_failures():
    metrics, _host = run(CONFIG, [True, True, True, False, True, False, False, True, True])
    assert metrics == [None, 100, 100, 100, 100, 100, None, None, 100]


def test_active_passive_announces_the_worse_path_while_another_serves():
    config = dict(CONFIG, mode='active_passive')
    # comes back while another serves: standby; the other leaves: normal, never withdrawn on the way
    metrics, host = run(config, [True] * 4, others=[True, True, False])
    assert metrics == [None, 200, 200, 100]
    assert host.applied[-1] == [['ip', '-4', 'route', 'add', 'blackhole', '10.9.100.10/32', 'proto', 'static',
                                 'metric', '100'],
                                ['ip', '-4', 'route', 'del', 'blackhole', '10.9.100.10/32', 'proto', 'static',
                                 'metric', '200']]


def test_route_commands_and_parsers():
    assert G.route_commands('fd00::10/128', [], None) == []
    assert G.route_commands('fd00::10/128', [100], None)[0][:3] == ['ip', '-6', 'route']
    assert G.parse_routes(json.dumps([{'type': 'blackhole', 'metric': 200}, {'type': 'unicast'}])) == [200]
    assert G.local_route_command('10.9.100.10/32')[-2:] == ['table', 'local']
    show = {'paths': [{'peer': {'peerId': '0.0.0.0'}}, {'peer': {'peerId': '10.0.1.1'}}]}
    assert G.others_announce(json.dumps(show), ['10.0.1.1'])
    assert not G.others_announce(json.dumps({'paths': [{'peer': {'peerId': '0.0.0.0'}}]}), ['10.0.1.1'])
    assert not G.others_announce('not json', ['10.0.1.1'])


def test_speaker_status_from_frr_json():
    summary = {'ipv4Unicast': {'peers': {'10.0.1.1': {'state': 'Established', 'peerUptimeMsec': 5000,
                                                      'pfxSnt': 1, 'pfxRcd': 0}}}}
    states = S.sessions(json.dumps(summary))
    assert states['10.0.1.1']['established'] and states['10.0.1.1']['uptime_s'] == 5.0
    assert S.bfd(json.dumps([{'peer': '10.0.1.1', 'status': 'up'}])) == {'10.0.1.1': 'up'}
    adverts = {'10.0.1.1': S.advertised(json.dumps({'advertisedRoutes': {'10.9.100.10/32': {}}}))}
    assert S.announced(['10.9.100.10/32'], adverts, states)
    assert not S.announced(['10.9.100.10/32'], adverts, {'10.0.1.1': {'established': False}})
    assert not S.withdrawn(['10.9.100.10/32'], adverts)
    assert S.withdrawn(['10.9.100.10/32'], {'10.0.1.1': []})
