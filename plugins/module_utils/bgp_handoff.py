# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hand-off between the load balancers of a cluster in BGP mode, as
commands (pure: the module bgp_handoff runs them).

A router keeps no state per connection: when a planned change adds or removes
a load balancer's path, the router sends some flows to another load balancer,
which holds no connection for them and would reset them. While the hand-off is
on, each load balancer passes a packet to the VIP that opens no connection
(no SYN) and that no local socket holds to every other load balancer of its
cluster, over a VXLAN device; the one that holds the connection takes it, the
others drop their copy. A local socket that is only a TIME-WAIT of an older
connection with the same ports does not count as holding it (conntrack finds
the packet out of its window): the packet is copied to the peers and kept.
The device and two mangle chains exist only for the planned change, and
carry a digest of what they were built from (the device's alias, a comment
rule), so a second call changes nothing. It ends in two
steps on every load balancer: first none sends (each once its last handed-off
packet is a second old), then each stops receiving; a load balancer that
stopped receiving while another still sent to it would lose those packets.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json

MARK = 'kubeha handoff '


def digest(handoff, sending=None):
    """A short digest of everything the device (``sending`` None) or the rules
    (True: they send and receive; False: they only receive) are built from."""
    keys = ('device', 'vni', 'port', 'chain', 'address', 'mac', 'inner4', 'inner6', 'frontend_port', 'vips', 'peers')
    text = json.dumps(dict(((k, handoff.get(k)) for k in keys), sending=sending), sort_keys=True)
    return hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]


def families(handoff):
    """The IP families of the VIPs (4, 6), in that order."""
    return sorted(set(6 if ':' in vip else 4 for vip in handoff['vips']))


def device_commands(handoff, mtu):
    """The ``ip``/``bridge`` argument lists that build the VXLAN device: its
    end at this load balancer's address, its MAC and inner addresses, and each
    peer's MAC behind the peer's address (no learning, no flooding)."""
    dev = handoff['device']
    out = [['ip', 'link', 'add', dev, 'type', 'vxlan', 'id', str(handoff['vni']), 'dstport', str(handoff['port']),
            'local', handoff['address'], 'nolearning'],
           ['ip', 'link', 'set', dev, 'address', handoff['mac'], 'mtu', str(mtu), 'addrgenmode', 'none'],
           ['ip', 'link', 'set', dev, 'alias', MARK + digest(handoff)],
           ['ip', 'addr', 'add', handoff['inner4'] + '/24', 'dev', dev]]
    if 6 in families(handoff):
        out.append(['ip', '-6', 'addr', 'add', handoff['inner6'] + '/64', 'dev', dev, 'nodad'])
    out.append(['ip', 'link', 'set', dev, 'up'])
    for peer in handoff['peers']:
        out.append(['bridge', 'fdb', 'append', peer['mac'], 'dev', dev, 'dst', peer['address']])
        out.append(['ip', 'neigh', 'replace', peer['inner4'], 'lladdr', peer['mac'], 'dev', dev, 'nud', 'permanent'])
        if 6 in families(handoff):
            out.append(['ip', '-6', 'neigh', 'replace', peer['inner6'], 'lladdr', peer['mac'], 'dev', dev,
                        'nud', 'permanent'])
    return out


def chain_rules(handoff, family, sending=True):
    """The rules of both chains for one family, as iptables argument lists
    (after ``iptables -t mangle``). The first chain, jumped to first in
    PREROUTING, takes a handed-off packet a local connection holds and drops
    the rest (another load balancer holds it, or none does); while
    ``sending``, a packet to the VIP that opens nothing goes to the second,
    which lets a local connection have it and otherwise copies it to every peer
    (TEE) and drops the original."""
    dev, chain = handoff['device'], handoff['chain']
    out_chain = chain + '-OUT'
    inner = 'inner6' if family == 6 else 'inner4'
    rules = [['-A', chain, '-m', 'comment', '--comment', MARK + digest(handoff, sending)],
             ['-A', chain, '-i', dev, '-p', 'tcp', '-m', 'socket', '-j', 'RETURN'],
             ['-A', chain, '-i', dev, '-p', 'tcp', '-j', 'DROP']]
    for vip in handoff['vips'] if sending else ():
        if (6 if ':' in vip else 4) == family:
            rules.append(['-A', chain, '-d', vip, '-p', 'tcp', '--dport', str(handoff['frontend_port']),
                          '!', '--syn', '-j', out_chain])
    # held here: a socket, and conntrack knows the connection as established
    rules.append(['-A', out_chain, '-m', 'socket', '-m', 'conntrack', '--ctstate', 'ESTABLISHED', '-j', 'RETURN'])
    for peer in handoff['peers']:
        rules.append(['-A', out_chain, '-j', 'TEE', '--gateway', peer[inner], '--oif', dev])
    # a socket conntrack does not call established (a TIME-WAIT left by an
    # older connection with the same ports, whose packets are out of its
    # window): the peers got a copy, and it keeps the packet too
    rules.append(['-A', out_chain, '-m', 'socket', '-j', 'RETURN'])
    rules.append(['-A', out_chain, '-j', 'DROP'])
    return rules


def jump(handoff):
    """The PREROUTING rule that sends every packet through the first chain (without -A/-I/-C/-D)."""
    return ['PREROUTING', '-j', handoff['chain']]


def built(alias, chain_listing, handoff, sending=True):
    """Whether the device (its alias) and a family's chain (``iptables -S`` of
    it) were built from this hand-off, the chain ``sending`` or not:
    (device_ok, chain_ok)."""
    return ((alias or '').strip() == MARK + digest(handoff),
            MARK + digest(handoff, sending) in (chain_listing or ''))


def copied(listing):
    """Packets the hand-off's out chain copied to the peers so far: the counter
    of its first TEE rule in ``iptables -t mangle -L CHAIN -n -v -x``; 0 when the
    listing has none."""
    for line in (listing or '').splitlines():
        fields = line.split()
        if len(fields) > 2 and fields[0].isdigit() and fields[2] == 'TEE':
            return int(fields[0])
    return 0
