#!/usr/bin/env python3
"""kube-apiserver STAND-IN for the kubeha lab. It is not kube-apiserver.

kube-apiserver cannot be installed in the lab, so each control-plane container
runs this small TLS server on 6443 instead. It answers what the load balancers
and the verification layer look at:

  /healthz /livez /readyz   "ok" (200); add ?verbose for a check list
  /kubeha/stream            one line a second until the client leaves (a stand-in
                            for `kubectl logs -f` / watches)

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
import socket
import ssl
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE_DIR = '/run/kubeha-standin'


def flag(name):
    return os.path.exists(os.path.join(STATE_DIR, name))


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

    def do_GET(self):  # noqa: N802 (http.server naming)
        path, _, query = self.path.partition('?')
        if flag('deny-anonymous') and not self._has_client_cert():
            body = {'kind': 'Status', 'apiVersion': 'v1', 'status': 'Failure',
                    'message': 'Unauthorized', 'reason': 'Unauthorized', 'code': 401}
            return self._send(401, json.dumps(body), 'application/json')
        if path in ('/healthz', '/livez', '/readyz'):
            failing = flag('unhealthy') or (path == '/readyz' and flag('unready'))
            check = 'kubeha-standin-' + path.strip('/')
            if failing:
                return self._send(500, '[-]%s failed: reason withheld\n%s check failed\n'
                                  % (check, path.strip('/')))
            if 'verbose' in query:
                return self._send(200, '[+]ping ok\n[+]%s ok\n%s check passed\n'
                                  % (check, path.strip('/')))
            return self._send(200, 'ok')
        if path == '/kubeha/stream':
            self.send_response(200)
            self.send_header('Content-Type', 'text/plain')
            self.send_header('X-Kubeha-Node', self.node)
            self.send_header('Connection', 'close')
            self.end_headers()
            try:
                while True:
                    self.wfile.write(('%s %.3f\n' % (self.node, time.time())).encode())
                    self.wfile.flush()
                    time.sleep(1)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
                return None
        return self._send(404, json.dumps({'kind': 'Status', 'code': 404,
                                           'message': 'the stand-in serves only health '
                                           'endpoints'}), 'application/json')


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
    args = parser.parse_args(argv)
    STATE_DIR = args.state_dir
    Handler.node = args.node
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    if args.client_ca:
        context.load_verify_locations(args.client_ca)
        context.verify_mode = ssl.CERT_OPTIONAL
    server = TLSServer((args.address, args.port), context)
    sys.stderr.write('kube-apiserver stand-in for %s on %s:%d\n'
                     % (args.node, args.address, args.port))
    server.serve_forever()


if __name__ == '__main__':
    main()
