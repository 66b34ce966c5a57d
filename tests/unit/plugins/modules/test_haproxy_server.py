"""haproxy_server's drain: it waits until the server has no session, or gives up
after the timeout (failing, or going on for long-lived clients)."""
import pytest

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubeha.control_plane.plugins.modules import haproxy_server

HEADER = '# pxname,svname,scur,status,check_status\n'


def show_stat(status, scur):
    return HEADER + 'kube-apiservers,cp1,%d,%s,L7OK\nkube-apiservers,cp2,0,UP,L7OK\n' % (scur, status)


STATE_HEADER = ('1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight '
                'srv_iweight\n')
FLAGS = {'ready': 0, 'drain': 8, 'maint': 1}


class FakeHaproxy(object):
    """The stats socket: cp1's sessions end one per poll after the drain; with
    ``checks_fail`` its checks fail, so a drained cp1 shows DOWN, as haproxy does."""

    def __init__(self, sessions, ending=True, admin='ready', checks_fail=False):
        self.admin, self.sessions, self.ending, self.commands = admin, sessions, ending, []
        self.checks_fail = checks_fail

    @property
    def status(self):
        if self.admin == 'maint':
            return 'MAINT'
        if self.checks_fail:
            return 'DOWN'
        return 'DRAIN' if self.admin == 'drain' else 'UP'

    def command(self, path, line, timeout=5.0):
        self.commands.append(line)
        if line.startswith('set server'):
            self.admin = line.split()[-1]
            return '\n'
        if line.startswith('show servers state'):
            return STATE_HEADER + '3 kube-apiservers 1 cp1 10.0.0.1 2 %d 1 1\n3 kube-apiservers 2 cp2 10.0.0.2 2 0 1 1\n' % (
                FLAGS[self.admin])
        text = show_stat(self.status, self.sessions)
        if self.status == 'DRAIN' and self.ending and self.sessions:
            self.sessions -= 1
        return text


class Clock(object):
    def __init__(self):
        self.now = 0.0

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


@pytest.fixture
def fake(monkeypatch):
    def make(sessions, ending=True, **kw):
        haproxy = FakeHaproxy(sessions, ending, **kw)
        clock = Clock()
        monkeypatch.setattr(haproxy_server, 'command', haproxy.command)
        monkeypatch.setattr(haproxy_server, 'time', clock)
        return haproxy, clock
    return make


def test_drain_waits_until_the_sessions_end(fake, run_module):
    haproxy, clock = fake(sessions=4)
    result = run_module(haproxy_server, {'name': 'cp1', 'state': 'drain', 'wait_drained': True,
                                         'timeout': 30})
    assert result['rc'] == 0 and result['changed'] and result['drained']
    assert (result['previous'], result['status'], result['sessions']) == ('UP', 'DRAIN', 0)
    assert 'set server kube-apiservers/cp1 state drain' in haproxy.commands
    assert 1.0 <= clock.now <= 3.0  # it polled while sessions remained, then stopped


@pytest.mark.parametrize('on_timeout, rc', [('fail', 1), ('continue', 0)])
def test_sessions_that_never_end(fake, run_module, monkeypatch, on_timeout, rc):
    haproxy, clock = fake(sessions=2, ending=False)
    warned = []  # AnsibleModule.warn: where it goes depends on what else this process imported
    monkeypatch.setattr(AnsibleModule, 'warn', lambda self, message: warned.append(message))
    result = run_module(haproxy_server, {'name': 'cp1', 'state': 'drain', 'wait_drained': True,
                                         'timeout': 5, 'on_timeout': on_timeout})
    assert result['rc'] == rc and not result['drained'] and result['sessions'] == 2
    assert 5.0 <= clock.now <= 6.0
    if on_timeout == 'continue':
        assert warned == ['cp1 still has 2 sessions after 5.0s; going on (long-lived clients will reconnect)']
    else:
        assert warned == [] and result['msg'] == 'cp1 still has 2 sessions after 5.0s'


def test_check_mode_changes_nothing(fake, run_module):
    haproxy, clock = fake(sessions=3)
    result = run_module(haproxy_server, {'name': 'cp1', 'state': 'drain', 'wait_drained': True,
                                         '_ansible_check_mode': True})
    assert result['changed'] and not any(c.startswith('set server') for c in haproxy.commands)
    assert clock.now == 0


def test_a_drained_server_that_is_down_is_put_back(fake, run_module):
    """Restarted while drained, its checks fail: haproxy shows DOWN, not DRAIN.
    'ready' must still clear the drain (it once read the status and did nothing)."""
    haproxy, clock = fake(sessions=0, admin='drain', checks_fail=True)
    result = run_module(haproxy_server, {'name': 'cp1', 'state': 'ready'})
    assert result['rc'] == 0 and result['changed'] and result['previous'] == 'DOWN'
    assert 'set server kube-apiservers/cp1 state ready' in haproxy.commands and haproxy.admin == 'ready'


def test_ready_again_is_idempotent(fake, run_module):
    fake(sessions=0)
    result = run_module(haproxy_server, {'name': 'cp1', 'state': 'ready'})
    assert result['rc'] == 0 and not result['changed']


def test_unknown_server_names_the_ones_there(fake, run_module):
    fake(sessions=0)
    result = run_module(haproxy_server, {'name': 'cp9', 'state': 'drain'})
    assert result['rc'] == 1 and "has no server 'cp9' (it has: cp1, cp2)" in result['msg']
