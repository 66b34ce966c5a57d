# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The attributes every read-only module shares (apiserver_healthz, drift,
    haproxy_backends, vip_holder, wire_check): with
    ansible.builtin.action_common_attributes, as kubeha.control_plane.attributes.info_module."""

    DOCUMENTATION = r'''
options: {}
'''

    INFO_MODULE = r'''
options: {}
attributes:
  check_mode:
    support: full
    details: The module only reads (or listens and probes), so check mode runs it the same way.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
'''
