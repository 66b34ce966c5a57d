# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Addresses, as the plan computes them: a host's address on the cluster network,
the networks of its interfaces (from gathered facts), a VIP's CIDR form."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.kubeha.control_plane.plugins.module_utils.vrrp_config import (
    parse_ip, parse_vip,
)

WILDCARDS = ('*', '::', '0.0.0.0')


def node_address(host, host_vars):
    """The host's IP on the cluster network: kubeha_address, else an IP ansible_host."""
    explicit = host_vars.get('kubeha_address')
    if explicit:
        return str(explicit)
    candidate = host_vars.get('ansible_host') or host
    return str(candidate) if parse_ip(candidate) else ''


def host_port(address, port):
    """'address:port', with an IPv6 address in brackets."""
    return ('[%s]:%s' if ':' in address else '%s:%s') % (address, port)


def interface_networks(facts):
    """{interface: [ip_interface, ...]} from gathered network facts."""
    out = {}
    for name in sorted((facts or {}).get('interfaces') or []):
        iface = facts.get(name.replace('-', '_')) or {}
        nets = []
        for entry in [iface.get('ipv4')] + list(iface.get('ipv4_secondaries') or []):
            if entry and entry.get('address') and entry.get('netmask'):
                nets.append(ipaddress.ip_interface(u'%s/%s' % (entry['address'], entry['netmask'])))
        for entry in iface.get('ipv6') or []:
            if entry.get('scope') == 'global' and entry.get('address'):
                nets.append(ipaddress.ip_interface(u'%s/%s' % (entry['address'], entry.get('prefix', 128))))
        out[name] = nets
    return out


def interface_for_address(address, facts):
    """Name of the interface whose subnet contains ``address`` ('' if none)."""
    ip = parse_ip(str(address).split('/', 1)[0])
    for name, nets in interface_networks(facts).items():
        if ip is not None and any(ip in net.network for net in nets):
            return name
    return ''


def vip_cidr(text):
    """'addr/prefix' for a VIP given with or without a prefix (a plain one is /32 or /128)."""
    vip = parse_vip(text)
    if vip is None:
        return ''
    if '/' in str(text):
        return vip.with_prefixlen
    return '%s/%d' % (vip.ip, vip.max_prefixlen)
