#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: leftovers
short_description: Find, and with O(remove) take away, what does not belong on a load balancer
version_added: 1.0.0
description:
  - Looks for what the plan says must not be on this load balancer (the plan's C(leftovers)), that is
    the other VIP mode's units (active or enabled), files, kernel routes (proto static, the BGP gate's)
    and VIP addresses, and the hand-off's device and mangle chains outside a planned change.
  - With O(listeners), also says when an exporter listens anywhere else than the plan wants.
  - With O(remove), takes away what it found, units first (stopped and disabled, so the old
    announcer announces nothing while the rest goes), then routes, addresses, chains (their jumps
    first), devices and files; systemd reloads its units when a unit file went.
    C(site.yml) does this before the roles, so a VIP-mode switch leaves nothing of the old mode
    running; C(verify.yml) only reports.
author:
  - kubeha maintainers (@kubeha)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Finds, and says what it would remove.
  diff_mode:
    support: full
    details: Lists what it removes (or would remove).
  platform:
    support: full
    platforms: posix
options:
  units:
    description: systemd units that must be neither active nor enabled.
    type: list
    elements: str
    default: []
  configured_units:
    description:
      - systemd units that must be neither active nor enabled while their configuration file has the
        marker (the configuration this collection wrote), such as FRR with its C(frr.conf).
      - A unit whose configuration is another's is left alone.
    type: list
    elements: dict
    default: []
    suboptions:
      unit:
        description: The unit.
        type: str
        required: true
      path:
        description: Its configuration file.
        type: path
        required: true
      marker:
        description: Text that only this collection's configuration has.
        type: str
        required: true
  files:
    description: Files that must not exist.
    type: list
    elements: path
    default: []
  routes:
    description: Prefixes (the VIPs) that must have no kernel route with proto static, in any table.
    type: list
    elements: str
    default: []
  route_metrics:
    description:
      - The metrics of the BGP gate's blackhole routes; any such route with proto static, and any
        local route on C(lo) with proto static in table local, is found whatever its prefix (a VIP
        that changed with the mode).
    type: list
    elements: int
    default: []
  addresses:
    description: Addresses (the VIPs) that no interface may hold.
    type: list
    elements: str
    default: []
  devices:
    description: Network devices that must not exist.
    type: list
    elements: str
    default: []
  chains:
    description: Chains of the mangle table (iptables and ip6tables) that must not exist.
    type: list
    elements: str
    default: []
  listeners:
    description: Where each exporter must listen; one listening anywhere else is reported (never removed).
    type: list
    elements: dict
    default: []
    suboptions:
      unit:
        description: The exporter's unit.
        type: str
        required: true
      address:
        description: Its address.
        type: str
        required: true
      port:
        description: Its port.
        type: int
        required: true
  remove:
    description: Take away what was found (else only report it).
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Is the BGP gate (or its route) still here after a switch to VRRP?
  kubeha.control_plane.leftovers:
    units: [kubeha-bgp-gate.service, kubeha-bgp-exporter.service]
    routes: [192.0.2.10/32]
  register: stale

- name: Retire it
  kubeha.control_plane.leftovers:
    units: [kubeha-bgp-gate.service, kubeha-bgp-exporter.service]
    routes: [192.0.2.10/32]
    remove: true
  when: stale.found | length > 0
'''

RETURN = r'''
found:
  description: What does not belong here, each with its kind (unit, route, address, chain, device, file, listener).
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: What it is.
      type: str
    name:
      description: The unit, prefix, address, chain, device, path or exporter unit.
      type: str
    detail:
      description: How it was found (C(active and enabled), C(blackhole route in table main), ...).
      type: str
removed:
  description: The findings taken away (with O(remove); in check mode, those that would be).
  returned: always
  type: list
  elements: dict
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubeha.control_plane.plugins.module_utils import leftovers as L
from ansible_collections.kubeha.control_plane.plugins.module_utils.sockets import listening


def _remove(module, run, findings, removed):
    """Remove each finding in order; fail at the first command that fails, naming it."""
    for finding in L.order(findings):
        listing = ''
        if finding['kind'] == 'chain':
            listing = run([L.TOOLS[finding['family']], '-w', '5', '-t', 'mangle', '-S'])[1]
        if not module.check_mode:
            for argv in L.removal(finding, listing):
                rc, out, err = run(argv)
                if rc != 0:
                    module.fail_json(msg='%s failed (rc %d): %s' % (' '.join(argv), rc, (err or out).strip()),
                                     removed=removed)
            if finding['kind'] == 'file':
                os.remove(finding['name'])
        removed.append(finding)


def take_away(module, run, found, spec):
    """The units first (the old announcer stops announcing); then what is still
    there of the rest (a stopped gate takes its routes with it)."""
    removed = []
    units = [f for f in found if f['kind'] == 'unit']
    _remove(module, run, units, removed)
    rest = [f for f in found if f['kind'] != 'unit']
    if units and not module.check_mode:
        rest = L.find(run, dict(spec, units=[], configured_units=[]))
    _remove(module, run, rest, removed)
    if not module.check_mode and any(f['kind'] == 'file' and f['name'].startswith('/etc/systemd/')
                                     for f in removed):
        run(['systemctl', 'daemon-reload'])
    return removed


def main():
    module = AnsibleModule(
        argument_spec=dict(
            units=dict(type='list', elements='str', default=[]),
            configured_units=dict(type='list', elements='dict', default=[], options=dict(
                unit=dict(type='str', required=True), path=dict(type='path', required=True),
                marker=dict(type='str', required=True))),
            files=dict(type='list', elements='path', default=[]),
            routes=dict(type='list', elements='str', default=[]),
            route_metrics=dict(type='list', elements='int', default=[]),
            addresses=dict(type='list', elements='str', default=[]),
            devices=dict(type='list', elements='str', default=[]),
            chains=dict(type='list', elements='str', default=[]),
            listeners=dict(type='list', elements='dict', default=[], options=dict(
                unit=dict(type='str', required=True), address=dict(type='str', required=True),
                port=dict(type='int', required=True))),
            remove=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    run = L.runner(module)
    found = L.find(run, module.params)
    removed = take_away(module, run, found, module.params) if module.params['remove'] else []
    if module.params['listeners']:
        found += L.misplaced(listening(), module.params['listeners'])
    result = dict(changed=bool(removed), found=found, removed=removed)
    if module._diff and removed:
        result['diff'] = dict(before=''.join('%s %s (%s)\n' % (f['kind'], f['name'], f['detail']) for f in removed),
                              after='', before_header='what does not belong here', after_header='removed')
    module.exit_json(**result)


if __name__ == '__main__':
    main()
