from pathlib import Path

import pytest

from ansible_collections.kubeha.control_plane.plugins.module_utils.vip_probe import (
    find_vip, parse_ip_json, parse_ip_oneline, parse_state_file,
)

SAMPLE_JSON = (Path(__file__).parent / 'fixtures' / 'ip_addr_lb1.json').read_text()
# `ip -o addr show` on the same host (iproute2 6.1)
SAMPLE_ONELINE = """\
1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
1: lo    inet6 ::1/128 scope host \\       valid_lft forever preferred_lft forever
2: eth0    inet 10.213.0.11/24 brd 10.213.0.255 scope global eth0\\       valid_lft forever preferred_lft forever
2: eth0    inet 10.213.0.100/24 scope global secondary eth0\\       valid_lft forever preferred_lft forever
2: eth0    inet6 fd00:213::100/64 scope global nodad \\       valid_lft forever preferred_lft forever
3: eno1    inet 192.168.1.100/32 scope global eno1:vip\\       valid_lft forever preferred_lft forever
4: veth1@if5    inet 10.9.0.2/30 scope global veth1\\       valid_lft forever preferred_lft forever
"""


@pytest.mark.parametrize('parse, text', [(parse_ip_json, SAMPLE_JSON),
                                         (parse_ip_oneline, SAMPLE_ONELINE)])
@pytest.mark.parametrize('vip, ifname, label, secondary, family', [
    ('10.213.0.100', 'eth0', 'eth0', True, 4),       # VIP as a secondary address
    ('10.213.0.100/24', 'eth0', 'eth0', True, 4),     # given in CIDR form
    ('10.213.0.11', 'eth0', 'eth0', False, 4),        # primary
    ('fd00:213::100', 'eth0', None, False, 6),        # IPv6
    ('192.168.1.100', 'eno1', 'eno1:vip', False, 4),  # label form
])
def test_find_vip(parse, text, vip, ifname, label, secondary, family):
    entry = find_vip(parse(text), vip)
    assert entry['ifname'] == ifname
    assert entry['secondary'] is secondary
    assert entry['family'] == family
    if label:
        assert entry['label'] == label


@pytest.mark.parametrize('parse, text', [(parse_ip_json, SAMPLE_JSON),
                                         (parse_ip_oneline, SAMPLE_ONELINE)])
def test_absent_vip(parse, text):
    assert find_vip(parse(text), '10.213.0.101') is None


def test_veth_peer_suffix_is_not_part_of_the_name():
    assert find_vip(parse_ip_oneline(SAMPLE_ONELINE), '10.9.0.2')['ifname'] == 'veth1'


def test_both_parsers_agree_on_addresses():
    def key(entries):
        return sorted((e['ifname'], e['address'], e['prefixlen'], e['family']) for e in entries)
    oneline = [e for e in parse_ip_oneline(SAMPLE_ONELINE) if e['ifname'] != 'veth1']
    assert key(parse_ip_json(SAMPLE_JSON)) == key(oneline)


@pytest.mark.parametrize('text, expected', [
    ('MASTER 101 1732412345.25\n', {'state': 'MASTER', 'priority': 101, 'since': 1732412345.25}),
    ('backup 100', {'state': 'BACKUP', 'priority': 100, 'since': None}),
    ('FAULT', {'state': 'FAULT', 'priority': None, 'since': None}),
    ('', None),
    ('garbage here', None),
])
def test_parse_state_file(text, expected):
    assert parse_state_file(text) == expected
