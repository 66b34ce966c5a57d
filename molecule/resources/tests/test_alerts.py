"""Against the running lab (default scenario): the lab's real Prometheus and
Alertmanager on the client (role kubeha.control_plane.monitoring) scrape both
load balancers, the dashboard's queries answer, and two faults of make alerts
(bench/alerts.py) fire their alert and resolve it: VRRP cut both ways (split
brain) and keepalived stopped on both load balancers (no holder). The faults
run once per scenario (the first verify)."""
import json
import os
import re
import sys
import urllib.parse

import pytest

from conftest import ROOT, T

pytestmark = pytest.mark.skipif(os.environ.get('KUBEHA_SCENARIO') != 'default',
                                reason='runs against inventory/lab (default scenario)')
MARK = (os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'alerts-tested')
        if os.environ.get('MOLECULE_EPHEMERAL_DIRECTORY') else None)
sys.path.insert(0, os.path.join(ROOT, 'bench'))
DASHBOARD = os.path.join(ROOT, 'roles', 'monitoring', 'files', 'kubeha-dashboard.json')


@pytest.fixture(scope='module')
def suite():
    import alerts  # bench/alerts.py: it reads the lab's inventory
    # a Prometheus configured moments ago has not scraped every target yet
    alerts.R.wait(lambda: len(alerts.targets_up()[0]) == 2 * len(T['lbs']) and alerts.targets_up()[1], 60, 1.0)
    return alerts


def query(suite, expr):
    return suite.get(suite.monitor(suite.PROMETHEUS) + '/api/v1/query?' + urllib.parse.urlencode({'query': expr}))


def test_every_load_balancer_is_scraped_by_both_jobs(suite):
    targets, _up = suite.targets_up()
    got = sorted((t['labels']['job'], t['labels']['lb'], t['labels']['cluster']) for t in targets
                 if t['health'] == 'up')
    assert got == sorted((job, lb, 'kubernetes') for job in ('kubeha-haproxy', 'kubeha-vrrp') for lb in T['lbs'])


def test_vrrp_and_haproxy_series_are_present(suite):
    held = query(suite, 'kubeha_vrrp_vip_held')['data']['result']
    assert sorted((r['metric']['lb'], r['metric']['vip']) for r in held) == sorted((lb, T['vip']) for lb in T['lbs'])
    assert sum(int(r['value'][1]) for r in held) == 1  # one holder
    masters = query(suite, 'kubeha_vrrp_state{state="MASTER"} == 1')['data']['result']
    assert len(masters) == 1
    servers = query(suite, 'haproxy_server_status{state="UP"} == 1')['data']['result']
    assert sorted((r['metric']['lb'], r['metric']['server']) for r in servers) == sorted(
        (lb, cp) for lb in T['lbs'] for cp in T['cps'])
    tracks = query(suite, 'kubeha_vrrp_track_script_ok == 1')['data']['result']
    assert len(tracks) == 2 * len(T['lbs'])


def test_every_dashboard_query_answers_with_data(suite):
    with open(DASHBOARD) as handle:
        dashboard = json.load(handle)
    for panel in dashboard['panels']:
        for target in panel['targets']:
            expr = target['expr'].replace('$cluster', '.*').replace('$__rate_interval', '1m')
            answer = query(suite, expr)
            assert answer['status'] == 'success', (panel['title'], expr, answer)
            if not re.search(r'\bALERTS\b', expr):  # no alert need be firing now
                assert answer['data']['result'], (panel['title'], expr)


@pytest.mark.parametrize('case', ['split_brain', 'no_holder'])
def test_the_alert_fires_during_the_fault_and_resolves_after(suite, case):
    if MARK and os.path.exists(MARK + '.' + case):
        pytest.skip('ran in this scenario\'s first verify')
    timeline = suite.Timeline()
    timeline.start()
    try:
        result = suite.run_case(case, timeline)
    finally:
        timeline.stopped.set()
        timeline.join()
    if MARK:
        open(MARK + '.' + case, 'w').close()
    (expected,) = result['expected']
    assert expected['firing_after_s'] is not None, result
    assert expected['received_after_s'] is not None, result  # Alertmanager has it
    assert expected['resolved_after_recovery_s'] is not None, result
    assert result['unexplained'] == [], result
    assert result['met'], result
