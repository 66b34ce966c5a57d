# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the roles want on a host, in the form kubeha.control_plane.drift reads.

keepalived_conf  params | kubeha.control_plane.keepalived_conf
                 the keepalived.conf text the vrrp_config module writes for params
file_digests     files | kubeha.control_plane.file_digests
                 config_files entries with their content replaced by its SHA-256
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.kubeha.control_plane.plugins.module_utils import vrrp_config
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plain_data import plain

_DROPPED = ('content', 'validate', 'backup')


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
    out = []
    for entry in files or []:
        item = dict((k, v) for k, v in entry.items() if k not in _DROPPED)
        if entry.get('state', 'present') != 'absent':
            item['sha256'] = hashlib.sha256(('%s' % (entry.get('content') or '')).encode('utf-8')).hexdigest()
        out.append(item)
    return out


class FilterModule(object):
    def filters(self):
        return {'keepalived_conf': keepalived_conf, 'file_digests': file_digests}
