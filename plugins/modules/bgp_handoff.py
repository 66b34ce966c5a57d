#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: bgp_handoff
short_description: Hands packets of connections between a cluster's load balancers during a planned change (BGP mode)
version_added: 1.0.0
description:
  - In BGP mode a router keeps no state per connection. When a planned change withdraws or adds a load
    balancer's path, some flows reach a load balancer that does not hold them, which would reset them.
  - With O(state=present), this load balancer passes a packet to the VIP that opens no connection and
    that no local socket holds to the other load balancers of its cluster (a VXLAN device and the C(TEE)
    target in the mangle table), and takes such a packet from them when a local connection holds it.
  - With O(state=receive), it waits until no packet was handed off for a second (at most the
    linger_s of O(handoff) seconds), then stops handing off and only takes packets from the others.
    The hand-off ends with V(receive) on every load balancer of the cluster, then V(absent) on every
    one, which removes the device and the rules; a load balancer that stopped taking packets while
    another still sent them would lose them.
  - Needs C(ip), C(bridge), C(iptables) (and C(ip6tables) for an IPv6 VIP), and the kernel's vxlan,
    xt_socket and xt_TEE. Nothing of it survives a reboot.
author:
  - kubeha maintainers (@kubeha)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
options:
  handoff:
    description:
      - This load balancer's hand-off as the plan has it (C(__kubeha_plan.host.bgp.handoff)) - device, vni,
        port, chain, linger_s, address, mac, inner4, inner6, frontend_port, vips and peers (each with name,
        address, mac, inner4, inner6).
    type: dict
    required: true
  state:
    description: V(present) to hand off and take, V(receive) only to take, V(absent) to remove it.
    type: str
    choices: [present, receive, absent]
    default: present
'''

EXAMPLES = r'''
- name: Hand off connections between the load balancers while this one is drained
  kubeha.control_plane.bgp_handoff:
    handoff: "{{ __kubeha_plan.host.bgp.handoff }}"
    state: present
'''

RETURN = r'''
handed_off:
  description: Packets this load balancer handed to its peers since the hand-off started.
  returned: always
  type: int
waited_s:
  description: How long O(state=receive) waited for the last handed-off packets.
  returned: always
  type: float
'''

import json
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubeha.control_plane.plugins.module_utils import bgp_handoff as H

TOOLS = {4: 'iptables', 6: 'ip6tables'}


def read_int(path):
    try:
        with open(path) as handle:
            return int(handle.read().strip() or 0)
    except (IOError, OSError, ValueError):
        return 0


class Host(object):
    """The commands, run on this host."""

    def __init__(self, module, handoff):
        self.module, self.handoff = module, handoff
        self.tables = dict((family, module.get_bin_path(TOOLS[family])) for family in (4, 6))

    def run(self, args, check=True):
        rc, out, err = self.module.run_command(args)
        if check and rc != 0:
            self.module.fail_json(msg='%s failed (rc %d): %s' % (' '.join(args), rc, err.strip() or out.strip()))
        return rc, out

    def table(self, family, args, check=True):
        if self.tables[family] is None:  # nothing of the hand-off can be there without it
            if check:
                self.module.fail_json(msg='%s is not installed: the hand-off needs it (package iptables, '
                                          'installed by the bgp role)' % TOOLS[family])
            return 1, ''
        return self.run([self.tables[family], '-w', '5', '-t', 'mangle'] + args, check)

    def alias(self):
        rc, out = self.run(['ip', '-j', '-d', 'link', 'show', 'dev', self.handoff['device']], check=False)
        if rc != 0:
            return None
        links = json.loads(out or '[]')
        return (links[0].get('ifalias') or '') if links else None

    def chain(self, family):
        rc, out = self.table(family, ['-S', self.handoff['chain']], check=False)
        return out if rc == 0 else None

    def underlay_mtu(self):
        _rc, out = self.run(['ip', '-j', 'route', 'get', self.handoff['peers'][0]['address']])
        dev = (json.loads(out or '[{}]') or [{}])[0].get('dev')
        _rc, out = self.run(['ip', '-j', 'link', 'show', 'dev', dev])
        return int(json.loads(out)[0].get('mtu') or 1500)

    def handed_off(self):
        total = 0
        for family in (4, 6):
            rc, out = self.table(family, ['-L', self.handoff['chain'] + '-OUT', '-n', '-v', '-x'], check=False)
            total += H.copied(out) if rc == 0 else 0
        return total

    def build_device(self):
        mtu = self.underlay_mtu()
        self.run(['ip', 'link', 'del', self.handoff['device']], check=False)
        for args in H.device_commands(self.handoff, mtu):
            self.run(args)
        # a handed-off packet comes from a client routed elsewhere: the strict
        # reverse-path check (1, the larger of 'all' and the device's) would drop it
        conf = '/proc/sys/net/ipv4/conf/%s/rp_filter'
        if max(read_int(conf % 'all'), read_int(conf % self.handoff['device'])) == 1:
            with open(conf % self.handoff['device'], 'w') as handle:
                handle.write('2\n')

    def build_chain(self, family, sending):
        self.remove_chain(family)
        chain = self.handoff['chain']
        self.table(family, ['-N', chain])
        self.table(family, ['-N', chain + '-OUT'])
        for args in H.chain_rules(self.handoff, family, sending):
            self.table(family, args)
        self.table(family, ['-I'] + H.jump(self.handoff)[:1] + ['1'] + H.jump(self.handoff)[1:])

    def switch_chain(self, family, sending):
        """The chain built for the other ``sending``: add or delete only the
        rules that send, in place (a rebuild would leave it without its receive
        rules for a moment, and a handed-off packet would then be reset)."""
        now, then = H.chain_rules(self.handoff, family, sending), H.chain_rules(self.handoff, family, not sending)
        self.table(family, ['-R', self.handoff['chain'], '1'] + now[0][2:])  # the comment: what it is now
        for args in (now if sending else then)[1:]:
            if args not in (then if sending else now):
                self.table(family, (['-A'] if sending else ['-D']) + args[1:])

    def remove_chain(self, family):
        chain = self.handoff['chain']
        while self.table(family, ['-D'] + H.jump(self.handoff), check=False)[0] == 0:
            pass
        for name in (chain, chain + '-OUT'):
            self.table(family, ['-F', name], check=False)
        for name in (chain, chain + '-OUT'):
            self.table(family, ['-X', name], check=False)

    def linger(self):
        """Wait until no packet was handed off for a second, at most linger_s; the packets handed off."""
        start, total = time.time(), self.handed_off()
        quiet_since = start
        while time.time() - start < float(self.handoff['linger_s']) and time.time() - quiet_since < 1.0:
            time.sleep(0.2)
            now = self.handed_off()
            if now != total:
                total, quiet_since = now, time.time()
        return total, round(time.time() - start, 3)


def ensure(host, sending, check_mode):
    """State present (``sending``) or receive: the device and each family's chain."""
    handoff = host.handoff
    for family in H.families(handoff):
        host.table(family, ['-S', 'PREROUTING'])  # fails, naming the package, before anything is built
    device_ok = H.built(host.alias(), '', handoff)[0]
    listings = dict((f, host.chain(f)) for f in H.families(handoff))
    chains_ok = dict((f, H.built('', listing, handoff, sending)[1]) for f, listing in listings.items())
    switchable = dict((f, device_ok and H.built('', listing, handoff, not sending)[1])
                      for f, listing in listings.items())
    if not sending and not device_ok and all(listing is None for listing in listings.values()):
        return dict(changed=False, handed_off=0, waited_s=0.0)  # nothing to stop: it never started
    changed = not device_ok or not all(chains_ok.values())
    if not changed or check_mode:
        return dict(changed=changed, handed_off=host.handed_off() if device_ok else 0, waited_s=0.0)
    if not sending and any(switchable.values()):
        total, waited = host.linger()  # the last packets still handed off, before it stops sending
    else:
        total, waited = host.handed_off(), 0.0
    if not device_ok:
        host.build_device()
    for family, ok in chains_ok.items():
        if not ok:
            (host.switch_chain if switchable[family] else host.build_chain)(family, sending)
    return dict(changed=True, handed_off=total, waited_s=waited)


def absent(host, check_mode):
    handoff = host.handoff
    found = host.alias() is not None or any(host.chain(f) is not None for f in (4, 6))
    total = host.handed_off() if found else 0
    if found and not check_mode:
        for family in (4, 6):
            host.remove_chain(family)
        host.run(['ip', 'link', 'del', handoff['device']], check=False)
    return dict(changed=found, handed_off=total, waited_s=0.0)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            handoff=dict(type='dict', required=True),
            state=dict(type='str', choices=['present', 'receive', 'absent'], default='present'),
        ),
        supports_check_mode=True,
    )
    handoff = module.params['handoff']
    missing = [k for k in ('device', 'vni', 'port', 'chain', 'linger_s', 'address', 'mac', 'inner4', 'inner6',
                           'frontend_port', 'vips', 'peers') if k not in handoff]
    if missing:
        module.fail_json(msg='handoff lacks %s: pass __kubeha_plan.host.bgp.handoff' % ', '.join(missing))
    host = Host(module, handoff)
    state = module.params['state']
    if state != 'absent' and not handoff['peers']:
        module.exit_json(changed=False, handed_off=0, waited_s=0.0, msg='no other load balancer to hand off to')
    if state == 'absent':
        module.exit_json(**absent(host, module.check_mode))
    module.exit_json(**ensure(host, state == 'present', module.check_mode))


if __name__ == '__main__':
    main()
