#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: listening_sockets
short_description: List the host's listening sockets and the process and unit that hold each
version_added: 1.0.0
description:
  - Reads C(/proc/net/tcp), C(tcp6), C(udp) and C(udp6) for the listening TCP sockets and the
    bound UDP sockets, and C(/proc/PID/fd) for the process that holds each, with its systemd
    unit (from C(/proc/PID/cgroup)).
  - The plan reads it before any host changes (C(kubeha.control_plane.plan_with_facts)), and refuses
    a port it would bind that another process holds, naming the variable, the port and the process.
  - Needs root to see the processes of other users. A socket whose holder it cannot see, or that
    no process holds (a tunnel device's), is returned with pid V(0).
  - Never changes anything.
author:
  - kubeha maintainers (@kubeha)
extends_documentation_fragment:
  - kubeha.control_plane.attributes.info_module
  - ansible.builtin.action_common_attributes
options: {}
'''

EXAMPLES = r'''
- name: Who listens where on this load balancer?
  kubeha.control_plane.listening_sockets:
  register: sockets

- name: Show the TCP listeners
  ansible.builtin.debug:
    msg: "{{ sockets.listening | selectattr('proto', 'eq', 'tcp') | list }}"
'''

RETURN = r'''
listening:
  description: One entry per listening TCP socket and bound UDP socket, by protocol, port and address.
  returned: always
  type: list
  elements: dict
  contains:
    proto:
      description: C(tcp) or C(udp).
      type: str
    family:
      description: 4 or 6.
      type: int
    address:
      description: The local address (C(0.0.0.0) and C(::) for every address).
      type: str
    port:
      description: The local port.
      type: int
    pid:
      description: The process that holds it (0 when none is seen).
      type: int
    process:
      description: Its name (C(/proc/PID/comm)).
      type: str
    unit:
      description: Its systemd unit, a service or a scope ('' when none).
      type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubeha.control_plane.plugins.module_utils.sockets import listening


def main():
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    module.exit_json(changed=False, listening=listening())


if __name__ == '__main__':
    main()
