# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan completed with the load balancers' gathered facts.

The plan (build.py) needs no facts, so it is computed and checked before any
host is contacted. Once the load balancers' network facts are gathered (a
read-only call), ``with_facts()`` adds what only they tell: the VRRP
interface where keepalived_interface is unset (the one whose subnet holds the
VIP) and the OS's packages, units and paths; and it runs the rules that read
them (the OS is one this collection is tested on, the run acts as root, the
interface exists and holds the VIP's subnet and the host's address, a VIP is
neither the default gateway nor the network or broadcast address of the subnet
it lands in, the files the inventory names on the host are there, the
addresses it binds are its own and no other process holds a port it binds;
VRIDs shared by clusters whose networks are now known). The keepalived fact each running
load balancer carries (its priority) keeps that priority: a host that joins
or is replaced never changes the others' (keepalived.priorities)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan import bgp as B
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan import haproxy as H
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan import keepalived as K
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan import listeners as L
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan import rules as R
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan import rules_bgp as RB
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.announcer import announcer, leftovers
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.clusters import check_fleet
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.endpoint import ranking
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.problems import Problems
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.profiles import OS, OS_DEFAULT


def with_facts(plan, facts):
    """``plan`` completed with ``facts`` ({load balancer: network facts}; hosts
    without are left as they are). Its errors are the plan's and those the
    facts show."""
    problems = Problems()
    hosts = dict(plan['hosts'])
    # a play that gathered the local facts only has the keepalived facts
    network = dict((h, f) for h, f in (facts or {}).items() if f and f.get('interfaces'))
    for host, entry in plan['hosts'].items():
        if host in network:
            hosts[host] = _completed(host, entry, network[host], problems)
    endpoints = dict(plan['endpoints'])
    for name, ep in plan['endpoints'].items():
        deployed = dict((h, ((facts or {}).get(h) or {}).get('keepalived')) for h in ep['load_balancers'])
        if any(deployed.values()):
            endpoints[name] = _kept_priorities(ep, hosts, deployed, problems)
    if len(plan['endpoints']) > 1:
        check_fleet(endpoints, network, problems)
    return dict(plan, hosts=hosts, endpoints=endpoints, errors=list(plan['errors']) + problems.lines(),
                endpoint=endpoints[plan['clusters'][0]] if plan.get('clusters') else plan['endpoint'])


def _kept_priorities(ep, hosts, deployed, problems):
    """The cluster's endpoint, and its load balancers' entries in ``hosts``, with
    the priorities the running load balancers keep (keepalived.priorities):
    each entry's priority, instance (priority, starting state, the peers'
    priorities) and fact; the endpoint's priorities and ranking."""
    lbs = ep['load_balancers']
    prios = K.priorities(lbs, dict((h, hosts[h]['given']) for h in lbs), deployed)
    if prios == ep['priorities']:
        return ep
    for host in lbs:
        entry, peers = hosts[host], [p for p in lbs if p != host]
        if entry['vrrp'] is None:  # BGP mode: the priority orders a mode switch only
            hosts[host] = dict(entry, priority=prios[host])
            continue
        old = entry['vrrp']['instance']
        instance = dict(old, priority=prios[host], peer_priorities=[prios[p] for p in peers],
                        state=K.initial_state(not old['nopreempt'], old.get('preempt_delay'),
                                              prios[host], max(prios.values())))
        vrrp = dict(entry['vrrp'], instance=instance, fact=K.fact(entry['given'], prios[host]))
        R.check_tracking(host, vrrp, problems)
        hosts[host] = dict(entry, priority=prios[host], vrrp=vrrp)
    return dict(ep, priorities=prios, **ranking(lbs, prios, ep['preempt']))


def _completed(host, entry, facts, problems):
    """One load balancer's entry with its interface and OS, its fact rules checked."""
    given = entry['given']
    vip, vip6 = K.vips(given)
    routed = entry.get('vip_mode') == 'bgp'
    interface = '' if routed else K.interface(given, vip, facts)
    if routed:  # no VRRP interface: the VIP is routed to the host
        RB.check_bgp_on_host(host, entry['bgp'], facts, problems)
    else:
        R.check_interface(host, given, vip, interface, entry['address'], facts, problems)
        R.check_vip_on_host(host, given, vip, vip6, interface, facts, problems)
        if vip6 is not None:
            R.check_vip6_interface(host, given, vip6, interface, facts, problems)
    R.check_host_files(host, entry['haproxy'].get('host_files') or [], facts.get('files') or {}, problems)
    R.check_addresses_on_host(host, entry, facts, problems)
    if facts.get('sockets') is not None:  # listening_sockets ran (facts.yml)
        R.check_listeners(host, L.binds(entry), L.ours(entry), facts['sockets'], problems)
    family = facts.get('os_family') or OS_DEFAULT
    R.check_os_family(host, family, problems)
    R.check_root(host, facts, problems)
    family = family if family in OS else OS_DEFAULT  # refused above; the plan stays whole
    vrrp = None if routed else dict(entry['vrrp'], instance=dict(entry['vrrp']['instance'], interface=interface),
                                    os=OS[family]['keepalived'])
    bgp = B.on_os(entry['bgp'], OS[family]['bgp']) if routed else entry.get('bgp')
    haproxy = H.on_os(entry['haproxy'], family)
    return dict(entry, vrrp=vrrp, bgp=bgp, haproxy=haproxy, announcer=announcer(haproxy['os'], vrrp, bgp),
                leftovers=leftovers(OS[family], [str(v.ip) for v in (vip, vip6) if v is not None], routed))
