#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: haproxy_backends
short_description: Report haproxy's view of its backend servers (UP, DOWN, MAINT)
version_added: 1.0.0
description:
  - Reads C(show stat) from the local haproxy stats socket and reports each server
    of a backend with its state and last check. Never changes anything.
author:
  - kubeha maintainers (@kubeha)
extends_documentation_fragment:
  - kubeha.control_plane.attributes.info_module
  - ansible.builtin.action_common_attributes
options:
  socket:
    description: Path of haproxy's stats socket.
    type: path
    default: /run/haproxy/admin.sock
  backend:
    description: Backend to report.
    type: str
    default: kube-apiservers
'''

EXAMPLES = r'''
- name: Which apiservers does haproxy send traffic to?
  kubeha.control_plane.haproxy_backends:
  register: backends

- name: Every apiserver is UP
  ansible.builtin.assert:
    that: backends.down == []
'''

RETURN = r'''
servers:
  description: One entry per server.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Server name.
      type: str
    status:
      description: UP, DOWN, MAINT, DRAIN, NOLB, with transitions such as C(UP 1/3).
      type: str
    check_status:
      description: Last check result, for example L7OK, L7STS, L4CON, L4TOUT.
      type: str
    check_desc:
      description: Last check, in words.
      type: str
    addr:
      description: Address and port.
      type: str
up:
  description: Names of servers in rotation.
  returned: always
  type: list
  elements: str
down:
  description: Names of servers out of rotation (DOWN, MAINT, DRAIN).
  returned: always
  type: list
  elements: str
settled:
  description:
    - Whether every server has been checked and none is between states (C(UP 1/3)).
    - Right after haproxy starts it counts servers UP until checks say otherwise, so
      an empty RV(up) is conclusive only when this is true.
  returned: always
  type: bool
'''

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
from ansible_collections.kubeha.control_plane.plugins.module_utils.haproxy_stat import (
    command, is_up, parse_show_stat, settled,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            socket=dict(type='path', default='/run/haproxy/admin.sock'),
            backend=dict(type='str', default='kube-apiservers'),
        ),
        supports_check_mode=True,
    )
    try:
        text = command(module.params['socket'], 'show stat')
        servers = parse_show_stat(text, module.params['backend'])
    except (OSError, ValueError) as exc:
        module.fail_json(msg='cannot read haproxy stats from %s: %s (is haproxy running with '
                             'haproxy_stats_socket enabled?)' % (module.params['socket'], to_native(exc)))
    if not servers:
        module.fail_json(msg='haproxy has no servers in backend %r' % module.params['backend'])
    module.exit_json(changed=False, servers=servers,
                     up=[s['name'] for s in servers if is_up(s)],
                     down=[s['name'] for s in servers if not is_up(s)],
                     settled=settled(servers))


if __name__ == '__main__':
    main()
