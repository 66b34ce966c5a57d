"""The keepalived track script (roles/keepalived/templates/check-haproxy.j2),
rendered and run with the real curl against servers on 127.0.0.1: a local
monitor URI that answers 200, 503 or too late, and peers' frontends that serve,
accept and close (no apiserver behind them), or refuse."""
import os
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jinja2
import pytest

TEMPLATE = Path(__file__).resolve().parents[5] / 'roles' / 'keepalived' / 'templates' / 'check-haproxy.j2'
TIMEOUT = 1.0

pytestmark = pytest.mark.skipif(not os.access('/usr/bin/curl', os.X_OK), reason='the script runs /usr/bin/curl')


class Monitor(BaseHTTPRequestHandler):
    behaviour = {'status': 200, 'delay': 0.0}

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802
        time.sleep(self.behaviour['delay'])
        self.send_response(self.behaviour['status'])
        self.send_header('Content-Length', '0')
        self.end_headers()


def _serve(server):
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


@pytest.fixture
def monitor():
    Monitor.behaviour = {'status': 200, 'delay': 0.0}
    server = _serve(ThreadingHTTPServer(('127.0.0.1', 0), Monitor))
    yield Monitor.behaviour, 'http://127.0.0.1:%d/kubeha-monitor' % server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope='module')
def serving_peer(tmp_path_factory):
    """A TLS frontend with an apiserver behind it: /readyz answers."""
    d = tmp_path_factory.mktemp('pki')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj',
                    '/CN=peer', '-keyout', str(d / 'k.pem'), '-out', str(d / 'c.pem')],
                   check=True, capture_output=True)
    server = ThreadingHTTPServer(('127.0.0.1', 0), Monitor)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(d / 'c.pem'), str(d / 'k.pem'))
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    _serve(server)
    yield 'https://127.0.0.1:%d/readyz' % server.server_address[1]
    server.shutdown()


@pytest.fixture(scope='module')
def closing_peer():
    """A frontend with no apiserver UP behind it: haproxy accepts, then closes."""
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    sock.listen(16)

    def loop():
        while True:
            try:
                conn = sock.accept()[0]
            except OSError:
                return
            conn.close()
    threading.Thread(target=loop, daemon=True).start()
    yield 'https://127.0.0.1:%d/readyz' % sock.getsockname()[1]
    sock.close()


@pytest.fixture(scope='module')
def refusing_peer():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return 'https://127.0.0.1:%d/readyz' % port


@pytest.fixture
def script(tmp_path):
    """render(url, peers=(), hold=60) -> run(*args) -> (exit status, state dir)"""
    def render(url, peers=(), hold=60):
        env = jinja2.Environment(keep_trailing_newline=True, trim_blocks=True)  # as Ansible's template
        text = env.from_string(TEMPLATE.read_text()).render(
            ansible_managed='test',
            __keepalived_plan=dict(track_url=url, track_timeout=TIMEOUT, track_peer_urls=list(peers),
                                   track_overload_hold=hold, state_dir=str(tmp_path / 'state')))
        path = tmp_path / 'check-haproxy'
        path.write_text(text)
        path.chmod(0o755)
        (tmp_path / 'state').mkdir(exist_ok=True)

        def run(*args):
            return subprocess.run([str(path)] + list(args), timeout=10, check=False).returncode
        return run
    return render


def _recorded(tmp_path, name='chk_haproxy'):
    return (tmp_path / 'state' / (name + '.track')).read_text().split()[0]


def test_healthy_haproxy_passes_and_is_recorded(monitor, script, tmp_path):
    run = script(monitor[1])
    assert run('serving', 'chk_haproxy') == 0
    assert _recorded(tmp_path) == '0'


def test_no_apiserver_up_here_and_no_peer_to_ask_fails(monitor, script, tmp_path):
    monitor[0]['status'] = 503
    assert script(monitor[1])('serving', 'chk_haproxy') == 22
    assert _recorded(tmp_path) == '22'


def test_no_apiserver_up_anywhere_keeps_the_vip(monitor, script, closing_peer, tmp_path):
    """Every peer reached, none can serve: the check passes (the VIP stays put)."""
    monitor[0]['status'] = 503
    assert script(monitor[1], [closing_peer, closing_peer])('serving', 'chk_haproxy') == 0
    assert _recorded(tmp_path) == '0'


def test_a_peer_that_serves_takes_the_vip(monitor, script, closing_peer, serving_peer):
    monitor[0]['status'] = 503
    assert script(monitor[1], [closing_peer, serving_peer])('serving', 'chk_haproxy') == 22


def test_a_peer_out_of_reach_may_serve(monitor, script, closing_peer, refusing_peer):
    """Refused (or firewalled): nothing is known about it, so the check fails as before."""
    monitor[0]['status'] = 503
    assert script(monitor[1], [closing_peer, refusing_peer])('serving', 'chk_haproxy') == 22


def _sink():
    """A frontend that accepts TCP (the kernel's backlog) and never answers."""
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    sock.listen(8)
    return sock


def test_the_peers_are_asked_within_the_scripts_timeout(monitor, script, tmp_path):
    """Peers that swallow the connection (no answer at all) are given a third of the
    timeout, side by side: keepalived must not kill the run."""
    monitor[0]['status'] = 503
    sinks = [_sink(), _sink(), _sink()]
    started = time.monotonic()
    rc = script(monitor[1], ['https://127.0.0.1:%d/readyz' % s.getsockname()[1] for s in sinks])(
        'serving', 'chk_haproxy')
    took = time.monotonic() - started
    for sock in sinks:
        sock.close()
    assert rc == 0  # reached (TCP connected), never answered: nobody can serve
    assert took < TIMEOUT, took


def test_a_timed_out_check_stays_failed_for_the_hold(monitor, script, tmp_path):
    run = script(monitor[1], hold=60)
    monitor[0]['delay'] = TIMEOUT + 1
    assert run('serving', 'chk_haproxy') == 28
    monitor[0]['delay'] = 0.0
    assert run('serving', 'chk_haproxy') == 28  # answers again, but held
    assert _recorded(tmp_path) == '28'
    held = tmp_path / 'state' / 'chk_haproxy.timedout'
    held.write_text('%d\n' % (time.time() - 61))
    assert run('serving', 'chk_haproxy') == 0  # the hold is over
    assert not (tmp_path / 'state' / 'chk_haproxy.running').exists()


def test_no_hold_when_it_is_off(monitor, script):
    run = script(monitor[1], hold=0)
    monitor[0]['delay'] = TIMEOUT + 1
    assert run('serving', 'chk_haproxy') == 28
    monitor[0]['delay'] = 0.0
    assert run('serving', 'chk_haproxy') == 0


def test_a_refused_or_503_check_is_not_held(monitor, script):
    """A stopped haproxy or no apiserver UP is not an overloaded host."""
    run = script(monitor[1], hold=60)
    monitor[0]['status'] = 503
    assert run('serving', 'chk_haproxy') == 22
    monitor[0]['status'] = 200
    assert run('serving', 'chk_haproxy') == 0


def test_a_run_killed_at_keepalived_timeout_counts_as_timed_out(monitor, script, tmp_path):
    """keepalived kills a run at its timeout: the run's marker is left behind. One left
    by another keepalived process (restarted since) is not held against this one."""
    run = script(monitor[1], hold=60)
    running = tmp_path / 'state' / 'chk_haproxy.running'
    running.write_text('%d %d\n' % (time.time() - 2, 1))  # not our parent: ignored
    assert run('serving', 'chk_haproxy') == 0
    running.write_text('%d %d\n' % (time.time() - 2, os.getpid()))  # our parent (the test) ran it
    assert run('serving', 'chk_haproxy') == 28


def test_alive_passes_on_503_and_fails_when_nothing_answers(monitor, script, refusing_peer):
    monitor[0]['status'] = 503
    assert script(monitor[1])('alive', 'chk_haproxy_alive') == 0
    assert script(refusing_peer.replace('https', 'http'))('alive', 'chk_haproxy_alive') == 7


def test_the_plain_check_asks_no_peer_and_records_nothing(monitor, script, closing_peer, tmp_path):
    """The health timer's check: the local answer as it is."""
    monitor[0]['status'] = 503
    assert script(monitor[1], [closing_peer])() == 22
    assert not list((tmp_path / 'state').iterdir())
