# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the roles want on a host, in the form kubeha.control_plane.drift reads.

keepalived_conf  params | kubeha.control_plane.keepalived_conf
                 the keepalived.conf text the vrrp_config module writes for params
file_digests     files | kubeha.control_plane.file_digests
                 config_files entries with their content replaced by its SHA-256
role_state       view | kubeha.control_plane.role_state(role[, bgp_peers])
                 what the haproxy, keepalived or bgp role writes on a load balancer,
                 from its view of the plan (plugins/plugin_utils/desired.py)
drift_args       view | kubeha.control_plane.drift_args(keepalived_auth_pass[, bgp_peers])
                 both roles' wanted state as kubeha.control_plane.drift reads it
                 (contents as digests, keepalived.conf's computed with its secret),
                 and what must not be there (the plan's leftovers)
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib

from ansible import constants as C
from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.kubeha.control_plane.plugins.module_utils import vrrp_config
from ansible_collections.kubeha.control_plane.plugins.plugin_utils import desired
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plain_data import plain


def keepalived_conf(params):
    """keepalived.conf as the vrrp_config module renders it (same argument spec, same renderer)."""
    # plain data first: the validator deep-copies its parameters
    result = ArgumentSpecValidator(vrrp_config.argument_spec()).validate(plain(params or {}))
    if result.error_messages:
        raise AnsibleFilterError('keepalived_conf: %s' % '; '.join(result.error_messages))
    config = result.validated_parameters
    errors = vrrp_config.validate(config)
    if errors:
        raise AnsibleFilterError('keepalived_conf: invalid VRRP configuration: %s' % '; '.join(errors))
    return vrrp_config.render(config)


def file_digests(files):
    """Each entry without its content (and write options), with sha256 of the content."""
    return desired.digests(plain(files or []))


def role_state(view, role, bgp_peers=None):
    """What the ``role`` (haproxy, keepalived or bgp) writes on the host whose plan
    view this is; for bgp, ``bgp_peers`` gives the peers' passwords (frr.conf)."""
    view = plain(view)
    # the header ansible's template lookup writes (ansible_managed)
    managed = C.config.get_config_value('DEFAULT_MANAGED_STR')
    if role == 'haproxy':
        return desired.haproxy(view, managed)
    if role == 'keepalived':
        return desired.keepalived(view, managed)
    if role == 'bgp':
        if not view['host'].get('bgp'):
            raise AnsibleFilterError('role_state: the bgp role needs kubeha_vip_mode: bgp on this host')
        return desired.bgp(view, managed, plain(bgp_peers or []))
    raise AnsibleFilterError('role_state: no role %r (haproxy, keepalived or bgp)' % (role,))


def keepalived_conf_params(state, auth_pass):
    """keepalived.conf's parameters (role_state's conf_params) with the secret."""
    return desired.keepalived_conf_params(plain(state), auth_pass)


def desired_state(view, bgp_peers=None):
    """What a load balancer should have, computed once per run: {role: its
    role_state} for haproxy and the host's announcer role (keepalived, or bgp).
    site.yml keeps it as the host's __kubeha_desired, which the drift check
    (drift_args) and the roles read; a role run in a play of one's own computes
    its own part once, the same way."""
    view = plain(view)
    announcer = view['host']['announcer']['role'].rsplit('.', 1)[-1]
    return {'haproxy': role_state(view, 'haproxy'), announcer: role_state(view, announcer, bgp_peers)}


def drift_args(view, auth_pass, bgp_peers=None, state=None):
    """Both roles' wanted state on a load balancer (haproxy, and keepalived or, in
    BGP mode, bgp), as kubeha.control_plane.drift reads it, plus ``service`` (the
    VIP's own unit: keepalived, or the BGP gate): one call per host. ``state``:
    desired_state's result, when the run has it (nothing is rendered again)."""
    view = plain(view)
    state = plain(state) if state else desired_state(view, bgp_peers)
    ha = state['haproxy']
    if 'bgp' in state:
        bg = state['bgp']
        return {'packages': ha['packages'] + bg['packages'], 'users': bg['users'],
                'directories': bg['directories'], 'files': desired.digests(ha['files'] + bg['files']),
                'services': ha['services'] + bg['services'], 'service': bg['service'],
                'leftovers': view['host']['leftovers']}
    ka = state['keepalived']
    conf = keepalived_conf(desired.keepalived_conf_params(ka, auth_pass))
    conf_file = dict(ka['conf_file'], sha256=hashlib.sha256(conf.encode('utf-8')).hexdigest())
    return {'packages': ha['packages'] + ka['packages'], 'users': ka['users'], 'directories': ka['directories'],
            'files': desired.digests(ha['files'] + ka['files']) + [conf_file],
            'services': ha['services'] + ka['services'], 'service': ka['service'],
            'leftovers': view['host']['leftovers']}


class FilterModule(object):
    def filters(self):
        return {'keepalived_conf': keepalived_conf, 'file_digests': file_digests, 'role_state': role_state,
                'keepalived_conf_params': keepalived_conf_params, 'drift_args': drift_args,
                'desired_state': desired_state}
