#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: wire_check
short_description: Listen on an interface for every VRRP speaker, and ask who answers ARP for the VIPs
version_added: 1.0.0
description:
  - Listens on O(interface) for O(seconds) and reports every VRRP advert it hears (IPv4 and
    IPv6, multicast and unicast to this host), once per source and VRID, with the priority,
    version and advert interval.
  - Sends RFC 5227 ARP probes (sender address 0.0.0.0, so no ARP cache changes) for each IPv4
    VIP in O(vips) and reports every MAC address that answers for it, or announces it.
  - Changes nothing on the host. It needs raw sockets (root, or C(CAP_NET_RAW)).
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
    description: The interface to listen on (the one keepalived uses).
    type: str
    required: true
  seconds:
    description: How long to listen. Cover at least two advert intervals of the slowest speaker expected.
    type: float
    default: 3.0
  vips:
    description: Addresses (with or without a prefix length) whose ARP answers are collected. IPv6 addresses are skipped.
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
  description: Per IPv4 VIP, the MAC addresses that answered for it or announced it.
  returned: always
  type: dict
  sample: {10.213.0.100: ['02:42:0a:d5:00:0b']}
mac:
  description: The MAC address of O(interface).
  returned: always
  type: str
listened:
  description: Seconds actually listened.
  returned: always
  type: float
'''

import ipaddress
import os
import select
import socket
import struct
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
from ansible_collections.kubeha.control_plane.plugins.module_utils import wire

SO_BINDTODEVICE = getattr(socket, 'SO_BINDTODEVICE', 25)
IPV6_JOIN_GROUP = getattr(socket, 'IPV6_JOIN_GROUP', 20)


def _vrrp_socket4(interface, index):
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, wire.VRRP_PROTO)
    sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, interface.encode() + b'\0')
    # ip_mreqn: group, local address (any), interface index: multicast adverts reach us
    # even where keepalived has not joined the group (before the first converge).
    mreq = struct.pack('4s4si', socket.inet_aton(wire.VRRP_GROUP4), socket.inet_aton('0.0.0.0'), index)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    return sock


def _vrrp_socket6(interface, index):
    sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, wire.VRRP_PROTO)
    sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, interface.encode() + b'\0')
    mreq = socket.inet_pton(socket.AF_INET6, wire.VRRP_GROUP6) + struct.pack('@I', index)
    sock.setsockopt(socket.IPPROTO_IPV6, IPV6_JOIN_GROUP, mreq)
    return sock


def _arp_socket(interface):
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(wire.ETH_P_ARP))
    sock.bind((interface, wire.ETH_P_ARP))
    return sock


class Listener(object):
    def __init__(self, interface, vips):
        self.interface = interface
        self.vips = vips
        self.speakers = {}
        self.arp = dict((vip, set()) for vip in vips)
        self.sockets = {}
        self.problems = []

    def open(self):
        index = socket.if_nametoindex(self.interface)
        for kind, opener in (('ipv4', lambda: _vrrp_socket4(self.interface, index)),
                             ('ipv6', lambda: _vrrp_socket6(self.interface, index)),
                             ('arp', lambda: _arp_socket(self.interface))):
            if kind == 'arp' and not self.vips:
                continue
            try:
                self.sockets[opener()] = kind
            except (OSError, socket.error) as exc:
                if kind == 'ipv6':  # an interface without IPv6: nothing to hear there
                    continue
                self.problems.append('%s socket on %s: %s' % (kind, self.interface, to_native(exc)))

    def probe(self, mac):
        for sock, kind in self.sockets.items():
            if kind == 'arp':
                for vip in self.vips:
                    sock.send(wire.arp_probe(mac, vip))

    def read(self, sock):
        kind = self.sockets[sock]
        data, source = sock.recvfrom(65535)
        if kind == 'arp':
            parsed = wire.parse_arp(data)
            if parsed and parsed[1] in self.arp and parsed[0] != '00:00:00:00:00:00':
                self.arp[parsed[1]].add(parsed[0])
            return
        if kind == 'ipv4':
            address, payload = wire.ipv4_payload(data)
        else:
            address, payload = str(ipaddress.ip_address(u'%s' % source[0].split('%')[0])), data
        advert = wire.parse_vrrp(payload) if address else None
        if advert is None:
            return
        key = (address, advert['vrid'])
        entry = self.speakers.setdefault(key, dict(source=address, family=kind, adverts=0, **advert))
        entry.update(advert)
        entry['adverts'] += 1

    def close(self):
        for sock in self.sockets:
            sock.close()


def main():
    module = AnsibleModule(
        argument_spec=dict(
            interface=dict(type='str', required=True),
            seconds=dict(type='float', default=3.0),
            vips=dict(type='list', elements='str', default=[]),
        ),
        supports_check_mode=True,
    )
    interface = module.params['interface']
    if not os.path.isdir('/sys/class/net/%s' % interface):
        module.fail_json(msg='interface %s does not exist on this host' % interface)
    with open('/sys/class/net/%s/address' % interface) as handle:
        mac = handle.read().strip().lower()
    vips = []
    for vip in module.params['vips']:
        try:
            address = ipaddress.ip_interface(u'%s' % vip).ip
        except ValueError:
            module.fail_json(msg='vips: %r is not an IP address' % vip)
        if address.version == 4:
            vips.append(str(address))

    listener = Listener(interface, vips)
    listener.open()
    if listener.problems:
        listener.close()
        module.fail_json(msg='cannot listen: %s (wire_check needs root or CAP_NET_RAW)'
                             % '; '.join(listener.problems))
    start = time.time()
    deadline = start + max(module.params['seconds'], 0.1)
    probes = [start, start + (deadline - start) / 2]  # twice: one lost probe is not a verdict
    try:
        while True:
            now = time.time()
            while probes and probes[0] <= now:
                probes.pop(0)
                listener.probe(mac)
            if now >= deadline:
                break
            wake = min([deadline] + probes)
            ready = select.select(list(listener.sockets), [], [], max(wake - now, 0))[0]
            for sock in ready:
                listener.read(sock)
    finally:
        listener.close()
    speakers = sorted(listener.speakers.values(), key=lambda s: (s['vrid'], s['source']))
    module.exit_json(changed=False, speakers=speakers, mac=mac, listened=round(time.time() - start, 3),
                     arp=dict((vip, sorted(macs)) for vip, macs in listener.arp.items()))


if __name__ == '__main__':
    main()
