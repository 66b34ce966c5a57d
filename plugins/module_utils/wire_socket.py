# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Listening on the VRRP segment through a packet socket (wire_check, and drift before a
first converge): the frames are parsed by module_utils.wire."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ctypes
import json
import os
import select
import socket
import struct
import tempfile
import time

from ansible_collections.kubeha.control_plane.plugins.module_utils import wire

SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_MULTICAST = 0
SO_ATTACH_FILTER = 26


def _attach_filter(sock, program):
    """Let the kernel pass only VRRP, ARP and neighbour advertisements (wire.BPF_VRRP_ARP)."""
    code = b''.join(struct.pack('HBBI', *insn) for insn in program)
    buf = ctypes.create_string_buffer(code)
    fprog = struct.pack('HL', len(program), ctypes.addressof(buf))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
    return buf  # keep it alive while the socket lives


def open_socket(interface):
    """One packet socket on the interface: it sees every VRRP advert and ARP frame there
    before any firewall rule (a raw IP socket would not see what iptables drops), and joins
    the VRRP groups' link-layer addresses so multicast adverts arrive too."""
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(wire.ETH_P_ALL))
    keep = _attach_filter(sock, wire.BPF_VRRP_ARP)
    sock.bind((interface, wire.ETH_P_ALL))
    index = socket.if_nametoindex(interface)
    for mac in wire.VRRP_MACS:
        mreq = struct.pack('iHH8s', index, PACKET_MR_MULTICAST, 6, wire.mac_bytes(mac))
        sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq)
    return sock, keep


def listen(sock, mac, vips, seconds):
    """(speakers by (source, vrid), ARP answers by VIP) heard within seconds."""
    speakers, arp = {}, dict((vip, set()) for vip in vips)
    start = time.time()
    deadline = start + max(seconds, 0.1)
    probes = [start, start + (deadline - start) / 2] if vips else []  # twice: one lost probe is no verdict
    while True:
        now = time.time()
        while probes and probes[0] <= now:
            probes.pop(0)
            for vip in vips:
                sock.send(wire.nd_probe(mac, vip) if ':' in vip else wire.arp_probe(mac, vip))
        if now >= deadline:
            break
        if not select.select([sock], [], [], max(min([deadline] + probes) - now, 0))[0]:
            continue
        parsed = wire.parse_frame(sock.recv(65535))
        if parsed is None:
            continue
        if parsed[0] in ('arp', 'nd'):  # (kind, MAC, the address it answers for, operation)
            sender_mac, sender_ip = parsed[1], parsed[2]
            if sender_ip in arp and sender_mac != '00:00:00:00:00:00':
                arp[sender_ip].add(sender_mac)
            continue
        source, advert = parsed[1], parsed[2]
        entry = speakers.setdefault((source, advert['vrid']), dict(
            source=source, family='ipv6' if ':' in source else 'ipv4', adverts=0))
        entry.update(advert)
        entry['adverts'] += 1
    return speakers, arp, time.time() - start


def interface_of(module, address):
    """The interface that holds address (ip -o addr show to ADDRESS)."""
    if not address:
        module.fail_json(msg='give interface, or address to find it by')
    ip = module.get_bin_path('ip', required=True)
    rc, out, err = module.run_command([ip, '-o', 'addr', 'show', 'to', address])
    names = [line.split()[1].split('@')[0] for line in out.splitlines() if len(line.split()) > 1]
    if rc != 0 or not names:
        module.fail_json(msg='no interface holds %s on this host: set interface' % address, stderr=err)
    return names[0]


def open_for(module, interface, address):
    """(interface, its MAC, socket, filter to keep alive) for listening on interface, or on the
    interface that holds address when interface is empty; fails the module with the fix."""
    interface = interface or interface_of(module, address)
    try:
        with open('/sys/class/net/%s/address' % interface) as handle:
            mac = handle.read().strip().lower()
    except (IOError, OSError):
        module.fail_json(msg='interface %s does not exist on this host' % interface)
    try:
        sock, keep = open_socket(interface)
    except (OSError, socket.error) as exc:
        module.fail_json(msg='cannot listen on %s: %s (root or CAP_NET_RAW is needed)' % (interface, exc))
    return interface, mac, sock, keep


def report(mac, interface, listened, speakers, arp):
    """What wire_check returns (and drift under its ``wire`` key)."""
    return dict(mac=mac, interface=interface, listened=round(listened, 3),
                speakers=sorted(speakers.values(), key=lambda s: (s['vrid'], s['source'])),
                arp=dict((vip, sorted(macs)) for vip, macs in arp.items()))


RESULT_PREFIX = 'kubeha-wire.'
RESULT_NAME = 'report.json'


STALE_S = 600  # a report nobody collected (the play stopped before drift) is removed after this


def remove_stale_reports(now=None):
    """Remove the reports (and their directories) of background listens that nobody collected."""
    base, now = tempfile.gettempdir(), time.time() if now is None else now
    for name in os.listdir(base):
        directory = os.path.join(base, name)
        if not name.startswith(RESULT_PREFIX) or not os.path.isdir(directory) or os.path.islink(directory):
            continue
        try:
            if now - os.stat(directory).st_mtime < STALE_S:
                continue
            for entry in (RESULT_NAME, RESULT_NAME + '.tmp'):
                if os.path.exists(os.path.join(directory, entry)):
                    os.unlink(os.path.join(directory, entry))
            os.rmdir(directory)
        except OSError:  # not ours to remove after all (another file in it), or gone meanwhile
            pass


def listen_in_background(sock, mac, interface, seconds):
    """Listen in a detached process (so the module's round trip returns at once, and the host
    is read meanwhile by the next tasks); it writes report() or {'error': ...} to the returned
    file, in a directory only root can read, when it is done. collect() reads it."""
    remove_stale_reports()
    directory = tempfile.mkdtemp(prefix=RESULT_PREFIX)
    path = os.path.join(directory, RESULT_NAME)
    pid = os.fork()
    if pid:
        sock.close()  # the listener has its own copy
        os.waitpid(pid, 0)  # the first child only forks again, and exits
        return path
    try:
        os.setsid()
        if os.fork():
            os._exit(0)
        # Let go of the module's standard streams: the connection (docker exec, ssh)
        # waits for them to close before it returns the module's result.
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        keep = sock.fileno()
        os.closerange(3, keep)
        os.closerange(keep + 1, 1024)
        try:
            speakers, arp, listened = listen(sock, mac, [], seconds)
            out = report(mac, interface, listened, speakers, arp)
        except Exception as exc:  # pylint: disable=broad-except  # collect() reports it
            out = dict(error='%s' % exc)
        with open(path + '.tmp', 'w') as handle:
            json.dump(out, handle)
        os.rename(path + '.tmp', path)  # whole, or not there
    finally:
        os._exit(0)


def collect(path, wait_s):
    """What the background listener of ``path`` reported (waiting up to wait_s for it), or None if
    nothing came; its file and directory are removed. Refuses a path it did not make."""
    directory = os.path.dirname(path)
    if (os.path.basename(path) != RESULT_NAME or not os.path.basename(directory).startswith(RESULT_PREFIX)
            or os.path.dirname(directory) != tempfile.gettempdir()):
        raise ValueError('%s is not a background listener\'s report' % path)
    deadline = time.time() + wait_s
    while not os.path.exists(path) and time.time() < deadline:
        time.sleep(0.02)
    try:
        with open(path) as handle:
            return json.load(handle)
    except (IOError, OSError, ValueError):
        return None
    finally:
        for name in (path, path + '.tmp'):
            if os.path.exists(name):
                os.unlink(name)
        try:
            os.rmdir(directory)
        except OSError:  # the listener, not waited for, wrote into it just now: /tmp keeps it
            pass
