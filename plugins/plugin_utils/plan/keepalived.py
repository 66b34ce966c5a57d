# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What keepalived gets on one load balancer: its priority, VIPs and interface,
and keepalived.conf's parameters exactly as the vrrp_config module takes them
(global_defs, scripts, the instance, host_addresses), without the secret,
which the keepalived role adds. Computes only; rules.py checks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.kubeha.control_plane.plugins.module_utils.vrrp_config import parse_vip
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.addresses import (
    WILDCARDS, host_port, interface_for_address, node_address, vip_cidr,
)
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.profiles import (
    REANNOUNCE_DELAY_S, auto_priority_delay_us,
)

PRIORITY_BASE_VAR = 'keepalived_priority_base'
LIBEXEC = '/usr/local/libexec/kubeha'
# A local fact in Ansible's own place (setup's default fact_path), so a play's
# fact gathering with the 'local' subset reads it beside the user's own.
FACT_NAME = 'kubeha_keepalived'
FACT_DIR = '/etc/ansible/facts.d'
FACT_FILE = '%s/%s.fact' % (FACT_DIR, FACT_NAME)
# The units the keepalived role adds beside keepalived (each optional).
UNITS = {'timer': 'kubeha-healthcheck.timer', 'exporter': 'kubeha-vrrp-exporter.service',
         'firewall': 'kubeha-vrrp-firewall.service'}


def priorities(lbs, effs, deployed=None):
    """{host: priority}. An explicit keepalived_priority wins. Otherwise a load
    balancer keeps the priority it already runs with (``deployed``: {host: what
    its keepalived fact says}, read with the facts; see ``fact``), so adding,
    replacing or reordering load balancers never changes the others'
    priorities and never moves the VIP. A cluster deployed for the first time
    (nothing deployed) gets base - position in the group; a host that joins a
    running cluster gets the next free priority below those already running,
    in inventory order."""
    explicit = dict((h, effs[h]['keepalived_priority']) for h in lbs
                    if effs[h].get('keepalived_priority') is not None)
    kept = {}
    for host in lbs:
        running = running_priority(effs[host], (deployed or {}).get(host))
        if host not in explicit and running is not None and \
                running not in explicit.values() and running not in kept.values():
            kept[host] = running
    derived = dict((host, explicit.get(host, int(effs[host][PRIORITY_BASE_VAR]) - index))
                   for index, host in enumerate(lbs))
    if not kept:
        return derived
    out = dict(explicit, **kept)
    free = min(kept.values())
    for host in lbs:
        if host not in out:
            free -= 1
            while free in out.values():
                free -= 1
            out[host] = free
    return out if min(out.values()) >= 1 else derived  # no room below: derived again


def fact(eff, priority):
    """What a load balancer's keepalived fact records (the keepalived role writes
    it beside keepalived.conf; ``priorities`` reads it back): the VRID and the
    priority base it was derived with, and the priority."""
    return dict(vrid=eff.get('keepalived_vrid'), base=int(eff[PRIORITY_BASE_VAR]), priority=int(priority))


def running_priority(eff, found):
    """The priority a load balancer runs with, from its fact (``found``), when the
    fact was written for this VRID and priority base; else None (a new host, or
    settings that changed: the priorities are derived again)."""
    found = found or {}
    priority = found.get('priority')
    if not isinstance(priority, int) or isinstance(priority, bool) or not 1 <= priority <= 254:
        return None
    if found.get('vrid') != eff.get('keepalived_vrid') or found.get('base') != int(eff[PRIORITY_BASE_VAR]):
        return None
    return priority


def initial_state(preempt, delay, priority, top):
    """The instance's starting state: MASTER for the top priority with preempt.
    keepalived drops preempt_delay on a node that starts MASTER: with a delay
    every node starts BACKUP and the election picks the highest."""
    return 'MASTER' if (preempt and priority == top and not delay) else 'BACKUP'


def retired(cluster, address, vips_, os_units, vip_mode='vrrp'):
    """What site.yml does on a load balancer with kubeha_lb_state: absent: stop and
    disable, in this order, keepalived (its priority-0 advert moves the VIP at
    once), the units the keepalived role adds, and haproxy; remove the keepalived
    fact, so the host joins as a new one if it comes back. In BGP mode: the gate
    (its stop withdraws the VIP at once), FRR, haproxy."""
    if vip_mode == 'bgp':
        units = ['kubeha-bgp-gate.service', os_units['bgp']['service']]
    else:
        units = [os_units['keepalived']['service']] + list(UNITS.values())
    return dict(retired=True, cluster=cluster, address=address, vips=list(vips_),
                units=units + [os_units['haproxy']['service']], files=[FACT_FILE])


def vips(eff):
    """(kubeha_vip, kubeha_vip_ipv6) as ip_interfaces, None where unset or
    unusable (an IPv6 VIP beside an IPv6 kubeha_vip is unusable)."""
    vip = parse_vip(eff.get('kubeha_vip')) if eff.get('kubeha_vip') else None
    vip6 = parse_vip(eff.get('kubeha_vip_ipv6')) if eff.get('kubeha_vip_ipv6') else None
    if vip6 is not None and (vip6.version != 6 or (vip is not None and vip.version == 6)):
        vip6 = None
    return vip, vip6


def interface(eff, vip, facts):
    """keepalived_interface, else (with facts) the one whose subnet holds the VIP; '' unknown."""
    name = eff.get('keepalived_interface') or ''
    if not name and vip is not None and facts:
        name = interface_for_address(str(vip.ip), facts)
    return name


def scripts(eff, weight):
    """The track scripts (none without keepalived_track_haproxy)."""
    if not eff.get('keepalived_track_haproxy'):
        return []
    common = dict(interval=float(eff['keepalived_track_interval']),
                  timeout=float(eff['keepalived_track_timeout']),
                  fall=int(eff['keepalived_track_fall']), rise=int(eff['keepalived_track_rise']))
    # chk_haproxy: haproxy can serve (monitor URI 200: an apiserver UP); failing
    #   lowers the priority, so with no apiserver UP anywhere the VIP stays put.
    # chk_haproxy_alive: haproxy answers at all; failing is FAULT (priority-0
    #   advert), so the peer takes over after its skew time.
    # The script's name is its last argument: it records each result under it.
    out = [dict(common, name='chk_haproxy', script=LIBEXEC + '/check-haproxy serving chk_haproxy',
                weight=weight)]
    if eff.get('keepalived_track_haproxy_alive'):
        out.append(dict(common, name='chk_haproxy_alive',
                        script=LIBEXEC + '/check-haproxy alive chk_haproxy_alive', weight=0))
    return out


def instance(eff, name, vip, vip6, peering, track):
    """The vrrp_instance on interface ``name``. ``peering``: this host's address and
    priority, the cluster's top priority, the peers' addresses and priorities;
    ``track``: the scripts."""
    preempt = bool(eff.get('keepalived_preempt'))
    delay = int(eff.get('keepalived_preempt_delay') or 0)
    unicast = bool(eff['keepalived_unicast'])
    peers = peering['peers']
    return dict(
        name=eff['keepalived_instance_name'],
        interface=name,
        virtual_router_id=eff.get('keepalived_vrid'),
        priority=peering['priority'],
        state=initial_state(preempt, delay, peering['priority'], peering['top']),
        advert_int=float(eff['keepalived_advert_int']),
        version=int(eff['keepalived_vrrp_version']),
        virtual_ipaddresses=[vip_cidr(eff.get('kubeha_vip'))] if vip is not None else [],
        # The IPv6 VIP rides on the IPv4 instance (not in its adverts): one
        # instance, so the two VIPs always sit on the same holder.
        virtual_ipaddresses_excluded=[vip_cidr(eff.get('kubeha_vip_ipv6'))] if vip6 is not None else [],
        unicast_src_ip=peering['address'] if unicast and peers else None,
        check_unicast_src=bool(unicast and peers and eff.get('keepalived_check_unicast_src')),
        unicast_peers=list(peers) if unicast else [],
        peer_priorities=peering['peer_priorities'],
        track_scripts=[dict(name=s['name']) for s in track],
        nopreempt=not preempt,
        preempt_delay=delay if (preempt and delay) else None,
        garp_master_refresh=int(eff.get('keepalived_garp_master_refresh') or 0),
        notify=None,  # state changes go through the FIFO (global_defs), in order
    )


def router_id(host, eff):
    """The load balancer's router id (keepalived's global_defs, FRR's hostname in
    BGP mode): keepalived_router_id, else the host's short name."""
    return eff.get('keepalived_router_id') or host.split('.')[0]


def global_defs(host, eff):
    """keepalived.conf's global_defs, as vrrp_config takes them."""
    rt_priority = int(eff.get('keepalived_max_auto_priority') or 0)
    delay_us = auto_priority_delay_us(eff['keepalived_advert_int'])
    reannounce = bool(eff.get('keepalived_reannounce_after_split'))
    return dict(
        router_id=router_id(host, eff),
        enable_script_security=True,
        script_user=eff['keepalived_script_user'],
        max_auto_priority=rt_priority,
        # keepalived's default is 1 s: said only when the adverts are quicker
        min_auto_priority_delay=delay_us if rt_priority and delay_us < 1000000 else None,
        vrrp_higher_prio_send_advert=reannounce or None,
        vrrp_garp_lower_prio_delay=REANNOUNCE_DELAY_S if reannounce else None,
        # state changes in order, through a FIFO the notify script reads
        vrrp_notify_fifo='%s/vrrp.fifo' % eff['keepalived_state_dir'],
        vrrp_notify_fifo_script=LIBEXEC + '/vrrp-notify',
    )


def peer_frontend_urls(peers, effs, raw, vip_ips):
    """Where each peer's haproxy answers on an address of the peer's own: the serving
    check asks them, before it gives up the VIP, whether any of them can serve. A
    peer whose frontend listens on a VIP only is left out (no address to ask)."""
    urls = []
    for peer in peers:
        listen = str(effs[peer].get('haproxy_frontend_address') or '*')
        address = node_address(peer, raw[peer]) if listen in WILDCARDS else listen
        if address and address not in vip_ips:
            urls.append('https://%s/readyz' % host_port(address, int(effs[peer]['haproxy_frontend_port'])))
    return urls


def restart_delay(eff):
    """keepalived_restart_delay, else a little more than a takeover takes."""
    delay = eff.get('keepalived_restart_delay')
    if delay is None:
        delay = int(math.ceil(3 * float(eff['keepalived_advert_int']) + 1.5))
    return int(delay)
