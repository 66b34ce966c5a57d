#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: units
short_description: Start, restart, enable, stop or kill several systemd units in one call, in order
version_added: 1.0.0
description:
  - Brings each unit of O(units), in the order given, to O(units[].state) and enables it, in one
    module call where a role would otherwise spend one round trip per unit and one for each
    reload handler (the monitoring role starts Prometheus and Alertmanager with it).
    M(kubeha.control_plane.config_files) and M(kubeha.control_plane.vrrp_config) do the same for
    the services that read the files they have just written (their O(units) option), in the
    same call.
  - Reloads systemd's units first when O(daemon_reload) is true (a unit file or drop-in was
    written just before), so every unit starts with its files as they are now.
  - Says which units were not running before and were started now (RV(started)), so a handler
    need not reload a service that has just read its new configuration at start.
  - Enables each unit before it brings it up, with C(systemctl enable --no-reload), which writes
    the links only; a plain C(enable) reloads systemd each time, and the unit is started
    explicitly anyway.
  - Stops at the first unit that fails to start, with its C(systemctl status); the units after it
    are left as they were.
  - Takes a unit down too (V(stopped), or V(killed), its processes sent SIGKILL as in a crash),
    noting the time just before each action (RV(times)); the failover drill measures from it.
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
            not running), for a unit whose program or file changed; V(reloaded) reloads it
            (C(systemctl reload), so the service reads its new configuration and established
            connections stay) if it is running, and starts it if it is not.
          - V(stopped) stops it if it runs; V(killed) sends its processes SIGKILL if it runs
            (C(systemctl kill --signal=KILL); its C(Restart=) setting may bring it back). Neither
            touches its enablement.
        type: str
        choices: [started, restarted, reloaded, stopped, killed]
        default: started
      enabled:
        description:
          - Enable it (start at boot). A static or generated unit counts as enabled.
          - Ignored for V(stopped) and V(killed).
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

- name: Reload haproxy for the file just written (or start it)
  kubeha.control_plane.units:
    units:
      - {name: haproxy, state: "{{ 'reloaded' if written is changed else 'started' }}"}
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
reloaded:
  description: The active units that were (or would be) reloaded.
  returned: always
  type: list
  elements: str
  sample: [haproxy]
enabled:
  description: The units that were (or would be) enabled.
  returned: always
  type: list
  elements: str
  sample: [keepalived]
stopped:
  description: The active units that were (or would be) stopped.
  returned: always
  type: list
  elements: str
  sample: [keepalived]
killed:
  description: The active units whose processes were (or would be) killed.
  returned: always
  type: list
  elements: str
  sample: [kube-apiserver]
times:
  description: For each unit acted on, the epoch time just before its action (none in check mode).
  returned: always
  type: dict
  sample: {keepalived: 1796690401.645}
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubeha.control_plane.plugins.module_utils.systemd_units import Units


def main():
    module = AnsibleModule(
        argument_spec=dict(
            units=dict(type='list', elements='dict', required=True, options=dict(
                name=dict(type='str', required=True),
                state=dict(type='str', choices=['started', 'restarted', 'reloaded', 'stopped', 'killed'],
                           default='started'),
                enabled=dict(type='bool', default=True))),
            daemon_reload=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    units = Units(module)
    units.result.update(stopped=[], killed=[])
    result = units.bring_up_all(module.params['units'], daemon_reload=module.params['daemon_reload'])
    module.exit_json(changed=bool(result['changed_units']), times=units.times, **result)


if __name__ == '__main__':
    main()
