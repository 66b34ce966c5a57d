"""apiserver health probe against a real HTTPS server on 127.0.0.1."""
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible.module_utils.six.moves.urllib.error import URLError
from ansible_collections.kubeha.control_plane.plugins.module_utils.healthz import _kind_of, probe


def _openssl(*args):
    subprocess.run(['openssl'] + list(args), check=True, capture_output=True)


@pytest.fixture(scope='module')
def pki(tmp_path_factory):
    """A CA, a server cert for 127.0.0.1 signed by it, and an unrelated CA."""
    d = tmp_path_factory.mktemp('pki')
    # A CA with key usage and a server certificate with its issuer's key id, as
    # kubeadm's are: Python 3.13's default verification (VERIFY_X509_STRICT)
    # refuses certificates without them.
    _openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=test-ca',
             '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
             '-keyout', str(d / 'ca.key'), '-out', str(d / 'ca.crt'))
    _openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=cp-test',
             '-keyout', str(d / 'srv.key'), '-out', str(d / 'srv.csr'))
    (d / 'ext').write_text('subjectAltName=IP:127.0.0.1\nauthorityKeyIdentifier=keyid,issuer\n')
    _openssl('x509', '-req', '-in', str(d / 'srv.csr'), '-CA', str(d / 'ca.crt'), '-CAkey',
             str(d / 'ca.key'), '-CAcreateserial', '-days', '2', '-extfile', str(d / 'ext'),
             '-out', str(d / 'srv.crt'))
    _openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=other-ca',
             '-keyout', str(d / 'other.key'), '-out', str(d / 'other.crt'))
    return d


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802
        if self.path.startswith('/slow'):
            time.sleep(3)
        code, body = {'/readyz': (500, '[-]etcd failed: reason withheld\nreadyz check failed'),
                      '/secure': (401, '{"kind":"Status","code":401}')}.get(self.path, (200, 'ok'))
        data = body.encode()
        self.send_response(code)
        self.send_header('Content-Length', str(len(data)))
        self.send_header('X-Kubeha-Node', 'cp-test')
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope='module')
def server(pki):
    httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(pki / 'srv.crt'), str(pki / 'srv.key'))
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield 'https://127.0.0.1:%d' % httpd.server_address[1]
    httpd.shutdown()


def test_ok_with_the_right_ca(server, pki):
    result = probe(server + '/healthz', ca_path=str(pki / 'ca.crt'))
    assert result['ok'] and result['status'] == 200 and result['body'] == 'ok'
    assert result['node'] == 'cp-test'
    assert result['latency_ms'] > 0


def test_ok_without_verification(server):
    assert probe(server + '/livez', validate_certs=False)['ok']


def test_unready_is_named_and_reports_the_body(server):
    result = probe(server + '/readyz', validate_certs=False)
    assert not result['ok'] and result['status'] == 500 and result['kind'] == 'http'
    assert 'answered 500: the apiserver is not ready' in result['message']
    assert 'etcd failed' in result['message']


def test_401_suggests_a_client_certificate(server):
    result = probe(server + '/secure', validate_certs=False)
    assert result['status'] == 401
    assert 'anonymous auth disabled? give client_cert and client_key' in result['message']


def test_timeout(server):
    result = probe(server + '/slow', validate_certs=False, timeout=1)
    assert result['kind'] == 'timeout' and 'within 1s' in result['message']


def test_refused():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    result = probe('https://127.0.0.1:%d/healthz' % port, validate_certs=False)
    assert result['kind'] == 'refused' and 'refused' in result['message']


def test_bad_certificate_without_a_ca(server):
    result = probe(server + '/healthz')  # system CAs do not know the test CA
    assert result['kind'] == 'untrusted' and 'is not trusted' in result['message']
    assert 'give ca_path' in result['message']


def test_bad_certificate_with_the_wrong_ca(server, pki):
    result = probe(server + '/healthz', ca_path=str(pki / 'other.crt'))
    assert result['kind'] == 'untrusted' and not result['ok']


@pytest.fixture
def listener():
    """A TCP listener on 127.0.0.1 that runs `behaviour(conn)` for each connection."""
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    sock.listen(8)
    state = {'behaviour': None}

    def serve():
        while True:
            try:
                conn, _peer = sock.accept()
            except OSError:
                return
            state['behaviour'](conn)
    threading.Thread(target=serve, daemon=True).start()
    yield state, 'https://127.0.0.1:%d/healthz' % sock.getsockname()[1]
    sock.close()


def close_at_once(conn):
    conn.close()


def close_after_hello(conn):
    """What haproxy 2.6 does with no server UP: reads the ClientHello, then closes."""
    conn.recv(4096)
    conn.shutdown(socket.SHUT_RDWR)
    conn.close()


@pytest.mark.parametrize('behaviour', [close_at_once, close_after_hello])
def test_accepted_then_closed_is_a_load_balancer_with_no_backend(listener, behaviour):
    """haproxy with no server UP accepts the TCP connection and closes it."""
    state, url = listener
    state['behaviour'] = behaviour
    result = probe(url, validate_certs=False)
    assert result['kind'] == 'closed', result
    assert 'accepted the connection and closed it before TLS' in result['message']
    assert 'no apiserver UP behind it' in result['message']


def test_not_tls_at_all(listener):
    state, url = listener

    def plain_http(conn):
        conn.recv(1024)
        conn.sendall(b'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')
        conn.close()
    state['behaviour'] = plain_http
    result = probe(url, validate_certs=False)
    assert result['kind'] == 'tls' and 'TLS handshake with' in result['message'], result


@pytest.mark.parametrize('error, kind', [
    # haproxy 2.6 with no server UP, as Python 3.11 reports it through the VIP
    (ssl.SSLZeroReturnError(6, 'TLS/SSL connection has been closed (EOF) (_ssl.c:992)'), 'closed'),
    (ssl.SSLEOFError(8, 'EOF occurred in violation of protocol (_ssl.c:1006)'), 'closed'),
    (ConnectionResetError(104, 'Connection reset by peer'), 'closed'),
    (ConnectionRefusedError(111, 'Connection refused'), 'refused'),
    (ssl.SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed'), 'untrusted'),
    (ssl.SSLError(1, '[SSL: WRONG_VERSION_NUMBER] wrong version number'), 'tls'),
])
def test_error_kinds(error, kind):
    assert _kind_of(URLError(error)) == kind
