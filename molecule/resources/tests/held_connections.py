"""Run on the client: open COUNT TLS connections to HOST:PORT, print their
local ports, wait until the file GO exists, then send one request on each and
print its port and the status line ('' when the connection was reset or
closed). Used to show what happens to connections in flight while a load
balancer's path changes (test_bgp.py)."""
import os
import socket
import ssl
import sys
import time


def main(host, port, count, go):
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    conns = [ctx.wrap_socket(socket.create_connection((host, int(port)), timeout=10)) for _ in range(int(count))]
    print(' '.join(str(c.getsockname()[1]) for c in conns), flush=True)
    while not os.path.exists(go):
        time.sleep(0.05)
    for conn in conns:
        try:
            conn.sendall(b'GET /readyz HTTP/1.1\r\nHost: kubernetes\r\nConnection: close\r\n\r\n')
            line = conn.recv(64).split(b'\r\n')[0].decode()
        except (OSError, ssl.SSLError) as exc:
            line = type(exc).__name__
        print(conn.getsockname()[1], line or 'closed', flush=True)


if __name__ == '__main__':
    main(*sys.argv[1:5])
