# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which hosts make up each cluster of the inventory, and the rules that hold
between clusters (membership, VIPs, VRIDs on one network, snippet files)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubeha.control_plane.plugins.module_utils.vrrp_config import parse_vip
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.addresses import (
    interface_for_address, interface_networks,
)
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.rules import check_groups

# The cluster of an inventory without kubeha_clusters (kubeadm's default clusterName).
DEFAULT_CLUSTER = 'kubernetes'


def clusters_of(settings, groups, problems):
    """[(name, load balancers, control-plane nodes, clients)], checked.

    Without kubeha_clusters the inventory is one cluster (DEFAULT_CLUSTER).
    With it, each named group is a cluster: its members that are in the load
    balancer, control-plane and client groups. A load balancer or control-plane
    node belongs to exactly one cluster; a client in no cluster serves them all.
    """
    lb_all = list(groups.get(settings['kubeha_lb_group']) or [])
    cp_all = list(groups.get(settings['kubeha_cp_group']) or [])
    client_all = list(groups.get(settings['kubeha_client_group']) or [])
    names = [str(n) for n in settings.get('kubeha_clusters') or []]
    if not names:
        check_groups(settings, groups, problems)
        return [(DEFAULT_CLUSTER, lb_all, cp_all, client_all)]
    out, owner, seen_names = [], {}, set()
    claimed_clients = set()
    for name in names:
        if name in seen_names:
            problems.add(None, 'kubeha_clusters names %r twice: list each cluster once' % name)
            continue
        seen_names.add(name)
        members = groups.get(name)
        if not members:
            problems.add(None, 'kubeha_clusters names group %r, which is missing or empty: '
                               'create it with the cluster\'s load balancers and control-plane '
                               'nodes (its group_vars hold the cluster\'s VIP, VRID and secret)'
                         % name)
            continue
        lbs = [h for h in lb_all if h in members]
        cps = [h for h in cp_all if h in members]
        clients = [h for h in client_all if h in members]
        claimed_clients.update(clients)
        _check_members(name, lbs, cps, settings, owner, problems)
        out.append((name, lbs, cps, clients))
    for host in lb_all + cp_all:
        if host not in owner:
            problems.add(host, 'is in group %r but in none of the clusters kubeha_clusters '
                               'names (%s): add it to its cluster\'s group'
                         % (settings['kubeha_lb_group'] if host in lb_all else
                            settings['kubeha_cp_group'], ', '.join(names)))
    shared = [h for h in client_all if h not in claimed_clients]
    return [(name, lbs, cps, clients + shared) for name, lbs, cps, clients in out]


def _check_members(name, lbs, cps, settings, owner, problems):
    """A cluster has both kinds of host, each in no other cluster (``owner`` records them)."""
    for what, hosts, key in (('load balancer', lbs, 'kubeha_lb_group'),
                             ('control-plane node', cps, 'kubeha_cp_group')):
        if not hosts:
            problems.add(None, 'cluster %r has no %s: put its hosts in both group %r and '
                               'group %r (%s)' % (name, what, name, settings[key], key))
    for host in lbs + [h for h in cps if h not in lbs]:  # a co-located host is one member
        if host in owner:
            problems.add(host, 'is in cluster %r and in cluster %r: a load balancer or '
                               'control-plane node serves one cluster; remove it from group '
                               '%r or %r' % (owner[host], name, owner[host], name))
        else:
            owner[host] = name


def vrid_networks(endpoint, facts):
    """The networks a cluster's VRRP adverts are seen on, where they are known."""
    nets = set()
    text = endpoint['vip_cidr']
    if text and not text.endswith(('/32', '/128')):
        nets.add(parse_vip(text).network)
    for host in endpoint['load_balancers']:
        name = interface_for_address(endpoint['vip'], (facts or {}).get(host)) if endpoint['vip'] else ''
        for net in interface_networks((facts or {}).get(host)).get(name) or []:
            nets.add(net.network)
    return nets


def check_fleet(endpoints, facts, problems):
    """Clusters in one inventory must not collide: VIPs, VRIDs on one network, snippet files."""
    names = list(endpoints)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            a, b = endpoints[first], endpoints[second]
            for vip in set(a['vips']) & set(b['vips']):
                problems.add(None, 'clusters %r and %r both use the VIP %s: give each '
                                   'cluster its own kubeha_vip (in its group_vars)'
                             % (first, second, vip))
            if a['vrid'] is None or a['vrid'] != b['vrid']:
                continue
            nets_a, nets_b = vrid_networks(a, facts), vrid_networks(b, facts)
            apart = nets_a and nets_b and not any(
                x.version == y.version and x.overlaps(y) for x in nets_a for y in nets_b)
            if not apart:
                where = ', '.join(sorted(str(n) for n in nets_a | nets_b)) or 'a network not known yet'
                problems.add(None, 'clusters %r and %r both use keepalived_vrid %s on the same '
                                   'network (%s): VRRP routers of one VRID on one segment fight '
                                   'over it; give each cluster its own keepalived_vrid'
                             % (first, second, a['vrid'], where))
    files = {}
    for name in names:
        path = endpoints[name]['kubeadm']['snippet_file']
        if path and path in files:
            problems.add(None, 'clusters %r and %r both write the kubeadm snippet to %s: set '
                               'kubeha_kubeadm_snippet_file in each cluster\'s group_vars'
                         % (files[path], name, path))
        files.setdefault(path, name)
