"""The wire check's bytes: VRRP adverts of both versions as keepalived sends
them, ARP probes and answers, and the verdict on who was heard."""
import ipaddress
import struct

import pytest

from ansible_collections.kubeha.control_plane.plugins.module_utils import wire


def advert_v2(vrid=51, priority=254, addresses=('10.213.0.100',), advert=1, auth=b'secret1'):
    addrs = b''.join(ipaddress.ip_address(a).packed for a in addresses)
    return struct.pack('!BBBBBBH', 0x21, vrid, priority, len(addresses), 1, advert, 0) + addrs + auth.ljust(8, b'\0')


def advert_v3(vrid=52, priority=100, centis=10):
    return struct.pack('!BBBBHH', 0x31, vrid, priority, 1, centis, 0) + ipaddress.ip_address('10.213.0.100').packed


def ipv4(payload, src='10.213.0.66', ihl=5):
    header = struct.pack('!BBHHHBBH4s4s', 0x40 | ihl, 0, 20 + len(payload), 0, 0, 255, 112, 0,
                         ipaddress.ip_address(src).packed, ipaddress.ip_address('10.213.0.11').packed)
    return header + b'\0' * (4 * (ihl - 5)) + payload


@pytest.mark.parametrize('payload, expected', [
    (advert_v2(), dict(version=2, vrid=51, priority=254, count=1, advert_int=1.0, auth_type=1)),
    (advert_v3(), dict(version=3, vrid=52, priority=100, count=1, advert_int=0.1)),
    (advert_v3(centis=0x0FFF), dict(version=3, vrid=52, priority=100, count=1, advert_int=40.95)),
    (b'\x11\x33\x64\x01\x00\x01\x00\x00', None),  # version 1
    (b'\x22\x33\x64\x01\x00\x01\x00\x00', None),  # type 2 is not an advert
    (b'\x21\x33', None),  # truncated
])
def test_parse_vrrp(payload, expected):
    assert wire.parse_vrrp(payload) == expected


@pytest.mark.parametrize('ihl', [5, 6])
def test_ipv4_payload_honours_the_header_length(ihl):
    source, payload = wire.ipv4_payload(ipv4(advert_v2(), ihl=ihl))
    assert source == '10.213.0.66' and wire.parse_vrrp(payload)['priority'] == 254
    assert wire.ipv4_payload(b'\x60' + b'\0' * 40) == (None, b'')  # not IPv4


def test_arp_probe_is_an_rfc5227_probe_and_parses_back():
    frame = wire.arp_probe('02:42:0a:d5:00:0b', '10.213.0.100')
    assert frame[:6] == b'\xff' * 6 and frame[6:12] == wire.mac_bytes('02:42:0a:d5:00:0b')
    assert len(frame) == 42 and frame[28:32] == b'\0\0\0\0'  # sender 0.0.0.0: no cache learns from it
    assert frame[38:42] == ipaddress.ip_address('10.213.0.100').packed
    assert wire.parse_arp(frame) == ('02:42:0a:d5:00:0b', '0.0.0.0', 1)


def test_parse_arp_reads_an_answer_and_refuses_other_frames():
    answer = (wire.mac_bytes('02:42:0a:d5:00:0b') + wire.mac_bytes('02:42:0a:d5:00:42') + b'\x08\x06'
              + struct.pack('!HHBBH6s4s6s4s', 1, 0x0800, 6, 4, 2, wire.mac_bytes('02:42:0a:d5:00:42'),
                            ipaddress.ip_address('10.213.0.100').packed, wire.mac_bytes('02:42:0a:d5:00:0b'),
                            b'\0' * 4))
    assert wire.parse_arp(answer) == ('02:42:0a:d5:00:42', '10.213.0.100', 2)
    assert wire.parse_arp(answer[:12] + b'\x08\x00' + answer[14:]) is None  # IPv4, not ARP
    assert wire.parse_arp(answer[:30]) is None


def test_strangers_are_other_sources_of_our_vrid_once_each():
    heard = [dict(source='10.213.0.12', vrid=51, priority=100), dict(source='10.213.0.66', vrid=51, priority=254),
             dict(source='10.213.0.66', vrid=51, priority=254), dict(source='10.213.0.70', vrid=60, priority=10)]
    assert wire.strangers(heard, 51, ['10.213.0.11', '10.213.0.12']) == [heard[1]]
    assert wire.strangers(heard, 60, ['10.213.0.11']) == [heard[3]]
    assert wire.strangers(heard, 51, ['10.213.0.11', '10.213.0.12', '10.213.0.66']) == []


def test_vip_owners_are_the_macs_that_are_not_the_holders():
    answers = {'10.213.0.100': ['02:42:0A:D5:00:0B', '02:42:0a:d5:00:32'], '10.213.0.101': []}
    assert wire.vip_owners(answers, ['02:42:0a:d5:00:0b']) == {'10.213.0.100': ['02:42:0a:d5:00:32']}
    assert wire.vip_owners(answers, ['02:42:0a:d5:00:0b', '02:42:0a:d5:00:32']) == {}


def test_a_taken_vrid_is_refused_with_host_interface_speaker_and_fix():
    heard = [dict(source='10.213.0.66', vrid=51, priority=254, version=2),
             dict(source='10.213.0.12', vrid=51, priority=100, version=2)]
    problems = wire.taken_vrid_problems('lb1', 'eth0', 51, heard, ['10.213.0.11', '10.213.0.12'])
    assert problems == ["lb1: keepalived_vrid 51 is already spoken on eth0 by 10.213.0.66 (priority 254, "
                        "VRRPv2), which is not one of this cluster's load balancers: two routers on one "
                        "VRID fight over the VIP. Pick a VRID nobody speaks on this segment "
                        "(keepalived_vrid), and list 51 in keepalived_reserved_vrids"]
    assert wire.taken_vrid_problems('lb1', 'eth0', 52, heard, ['10.213.0.11']) == []


ETH = wire.mac_bytes('01:00:5e:00:00:12') + wire.mac_bytes('02:42:0a:d5:00:42')


def ipv6(payload, src='fd00:214::66', next_header=112):
    return struct.pack('!IHBB16s16s', 0x60000000, len(payload), next_header, 255,
                       ipaddress.ip_address(src).packed, ipaddress.ip_address('ff02::12').packed) + payload


@pytest.mark.parametrize('frame, expected', [
    (ETH + b'\x08\x00' + ipv4(advert_v2()), ('vrrp', '10.213.0.66', 254)),
    (ETH + b'\x86\xdd' + ipv6(advert_v3()), ('vrrp', 'fd00:214::66', 100)),
    (ETH + b'\x86\xdd' + ipv6(advert_v3(), next_header=6), None),  # TCP
    (ETH + b'\x08\x00' + ipv4(advert_v2())[:9] + b'\x06' + ipv4(advert_v2())[10:], None),  # TCP
    (ETH + b'\x08\x06' + b'\0' * 28, None),  # ARP with hardware type 0
    (ETH[:10], None),
])
def test_parse_frame(frame, expected):
    parsed = wire.parse_frame(frame)
    assert (parsed if parsed is None else (parsed[0], parsed[1], parsed[2]['priority'])) == expected


def test_parse_frame_passes_arp_through():
    frame = wire.arp_probe('02:42:0a:d5:00:0b', '10.213.0.100')
    assert wire.parse_frame(frame) == ('arp', '02:42:0a:d5:00:0b', '0.0.0.0', 1)


def run_bpf(program, frame):
    """A tiny interpreter for the instructions the filter uses, to check its jumps."""
    pc, acc = 0, 0
    while True:
        code, jt, jf, k = program[pc]
        if code == 0x28:
            acc = struct.unpack('!H', frame[k:k + 2])[0]
        elif code == 0x30:
            acc = bytearray(frame)[k]
        elif code == 0x15:
            pc += jt if acc == k else jf
        elif code == 0x06:
            return k
        pc += 1


def neighbour_advert(target='fd00:213::100', mac='02:42:0a:d5:00:0b', option=True, hop_limit=255):
    """A neighbour advertisement as the holder's kernel sends it (to all nodes)."""
    body = struct.pack('!BBHI16s', 136, 0, 0, 0x20000000, ipaddress.ip_address(target).packed)
    if option:
        body += b'\x02\x01' + wire.mac_bytes(mac)
    header = struct.pack('!IHBB16s16s', 0x60000000, len(body), 58, hop_limit,
                         ipaddress.ip_address('fe80::42:aff:fed5:b').packed, ipaddress.ip_address('ff02::1').packed)
    return wire.mac_bytes('33:33:00:00:00:01') + wire.mac_bytes('02:42:0a:d5:00:99') + b'\x86\xdd' + header + body


def test_nd_probe_is_a_dad_solicitation_to_the_solicited_node_group():
    frame = wire.nd_probe('02:42:0a:d5:00:0c', 'fd00:213::1:100')
    assert frame[:6] == wire.mac_bytes('33:33:ff:01:01:00')  # the group's MAC: 33:33 + its last 32 bits
    assert frame[6:12] == wire.mac_bytes('02:42:0a:d5:00:0c') and frame[12:14] == b'\x86\xdd'
    version, length, next_header, hops, src, dst = struct.unpack('!IHBB16s16s', frame[14:54])
    assert (version >> 28, length, next_header, hops) == (6, 24, 58, 255)
    assert src == b'\0' * 16  # the unspecified address: no neighbour cache learns from it
    assert ipaddress.ip_address(dst) == ipaddress.ip_address('ff02::1:ff01:100')
    body = frame[54:]
    assert (body[0], body[1]) == (135, 0) and len(body) == 24  # no source link-layer option (RFC 4861 7.2.2)
    assert ipaddress.ip_address(body[8:24]) == ipaddress.ip_address('fd00:213::1:100')
    # a correct checksum makes the sum over pseudo-header and message come out as 0
    assert wire.icmpv6_checksum('::', 'ff02::1:ff01:100', body) == 0


def test_icmpv6_checksum_matches_a_known_packet():
    # an echo request from fe80::1 to fe80::2, id 1, seq 1, no data: checksum worked by hand
    body = struct.pack('!BBHHH', 128, 0, 0, 1, 1)
    checksum = wire.icmpv6_checksum('fe80::1', 'fe80::2', body)
    words = sum([0xfe80, 1, 0xfe80, 2, 8, 58, 0x8000, 1, 1])
    assert checksum == ~((words & 0xFFFF) + (words >> 16)) & 0xFFFF


@pytest.mark.parametrize('frame, expected', [
    (neighbour_advert(), ('nd', '02:42:0a:d5:00:0b', 'fd00:213::100', 136)),
    (neighbour_advert(option=False), ('nd', '02:42:0a:d5:00:99', 'fd00:213::100', 136)),  # the frame's source
    (neighbour_advert(hop_limit=64), None),  # not from the link: RFC 4861 drops it
    (neighbour_advert()[:54] + b'\x87' + neighbour_advert()[55:], None),  # a solicitation
])
def test_parse_frame_reads_neighbour_advertisements(frame, expected):
    assert wire.parse_frame(frame) == expected


@pytest.mark.parametrize('frame, kept', [
    (neighbour_advert(), True),
    (wire.nd_probe('02:42:0a:d5:00:0c', 'fd00:213::100'), False),  # solicitations: ours, not answers
    (ETH + b'\x86\xdd' + ipv6(struct.pack('!BBHHH', 128, 0, 0, 1, 1), next_header=58), False),  # echo
    (ETH + b'\x08\x00' + ipv4(advert_v2()), True),
    (ETH + b'\x86\xdd' + ipv6(advert_v3()), True),
    (wire.arp_probe('02:42:0a:d5:00:0b', '10.213.0.100'), True),
    (ETH + b'\x08\x00' + ipv4(advert_v2())[:9] + b'\x06' + ipv4(advert_v2())[10:], False),
    (ETH + b'\x86\xdd' + ipv6(advert_v3(), next_header=6), False),
    (ETH + b'\x88\xcc' + b'\0' * 40, False),  # LLDP
])
def test_the_kernel_filter_keeps_vrrp_and_arp_only(frame, kept):
    assert bool(run_bpf(wire.BPF_VRRP_ARP, frame)) is kept


def test_a_vip_another_host_answers_for_is_named_with_its_mac_and_variable():
    from ansible_collections.kubeha.control_plane.plugins.module_utils.wire import taken_vip_problems
    answers = {'10.0.0.1': ['02:42:0A:00:00:01'], 'fd00::100': [], '10.0.0.100': ['02:42:0a:00:00:0b']}
    variables = {'10.0.0.1': 'kubeha_vip', 'fd00::100': 'kubeha_vip_ipv6'}
    problems = taken_vip_problems('lb1', 'eth0', answers, variables, ours=['02:42:0A:00:00:0B'])
    # ours (any case) is no stranger; a VIP nobody answers for is free
    assert problems == ["lb1: kubeha_vip 10.0.0.1 is already answered for on eth0 by 02:42:0a:00:00:01, "
                        "which is not one of this cluster's load balancers: another host has this address, "
                        "and taking it would cut that host off. Choose a free address for kubeha_vip, "
                        "or free this one first"]
