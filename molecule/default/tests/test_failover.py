"""The guide's failover test, automated: stop keepalived on the holder, the VIP
moves and the API keeps answering; start it again, the VIP returns (preempt).
Runs after test_endpoint.py (pytest runs files in name order) and restores."""
from conftest import PORT, VIP, holders, node, wait_for


def test_stopping_keepalived_on_the_holder_moves_the_vip_and_back(client):
    assert wait_for(holders, lambda h: len(h) == 1) == ['lb1']
    lb1 = node('lb1')
    try:
        lb1.check_output('systemctl stop keepalived')
        assert wait_for(holders, lambda h: h == ['lb2'], timeout=20) == ['lb2']
        assert client.check_output(
            'curl -sk --max-time 3 https://%s:%d/healthz' % (VIP, PORT)) == 'ok'
    finally:
        lb1.run('systemctl start keepalived')
    assert wait_for(holders, lambda h: h == ['lb1'], timeout=20) == ['lb1']


def test_dead_haproxy_on_the_holder_moves_the_vip(client):
    """The guide has no check that haproxy runs on the holder; the track script does.
    (Debian's unit restarts a crashed haproxy at once, so stop it to keep it down.)"""
    assert wait_for(holders, lambda h: len(h) == 1) == ['lb1']
    lb1 = node('lb1')
    try:
        lb1.check_output('systemctl stop haproxy')
        assert wait_for(holders, lambda h: h == ['lb2'], timeout=20) == ['lb2']
        assert client.check_output(
            'curl -sk --max-time 3 https://%s:%d/healthz' % (VIP, PORT)) == 'ok'
    finally:
        lb1.run('systemctl start haproxy')
    assert wait_for(holders, lambda h: h == ['lb1'], timeout=20) == ['lb1']
