#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: haproxy_server
short_description: Drain, disable or re-enable one haproxy backend server at runtime
version_added: 1.0.0
description:
  - Sets a server's administrative state through haproxy's runtime API (the local
    stats socket), for example to drain an apiserver before it restarts.
  - V(drain) stops new connections while established ones finish; O(wait_drained)
    waits until the server has no session left.
  - The change lives in the running haproxy only; a restart (not a reload, which
    keeps server states) forgets it.
author:
  - kubeha maintainers (@kubeha)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
options:
  name:
    description: Server name in the backend (the inventory hostname for kubeha's backends).
    type: str
    required: true
  state:
    description: Administrative state to set.
    type: str
    choices: [ready, drain, maint]
    required: true
  backend:
    description: Backend name.
    type: str
    default: kube-apiservers
  socket:
    description: Path of haproxy's stats socket (admin level).
    type: path
    default: /run/haproxy/admin.sock
  wait_drained:
    description: With V(drain) or V(maint), wait until the server has no current session.
    type: bool
    default: false
  timeout:
    description: Seconds to wait for O(wait_drained).
    type: float
    default: 60
  on_timeout:
    description:
      - What to do when sessions remain after O(timeout). Long-lived sessions such as
        C(kubectl logs -f) or watches never end by themselves; V(continue) reports them
        and lets the maintenance go on (their clients reconnect).
    type: str
    choices: [fail, continue]
    default: fail
'''

EXAMPLES = r'''
- name: Drain cp1 on every load balancer before restarting its apiserver
  kubeha.control_plane.haproxy_server:
    name: cp1
    state: drain
    wait_drained: true

- name: Back into rotation
  kubeha.control_plane.haproxy_server:
    name: cp1
    state: ready
'''

RETURN = r'''
previous:
  description: The server's status before the change.
  returned: always
  type: str
status:
  description: The server's status after the change (and the wait).
  returned: always
  type: str
sessions:
  description: Current sessions on the server at the end.
  returned: always
  type: int
drained:
  description: Whether no session was left (always true without O(wait_drained)).
  returned: always
  type: bool
'''

import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
from ansible_collections.kubeha.control_plane.plugins.module_utils.haproxy_stat import (
    admin_states, command, parse_show_stat,
)


def _server(module):
    try:
        servers = parse_show_stat(command(module.params['socket'], 'show stat'),
                                  module.params['backend'])
    except (OSError, ValueError) as exc:
        module.fail_json(msg='cannot read haproxy stats from %s: %s'
                             % (module.params['socket'], to_native(exc)))
    for server in servers:
        if server['name'] == module.params['name']:
            return server
    module.fail_json(msg='haproxy backend %r has no server %r (it has: %s)'
                         % (module.params['backend'], module.params['name'],
                            ', '.join(s['name'] for s in servers)))


def _admin_state(module):
    """ready, drain or maint, from the flags (a drained server whose checks fail shows DOWN)."""
    p = module.params
    try:
        states = admin_states(command(p['socket'], 'show servers state %s' % p['backend']), p['backend'])
    except (OSError, ValueError) as exc:
        module.fail_json(msg='cannot read the server states from %s: %s' % (p['socket'], to_native(exc)))
    return states.get(p['name'], 'ready')


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            state=dict(type='str', choices=['ready', 'drain', 'maint'], required=True),
            backend=dict(type='str', default='kube-apiservers'),
            socket=dict(type='path', default='/run/haproxy/admin.sock'),
            wait_drained=dict(type='bool', default=False),
            timeout=dict(type='float', default=60),
            on_timeout=dict(type='str', choices=['fail', 'continue'], default='fail'),
        ),
        supports_check_mode=True,
    )
    p = module.params
    server = _server(module)
    previous = server['status']
    changed = _admin_state(module) != p['state']
    if changed and not module.check_mode:
        answer = command(p['socket'], 'set server %s/%s state %s' % (p['backend'], p['name'], p['state']))
        if answer.strip():
            module.fail_json(msg='haproxy refused "set server %s/%s state %s": %s'
                                 % (p['backend'], p['name'], p['state'], answer.strip()))
    server = _server(module)
    if p['wait_drained'] and p['state'] != 'ready' and not module.check_mode:
        deadline = time.monotonic() + p['timeout']
        while int(server.get('scur') or 0) > 0 and time.monotonic() < deadline:
            time.sleep(0.5)
            server = _server(module)
        if int(server.get('scur') or 0) > 0:
            message = '%s still has %s sessions after %ss' % (p['name'], server['scur'], p['timeout'])
            if p['on_timeout'] == 'fail':
                module.fail_json(msg=message, previous=previous, status=server['status'],
                                 sessions=int(server['scur']), drained=False)
            module.warn(message + '; going on (long-lived clients will reconnect)')
    sessions = int(server.get('scur') or 0)
    module.exit_json(changed=changed, previous=previous, status=server['status'],
                     sessions=sessions, drained=sessions == 0 or not p['wait_drained'])


if __name__ == '__main__':
    main()
