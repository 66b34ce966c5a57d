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
        """The check's exit status: True passes (0), False fails (1), a number is that status."""
        result = self.checks.pop(0)
        return 0 if result is True else 1 if result is False else result

    alive = True

    def haproxy_alive(self):
        return self.alive

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


def test_a_refused_connection_withdraws_at_once():
    # haproxy down: nothing listens, the routers would send clients to a reset
    metrics, _host = run(CONFIG, [True, True, G.REFUSED, True, True])
    assert metrics == [None, 100, None, None, 100]
    metrics, _host = run(CONFIG, [True, True, 22, True])  # haproxy's 503: fall applies
    assert metrics == [None, 100, 100, 100]


def test_a_haproxy_that_died_withdraws_between_checks():
    host = FakeHost([True, True, True])
    runner = G.Runner(CONFIG, host, clock=lambda: 1.0)
    runner.step(), runner.step()
    assert runner.watch() is None and runner.metric == 100  # alive: nothing to do
    host.alive = None  # no pid file (a clean stop removes it): the next check tells
    assert runner.watch() is None and runner.metric == 100
    host.alive = False
    assert runner.watch()['announced'] is False and host.routes == []
    assert runner.step()['metric'] is None  # back only after rise passes again


def test_pid_alive_reads_the_pid_file():
    assert G.pid_alive('123\n', exists=lambda pid: pid == 123) is True
    assert G.pid_alive('124', exists=lambda pid: pid == 123) is False
    assert G.pid_alive('', exists=lambda pid: True) is None and G.pid_alive(None) is None
    import os
    assert G.pid_alive(str(os.getpid())) is True


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


def path(peer, tags=None):
    return dict({'peer': {'peerId': peer}}, **({'largeCommunity': {'string': ' '.join(tags)}} if tags else {}))


def test_a_path_handed_back_is_another_load_balancers_only_with_another_tag():
    mine, other, peers = '65101:168430091:1', '65101:168430092:1', ['10.0.1.1']
    own = [path('0.0.0.0', [mine])]
    assert G.others_announce(json.dumps({'paths': own + [path('10.0.1.1', [other])]}), peers, mine) is True
    # a router hands every load balancer its best path, its own included: not another's
    assert G.others_announce(json.dumps({'paths': own + [path('10.0.1.1', [mine])]}), peers, mine) is False
    assert G.others_announce(json.dumps({'paths': own}), peers, mine) is False
    # a router that strips communities: whose it is cannot be told
    assert G.others_announce(json.dumps({'paths': [path('10.0.1.1')]}), peers, mine) is None
    assert G.others_announce('not json', peers, mine) is False


def test_active_passive_stays_normal_on_its_own_path_handed_back_and_yields_to_a_tagged_other():
    config = dict(CONFIG, mode='active_passive')
    # alone: normal; its own path handed back (False) keeps it normal; another's (True): standby
    metrics, _host = run(config, [True] * 5, others=[False, False, False, True])
    assert metrics == [None, 100, 100, 100, 200]
    # untagged paths (None): a normal one stays normal; one coming back takes it for another's
    metrics, _host = run(config, [True] * 4, others=[False, None, None])
    assert metrics == [None, 100, 100, 100]
    metrics, _host = run(config, [True] * 3, others=[None, None])
    assert metrics == [None, 200, 200]


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
