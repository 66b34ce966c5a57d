"""The lab after converge: a working HA Kubernetes API endpoint behind the VIP."""
import pytest

from conftest import CPS, LBS, PORT, VIP, answering_nodes, holders, node, wait_for


@pytest.mark.parametrize('lb', LBS)
@pytest.mark.parametrize('service', ['haproxy', 'keepalived'])
def test_service_active_and_enabled(lb, service):
    svc = node(lb).service(service)
    assert svc.is_running
    assert svc.is_enabled


@pytest.mark.parametrize('lb', LBS)
def test_configs_validate(lb):
    host = node(lb)
    assert host.run('haproxy -c -f /etc/haproxy/haproxy.cfg').rc == 0
    # keepalived 2.2.7's -t kills itself while checking scripts (fixed in 2.2.8),
    # so check the file without its script lines, as the vrrp_config module does.
    host.check_output("sed -e '/^vrrp_script/,/^}/d' -e '/track_script {/,/    }/d' "
                      "-e '/notify /d' -e '/script_user/d' -e '/enable_script_security/d' "
                      "/etc/keepalived/keepalived.conf > /tmp/keepalived-noscripts.conf")
    assert host.run('keepalived -t -f /tmp/keepalived-noscripts.conf').rc == 0


@pytest.mark.parametrize('lb', LBS)
@pytest.mark.parametrize('path', ['/etc/keepalived/keepalived.conf', '/etc/haproxy/haproxy.cfg'])
def test_config_files_are_not_world_readable(lb, path):
    assert node(lb).file(path).mode & 0o007 == 0


def test_guide_timeouts_are_fixed():
    cfg = node('lb1').file('/etc/haproxy/haproxy.cfg').content_string
    assert 'timeout client  4h' in cfg and 'timeout server  4h' in cfg
    assert 'http-check send meth GET uri /readyz' in cfg
    assert 'option  redispatch' in cfg


def test_vip_on_exactly_one_load_balancer():
    assert wait_for(holders, lambda h: len(h) == 1) == ['lb1']  # highest priority, preempt


def test_vrrp_state_files_agree_with_the_vip():
    states = {lb: node(lb).file('/run/keepalived-kubeha/VI_1.state').content_string.split()[0]
              for lb in LBS}
    assert states == {'lb1': 'MASTER', 'lb2': 'BACKUP'}


def test_healthz_through_the_vip_from_the_client(client):
    assert client.check_output('curl -sk --max-time 3 https://%s:%d/healthz' % (VIP, PORT)) == 'ok'


def test_every_control_plane_node_receives_traffic():
    seen = answering_nodes(30)
    assert len(seen) == 30
    assert set(seen) == set(CPS)


def test_monitor_answers_locally_and_not_from_outside(client):
    assert node('lb1').check_output(
        'curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:8404/kubeha/ready') == '200'
    assert client.run('curl -s --max-time 2 http://10.213.0.11:8404/kubeha/ready').rc != 0


def test_stats_socket_is_not_world_accessible():
    sock = node('lb1').file('/run/haproxy/admin.sock')
    assert sock.is_socket
    assert sock.mode & 0o007 == 0
