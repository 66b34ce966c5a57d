"""A cluster's life (lifecycle scenario): the load balancers converged before any
apiserver runs, then kubeadm init, joins, a rolling control-plane upgrade and a
load-balancer upgrade, with the probe and a real kubectl watching through the VIP.
The stand-ins start unready and terminate gracefully, as kube-apiserver does."""
import os
import time

import pytest

from conftest import (EP, ROOT, T, KubectlProbe, Probe, backend_states, docker, failures_of, healthz_via_vip,
                      holders, node, requests_of, settled, vip_moves, wait_for)
from test_refusals import LAB, playbook

pytestmark = pytest.mark.skipif(os.environ.get('KUBEHA_SCENARIO') != 'lifecycle',
                                reason='the lifecycle scenario only')
SNIPPET = os.path.join(ROOT, '.build', 'kubeadm-endpoint.yaml')


def standin(host, action):
    docker('exec', host, 'systemctl', action, 'kube-apiserver-standin')


def up_everywhere(host):
    """Wait until every haproxy has ``host`` UP (its checks saw /readyz ok `rise` times)."""
    states = wait_for(lambda: [backend_states(lb).get(host) for lb in T['lbs']],
                      lambda seen: set(seen) == {'UP'}, timeout=60, interval=0.5)
    assert set(states) == {'UP'}, (host, states)


def test_1_day_one_the_endpoint_is_up_before_kubeadm_init():
    """site.yml (molecule's converge, twice: idempotence) passed with no apiserver;
    the snippet is written; the VIP is held and haproxy accepts and closes."""
    assert [cp for cp in T['cps'] if node(cp).service('kube-apiserver-standin').is_running] == []
    assert len(holders()) == 1
    snippet = open(SNIPPET).read()
    assert 'controlPlaneEndpoint: "%s"' % EP['address'] in snippet
    assert EP['kubeadm']['init_command'] in snippet
    answer = node(T['client']).run('curl -sk --max-time 3 https://%s:%d/healthz' % (T['vip'], T['port']))
    # accepted, then closed during the TLS handshake: not refused (7), not a timeout (28), no answer
    assert answer.rc not in (0, 7, 28) and answer.stdout == '', answer


def test_2_verify_names_the_bootstrapping_phase():
    rc, out = playbook(LAB, 'playbooks/verify.yml', '-e', 'verify_settle_seconds=0')
    assert rc != 0 and 'phase bootstrapping: 0 of %d apiservers ready' % len(T['cps']) in out, out[-3000:]
    rc, out = playbook(LAB, 'playbooks/verify.yml', '-e', 'verify_settle_seconds=0',
                       '-e', 'verify_min_ready_apiservers=0')
    assert rc == 0 and 'phase: bootstrapping (0/%d apiservers ready)' % len(T['cps']) in out, out[-3000:]


def test_3_init_joins_and_control_plane_upgrade_fail_nothing():
    """kubeadm init (the first apiserver), joins (the others) and a rolling
    upgrade (each terminated gracefully, restarted) with clients watching."""
    first, others = T['cps'][0], T['cps'][1:]
    standin(first, 'start')  # kubeadm init
    up_everywhere(first)
    assert wait_for(lambda: healthz_via_vip().stdout, lambda out: out == 'ok', timeout=30) == 'ok'
    probe, kubectl = Probe('lifecycle'), KubectlProbe('lifecycle')
    try:
        for host in others:  # kubeadm join --control-plane
            standin(host, 'start')
            up_everywhere(host)
        for host in T['cps']:  # kubeadm upgrade: the static pod restarts, gracefully
            standin(host, 'restart')
            up_everywhere(host)
    finally:
        records, view = probe.stop(), kubectl.stop()
    assert len(requests_of(records)) > 1000
    assert failures_of(records) == []
    assert view['requests'] > 20 and view['failed'] == 0, view['failures']
    assert view['events'] > 10  # the watch streamed throughout (it reconnects when its apiserver restarts)
    rc, out = playbook(LAB, 'playbooks/verify.yml')
    assert rc == 0 and 'phase: healthy' in out and 'kubectl get --raw /readyz through' in out, out[-3000:]


def test_4_load_balancer_upgrade_loses_only_requests_in_flight_at_a_vip_move():
    settled()
    probe = Probe('lifecycle-lb')
    start = probe.started
    try:
        for lb in sorted(T['lbs'], key=lambda h: h == EP['expected_holder']):  # backups first
            rc, out = playbook(LAB, 'playbooks/maintenance.yml', '-e', 'maintenance_target=%s' % lb,
                               '-e', 'maintenance_action=upgrade')
            assert rc == 0, out[-3000:]
    finally:
        records = probe.stop()
    moves = vip_moves(start)
    failures = failures_of(records)
    assert len(requests_of(records)) > 300
    for failure in failures:
        assert any(move - 1.0 <= failure['t'] <= move + 1.0 for move in moves), (failure, moves)
    assert len(failures) <= 2 * len(moves), failures
    assert time.time() - start < 600
