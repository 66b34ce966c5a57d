#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: wire_check
short_description: Listen on an interface for every VRRP speaker, and ask who answers for the VIPs
version_added: 1.0.0
description:
  - Listens on O(interface) for O(seconds) and reports every VRRP advert it hears (IPv4 and
    IPv6, multicast and unicast to this host), once per source and VRID, with the priority,
    version and advert interval.
  - Sends RFC 5227 ARP probes (sender address 0.0.0.0, so no ARP cache changes) for each IPv4
    VIP in O(vips) and reports every MAC address that answers for it, or announces it.
  - For each IPv6 VIP, sends a neighbour solicitation from the unspecified address (as duplicate
    address detection does, so no neighbour cache changes) and reports every MAC address whose
    neighbour advertisement answers for it, or announces it.
  - Changes nothing on the host. It reads the interface through a packet socket (root, or C(CAP_NET_RAW)),
    so it also hears adverts a firewall rule drops before keepalived sees them.
  - verify.yml uses it to name a VRRP speaker for the cluster's VRID that is not one of its load
    balancers, and a MAC answering for the VIP that is not the holder's; site.yml uses it before
    the first converge to refuse a VRID another router already speaks.
author:
  - kubeha maintainers (@kubeha)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module only listens and probes; check mode runs it the same way.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
options:
  interface:
    description:
      - The interface to listen on (the one keepalived uses).
      - Empty or unset, the interface that holds O(address).
    type: str
    default: ''
  address:
    description: This host's address on the VRRP network; names the interface when O(interface) is empty.
    type: str
  seconds:
    description: How long to listen. Cover at least two advert intervals of the slowest speaker expected.
    type: float
    default: 3.0
  vips:
    description: Addresses (with or without a prefix length) whose owners are collected (ARP for IPv4, neighbour discovery for IPv6).
    type: list
    elements: str
    default: []
'''

EXAMPLES = r'''
- name: Who speaks VRRP on the load balancers' segment?
  kubeha.control_plane.wire_check:
    interface: eth0
    seconds: 3
    vips: [192.168.1.100/24]
  register: wire

- name: Refuse a VRID another router speaks
  ansible.builtin.assert:
    that: wire.speakers | selectattr('vrid', 'equalto', 51) | list | length == 0
'''

RETURN = r'''
speakers:
  description: One entry per VRRP source and VRID heard.
  returned: always
  type: list
  elements: dict
  sample: [{source: 10.213.0.66, vrid: 51, priority: 254, version: 2, advert_int: 1.0, adverts: 3, family: ipv4}]
arp:
  description: Per VIP, the MAC addresses that answered for it or announced it (ARP for IPv4, neighbour advertisements for IPv6).
  returned: always
  type: dict
  sample: {10.213.0.100: ['02:42:0a:d5:00:0b'], 'fd00:213::100': ['02:42:0a:d5:00:0b']}
mac:
  description: The MAC address of the interface.
  returned: always
  type: str
interface:
  description: The interface listened on.
  returned: always
  type: str
listened:
  description: Seconds actually listened.
  returned: always
  type: float
'''

import ctypes
import ipaddress
import select
import socket
import struct
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
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


def main():
    module = AnsibleModule(
        argument_spec=dict(
            interface=dict(type='str', default=''),
            address=dict(type='str'),
            seconds=dict(type='float', default=3.0),
            vips=dict(type='list', elements='str', default=[]),
        ),
        required_one_of=[('interface', 'address')],
        supports_check_mode=True,
    )
    interface = module.params['interface'] or interface_of(module, module.params['address'])
    try:
        with open('/sys/class/net/%s/address' % interface) as handle:
            mac = handle.read().strip().lower()
    except (IOError, OSError):
        module.fail_json(msg='interface %s does not exist on this host' % interface)
    vips = []
    for vip in module.params['vips']:
        try:
            address = ipaddress.ip_interface(u'%s' % vip).ip
        except ValueError:
            module.fail_json(msg='vips: %r is not an IP address' % vip)
        vips.append(str(address))
    try:
        sock, keep = open_socket(interface)
    except (OSError, socket.error) as exc:
        module.fail_json(msg='cannot listen on %s: %s (wire_check needs root or CAP_NET_RAW)'
                             % (interface, to_native(exc)))
    try:
        speakers, arp, listened = listen(sock, mac, vips, module.params['seconds'])
    finally:
        sock.close()
        del keep
    module.exit_json(changed=False, mac=mac, interface=interface, listened=round(listened, 3),
                     speakers=sorted(speakers.values(), key=lambda s: (s['vrid'], s['source'])),
                     arp=dict((vip, sorted(macs)) for vip, macs in arp.items()))


if __name__ == '__main__':
    main()
