"""The optional periodic HA check (keepalived_health_timer), where enabled."""
import pytest

from conftest import T, node, single_holder

pytestmark = pytest.mark.skipif(not T.get('health_timer'), reason='timer not enabled here')


@pytest.mark.parametrize('lb', T['lbs'])
def test_timer_is_active_and_the_check_passes(lb):
    host = node(lb)
    assert host.check_output('systemctl is-active kubeha-healthcheck.timer') == 'active'
    assert host.run('systemctl start kubeha-healthcheck.service').rc == 0


def test_check_fails_and_logs_when_haproxy_is_down_on_a_backup():
    holder = single_holder()[0]
    backup = node(next(lb for lb in T['lbs'] if lb != holder))
    try:
        backup.check_output('systemctl stop haproxy')
        assert backup.run('systemctl start kubeha-healthcheck.service').rc != 0
        log = backup.check_output('journalctl -t kubeha-healthcheck -n 5 --no-pager')
        assert 'local haproxy does not answer its monitor URI' in log
    finally:
        backup.run('systemctl start haproxy')
        backup.run('systemctl reset-failed kubeha-healthcheck.service')
