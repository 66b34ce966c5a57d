# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan on the controller (plugins/plugin_utils/plan/).

plan         hostvars | kubeha.control_plane.plan(groups, settings)
             the whole plan: errors, warnings, per-load-balancer settings, every
             cluster's endpoint (no facts needed)
plan_with_facts plan | kubeha.control_plane.plan_with_facts(hostvars)
             the plan completed with the load balancers' gathered facts
plan_view    plan | kubeha.control_plane.plan_view(host)
             the plan as one host reads it (endpoint: its cluster's)
rollout      plan | kubeha.control_plane.rollout(hostvars, hosts, check_mode)
             the order and batch sizes of site.yml's rolling change, from each
             load balancer's drift result (__kubeha_drift)
leaders      plan | kubeha.control_plane.leaders(hosts)
             per cluster, its first load balancer among hosts, with the others
holders      hostvars | kubeha.control_plane.holders(hosts[, result[, key]])
             the hosts whose registered drift or vip_holder result holds a VIP
node_address host | kubeha.control_plane.node_address(hostvars)
             a host's address on the cluster network
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan import addresses, endpoint
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan import rollout as _rollout
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.build import build
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.facts import with_facts
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.inputs import (
    host_variables, network_facts, role_defaults, role_specs,
)
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plain_data import plain

GROUP_DEFAULTS = (('kubeha_lb_group', 'loadbalancers'), ('kubeha_cp_group', 'control_plane'),
                  ('kubeha_client_group', 'clients'))


def plan(hostvars, groups, settings):
    """The plan of every endpoint, from the inventory alone; see plugin_utils/plan/build.py."""
    settings = dict(settings or {})
    for key, default in GROUP_DEFAULTS:
        settings[key] = settings.get(key) or default
    settings['kubeha_clusters'] = list(settings.get('kubeha_clusters') or [])
    groups = dict((name, list(members)) for name, members in (groups or {}).items())
    hosts = []
    for key, _default in GROUP_DEFAULTS:
        hosts += [h for h in groups.get(settings[key]) or [] if h not in hosts]
    unreadable = dict((host, {}) for host in hosts)
    raw = dict((host, host_variables(hostvars, host, unreadable[host])) for host in hosts)
    return build(raw, groups, settings, role_defaults(), role_specs(), unreadable=unreadable)


def plan_with_facts(plan_, hostvars):
    """The plan completed with the facts gathered on its load balancers; see plugin_utils/plan/facts.py."""
    facts = dict((host, network_facts(hostvars, host)) for host in plan_['hosts'])
    return with_facts(plan_, dict((host, value) for host, value in facts.items() if value))


def plan_view(plan_, host):
    """The plan as ``host`` reads it: ``endpoint`` and ``cluster`` are its cluster's."""
    return endpoint.view(plan_, host)


def _results(hostvars, hosts, name):
    """{host: its registered result ``name``} for the hosts that have one."""
    out = {}
    for host in hosts or []:
        try:
            out[host] = plain(hostvars[host][name])
        except KeyError:
            continue
    return out


def rollout(plan_, hostvars, hosts, check_mode=False):
    """{order, batches}: site.yml's rollout from the hosts' drift results."""
    return _rollout.from_drift(plan_, _results(hostvars, hosts, '__kubeha_drift'), bool(check_mode))


def leaders(plan_, hosts):
    """{leader: [load balancers]}: who runs the once-per-cluster checks of a play."""
    return _rollout.leaders(plan_, hosts)


def holders(hostvars, hosts, result='__kubeha_drift', key='held_vips'):
    """The hosts whose registered ``result`` (drift or vip_holder) holds a VIP (or
    whose ``key`` is set), in order."""
    return _rollout.holders(_results(hostvars, hosts, result), key)


def node_address(host, hostvars):
    """The host's IP on the cluster network: kubeha_address, else an IP ansible_host."""
    return addresses.node_address(host, host_variables(hostvars, host))


class FilterModule(object):
    def filters(self):
        return {
            'plan': plan,
            'plan_with_facts': plan_with_facts,
            'node_address': node_address,
            'plan_view': plan_view,
            'rollout': rollout,
            'holders': holders,
            'leaders': leaders,
        }
