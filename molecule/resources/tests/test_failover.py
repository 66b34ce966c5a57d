"""The guide's failover test, automated: stop keepalived on the holder, the VIP
moves and the API keeps answering; start it again and the VIP returns (preempt)
or stays (nopreempt). Each test restores what it breaks."""
import pytest

from conftest import T, healthz_via_vip, holders, node, settled, single_holder, wait_for

# VRRP: one holder at a time (BGP mode: test_bgp.py)
pytestmark = pytest.mark.skipif(T.get('mode') == 'bgp', reason='VRRP mode only')


def _others(first):
    return [lb for lb in T['lbs'] if lb != first]


def _vrrp_state(name):
    return node(name).run('cat %s/%s.state' % (T['state_dir'], T['instance'])).stdout.split()[:1]


def _check_move(stop, start, old_holder_state=None):
    first = single_holder()
    assert len(first) == 1
    first = first[0]
    host = node(first)
    try:
        host.check_output(stop)
        moved = wait_for(holders, lambda h: len(h) == 1 and h[0] != first, timeout=20)
        assert len(moved) == 1 and moved[0] in _others(first), moved
        assert healthz_via_vip().stdout == 'ok'
        if old_holder_state:
            assert wait_for(lambda: _vrrp_state(first), lambda s: s == [old_holder_state],
                            timeout=10) == [old_holder_state]
    finally:
        host.run(start)
    expected = [first] if T['preempt'] else moved
    assert wait_for(holders, lambda h: h == expected, timeout=20) == expected


def test_stopping_keepalived_on_the_holder_moves_the_vip():
    _check_move('systemctl stop keepalived', 'systemctl start keepalived')


def test_dead_haproxy_on_the_holder_moves_the_vip():
    """The guide has no check that haproxy runs on the holder; the track script does.
    (Debian's unit restarts a crashed haproxy at once, so stop it to keep it down.)
    haproxy not answering at all is chk_haproxy_alive's case: the node goes to FAULT."""
    _check_move('systemctl stop haproxy', 'systemctl start haproxy', old_holder_state='FAULT')


def test_sigkilled_keepalived_leaves_exactly_one_holder_and_a_working_api():
    """A SIGKILLed keepalived cannot remove its VIP; the kubeha drop-in restarts it
    after the peers' master-down interval, and the election ends with one holder."""
    first = settled()[0]
    node(first).check_output('systemctl kill --signal=KILL keepalived')
    assert wait_for(lambda: node(first).service('keepalived').is_running, bool, timeout=20)
    assert len(single_holder()) == 1
    assert healthz_via_vip().stdout == 'ok'
    # the election ends on the expected holder (with preempt: the original one)
    expected = [first] if T['preempt'] else single_holder()
    assert wait_for(holders, lambda h: h == expected, timeout=30) == expected
