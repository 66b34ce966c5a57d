# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic behind the wire_check module: VRRP adverts and ARP frames as
bytes, and the verdict on what was heard.

VRRP (RFC 3768 for version 2, RFC 5798 for version 3) rides directly on IP,
protocol 112; an advert starts with version and type, the VRID, the
priority and the number of addresses. ARP (RFC 826) over Ethernet tells who
answers for an IPv4 address; neighbour discovery (RFC 4861, ICMPv6 neighbour
solicitations and advertisements) for an IPv6 address."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import struct

VRRP_PROTO = 112
ICMPV6_PROTO = 58
ND_SOLICIT, ND_ADVERT = 135, 136
ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD
ETH_P_ARP = 0x0806
BROADCAST = b'\xff' * 6
# The VRRP groups' link-layer addresses (224.0.0.18 and ff02::12): a packet
# socket joins them so multicast adverts arrive before keepalived runs here.
VRRP_MACS = ('01:00:5e:00:00:12', '33:33:00:00:00:12')

# A classic BPF program for a packet socket: keep IPv4 and IPv6 packets of
# protocol 112 (VRRP), ICMPv6 neighbour advertisements and ARP, drop the rest
# in the kernel (a busy load balancer's haproxy traffic never reaches Python).
# (code, jt, jf, k); a jump goes to the next instruction + jt or jf.
BPF_VRRP_ARP = (
    (0x28, 0, 0, 12),             # 0  ldh [12]: the ethertype
    (0x15, 0, 2, ETH_P_IP),       # 1  IPv4? else 4
    (0x30, 0, 0, 23),             # 2  ldb [23]: IPv4 protocol
    (0x15, 7, 8, VRRP_PROTO),     # 3  VRRP: accept; else drop
    (0x15, 0, 5, ETH_P_IPV6),     # 4  IPv6? else 10
    (0x30, 0, 0, 20),             # 5  ldb [20]: IPv6 next header
    (0x15, 4, 0, VRRP_PROTO),     # 6  VRRP: accept
    (0x15, 0, 4, ICMPV6_PROTO),   # 7  ICMPv6? else drop
    (0x30, 0, 0, 54),             # 8  ldb [54]: ICMPv6 type
    (0x15, 1, 2, ND_ADVERT),      # 9  neighbour advertisement: accept; else drop
    (0x15, 0, 1, ETH_P_ARP),      # 10 ARP: accept; else drop
    (0x06, 0, 0, 0xFFFF),         # 11 accept
    (0x06, 0, 0, 0),              # 12 drop
)


def mac_text(raw):
    return ':'.join('%02x' % b for b in bytearray(raw))


def mac_bytes(text):
    return bytes(bytearray(int(part, 16) for part in text.split(':')))


def parse_vrrp(payload):
    """The fields of a VRRP advert (bytes after the IP header), or None if it is not one."""
    data = bytearray(payload)
    if len(data) < 8:
        return None
    version, kind = data[0] >> 4, data[0] & 0x0F
    if version not in (2, 3) or kind != 1:
        return None
    advert = dict(version=version, vrid=data[1], priority=data[2], count=data[3])
    if version == 2:
        advert['advert_int'] = float(data[5])
        advert['auth_type'] = data[4]
    else:
        advert['advert_int'] = ((data[4] & 0x0F) << 8 | data[5]) / 100.0
    return advert


def ipv4_payload(packet):
    """(source address, payload) of an IPv4 packet as a raw socket hands it over."""
    data = bytearray(packet)
    if len(data) < 20 or data[0] >> 4 != 4:
        return None, b''
    header = (data[0] & 0x0F) * 4
    return str(ipaddress.IPv4Address(bytes(data[12:16]))), bytes(data[header:])


def parse_frame(frame):
    """What an Ethernet frame carries for the wire check: ('vrrp', source address,
    advert), ('arp', sender MAC, sender IPv4, operation), ('nd', MAC, IPv6 target,
    ND_ADVERT), or None."""
    data = bytes(frame)
    if len(data) < 14:
        return None
    ethertype = struct.unpack('!H', data[12:14])[0]
    if ethertype == ETH_P_ARP:
        parsed = parse_arp(data)
        return ('arp',) + parsed if parsed else None
    if ethertype == ETH_P_IPV6 and len(data) >= 54 and bytearray(data)[20] == ICMPV6_PROTO:
        parsed = parse_neighbour_advert(data)
        return ('nd',) + parsed if parsed else None
    if ethertype == ETH_P_IP:
        source, payload = ipv4_payload(data[14:])
        if source is None or bytearray(data)[23] != VRRP_PROTO:
            return None
    elif ethertype == ETH_P_IPV6 and len(data) >= 54 and bytearray(data)[20] == VRRP_PROTO:
        source, payload = str(ipaddress.IPv6Address(data[22:38])), data[54:]
    else:
        return None
    advert = parse_vrrp(payload)
    return ('vrrp', source, advert) if advert else None


def arp_probe(mac, target):
    """An Ethernet frame asking who has target, from mac with sender address
    0.0.0.0 (an RFC 5227 probe: it updates no one's ARP cache)."""
    src = mac_bytes(mac)
    arp = struct.pack('!HHBBH6s4s6s4s', 1, 0x0800, 6, 4, 1, src, b'\0' * 4, b'\0' * 6,
                      ipaddress.IPv4Address(u'%s' % target).packed)
    return BROADCAST + src + struct.pack('!H', ETH_P_ARP) + arp


def solicited_node(address):
    """The solicited-node multicast group of an IPv6 address (ff02::1:ffXX:XXXX)."""
    packed = ipaddress.IPv6Address(u'%s' % address).packed
    return ipaddress.IPv6Address(b'\xff\x02' + b'\0' * 9 + b'\x01\xff' + packed[13:])


def multicast_mac(group):
    """The Ethernet address of an IPv6 multicast group: 33:33 and its last 32 bits."""
    return b'\x33\x33' + ipaddress.IPv6Address(u'%s' % group).packed[12:]


def icmpv6_checksum(source, destination, message):
    """The ICMPv6 checksum (RFC 4443 2.3) over the IPv6 pseudo-header and the message."""
    pseudo = (ipaddress.IPv6Address(u'%s' % source).packed + ipaddress.IPv6Address(u'%s' % destination).packed
              + struct.pack('!IxxxB', len(message), ICMPV6_PROTO))
    data = bytearray(pseudo + bytes(message) + (b'\0' if len(message) % 2 else b''))
    total = sum((data[i] << 8) + data[i + 1] for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def nd_probe(mac, target):
    """An Ethernet frame soliciting target's owner, from the unspecified address
    :: without a source link-layer option (RFC 4861 duplicate address detection):
    the owner answers to all nodes (ff02::1) and nobody's neighbour cache changes,
    the IPv6 twin of arp_probe."""
    group = solicited_node(target)
    body = struct.pack('!BBHI16s', ND_SOLICIT, 0, 0, 0, ipaddress.IPv6Address(u'%s' % target).packed)
    checksum = icmpv6_checksum('::', group, body)
    body = body[:2] + struct.pack('!H', checksum) + body[4:]
    header = struct.pack('!IHBB16s16s', 0x60000000, len(body), ICMPV6_PROTO, 255,
                         b'\0' * 16, group.packed)
    return multicast_mac(group) + mac_bytes(mac) + struct.pack('!H', ETH_P_IPV6) + header + body


def parse_neighbour_advert(frame):
    """(MAC, IPv6 target, ND_ADVERT) of an Ethernet frame carrying a neighbour
    advertisement (hop limit 255, as RFC 4861 requires), or None. The MAC is the
    target link-layer address option's, else the frame's source."""
    data = bytes(frame)
    if (len(data) < 78 or struct.unpack('!H', data[12:14])[0] != ETH_P_IPV6
            or bytearray(data)[20] != ICMPV6_PROTO or bytearray(data)[21] != 255
            or bytearray(data)[54] != ND_ADVERT):
        return None
    target = str(ipaddress.IPv6Address(data[62:78]))
    mac = mac_text(data[6:12])
    offset = 78
    while offset + 8 <= len(data):
        kind, units = bytearray(data)[offset], bytearray(data)[offset + 1]
        if not units:
            break
        if kind == 2:  # target link-layer address
            mac = mac_text(data[offset + 2:offset + 8])
            break
        offset += units * 8
    return mac, target, ND_ADVERT


def parse_arp(frame):
    """(sender MAC, sender IPv4, operation) of an Ethernet ARP frame, or None."""
    data = bytes(frame)
    if len(data) < 42 or struct.unpack('!H', data[12:14])[0] != ETH_P_ARP:
        return None
    htype, ptype, hlen, plen, oper = struct.unpack('!HHBBH', data[14:22])
    if (htype, ptype, hlen, plen) != (1, 0x0800, 6, 4):
        return None
    sender_mac = mac_text(data[22:28])
    sender_ip = str(ipaddress.IPv4Address(data[28:32]))
    return sender_mac, sender_ip, oper


def strangers(speakers, vrid, ours):
    """Speakers of vrid whose source is not one of ours (addresses), sorted, once each."""
    ours = set(str(ipaddress.ip_address(u'%s' % a)) for a in ours)
    found = {}
    for speaker in speakers:
        if speaker['vrid'] == vrid and speaker['source'] not in ours:
            found.setdefault(speaker['source'], speaker)
    return [found[source] for source in sorted(found)]


def vip_owners(answers, holder_macs):
    """{vip: [MACs that answered for it and are not the holder's]}, only VIPs with such MACs."""
    holder_macs = set(m.lower() for m in holder_macs)
    out = {}
    for vip, macs in answers.items():
        others = sorted(set(m.lower() for m in macs) - holder_macs)
        if others:
            out[vip] = others
    return out


def taken_vrid_problems(host, interface, vrid, speakers, ours):
    """Before a first converge: the sentences refusing a VRID another router speaks."""
    out = []
    for stranger in strangers(speakers, int(vrid), ours):
        out.append('%s: keepalived_vrid %s is already spoken on %s by %s (priority %s, VRRPv%s), '
                   'which is not one of this cluster\'s load balancers: two routers on one VRID '
                   'fight over the VIP. Pick a VRID nobody speaks on this segment '
                   '(keepalived_vrid), and list %s in keepalived_reserved_vrids'
                   % (host, vrid, interface, stranger['source'], stranger['priority'],
                      stranger['version'], vrid))
    return out


def taken_vip_problems(host, interface, answers, variables, ours):
    """Before a VIP goes up (no load balancer of the cluster holds it: a first
    converge, or a new VIP): the sentences refusing a VIP another host answers for.
    ``answers`` {vip: [MAC, ...]} as wire_check reports them, ``variables`` {vip:
    the variable that sets it}, ``ours`` the MACs of the cluster's load balancers."""
    out = []
    for vip, macs in sorted(vip_owners(answers, ours).items()):
        out.append('%s: %s %s is already answered for on %s by %s, which is not one of this '
                   'cluster\'s load balancers: another host has this address, and taking it would '
                   'cut that host off. Choose a free address for %s, or free this one first'
                   % (host, variables.get(vip, 'kubeha_vip'), vip, interface, ', '.join(macs),
                      variables.get(vip, 'kubeha_vip')))
    return out
