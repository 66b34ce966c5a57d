# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules of kubeha_vip_mode: bgp. Like rules.py, each ``check_*`` only
checks, adding a sentence naming host, variable and fix to ``problems``.
``check_bgp`` needs no facts; ``check_bgp_on_host`` reads the load balancer's
gathered network facts (facts.with_facts)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubeha.control_plane.plugins.module_utils.vrrp_config import parse_ip
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.addresses import WILDCARDS, interface_networks
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.bgp import KEEPALIVED_SHARED, MODES

ASN_MAX = 4294967295
# FRR's route-map takes at most 10 ASNs to prepend (set as-path prepend)
PREPEND_MAX = 10
PEER_KEYS = ('address', 'asn', 'password', 'name')


def _set(name, raw, defaults):
    """``name`` is set in the inventory to something else than its default."""
    return name in raw and raw[name] is not None and raw[name] != defaults.get(name)


def check_mode_settings(host, eff, raw, defaults, problems):
    """Settings of the other mode: VRRP-only keepalived_ settings in BGP mode,
    bgp_ settings in VRRP mode (each would be silently ignored)."""
    if eff.get('kubeha_vip_mode') == 'bgp':
        for name in sorted(raw):
            if name.startswith('keepalived_') and name not in KEEPALIVED_SHARED and _set(name, raw, defaults):
                problems.add(host, '%s is a VRRP setting, and kubeha_vip_mode is bgp (no VRRP runs): '
                                   'remove it for this host, or set kubeha_vip_mode: vrrp' % name)
    else:
        for name in sorted(raw):
            if name.startswith('bgp_') and _set(name, raw, defaults):
                problems.add(host, '%s is a BGP setting, and kubeha_vip_mode is vrrp: set '
                                   'kubeha_vip_mode: bgp to announce the VIP over BGP, or remove %s'
                             % (name, name))


def check_bgp(host, eff, plan, problems):
    """The BGP settings, without facts: an ASN, peers with an address and an ASN,
    a router id, a VIP announced as a host route, a peer for each VIP family."""
    asn = eff.get('bgp_asn')
    if asn is None:
        problems.add(host, 'bgp_asn is not set: give the load balancers\' AS number (a private one '
                           'such as 65101), e.g. bgp_asn: 65101')
    elif not 1 <= int(asn) <= ASN_MAX:
        problems.add(host, 'bgp_asn %s is out of range: use 1-%d (64512-65534 and '
                           '4200000000-4294967294 are private)' % (asn, ASN_MAX))
    if eff.get('bgp_mode') not in MODES:
        problems.add(host, 'bgp_mode %r is not one of %s' % (eff.get('bgp_mode'), ', '.join(MODES)))
    _check_peers(host, eff, asn, problems)
    if not plan['router_id'] or parse_ip(plan['router_id']) is None or parse_ip(plan['router_id']).version != 4:
        problems.add(host, 'bgp_router_id %r is not an IPv4 address: BGP needs a 32-bit router id; set '
                           'bgp_router_id to one of this host\'s IPv4 addresses' % plan['router_id'])
    for name in ('kubeha_vip', 'kubeha_vip_ipv6'):
        text = str(eff.get(name) or '')
        address, _slash, length = text.partition('/')
        if length and length not in ('32', '128'):
            problems.add(host, '%s %s: in BGP mode the VIP is announced as a host route, not a subnet: '
                               'give it as %s (or %s/%s)'
                         % (name, text, address, address, '128' if ':' in text else '32'))
    families = set(p['family'] for p in plan['peers'])
    for prefix in plan['prefixes']:
        family = 6 if ':' in prefix else 4
        if plan['peers'] and family not in families:
            problems.add(host, 'the VIP %s is IPv%d and no BGP peer is: add an IPv%d peer to bgp_peers '
                               'to announce it' % (prefix, family, family))
    for name in ('bgp_bfd_interval_ms', 'bgp_bfd_multiplier', 'bgp_gate_fall', 'bgp_gate_rise'):
        if int(eff.get(name) or 0) < 1:
            problems.add(host, '%s %s must be 1 or more' % (name, eff.get(name)))
    if float(eff.get('bgp_gate_interval') or 0) <= 0:
        problems.add(host, 'bgp_gate_interval %s must be above 0 seconds' % eff.get('bgp_gate_interval'))
    if not 3 * int(eff['bgp_keepalive']) <= int(eff['bgp_holdtime']) or int(eff['bgp_keepalive']) < 1:
        problems.add(host, 'bgp_keepalive %s and bgp_holdtime %s: the hold time must be at least three '
                           'keepalives (e.g. 3 and 9)' % (eff['bgp_keepalive'], eff['bgp_holdtime']))
    if not 0 <= plan['standby_prepend'] <= PREPEND_MAX:
        problems.add(host, 'bgp_standby_prepend %s is out of range: FRR prepends 0-%d times; e.g. '
                           'bgp_standby_prepend: 3' % (plan['standby_prepend'], PREPEND_MAX))
    if plan.get('handoff') and plan['handoff']['enabled']:
        _check_handoff(host, plan['handoff'], problems)


def _check_handoff(host, handoff, problems):
    """bgp_handoff: a UDP port, the load balancers' addresses as IPs of one
    family (the VXLAN device's ends), and haproxy on the wildcard address (the
    hand-off asks the kernel whether a connection exists, and a listener on the
    VIP itself would answer yes for every packet)."""
    if not 1 <= handoff['port'] <= 65535:
        problems.add(host, 'bgp_handoff_port %s is not a UDP port: use 1-65535 (e.g. the default 4799), '
                           'or set bgp_handoff: false' % handoff['port'])
    own = parse_ip(handoff['address'])
    for side in [handoff] + handoff['peers']:
        ip = parse_ip(side['address'])
        if ip is None or own is not None and ip.version != own.version:
            problems.add(host, 'bgp_handoff: the load balancer %s has the address %r, and the hand-off '
                               'between load balancers needs IP addresses of one family: set its '
                               'kubeha_address (e.g. kubeha_address: 192.0.2.11), or set bgp_handoff: false'
                         % (side['name'], side['address']))
    if handoff['frontend_address'] not in ('',) + WILDCARDS:
        problems.add(host, 'bgp_handoff needs haproxy to listen on every address, and '
                           'haproxy_frontend_address is %s: remove haproxy_frontend_address for this host '
                           '(the VIP still reaches it), or set bgp_handoff: false'
                     % handoff['frontend_address'])


def _check_peers(host, eff, asn, problems):
    given = eff.get('bgp_peers') or []
    if not given:
        problems.add(host, 'bgp_peers is empty: name the routers this load balancer announces the VIP '
                           'to, e.g. bgp_peers: [{address: 192.0.2.1, asn: 65000}]')
    seen = set()
    for index, entry in enumerate(given):
        where = 'bgp_peers[%d]' % index
        if not isinstance(entry, dict):
            problems.add(host, '%s %r is not a mapping: give {address: ..., asn: ...}' % (where, entry))
            continue
        unknown = sorted(set(entry) - set(PEER_KEYS))
        if unknown:
            problems.add(host, '%s has %s, which a peer does not take (it takes %s)'
                         % (where, ', '.join(unknown), ', '.join(PEER_KEYS)))
        ip = parse_ip(str(entry.get('address') or ''))
        if ip is None:
            problems.add(host, '%s address %r is not an IP address: give the router\'s address on '
                               'this load balancer\'s subnet' % (where, entry.get('address')))
        elif str(ip) in seen:
            problems.add(host, '%s address %s is named twice: list each router once' % (where, ip))
        else:
            seen.add(str(ip))
        peer_asn = entry.get('asn')
        if isinstance(peer_asn, bool) or not isinstance(peer_asn, int) and not str(peer_asn).isdigit():
            problems.add(host, '%s asn %r is not an AS number: give the router\'s, e.g. asn: 65000'
                         % (where, peer_asn))
        elif not 1 <= int(peer_asn) <= ASN_MAX:
            problems.add(host, '%s asn %s is out of range: use 1-%d' % (where, peer_asn, ASN_MAX))
        elif asn is not None and int(peer_asn) == int(asn):
            problems.add(host, '%s asn %s equals bgp_asn: the load balancers speak eBGP to the routers; '
                               'give them their own AS number' % (where, peer_asn))


def check_peers_are_routers(host, plan, load_balancers, problems):
    """No peer is this load balancer or another of its cluster (``load_balancers``:
    {address: host}): the peers are the routers the VIP is announced to."""
    for index, peer in enumerate(plan['peers']):
        ip = parse_ip(peer['address'])
        other = load_balancers.get(str(ip)) if ip is not None else None
        if other:
            problems.add(host, 'bgp_peers[%d] address %s is %s: the peers are the routers the VIP is '
                               'announced to; give the routers\' addresses' % (
                                   index, ip, 'this load balancer' if other == host
                                   else 'the load balancer %s of this cluster' % other))


def check_bgp_on_host(host, plan, facts, problems):
    """With facts: each peer lies in a subnet of this host (a directly connected
    router: eBGP and BFD single-hop), and no VIP lies in one (it is routed to the
    load balancers, not reached on a segment; a VIP in a connected subnet would
    be answered there by ARP, not by the routers)."""
    nets = [net for name, found in interface_networks(facts).items() if name != 'lo' for net in found]
    own = set(str(net.ip) for found in interface_networks(facts).values() for net in found)
    for index, peer in enumerate(plan['peers']):
        ip = parse_ip(peer['address'])
        if ip is not None and str(ip) in own:
            problems.add(host, 'bgp_peers[%d] address %s is an address of this load balancer: the peers '
                               'are the routers the VIP is announced to; give the routers\' addresses'
                         % (index, ip))
        elif ip is not None and nets and not any(ip in net.network for net in nets):
            problems.add(host, 'bgp_peers[%d] address %s is in no subnet of this host (%s): the routers '
                               'must be directly connected; give the router\'s address on this host\'s '
                               'subnet' % (index, ip, ', '.join(str(n.network) for n in nets)))
    gateways = set(facts.get('gateways') or [])
    for vip in plan['vips']:
        ip = parse_ip(vip)
        inside = [n for n in nets if ip is not None and ip in n.network]
        if vip in gateways:
            problems.add(host, 'the VIP %s is the default gateway of this host: choose an address '
                               'outside every subnet of the load balancers' % vip)
        elif inside:
            problems.add(host, 'the VIP %s lies in %s, a subnet of this host: in BGP mode the VIP is '
                               'routed to the load balancers; choose an address outside every subnet of '
                               'the load balancers (a range the routers route to them)'
                         % (vip, inside[0].network))
