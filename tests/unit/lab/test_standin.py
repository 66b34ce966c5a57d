"""The kube-apiserver stand-in behaves like kube-apiserver where a load balancer
can see it: ready only after start-up, and a graceful termination."""
import json
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
STANDIN = ROOT / 'lab' / 'standin' / 'kube-apiserver-standin.py'


@pytest.fixture(scope='module')
def cert(tmp_path_factory):
    d = tmp_path_factory.mktemp('standin')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
                    '-subj', '/CN=cp-test', '-keyout', str(d / 'tls.key'), '-out', str(d / 'tls.crt')],
                   check=True, capture_output=True)
    return d


def free_port():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


class Standin(object):
    def __init__(self, cert, tmp_path, *args):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, str(STANDIN), '--address', '127.0.0.1', '--port', str(self.port),
             '--cert', str(cert / 'tls.crt'), '--key', str(cert / 'tls.key'),
             '--state-dir', str(tmp_path), '--node', 'cp-test'] + list(args),
            stderr=subprocess.PIPE, text=True)
        self.proc.stderr.readline()  # "kube-apiserver stand-in for cp-test on ..." once it listens
        self.started = time.monotonic()

    def get(self, path, timeout=5):
        """(status, headers, body) of one GET on a new TLS connection, or (kind, None, '')."""
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        try:
            with socket.create_connection(('127.0.0.1', self.port), timeout=timeout) as raw:
                with ctx.wrap_socket(raw) as conn:
                    conn.sendall(('GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' % path).encode())
                    data = b''
                    while True:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
        except ConnectionRefusedError:
            return 'refused', None, ''
        head, _sep, body = data.decode().partition('\r\n\r\n')
        lines = head.split('\r\n')
        return int(lines[0].split()[1]), dict(line.split(': ', 1) for line in lines[1:]), body

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


@pytest.fixture
def standin(cert, tmp_path):
    made = []

    def start(*args):
        made.append(Standin(cert, tmp_path, *args))
        return made[-1]
    yield start
    for s in made:
        s.stop()


def test_listens_before_it_is_ready(standin):
    s = standin('--startup-delay', '1.5')
    assert s.get('/livez')[0] == 200
    status, _headers, body = s.get('/readyz')
    assert status == 500 and 'poststarthook' in body
    assert s.get('/healthz')[0] == 500
    while time.monotonic() - s.started < 1.7:
        time.sleep(0.1)
    assert s.get('/readyz')[0] == 200 and s.get('/healthz')[0] == 200


def test_graceful_termination(standin):
    """SIGTERM: /readyz fails at once, the rest is served for the delay, a request
    in flight finishes, then the listener closes and it exits 0."""
    s = standin('--shutdown-delay', '1.5')
    assert s.get('/readyz')[0] == 200
    slow = {}
    thread = threading.Thread(target=lambda: slow.update(answer=s.get('/kubeha/slow?s=2.5')))
    thread.start()
    time.sleep(0.2)
    s.proc.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    time.sleep(0.1)
    status, _headers, body = s.get('/readyz')
    assert status == 500 and '[-]shutdown failed' in body
    assert s.get('/livez')[0] == 200 and s.get('/version')[0] == 200  # still serving
    while time.monotonic() - sent < 1.8:
        time.sleep(0.1)
    assert s.get('/version')[0] == 'refused'  # the delay is over: the listener is closed
    thread.join(5)
    assert slow['answer'][0] == 200  # what was in flight finished
    assert s.proc.wait(5) == 0


def test_send_retry_after_rejects_new_requests_until_in_flight_ones_end(standin):
    s = standin('--shutdown-delay', '0.5', '--shutdown-send-retry-after')
    slow = {}
    thread = threading.Thread(target=lambda: slow.update(answer=s.get('/kubeha/slow?s=2')))
    thread.start()
    time.sleep(0.2)
    s.proc.send_signal(signal.SIGTERM)
    time.sleep(0.8)
    status, headers, _body = s.get('/version')
    assert status == 429 and headers.get('Retry-After') == '1'
    thread.join(5)
    assert slow['answer'][0] == 200
    assert s.proc.wait(5) == 0


def test_a_watch_streams_events_and_ends_at_shutdown(cert, standin):
    s = standin('--shutdown-delay', '0.3')
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    raw = socket.create_connection(('127.0.0.1', s.port), timeout=5)
    conn = ctx.wrap_socket(raw)
    conn.sendall(b'GET /api/v1/namespaces/default/events?watch=true HTTP/1.1\r\nHost: x\r\n\r\n')
    data = b''
    while data.count(b'\n{') < 1 or not data.rstrip().endswith(b'}'):
        data += conn.recv(65536)
    event = json.loads(data.decode().split('\r\n\r\n', 1)[1].splitlines()[0])
    assert event['type'] == 'ADDED' and event['object']['kind'] == 'Event'
    s.proc.send_signal(signal.SIGTERM)
    conn.settimeout(5)
    while True:  # the server ends the stream
        chunk = conn.recv(65536)
        if not chunk:
            break
    conn.close()
    assert s.proc.wait(5) == 0


def test_unready_flag_and_401(standin, tmp_path):
    s = standin()
    (tmp_path / 'unready').touch()
    assert s.get('/readyz')[0] == 500 and s.get('/livez')[0] == 200
    (tmp_path / 'unready').unlink()
    (tmp_path / 'deny-anonymous').touch()
    assert s.get('/readyz')[0] == 401
