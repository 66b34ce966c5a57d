# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic behind the vip_holder module: parse `ip addr` output and the
keepalived notify state files written by the keepalived role."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json
import re

VRRP_STATES = ('MASTER', 'BACKUP', 'FAULT', 'STOP', 'INIT')


def parse_ip_json(text):
    """Addresses from `ip -j addr show`: list of dicts (ifname, address, prefixlen,
    family, label, secondary)."""
    result = []
    for link in json.loads(text or '[]'):
        for info in link.get('addr_info') or []:
            if info.get('family') not in ('inet', 'inet6') or not info.get('local'):
                continue
            result.append({
                'ifname': link.get('ifname'),
                'address': info['local'],
                'prefixlen': int(info.get('prefixlen', 0)),
                'family': 6 if info['family'] == 'inet6' else 4,
                'label': info.get('label') or link.get('ifname'),
                'secondary': bool(info.get('secondary')),
            })
    return result


ONELINE = re.compile(r'^\d+:\s+(?P<ifname>[^\s:@]+)(?:@\S+)?\s+(?P<fam>inet6?)\s+'
                     r'(?P<addr>[0-9A-Fa-f:.]+)/(?P<plen>\d+)(?P<rest>.*)$')


def parse_ip_oneline(text):
    """The same from `ip -o addr show` (for iproute2 without JSON output)."""
    result = []
    for line in (text or '').splitlines():
        match = ONELINE.match(line.strip())
        if not match:
            continue
        rest = match.group('rest').split('\\')[0].split()
        label = match.group('ifname')
        if match.group('fam') == 'inet' and rest:
            # the label, when present, is the last word before "valid_lft"
            words = [w for w in rest if w not in ('secondary', 'dynamic', 'noprefixroute')]
            tail = words[-1] if words else ''
            if tail.startswith(match.group('ifname')):
                label = tail
        result.append({
            'ifname': match.group('ifname'),
            'address': match.group('addr'),
            'prefixlen': int(match.group('plen')),
            'family': 6 if match.group('fam') == 'inet6' else 4,
            'label': label,
            'secondary': 'secondary' in rest,
        })
    return result


def find_vip(addresses, vip):
    """The entry of ``addresses`` holding ``vip`` (given with or without /prefix), or None."""
    wanted = ipaddress.ip_address(u'%s' % str(vip).split('/', 1)[0])
    for entry in addresses:
        if ipaddress.ip_address(u'%s' % entry['address']) == wanted:
            return entry
    return None


def parse_state_file(text):
    """'MASTER 101 1732412345.12' -> {'state': 'MASTER', 'priority': 101, 'since': 1732412345.12}."""
    words = (text or '').split()
    if not words or words[0].upper() not in VRRP_STATES:
        return None
    state = {'state': words[0].upper(), 'priority': None, 'since': None}
    if len(words) > 1 and words[1].isdigit():
        state['priority'] = int(words[1])
    if len(words) > 2:
        try:
            state['since'] = float(words[2])
        except ValueError:
            pass
    return state


def host_addresses(module):
    """The host's addresses (``ip -j addr``, or ``ip -o addr`` where iproute2 has no JSON)."""
    ip = module.get_bin_path('ip', required=True)
    rc, out, err = module.run_command([ip, '-j', 'addr', 'show'])
    if rc == 0 and out.strip().startswith('['):
        return parse_ip_json(out)
    rc, out, err = module.run_command([ip, '-o', 'addr', 'show'])
    if rc != 0:
        module.fail_json(msg='ip addr show failed', rc=rc, stderr=err)
    return parse_ip_oneline(out)


def held(addresses, vips):
    """The VIPs (of ``vips``) found among ``addresses``; ValueError names a bad one."""
    out = []
    for vip in vips:
        try:
            entry = find_vip(addresses, vip)
        except ValueError:
            raise ValueError('%r is not an IP address' % vip)
        if entry is not None:
            out.append(vip)
    return out
