# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one HTTP server of the collection's exporters (the VRRP exporter,
vrrp_metrics.py, and the BGP exporter, bgp_status.py): GET /metrics answers
with the text the exporter's ``collect`` returns, anything else 404, and a
client that sends nothing is dropped after 10 s. Shipped beside the exporter
programs as /usr/local/libexec/kubeha/exporter_http.py (their directory is
first on their import path); standard library only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket

try:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
except ImportError:  # Python 2: no exporter runs there (the modules only import this file)
    BaseHTTPRequestHandler = ThreadingHTTPServer = object

FILE_NAME = 'exporter_http.py'  # its name beside the exporters on the host
CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'  # Prometheus' text format


def parse_listen(text):
    """"ADDRESS:PORT" or "[IPV6]:PORT" as (address, port)."""
    address, _sep, port = text.rpartition(':')
    return address.strip('[]'), int(port)


def handler(collect):
    """A request handler answering GET /metrics with ``collect()``."""

    class Handler(BaseHTTPRequestHandler):
        timeout = 10  # a client that sends nothing does not hold a thread for long

        def do_GET(self):  # noqa: N802 (http.server's name)
            if self.path.split('?')[0] != '/metrics':
                self.send_error(404)
                return
            body = collect().encode()
            self.send_response(200)
            self.send_header('Content-Type', CONTENT_TYPE)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # pylint: disable=arguments-differ
            pass  # a scrape every few seconds is not news

    return Handler


def server(listen, collect):
    """The server bound to ``listen`` ("ADDRESS:PORT"), IPv4 or IPv6 by the address."""
    address, port = parse_listen(listen)
    family = socket.AF_INET6 if ':' in address else socket.AF_INET
    cls = type('ExporterServer', (ThreadingHTTPServer,), {'address_family': family})
    return cls((address, port), handler(collect))


def serve(listen, collect):
    """Serve /metrics on ``listen`` until the process is stopped."""
    server(listen, collect).serve_forever()
