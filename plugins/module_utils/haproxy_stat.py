# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Talk to haproxy's stats socket (stdlib only) and parse `show stat` CSV."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import socket

SERVER_FIELDS = ('status', 'check_status', 'check_desc', 'weight', 'addr', 'scur', 'stot',
                 'lastchg', 'chkfail', 'chkdown')


def parse_show_stat(text, backend=None):
    """Server rows of `show stat` as dicts: name, backend, status, check_status, ...

    BACKEND and FRONTEND summary rows are left out.
    """
    lines = (text or '').splitlines()
    if not lines or not lines[0].startswith('# '):
        raise ValueError('not haproxy "show stat" output: %r' % (lines[:1],))
    header = lines[0][2:].split(',')
    servers = []
    for row in csv.DictReader(lines[1:], fieldnames=header):
        if not row.get('pxname') or row.get('svname') in ('FRONTEND', 'BACKEND'):
            continue
        if backend is not None and row['pxname'] != backend:
            continue
        server = {'backend': row['pxname'], 'name': row['svname']}
        for field in SERVER_FIELDS:
            value = row.get(field) or ''
            server[field] = int(value) if value.isdigit() else value
        servers.append(server)
    return servers


def frontend_sessions_total(text, frontend):
    """The connections ``frontend`` has taken so far (its FRONTEND row's stot), or None."""
    lines = (text or '').splitlines()
    if not lines or not lines[0].startswith('# '):
        return None
    header = lines[0][2:].split(',')
    for row in csv.DictReader(lines[1:], fieldnames=header):
        if row.get('pxname') == frontend and row.get('svname') == 'FRONTEND':
            value = row.get('stot') or ''
            return int(value) if value.isdigit() else 0
    return None


def is_up(server):
    """UP, or UP going down ('UP 1/3'): still in rotation."""
    return str(server.get('status', '')).split(' ', maxsplit=1)[0] in ('UP', 'NOLB')


def settled(servers):
    """Every server has been checked and none is between states ('UP 1/3', 'DOWN 1/2').

    Right after a start or reload haproxy counts a server UP until its checks
    say otherwise, so "no server UP" is only conclusive once this holds.
    """
    for server in servers:
        status = str(server.get('status', ''))
        if '/' in status or str(server.get('check_status', '')).strip('* ') in ('', 'INI'):
            if not status.startswith(('MAINT', 'DRAIN')):
                return False
    return True


def command(path, line, timeout=5.0):
    """Send one runtime API command to the socket at ``path``; return the answer."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
        sock.sendall((line.rstrip('\n') + '\n').encode())
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        sock.close()
    return b''.join(chunks).decode('utf-8', 'replace')


def admin_state(status):
    """The administrative state (ready, drain, maint) a `show stat` status shows.

    Only a guess: a drained server whose checks fail shows DOWN, not DRAIN.
    Prefer admin_states() (`show servers state`), which reads the flags.
    """
    word = str(status or '').split(' ', maxsplit=1)[0]
    if word == 'MAINT':
        return 'maint'
    if word == 'DRAIN':
        return 'drain'
    return 'ready'


# srv_admin_state flags (haproxy's SRV_ADMF_*): forced, inherited, config,
# resolver and hostname maintenance; forced and inherited drain.
MAINT_FLAGS = 0x01 | 0x02 | 0x04 | 0x20 | 0x40
DRAIN_FLAGS = 0x08 | 0x10


def admin_states(text, backend):
    """{server: ready|drain|maint} of one backend from `show servers state BACKEND`."""
    lines = [line for line in (text or '').splitlines() if line.strip()]
    header = next((line for line in lines if line.startswith('# be_id')), None)
    if header is None:
        raise ValueError('not haproxy "show servers state" output: %r' % (lines[:2],))
    names = header[2:].split()
    out = {}
    for line in lines:
        if line.startswith('#') or not line[:1].isdigit():
            continue
        row = dict(zip(names, line.split()))
        if row.get('be_name') != backend:
            continue
        flags = int(row.get('srv_admin_state') or 0)
        out[row['srv_name']] = ('maint' if flags & MAINT_FLAGS else
                                'drain' if flags & DRAIN_FLAGS else 'ready')
    return out
