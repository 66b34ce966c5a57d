# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the bgp role gets on one load balancer (kubeha_vip_mode: bgp): FRR's
BGP speaker, its peers and BFD, and the gate that announces the VIP while the
local haproxy can serve. Computes only; rules_bgp.py checks.

The announcement is a kernel route the gate adds (``blackhole VIP/32``,
``proto static``) and FRR redistributes through a route-map: its metric says
how the load balancer announces (NORMAL: a plain path; STANDBY: the path
prepended with its own ASN, worse at every router). The VIP itself is
delivered locally (a local route), whether announced or not, so a withdrawn
load balancer still answers the packets the router sent before it dropped the path.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubeha.control_plane.plugins.module_utils.vrrp_config import parse_ip
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.keepalived import LIBEXEC
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.profiles import OS, OS_DEFAULT

MODES = ('ecmp', 'active_passive')
# The kernel route's metric: how the gate asks FRR to announce (the route-map matches it).
METRIC_NORMAL = 100
METRIC_STANDBY = 200
GATE_UNIT = 'kubeha-bgp-gate.service'
EXPORTER_UNIT = 'kubeha-bgp-exporter.service'
GATE_PROGRAM = LIBEXEC + '/bgp-gate'
STATE_DIR = '/run/kubeha-bgp'
GATE_CONFIG = '/etc/kubeha/bgp-gate.json'
UNIT_DIR = '/etc/systemd/system'
# The hand-off between the load balancers of a cluster during a planned change
# (module_utils/bgp_handoff.py): a VXLAN device, its VNI, the mangle chain, and
# how long the last handed-off packets are waited for before it is taken down.
HANDOFF_DEVICE = 'kubeha-handoff'
HANDOFF_VNI = 6443
HANDOFF_CHAIN = 'KUBEHA-HANDOFF'
HANDOFF_LINGER_S = 5
# keepalived_ settings that mean the same in BGP mode (the
# serving check the gate runs: check-haproxy, with its ask-the-peers rule).
KEEPALIVED_SHARED = ('keepalived_profile', 'keepalived_track_url',
                     'keepalived_track_timeout', 'keepalived_track_ask_peers', 'keepalived_track_overload_hold')


def mode(eff):
    """'bgp' or 'vrrp' (kubeha_vip_mode)."""
    return 'bgp' if eff.get('kubeha_vip_mode') == 'bgp' else 'vrrp'


def prefixes(vip_ips):
    """The host routes announced for the VIPs: /32 for IPv4, /128 for IPv6."""
    out = []
    for text in vip_ips:
        ip = parse_ip(text)
        if ip is not None:
            out.append('%s/%d' % (ip, 32 if ip.version == 4 else 128))
    return out


def peers(eff):
    """bgp_peers as the templates read them: address, asn, family, name, and
    whether a password is set (the password itself stays out of the plan: the
    role passes it, as keepalived's secret)."""
    out = []
    for entry in eff.get('bgp_peers') or []:
        if not isinstance(entry, dict):
            continue
        ip = parse_ip(str(entry.get('address') or ''))
        out.append(dict(address=str(ip) if ip is not None else str(entry.get('address') or ''),
                        asn=entry.get('asn'), family=ip.version if ip is not None else 0,
                        name=str(entry.get('name') or ''), password=bool(entry.get('password'))))
    return out


def router_id(eff, address):
    """bgp_router_id, else the host's IPv4 address ('' for an IPv6-only host: the rule asks for one)."""
    given = eff.get('bgp_router_id') or ''
    if given:
        return str(given)
    ip = parse_ip(address)
    return str(ip) if ip is not None and ip.version == 4 else ''


def community(asn, router):
    """The large community each load balancer tags its own announcement with,
    ``ASN:ROUTER-ID:1`` (the router id as a 32-bit number): in active_passive a
    path a router hands back carrying another tag is another load balancer's,
    and one carrying this tag is this load balancer's own ('' while the ASN or
    the router id is invalid: the rules say so)."""
    ip = parse_ip(router)
    try:
        number = int(asn)
    except (TypeError, ValueError):
        return ''
    if ip is None or ip.version != 4 or not 0 < number < 2 ** 32:
        return ''
    return '%d:%d:1' % (number, int(ip))


def handoff(eff, host, members, vip_ips):
    """The hand-off of one load balancer (``members``: its cluster's load
    balancers as (name, address), in the cluster's order). While a planned
    change moves flows between load balancers, a packet of a connection this
    one does not hold goes through a VXLAN device to the others, and the one
    that holds the connection answers it; its own inner addresses and MAC, and
    each peer's, follow from the position in the cluster."""
    def side(name, address):
        number = [n for n, _a in members].index(name) + 1
        return dict(name=name, address=address, mac='02:6b:68:00:%02x:%02x' % (number >> 8, number & 255),
                    inner4='169.254.77.%d' % number, inner6='fe80::6b68:%x' % number)
    out = dict(side(host, dict(members)[host]), enabled=bool(eff.get('bgp_handoff')),
               device=HANDOFF_DEVICE, vni=HANDOFF_VNI, port=int(eff.get('bgp_handoff_port') or 0),
               chain=HANDOFF_CHAIN, linger_s=HANDOFF_LINGER_S,
               frontend_port=int(eff['haproxy_frontend_port']),
               frontend_address=str(eff.get('haproxy_frontend_address') or ''), vips=list(vip_ips))
    out['peers'] = [side(name, address) for name, address in members if name != host]
    out['hosts'] = [name for name, _a in members]  # where a planned change turns it on and off
    return out


def drain_paths(plan):
    """The files whose change restarts FRR (its daemons), resets its sessions (frr.conf:
    FRR's reload of a changed file drops BFD, and with it the routers' sessions,
    measured with a timers change) or restarts the gate (its program, settings and
    unit): each withdraws the VIP for a moment, so a rollout that changes one drains
    the load balancer first. haproxy.cfg is reloaded in place: no drain."""
    gate = plan['gate']
    return [plan['os']['daemons_path'], plan['os']['config_path'], gate['program'], gate['config'],
            UNIT_DIR + '/' + gate['unit']]


def on_os(plan, os_settings):
    """``plan`` with the host's OS settings, and the paths that depend on them."""
    out = dict(plan, os=os_settings)
    out['drain_paths'] = drain_paths(out)
    return out


def host(eff, address, vip_ips, check):
    """One load balancer's BGP settings. ``check``: the serving check the gate
    runs (the keepalived plan's track_url, track_timeout, track_peer_urls,
    track_overload_hold), rendered by the same check-haproxy script."""
    bfd = dict(interval_ms=int(eff['bgp_bfd_interval_ms']), multiplier=int(eff['bgp_bfd_multiplier'])) \
        if eff.get('bgp_bfd') else None
    rid = router_id(eff, address)
    return on_os(dict(
        asn=eff.get('bgp_asn'),
        router_id=rid,
        community=community(eff.get('bgp_asn'), rid),
        peers=peers(eff),
        mode=eff.get('bgp_mode') or 'ecmp',
        standby_prepend=int(eff.get('bgp_standby_prepend') or 0),
        bfd=bfd,
        timers=dict(keepalive=int(eff['bgp_keepalive']), holdtime=int(eff['bgp_holdtime'])),
        vips=list(vip_ips),
        prefixes=prefixes(vip_ips),
        families=sorted(set(parse_ip(v).version for v in vip_ips if parse_ip(v) is not None)),
        gate=dict(interval=float(eff['bgp_gate_interval']), fall=int(eff['bgp_gate_fall']),
                  rise=int(eff['bgp_gate_rise']), program=GATE_PROGRAM, unit=GATE_UNIT, config=GATE_CONFIG,
                  metric_normal=METRIC_NORMAL, metric_standby=METRIC_STANDBY),
        exporter_unit=EXPORTER_UNIT,
        drain_timeout=int(eff['bgp_drain_timeout']),
        check=dict(check, state_dir=STATE_DIR),
        libexec=LIBEXEC,
        state_dir=STATE_DIR,
    ), OS[OS_DEFAULT]['bgp'])  # Debian's until facts.with_facts knows the host's (on_os)
