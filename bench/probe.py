#!/usr/bin/env python3
"""Client-side availability probe (stdlib only; runs on the lab's client host).

Opens a NEW TLS connection per request at a fixed rate, GETs a path, and
writes one JSON line per request: start time, outcome (ok / refused / timeout /
reset / tls / unreachable / http_NNN / error), latency, the node that answered
(X-Kubeha-Node) and how late the request started against its schedule (the
probe's own resolution). About every 0.1 s a tick line says before which
start time every request's record has been written (`complete_before`), so
a reader is not fooled by requests still hanging. Optionally holds long-lived streams (like
`kubectl logs -f`) and records when they break and how long reconnecting took.

Bounded: it stops after --duration seconds, when --stop-file appears, or on
SIGTERM, whichever comes first; --duration is capped at 900 s.
"""
import argparse
import errno
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

MAX_DURATION = 900.0
TICK_S = 0.1


def classify(exc):
    if isinstance(exc, ConnectionRefusedError):
        return 'refused'
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return 'timeout'
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
        return 'reset'
    if isinstance(exc, ssl.SSLError):
        return 'tls'
    if isinstance(exc, OSError) and exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return 'unreachable'
    return 'error'


def parse_response(data):
    head, _, body = data.partition(b'\r\n\r\n')
    lines = head.decode('latin-1').split('\r\n')
    status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else None
    node = None
    for line in lines[1:]:
        name, _, value = line.partition(':')
        if name.strip().lower() == 'x-kubeha-node':
            node = value.strip()
    return status, node, body


def one_request(host, port, path, timeout, context):
    started = time.time()
    t0 = time.monotonic()
    record = {'type': 'req', 't': started, 'outcome': 'ok', 'status': None, 'node': None}
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            with context.wrap_socket(raw) as tls:
                tls.settimeout(max(0.05, timeout - (time.monotonic() - t0)))
                tls.sendall(('GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n'
                             % (path, host)).encode())
                data = b''
                while True:
                    chunk = tls.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                    if time.monotonic() - t0 > timeout:
                        raise socket.timeout('read deadline')
        status, node, body = parse_response(data)
        record.update(status=status, node=node)
        if status != 200 or body.strip() != b'ok':
            record['outcome'] = 'http_%s' % status
    except Exception as exc:  # every failure is data here
        record['outcome'] = classify(exc)
        record['error'] = repr(exc)[:120]
    record['latency_ms'] = round((time.monotonic() - t0) * 1000.0, 2)
    return record


def stream_worker(index, host, port, context, emit, stopping, timeout, stall):
    """Hold a long-lived GET /kubeha/stream; on a break, reconnect and time it.

    A break is an end, a reset or an error, or no data for `stall` seconds (the
    stream sends a line a second; a short stall on a busy host is not a break).
    """
    while not stopping.is_set():
        t0 = time.monotonic()
        try:
            with socket.create_connection((host, port), timeout=timeout) as raw:
                with context.wrap_socket(raw) as tls:
                    tls.sendall(b'GET /kubeha/stream HTTP/1.1\r\nHost: x\r\n\r\n')
                    tls.settimeout(stall)
                    first = tls.recv(4096)
                    if not first:
                        raise ConnectionResetError('closed at once')
                    emit({'type': 'stream_reconnect', 't': time.time(), 'stream': index,
                          'took_ms': round((time.monotonic() - t0) * 1000.0, 2)})
                    while not stopping.is_set():
                        if not tls.recv(4096):
                            raise ConnectionResetError('closed by peer')
        except Exception as exc:
            if stopping.is_set():
                return
            emit({'type': 'stream_break', 't': time.time(), 'stream': index,
                  'outcome': classify(exc), 'error': repr(exc)[:120]})
            time.sleep(0.01)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--host', required=True)
    parser.add_argument('--port', type=int, default=6443)
    parser.add_argument('--path', default='/healthz')
    parser.add_argument('--rate', type=float, default=100.0, help='requests per second')
    parser.add_argument('--timeout', type=float, default=2.0, help='per request, seconds')
    parser.add_argument('--duration', type=float, default=60.0)
    parser.add_argument('--streams', type=int, default=0, help='long-lived connections to hold')
    parser.add_argument('--stream-stall', type=float, default=15.0,
                        help='seconds without data after which a stream counts as broken')
    parser.add_argument('--stop-file', default='')
    parser.add_argument('--out', default='-')
    return parser.parse_args(argv)


def send_requests(args, context, out, lock, stopping):
    """New connections at args.rate until the duration, the stop file or
    SIGTERM; a tick record every TICK_S. Returns how many were sent."""
    duration = min(args.duration, MAX_DURATION)
    workers = max(8, int(args.rate * args.timeout * 2))
    start = time.monotonic()
    sent = 0
    inflight = {}  # request number -> wall-clock start, until its record is written
    last_tick = 0.0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        def run(number, scheduled):
            lag_ms = round((time.monotonic() - scheduled) * 1000.0, 2)  # started late by
            with lock:
                inflight[number] = time.time()
            record = one_request(args.host, args.port, args.path, args.timeout, context)
            record['lag_ms'] = lag_ms
            with lock:
                out.write(json.dumps(record, sort_keys=True) + '\n')
                del inflight[number]
        while not stopping.is_set():
            scheduled = start + sent / args.rate
            if scheduled - start > duration or (args.stop_file and os.path.exists(args.stop_file)):
                break
            if time.monotonic() - last_tick >= TICK_S:
                # Every request that started before complete_before has its
                # record above this line: a reader can judge a time window
                # without being fooled by requests still hanging in it.
                with lock:
                    now = time.time()
                    out.write(json.dumps({'type': 'tick', 't': now,
                                          'complete_before': min(inflight.values(), default=now)},
                                         sort_keys=True) + '\n')
                last_tick = time.monotonic()
            delay = scheduled - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(run, sent, scheduled)
            sent += 1
        stopping.set()
    return sent


def main(argv=None):
    args = parse_args(argv)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    out = sys.stdout if args.out == '-' else open(args.out, 'w', buffering=1)
    lock = threading.Lock()
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())

    def emit(record):
        with lock:
            out.write(json.dumps(record, sort_keys=True) + '\n')

    emit({'type': 'meta', 't': time.time(), 'host': args.host, 'port': args.port,
          'path': args.path, 'rate': args.rate, 'timeout': args.timeout,
          'streams': args.streams, 'python': sys.version.split()[0]})
    for index in range(args.streams):
        threading.Thread(target=stream_worker, daemon=True,
                         args=(index, args.host, args.port, context, emit, stopping,
                               args.timeout, args.stream_stall)).start()
    sent = send_requests(args, context, out, lock, stopping)
    emit({'type': 'end', 't': time.time(), 'sent': sent})
    if out is not sys.stdout:
        out.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
