#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: units
short_description: Start, restart and enable several systemd units in one call, in order
version_added: 1.0.0
description:
  - Brings each unit of O(units), in the order given, to O(units[].state) and enables it, in one
    module call where a role would otherwise spend one round trip per unit (the keepalived role
    starts its firewall unit, keepalived, the periodic check's timer and the VRRP exporter).
  - Reloads systemd's units first when O(daemon_reload) is true (a unit file or drop-in was
    written just before), so every unit starts with its files as they are now.
  - Says which units were not running before and were started now (RV(started)), so a handler
    need not reload a service that has just read its new configuration at start.
  - Stops at the first unit that fails to start, with its C(systemctl status); the units after it
    are left as they were.
author:
  - kubeha maintainers (@kubeha)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Says what would change; a unit that does not exist yet (its package or file is not installed in check mode) would be started.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
options:
  units:
    description: The units, in the order they are brought up.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Unit name, for example V(keepalived.service) or V(keepalived).
        type: str
        required: true
      state:
        description:
          - V(started) starts it if it is not running; V(restarted) restarts it (starts it if it is
            not running), for a unit whose program or file changed.
        type: str
        choices: [started, restarted]
        default: started
      enabled:
        description: Enable it (start at boot). A static or generated unit counts as enabled.
        type: bool
        default: true
  daemon_reload:
    description: Run C(systemctl daemon-reload) before anything else (not in check mode).
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: The firewall before keepalived, then the exporter restarted for its new program
  kubeha.control_plane.units:
    daemon_reload: true
    units:
      - {name: kubeha-vrrp-firewall.service}
      - {name: keepalived}
      - {name: kubeha-vrrp-exporter.service, state: restarted}
  register: units
'''

RETURN = r'''
changed_units:
  description: The units that were (or, in check mode, would be) started, restarted or enabled.
  returned: always
  type: list
  elements: str
  sample: [keepalived]
started:
  description: The units that were not active before and are (or would be) running now.
  returned: always
  type: list
  elements: str
  sample: [keepalived]
restarted:
  description: The active units that were (or would be) restarted.
  returned: always
  type: list
  elements: str
  sample: [kubeha-vrrp-exporter.service]
enabled:
  description: The units that were (or would be) enabled.
  returned: always
  type: list
  elements: str
  sample: [keepalived]
'''

from ansible.module_utils.basic import AnsibleModule

# `systemctl is-enabled` answers that need no `enable` (nothing to link, or linked elsewhere)
ENABLED_ENOUGH = ('enabled', 'enabled-runtime', 'static', 'indirect', 'generated', 'alias', 'linked',
                  'linked-runtime', 'transient')


class Units(object):
    def __init__(self, module):
        self.module = module
        self.systemctl = module.get_bin_path('systemctl', required=True)
        self.result = dict(changed_units=[], started=[], restarted=[], enabled=[])

    def run(self, *args):
        return self.module.run_command([self.systemctl] + list(args))

    def fail(self, name, action, rc, out, err):
        status = self.run('status', '--no-pager', '--lines', '20', name)
        self.module.fail_json(msg='systemctl %s %s failed (rc %d); the units after it were left as they were'
                                  % (action, name, rc),
                              stdout=out, stderr=err, status=status[1], **self.result)

    def _changed(self, name, kind):
        self.result[kind].append(name)
        if name not in self.result['changed_units']:
            self.result['changed_units'].append(name)

    def bring_up(self, spec):
        name = spec['name']
        active = self.run('is-active', '--quiet', name)[0] == 0
        if spec['state'] == 'restarted' or not active:
            kind = 'restarted' if active else 'started'
            if not self.module.check_mode:
                rc, out, err = self.run('restart' if active else 'start', name)
                if rc != 0:
                    self.fail(name, 'restart' if active else 'start', rc, out, err)
            self._changed(name, kind)
        if spec['enabled']:
            rc, out, err = self.run('is-enabled', name)
            state = out.strip().splitlines()[0] if out.strip() else ''
            if state == 'masked' or state == 'masked-runtime':
                self.module.fail_json(msg='%s is masked: unmask it (systemctl unmask %s) to let it start at boot'
                                          % (name, name), **self.result)
            if state not in ENABLED_ENOUGH:
                if not self.module.check_mode:
                    rc, out, err = self.run('enable', name)
                    if rc != 0:
                        self.fail(name, 'enable', rc, out, err)
                self._changed(name, 'enabled')


def main():
    module = AnsibleModule(
        argument_spec=dict(
            units=dict(type='list', elements='dict', required=True, options=dict(
                name=dict(type='str', required=True),
                state=dict(type='str', choices=['started', 'restarted'], default='started'),
                enabled=dict(type='bool', default=True))),
            daemon_reload=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    units = Units(module)
    if module.params['daemon_reload'] and not module.check_mode:
        rc, out, err = units.run('daemon-reload')
        if rc != 0:
            module.fail_json(msg='systemctl daemon-reload failed (rc %d); no unit was touched' % rc,
                             stdout=out, stderr=err, **units.result)
    for spec in module.params['units']:
        units.bring_up(spec)
    module.exit_json(changed=bool(units.result['changed_units']), **units.result)


if __name__ == '__main__':
    main()
