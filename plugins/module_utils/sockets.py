# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host's listening sockets and who holds them, read from /proc (stdlib only).

``listening()`` returns one entry per listening TCP socket and bound UDP
socket: protocol, address, port, and the process that holds it (pid, its
name, and its systemd unit, from its cgroup). A socket that no process holds
(a kernel tunnel's, a VXLAN device's) has pid 0 and process ''. The parsers
are pure; the plan reads the result (plan/rules.py check_listeners).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import socket
import struct

TABLES = (('tcp', 4, 'net/tcp'), ('tcp', 6, 'net/tcp6'), ('udp', 4, 'net/udp'), ('udp', 6, 'net/udp6'))
# /proc/net's st column: TCP_LISTEN for TCP; TCP_CLOSE for a bound, unconnected UDP socket
LISTEN_STATES = {'tcp': '0A', 'udp': '07'}


def address_of(hex_address, family):
    """/proc/net's hex address (32-bit words in host order, little-endian here) as text."""
    raw = bytes.fromhex(hex_address)
    words = b''.join(struct.pack('>I', struct.unpack('<I', raw[i:i + 4])[0]) for i in range(0, len(raw), 4))
    return socket.inet_ntop(socket.AF_INET if family == 4 else socket.AF_INET6, words)


def parse_table(text, proto, family):
    """[{proto, family, address, port, inode}] of a /proc/net/{tcp,udp}[6] table's listening sockets."""
    out = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or fields[3] != LISTEN_STATES[proto]:
            continue
        address, _sep, port = fields[1].partition(':')
        out.append(dict(proto=proto, family=family, address=address_of(address, family),
                        port=int(port, 16), inode=int(fields[9])))
    return out


def unit_of(cgroup_text):
    """The systemd unit (service or scope) of a process, from /proc/PID/cgroup ('' if none)."""
    for line in cgroup_text.splitlines():
        path = line.split(':', 2)[-1]
        for part in reversed(path.split('/')):
            if part.endswith(('.service', '.scope')):
                return part
    return ''


def read_text(path):
    """A file's text, '' when it cannot be read (gone, or not ours to read)."""
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return ''


def owners(proc='/proc'):
    """{socket inode: {pid, process, unit}} from every process's open files."""
    out = {}
    for pid in os.listdir(proc):
        if not pid.isdigit():
            continue
        fd_dir = os.path.join(proc, pid, 'fd')
        try:
            fds = os.listdir(fd_dir)
        except (IOError, OSError):
            continue
        found = []
        for fd in fds:
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
            except (IOError, OSError):
                continue
            if target.startswith('socket:['):
                found.append(int(target[8:-1]))
        if found:
            who = dict(pid=int(pid), process=read_text(os.path.join(proc, pid, 'comm')).strip(),
                       unit=unit_of(read_text(os.path.join(proc, pid, 'cgroup'))))
            for inode in found:
                out.setdefault(inode, who)
    return out


def listening(proc='/proc'):
    """Every listening socket with its holder, sorted by protocol, port and address."""
    held = owners(proc)
    out = []
    for proto, family, table in TABLES:
        for entry in parse_table(read_text(os.path.join(proc, table)), proto, family):
            who = held.get(entry.pop('inode')) or dict(pid=0, process='', unit='')
            entry.update(who)
            if entry not in out:
                out.append(entry)
    return sorted(out, key=lambda e: (e['proto'], e['port'], e['family'], e['address']))
