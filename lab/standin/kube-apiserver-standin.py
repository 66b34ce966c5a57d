#!/usr/bin/env python3
"""kube-apiserver STAND-IN for the kubeha lab. It is not kube-apiserver.

kube-apiserver cannot be installed in the lab, so each control-plane container
runs this small TLS server on 6443 instead. It answers what the load balancers
and the verification layer look at:

  /healthz /livez /readyz   "ok" (200); add ?verbose for a check list
  /kubeha/stream            one line a second until the client leaves (a stand-in
                            for `kubectl logs -f`)
  any path with ?watch=true a watch: one JSON event a second ({"type": "ADDED",
                            "object": ...}) until the client leaves or the server stops
  /version, /api, /apis     small JSON answers, as kubectl expects

Its life follows kube-apiserver's where a load balancer can see it:
  start     it listens at once; /livez is ok, /readyz and /healthz answer 500
            for --startup-delay seconds (post-start hooks), then ok
  SIGTERM   /readyz answers 500 at once (kube-apiserver's shutdown check) while
            every other request is still served for --shutdown-delay seconds
            (--shutdown-delay-duration); then, with --shutdown-send-retry-after,
            new requests get 429 and Retry-After until the ones in flight are
            done, else the listener closes at once; watches end, it exits 0

Every answer carries the header X-Kubeha-Node: <node name>, and the TLS
certificate's CN is the node name, so a client can tell which node answered.

Failure on demand, through files in the state directory (default
/run/kubeha-standin):
  unready          /readyz answers 500 (still listening, still live)
  unhealthy        /healthz and /livez answer 500 too
  deny-anonymous   every request without a client certificate gets 401
To make it die, stop or SIGKILL its systemd unit (kube-apiserver-standin).
"""
import argparse
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE_DIR = '/run/kubeha-standin'
HEALTH = ('/healthz', '/livez', '/readyz')


def flag(name):
    return os.path.exists(os.path.join(STATE_DIR, name))


class Life(object):
    """Where the server is in its life: starting, serving, shutting down, rejecting."""

    def __init__(self, startup_delay=0.0):
        self.started = time.monotonic()
        self.startup_delay = startup_delay
        self.terminating = threading.Event()   # SIGTERM received: /readyz fails
        self.rejecting = threading.Event()     # the delay is over: new requests get 429
        self.stopping = threading.Event()      # the listener is closing: watches end
        self.lock = threading.Lock()
        self.inflight = 0

    def starting(self):
        return time.monotonic() - self.started < self.startup_delay

    def enter(self):
        with self.lock:
            self.inflight += 1

    def leave(self):
        with self.lock:
            self.inflight -= 1


LIFE = Life()


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'kube-apiserver-standin'
    node = socket.gethostname()

    def log_message(self, fmt, *args):  # quiet: the probe sends 100 req/s
        pass

    def _send(self, code, body, ctype='text/plain; charset=utf-8'):
        data = body.encode()
        self.send_response(code)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(data)))
        self.send_header('X-Kubeha-Node', self.node)
        self.end_headers()
        self.wfile.write(data)

    def _has_client_cert(self):
        try:
            return bool(self.connection.getpeercert())
        except (AttributeError, ValueError):
            return False

    def _failing_check(self, path):
        """The check that fails for a health path now, or None."""
        name = path.strip('/')
        if flag('unhealthy'):
            return 'kubeha-standin-' + name
        if path == '/livez':
            return None
        if LIFE.starting():
            return 'poststarthook/kubeha-standin-start'
        if path == '/readyz' and LIFE.terminating.is_set():
            return 'shutdown'
        if path == '/readyz' and flag('unready'):
            return 'kubeha-standin-readyz'
        return None

    def _health(self, path, query):
        failing = self._failing_check(path)
        name = path.strip('/')
        if failing:
            return self._send(500, '[-]%s failed: reason withheld\n%s check failed\n' % (failing, name))
        if 'verbose' in query:
            return self._send(200, '[+]ping ok\n[+]kubeha-standin-%s ok\n%s check passed\n' % (name, name))
        return self._send(200, 'ok')

    def _stream(self, line, ctype):
        """A long-running answer: one line a second until the client leaves or the server stops."""
        self.send_response(200)
        self.send_header('Content-Type', ctype)
        self.send_header('X-Kubeha-Node', self.node)
        self.send_header('Connection', 'close')
        self.end_headers()
        count = 0
        try:
            while not LIFE.stopping.is_set():
                count += 1
                self.wfile.write(line(count).encode())
                self.wfile.flush()
                LIFE.stopping.wait(1)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass
        self.close_connection = True
        return None

    def _event(self, count):
        return json.dumps({'type': 'ADDED', 'object': {
            'kind': 'Event', 'apiVersion': 'v1',
            'metadata': {'name': 'kubeha-standin.%d' % count, 'namespace': 'default',
                         'resourceVersion': str(count)},
            'message': '%s %.3f' % (self.node, time.time())}}) + '\n'

    def do_GET(self):  # noqa: N802 (http.server naming)
        path, _, query = self.path.partition('?')
        if flag('deny-anonymous') and not self._has_client_cert():
            body = {'kind': 'Status', 'apiVersion': 'v1', 'status': 'Failure',
                    'message': 'Unauthorized', 'reason': 'Unauthorized', 'code': 401}
            return self._send(401, json.dumps(body), 'application/json')
        if path in HEALTH:
            return self._health(path, query)
        if LIFE.rejecting.is_set():
            data = json.dumps({'kind': 'Status', 'apiVersion': 'v1', 'status': 'Failure', 'code': 429,
                               'reason': 'TooManyRequests',
                               'message': 'The apiserver is shutting down, please try again later.'})
            self.send_response(429)
            self.send_header('Retry-After', '1')
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(data)))
            self.send_header('X-Kubeha-Node', self.node)
            self.end_headers()
            self.wfile.write(data.encode())
            return None
        if path == '/kubeha/stream':
            return self._stream(lambda n: '%s %.3f\n' % (self.node, time.time()), 'text/plain')
        if 'watch=true' in query or 'watch=1' in query or path.startswith('/api/v1/watch/'):
            return self._stream(self._event, 'application/json')
        LIFE.enter()
        try:
            if path == '/version':
                return self._send(200, json.dumps({'major': '1', 'minor': '31', 'gitVersion': 'v1.31.0-kubeha-standin',
                                                   'platform': 'linux/amd64'}), 'application/json')
            if path in ('/api', '/apis'):
                body = ({'kind': 'APIVersions', 'versions': ['v1']} if path == '/api'
                        else {'kind': 'APIGroupList', 'apiVersion': 'v1', 'groups': []})
                return self._send(200, json.dumps(body), 'application/json')
            if path.startswith('/kubeha/slow'):  # a request that takes a while (tests, drains)
                time.sleep(float(query.partition('=')[2] or 2))
                return self._send(200, 'ok')
            return self._send(404, json.dumps({'kind': 'Status', 'code': 404,
                                               'message': 'the stand-in serves only health, version '
                                               'and watch endpoints'}), 'application/json')
        finally:
            LIFE.leave()


class TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512
    allow_reuse_address = True

    def __init__(self, address, context):
        super().__init__(address, Handler)
        self.context = context

    def get_request(self):
        sock, addr = self.socket.accept()
        # Handshake in the handler thread, not here: a slow client stalls no one.
        return self.context.wrap_socket(sock, server_side=True,
                                        do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address):
        pass  # resets and half-done handshakes are normal under fault injection


def shut_down(server, delay, send_retry_after, grace=30.0):
    """kube-apiserver's graceful termination, after SIGTERM (LIFE.terminating)."""
    LIFE.terminating.wait()
    time.sleep(delay)                     # still serving; /readyz already fails
    if send_retry_after:
        LIFE.rejecting.set()              # new requests: 429 + Retry-After
        deadline = time.monotonic() + grace
        while LIFE.inflight > 0 and time.monotonic() < deadline:
            time.sleep(0.05)
    LIFE.stopping.set()                   # watches and streams end
    server.shutdown()                     # no new connections: the listener closes
    server.server_close()
    deadline = time.monotonic() + grace
    while LIFE.inflight > 0 and time.monotonic() < deadline:
        time.sleep(0.05)                  # what is in flight finishes


def main(argv=None):
    global STATE_DIR
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--address', default='0.0.0.0')
    parser.add_argument('--port', type=int, default=6443)
    parser.add_argument('--cert', required=True)
    parser.add_argument('--key', required=True)
    parser.add_argument('--client-ca', help='CA that signs client certificates (optional)')
    parser.add_argument('--state-dir', default=STATE_DIR)
    parser.add_argument('--node', default=socket.gethostname())
    parser.add_argument('--startup-delay', type=float, default=0.0,
                        help='seconds /readyz and /healthz answer 500 after start')
    parser.add_argument('--shutdown-delay', type=float, default=0.0,
                        help='seconds it keeps serving after SIGTERM (--shutdown-delay-duration)')
    parser.add_argument('--shutdown-send-retry-after', action='store_true',
                        help='after the delay, answer 429 + Retry-After until in-flight requests end')
    args = parser.parse_args(argv)
    STATE_DIR = args.state_dir
    Handler.node = args.node
    LIFE.started, LIFE.startup_delay = time.monotonic(), args.startup_delay
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    if args.client_ca:
        context.load_verify_locations(args.client_ca)
        context.verify_mode = ssl.CERT_OPTIONAL
    server = TLSServer((args.address, args.port), context)
    signal.signal(signal.SIGTERM, lambda *_: LIFE.terminating.set())
    sys.stderr.write('kube-apiserver stand-in for %s on %s:%d\n'
                     % (args.node, args.address, args.port))
    serving = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.1}, daemon=True)
    serving.start()
    shut_down(server, args.shutdown_delay, args.shutdown_send_retry_after)
    sys.stderr.write('kube-apiserver stand-in for %s stopped\n' % args.node)


if __name__ == '__main__':
    main()
