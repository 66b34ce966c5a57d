# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic behind the wire_check module: VRRP adverts and ARP frames as
bytes, and the verdict on what was heard.

VRRP (RFC 3768 for version 2, RFC 5798 for version 3) rides directly on IP,
protocol 112; an advert starts with version and type, the VRID, the
priority and the number of addresses. ARP (RFC 826) over Ethernet tells who
answers for an IPv4 address."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import struct

VRRP_PROTO = 112
ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD
ETH_P_ARP = 0x0806
BROADCAST = b'\xff' * 6
# The VRRP groups' link-layer addresses (224.0.0.18 and ff02::12): a packet
# socket joins them so multicast adverts arrive before keepalived runs here.
VRRP_MACS = ('01:00:5e:00:00:12', '33:33:00:00:00:12')

# A classic BPF program for a packet socket: keep IPv4 and IPv6 packets of
# protocol 112 (VRRP) and ARP, drop the rest in the kernel (a busy load
# balancer's haproxy traffic never reaches Python). (code, jt, jf, k)
BPF_VRRP_ARP = (
    (0x28, 0, 0, 12),          # ldh [12]: the ethertype
    (0x15, 0, 2, ETH_P_IP),    # IPv4? else skip to 4
    (0x30, 0, 0, 23),          # ldb [23]: IPv4 protocol
    (0x15, 4, 5, VRRP_PROTO),  # VRRP: accept; else drop
    (0x15, 0, 2, ETH_P_IPV6),  # IPv6? else skip to 7
    (0x30, 0, 0, 20),          # ldb [20]: IPv6 next header
    (0x15, 1, 2, VRRP_PROTO),  # VRRP: accept; else drop
    (0x15, 0, 1, ETH_P_ARP),   # ARP: accept; else drop
    (0x06, 0, 0, 0xFFFF),      # accept
    (0x06, 0, 0, 0),           # drop
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
    """What an Ethernet frame carries for the wire check:
    ('vrrp', source address, advert), ('arp', sender MAC, sender IPv4, operation), or None."""
    data = bytes(frame)
    if len(data) < 14:
        return None
    ethertype = struct.unpack('!H', data[12:14])[0]
    if ethertype == ETH_P_ARP:
        parsed = parse_arp(data)
        return ('arp',) + parsed if parsed else None
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
