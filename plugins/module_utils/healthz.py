# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One HTTPS health probe of a kube-apiserver endpoint, with a verdict a person
can act on. Shared by the apiserver_healthz module; unit tested against a real
local HTTPS server."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import ssl
import time

from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.urls import SSLValidationError, open_url

NODE_HEADER = 'X-Kubeha-Node'
BODY_LIMIT = 2000


CLOSED_MARKERS = ('EOF occurred', 'UNEXPECTED_EOF', 'has been closed (EOF)', 'Remote end closed',
                  'RemoteDisconnected')


def _kind_of(exc):
    reason = getattr(exc, 'reason', exc)
    text = to_native(reason)
    if isinstance(reason, ConnectionRefusedError):
        return 'refused'
    if isinstance(reason, (socket.timeout, TimeoutError)) or 'timed out' in text:
        return 'timeout'
    # Accepted, then closed before TLS: what haproxy does with no server UP.
    if isinstance(reason, (ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionResetError)) or \
            any(marker in text for marker in CLOSED_MARKERS):
        return 'closed'
    if 'CERTIFICATE_VERIFY_FAILED' in text or isinstance(reason, ssl.CertificateError):
        return 'untrusted'
    if isinstance(reason, (ssl.SSLError, SSLValidationError)) or 'SSL' in text:
        return 'tls'
    return 'error'


def explain(url, kind, status=None, body='', timeout=None):
    """A sentence saying what was expected, what came back, and what to try."""
    if kind == 'ok':
        return '%s answered ok' % url
    if kind == 'http' and status == 401:
        return ("%s answered 401 Unauthorized: anonymous auth disabled? give client_cert "
                "and client_key (a client certificate the apiserver accepts)" % url)
    if kind == 'http' and status == 403:
        return ('%s answered 403 Forbidden: the identity may not read health endpoints '
                '(RBAC system:public-info-viewer)' % url)
    if kind == 'http' and status == 500 and url.rstrip('/').endswith(('/readyz', '/livez', '/healthz')):
        return ('%s answered 500: the apiserver is not ready (starting, shutting down, or a '
                'check failing): %s' % (url, (body or '').strip()[:300]))
    if kind == 'http':
        return 'expected 200 "ok" from %s, got %s: %s' % (url, status, (body or '').strip()[:300])
    if kind == 'refused':
        return ('connection to %s refused: nothing listens there (the apiserver, or haproxy on '
                'the VIP holder, is not running)' % url)
    if kind == 'timeout':
        return 'no answer from %s within %ss (host down, or packets dropped)' % (url, timeout)
    if kind == 'closed':
        return ('%s accepted the connection and closed it before TLS: a load balancer with no '
                'apiserver UP behind it (before kubeadm init, or every apiserver down)' % url)
    if kind == 'untrusted':
        return ('the certificate of %s is not trusted: %s; give ca_path (the cluster CA), or '
                'validate_certs: false' % (url, (body or '').strip()[:300]))
    if kind == 'tls':
        return ('TLS handshake with %s failed: %s (not TLS there, or a client certificate '
                'needed?)' % (url, (body or '').strip()[:300]))
    return 'request to %s failed: %s' % (url, (body or '').strip()[:300])


def probe(url, timeout=5, validate_certs=True, ca_path=None, client_cert=None,
          client_key=None, expect_body='ok'):
    """One GET; returns dict(ok, kind, status, body, latency_ms, node, message)."""
    started = time.monotonic()
    status, body, node, kind = None, '', None, 'ok'
    try:
        response = open_url(url, method='GET', timeout=timeout, validate_certs=validate_certs,
                            ca_path=ca_path, client_cert=client_cert, client_key=client_key,
                            use_proxy=False, follow_redirects='none')
        status = response.getcode()
        body = to_text(response.read(BODY_LIMIT), errors='replace')
        node = response.headers.get(NODE_HEADER)
    except HTTPError as exc:
        status, kind = exc.code, 'http'
        try:
            body = to_text(exc.read(BODY_LIMIT), errors='replace')
        except Exception:  # pragma: no cover - body is best effort
            body = ''
        node = exc.headers.get(NODE_HEADER) if exc.headers else None
    except (URLError, SSLValidationError, socket.error, ssl.SSLError, ValueError) as exc:
        kind = _kind_of(exc)
        body = to_native(getattr(exc, 'reason', exc))
    latency_ms = round((time.monotonic() - started) * 1000.0, 1)
    if kind == 'ok' and (status != 200 or (expect_body is not None and body.strip() != expect_body)):
        kind = 'http'
    return dict(ok=kind == 'ok', kind=kind, status=status, body=body, latency_ms=latency_ms,
                node=node, message=explain(url, kind, status, body, timeout))
