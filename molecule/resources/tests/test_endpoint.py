"""After converge: a working HA Kubernetes API endpoint behind the VIP."""
import pytest

from conftest import T, answering_nodes, healthz_via_vip, holders, node, single_holder, wait_for

# VRRP: one holder at a time (BGP mode: test_bgp.py)
pytestmark = pytest.mark.skipif(T.get('mode') == 'bgp', reason='VRRP mode only')


@pytest.mark.parametrize('lb', T['lbs'])
@pytest.mark.parametrize('service', ['haproxy', 'keepalived'])
def test_service_active_and_enabled(lb, service):
    svc = node(lb).service(service)
    assert svc.is_running
    assert svc.is_enabled


@pytest.mark.parametrize('lb', T['lbs'])
def test_configs_validate(lb):
    host = node(lb)
    assert host.run('haproxy -c -f /etc/haproxy/haproxy.cfg').rc == 0
    # keepalived 2.2.7's -t kills itself while checking scripts (fixed in 2.2.8),
    # so check the file without its script lines, as the vrrp_config module does.
    host.check_output("sed -e '/^vrrp_script/,/^}/d' -e '/track_script {/,/    }/d' "
                      "-e '/notify/d' -e '/script_user/d' -e '/enable_script_security/d' "
                      "/etc/keepalived/keepalived.conf > /tmp/keepalived-noscripts.conf")
    assert host.run('keepalived -t -f /tmp/keepalived-noscripts.conf').rc == 0


@pytest.mark.parametrize('lb', T['lbs'])
@pytest.mark.parametrize('path', ['/etc/keepalived/keepalived.conf', '/etc/haproxy/haproxy.cfg'])
def test_config_files_are_not_world_readable(lb, path):
    assert node(lb).file(path).mode & 0o007 == 0


def test_guide_flaws_are_fixed_in_haproxy_cfg():
    cfg = node(T['lbs'][0]).file('/etc/haproxy/haproxy.cfg').content_string
    assert 'timeout client  4h' in cfg and 'timeout server  4h' in cfg
    assert 'http-check send meth GET uri /readyz' in cfg
    assert 'option  redispatch' in cfg
    assert 'bind *:%d' % T['port'] in cfg


def test_vip_on_exactly_one_load_balancer():
    found = single_holder()
    assert len(found) == 1
    if T['preempt']:
        assert found == [max(T['priorities'], key=T['priorities'].get)]


def test_vrrp_state_files_agree_with_the_vip():
    holder = single_holder()
    states = {lb: node(lb).file('%s/%s.state' % (T['state_dir'], T['instance'])).content_string.split()[0]
              for lb in T['lbs']}
    assert states == {lb: 'MASTER' if lb in holder else 'BACKUP' for lb in T['lbs']}


@pytest.mark.parametrize('path', ['/healthz', '/livez', '/readyz'])
def test_health_endpoints_through_the_vip_from_the_client(path):
    assert healthz_via_vip(path).stdout == 'ok'


def test_every_control_plane_node_receives_traffic():
    seen = answering_nodes(30)
    assert len(seen) == 30
    assert set(seen) == set(T['cps'])


def test_monitor_answers_locally_and_not_from_outside(client):
    lb = node(T['lbs'][0])
    assert lb.check_output(
        'curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:8404/kubeha/ready') == '200'
    address = lb.check_output("ip -4 -o addr show dev eth0 | awk 'NR==1 {print $4}'").split('/')[0]
    assert client.run('curl -s --max-time 2 http://%s:8404/kubeha/ready' % address).rc != 0


def test_stats_socket_is_not_world_accessible():
    sock = node(T['lbs'][0]).file(T['socket'])
    assert sock.is_socket
    assert sock.mode & 0o007 == 0


def test_unready_apiserver_leaves_the_rotation():
    """The guide's TCP check would keep sending traffic to it."""
    victim = node(T['cps'][0])
    victim.check_output('touch /run/kubeha-standin/unready')
    try:
        # haproxy needs fall (3) checks at fastinter 1 s to take it out
        seen = wait_for(lambda: answering_nodes(12), lambda s: T['cps'][0] not in s, timeout=30)
        assert T['cps'][0] not in seen and len(seen) == 12
    finally:
        victim.run('rm -f /run/kubeha-standin/unready')
    seen = wait_for(lambda: answering_nodes(12), lambda s: T['cps'][0] in s, timeout=30)
    assert T['cps'][0] in seen


def test_holders_probe_sees_the_vip_on_the_holder_only():
    found = holders()
    assert len(found) == 1
