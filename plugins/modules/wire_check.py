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
  - With O(background=true) it returns at once and listens in a detached process, so the tasks
    after it run meanwhile; M(kubeha.control_plane.drift) collects the report
    (its O(kubeha.control_plane.drift#module:wire_listen.result_file) option). site.yml starts it
    before it gathers facts, so a first converge does not wait for the listen.
author:
  - kubeha maintainers (@kubeha)
extends_documentation_fragment:
  - kubeha.control_plane.attributes.info_module
  - ansible.builtin.action_common_attributes
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
    description:
      - Addresses (with or without a prefix length) whose owners are collected (ARP for IPv4, neighbour discovery for IPv6).
      - Not with O(background=true).
    type: list
    elements: str
    default: []
  background:
    description:
      - Listen in a detached process and return at once with RV(result_file), where the report
        (the keys below) is written after O(seconds).
    type: bool
    default: false
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

- name: Listen while the next tasks run (drift's wire_listen.result_file collects it)
  kubeha.control_plane.wire_check:
    address: 192.168.1.10
    background: true
  register: listening
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
  returned: without O(background)
  type: float
result_file:
  description: With O(background=true), the file the report is written to ('' without it).
  returned: always
  type: str
  sample: /tmp/kubeha-wire.x1y2z3/report.json
'''

import ipaddress

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubeha.control_plane.plugins.module_utils import wire_socket


def main():
    module = AnsibleModule(
        argument_spec=dict(
            interface=dict(type='str', default=''),
            address=dict(type='str'),
            seconds=dict(type='float', default=3.0),
            vips=dict(type='list', elements='str', default=[]),
            background=dict(type='bool', default=False),
        ),
        required_one_of=[('interface', 'address')],
        supports_check_mode=True,
    )
    if module.params['background'] and module.params['vips']:
        module.fail_json(msg='vips cannot be probed with background=true (the report holds no ARP answers)')
    vips = []
    for vip in module.params['vips']:
        try:
            address = ipaddress.ip_interface(u'%s' % vip).ip
        except ValueError:
            module.fail_json(msg='vips: %r is not an IP address' % vip)
        vips.append(str(address))
    interface, mac, sock, keep = wire_socket.open_for(module, module.params['interface'], module.params['address'])
    if module.params['background']:
        path = wire_socket.listen_in_background(sock, mac, interface, module.params['seconds'])
        module.exit_json(changed=False, result_file=path, speakers=[], arp={},
                         mac=mac, interface=interface)
    try:
        speakers, arp, listened = wire_socket.listen(sock, mac, vips, module.params['seconds'])
    finally:
        sock.close()
        del keep
    module.exit_json(changed=False, result_file='',
                     **wire_socket.report(mac, interface, listened, speakers, arp))


if __name__ == '__main__':
    main()
