# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of the plan (plugins/module_utils/plan.py).

plan         hostvars | kubeha.control_plane.plan(groups, settings[, with_facts])
             the whole plan: errors, warnings, per-load-balancer settings, every
             cluster's endpoint
plan_view    plan | kubeha.control_plane.plan_view(host)
             the plan as one host reads it (endpoint: its cluster's)
rollout      plan | kubeha.control_plane.rollout(holders)
             the order and batch sizes of a rolling change
node_address host | kubeha.control_plane.node_address(hostvars)
             a host's address on the cluster network

The roles' defaults and argument specs are read from this collection's files,
so the plan sees what the roles would: one home for each default.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.kubeha.control_plane.plugins.module_utils import plan as _plan
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plain_data import plain

ROLES = ('kubeha', 'haproxy', 'keepalived', 'verify')
COLLECTION = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_CACHE = {}


def _load(role, relative):
    path = os.path.join(COLLECTION, 'roles', role, relative)
    if path not in _CACHE:
        try:
            with open(path) as handle:
                _CACHE[path] = yaml.safe_load(handle) or {}
        except (IOError, OSError) as exc:
            raise AnsibleFilterError('kubeha.control_plane: cannot read %s: %s' % (path, exc))
    return _CACHE[path]


def role_defaults():
    """Every role's defaults/main.yml, merged (their names do not overlap)."""
    merged = {}
    for role in ROLES:
        merged.update(_load(role, 'defaults/main.yml'))
    return merged


def role_specs():
    """Every role's argument spec options, merged."""
    merged = {}
    for role in ROLES:
        merged.update(_load(role, 'meta/argument_specs.yml')['argument_specs']['main']['options'])
    return merged


def host_variables(hostvars, host, unreadable=None):
    """What the inventory (and -e, and set_fact) says of ``host``, for the plan.

    A variable whose template fails (an undefined vault variable, say) is left
    out and named in ``unreadable`` ({variable: error}).
    """
    try:
        hvars = hostvars[host]
    except KeyError:
        return {}
    inputs = None
    try:
        inputs = hvars['__kubeha_inputs']
    except Exception:  # pylint: disable=broad-except
        inputs = None
    if isinstance(inputs, dict) and inputs:
        return plain(inputs)
    out = {}
    for name in list(hvars.keys()):
        if name.startswith(_plan.PREFIXES) or name == 'ansible_host':
            try:
                out[name] = plain(hvars[name])
            except Exception as exc:  # pylint: disable=broad-except
                if unreadable is not None:
                    unreadable[name] = str(getattr(exc, 'message', exc)).split('\n', maxsplit=1)[0]
    return out


def plan(hostvars, groups, settings, with_facts=False):
    """The plan of the whole endpoint; see module_utils/plan.py."""
    settings = dict(settings or {})
    for key, default in (('kubeha_lb_group', 'loadbalancers'), ('kubeha_cp_group', 'control_plane'),
                         ('kubeha_client_group', 'clients')):
        settings[key] = settings.get(key) or default
    settings['kubeha_clusters'] = list(settings.get('kubeha_clusters') or [])
    groups = dict((name, list(members)) for name, members in (groups or {}).items())
    hosts = []
    for key in ('kubeha_lb_group', 'kubeha_cp_group', 'kubeha_client_group'):
        hosts += [h for h in groups.get(settings[key]) or [] if h not in hosts]
    unreadable = dict((host, {}) for host in hosts)
    raw = dict((host, host_variables(hostvars, host, unreadable[host])) for host in hosts)
    facts = None
    if with_facts:
        facts = {}
        for host in groups.get(settings['kubeha_lb_group']) or []:
            try:
                host_facts = hostvars[host]['ansible_facts']
            except KeyError:
                host_facts = None
            if host_facts and host_facts.get('interfaces'):
                names = list(host_facts['interfaces'])
                subset = dict((n.replace('-', '_'), host_facts.get(n.replace('-', '_')) or {})
                              for n in names)
                subset.update(interfaces=names, os_family=host_facts.get('os_family'))
                facts[host] = plain(subset)
    return _plan.build(raw, groups, settings, role_defaults(), role_specs(), facts=facts,
                       unreadable=unreadable)


def plan_view(plan_, host):
    """The plan as ``host`` reads it: ``endpoint`` and ``cluster`` are its cluster's."""
    return _plan.view(plan_, host)


def rollout(plan_, holders, pending=None):
    """{order, batches}: backups before holders within a cluster, clusters side by side."""
    order, batches = _plan.rollout(plan_, list(holders or []),
                                   None if pending is None else list(pending))
    return dict(order=order, batches=batches)


def node_address(host, hostvars):
    """The host's IP on the cluster network: kubeha_address, else an IP ansible_host."""
    return _plan.node_address(host, host_variables(hostvars, host))


class FilterModule(object):
    def filters(self):
        return {
            'plan': plan,
            'node_address': node_address,
            'plan_view': plan_view,
            'rollout': rollout,
        }
