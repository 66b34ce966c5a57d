"""What is particular to each scenario's topology."""
import pytest

from conftest import EP, T, node

# VRRP: one holder at a time (BGP mode: test_bgp.py)
pytestmark = pytest.mark.skipif(T.get('mode') == 'bgp', reason='VRRP mode only')

KEEPALIVED_CONF = '/etc/keepalived/keepalived.conf'


@pytest.mark.skipif(T['unicast'], reason='multicast scenario only')
@pytest.mark.parametrize('lb', T['lbs'])
def test_multicast_is_the_guides_setup(lb):
    conf = node(lb).file(KEEPALIVED_CONF).content_string
    assert 'unicast_peer' not in conf
    assert 'virtual_router_id 51\n' in conf and 'auth_pass 42\n' in conf
    assert 'priority %d\n' % T['priorities'][lb] in conf
    assert ('state MASTER\n' if T['priorities'][lb] == 101 else 'state BACKUP\n') in conf
    # keepalived joined the VRRP multicast group on the interface
    assert '224.0.0.18' in node(lb).check_output('ip maddr show dev eth0')


@pytest.mark.skipif(not T['unicast'], reason='unicast scenarios only')
@pytest.mark.parametrize('lb', T['lbs'])
def test_unicast_peers_are_the_other_load_balancers(lb):
    conf = node(lb).file(KEEPALIVED_CONF).content_string
    peers = conf.split('unicast_peer {\n', 1)[1].split('    }', 1)[0].split()
    assert len(peers) == len(T['lbs']) - 1
    own = node(lb).check_output("ip -4 -o addr show dev eth0 | awk 'NR==1 {print $4}'").split('/')[0]
    assert own not in peers and 'unicast_src_ip %s\n' % own in conf


@pytest.mark.skipif(T['lbs'] != T['cps'], reason='co-located scenario only')
@pytest.mark.parametrize('name', T['lbs'])
def test_colocated_haproxy_and_apiserver_share_the_node(name):
    listening = node(name).check_output('ss -ltnH')
    assert ':%d ' % T['port'] in listening and ':%d ' % EP['backend_port'] in listening
    conf = node(name).file(KEEPALIVED_CONF).content_string
    assert 'nopreempt\n' in conf and 'state BACKUP\n' in conf
    # with nopreempt every track script has weight 0: failing means FAULT, which releases the VIP
    weights = [line.split()[1] for line in conf.splitlines() if line.strip().startswith('weight ')]
    assert weights and set(weights) == {'0'}
