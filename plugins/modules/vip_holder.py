#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: vip_holder
short_description: Report whether this host holds virtual IPs, and its VRRP state
version_added: 1.0.0
description:
  - For each VIP, reports whether this host holds it and on which interface, read
    from C(ip -j addr) (or C(ip -o addr) where iproute2 has no JSON output).
  - Reports the host's VRRP state per instance from the state files the
    kubeha.control_plane.keepalived notify script writes, and whether the
    keepalived and haproxy services are active.
  - With O(settle_s), waits while the election may still be running here, that is while this host
    holds none of the VIPs and its VRRP instance entered BACKUP less than O(settle_s) ago (keepalived
    has just started, after a first converge). It answers as soon as the VIP arrives, instead of
    being polled.
  - Never changes anything.
author:
  - kubeha maintainers (@kubeha)
extends_documentation_fragment:
  - kubeha.control_plane.attributes.info_module
  - ansible.builtin.action_common_attributes
options:
  vips:
    description: VIPs to look for, with or without a prefix length.
    type: list
    elements: str
    required: true
  state_dir:
    description: Directory of the C(NAME.state) files written by the notify script.
    type: path
    default: /run/keepalived-kubeha
  services:
    description: systemd services whose liveness is reported.
    type: list
    elements: str
    default: [keepalived, haproxy]
  settle_s:
    description:
      - At most how long to wait for an election that may still run here (see above); V(0) answers at once.
      - A backup that has been one for a master-down interval (three adverts and its skew) while it
        holds no VIP stays one while a master speaks; C(post_check.yml) passes the plan's bound for it.
    type: float
    default: 0
'''

EXAMPLES = r'''
- name: Who holds the API VIP?
  kubeha.control_plane.vip_holder:
    vips: [192.168.1.100/24]
  register: probe

- name: Show it
  ansible.builtin.debug:
    msg: "{{ inventory_hostname }} holds {{ probe.held_vips }} as {{ probe.vrrp }}"
'''

RETURN = r'''
vips:
  description: One entry per requested VIP.
  returned: always
  type: list
  elements: dict
  contains:
    vip:
      description: The VIP as requested.
      type: str
    held:
      description: Whether this host has the address.
      type: bool
    interface:
      description: Interface carrying it, when held.
      type: str
    label:
      description: Address label, when held.
      type: str
held_vips:
  description: The requested VIPs this host holds.
  returned: always
  type: list
  elements: str
vrrp:
  description: VRRP state per instance, from the notify state files (empty when there are none).
  returned: always
  type: dict
  sample: {VI_1: {state: MASTER, priority: 101, since: 1732412345.25}}
services:
  description: Whether each service is active.
  returned: always
  type: dict
  sample: {keepalived: true, haproxy: true}
'''

import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubeha.control_plane.plugins.module_utils.vip_probe import (
    find_vip, host_addresses, parse_state_file,
)


def _vrrp_states(state_dir):
    states = {}
    if not os.path.isdir(state_dir):
        return states
    for name in sorted(os.listdir(state_dir)):
        if not name.endswith('.state') or name.startswith('.'):
            continue
        with open(os.path.join(state_dir, name)) as handle:
            parsed = parse_state_file(handle.read())
        if parsed:
            states[name[:-len('.state')]] = parsed
    return states


def _electing(states, settle_s, now):
    """Whether an instance may still become MASTER here: BACKUP for less than settle_s."""
    return any(entry['state'] == 'BACKUP' and entry['since'] is not None and now - entry['since'] < settle_s
               for entry in states.values())


def _services(module, names):
    systemctl = module.get_bin_path('systemctl')
    result = {}
    for name in names:
        if systemctl is None:
            result[name] = None
            continue
        rc, out, err = module.run_command([systemctl, 'is-active', '--quiet', name])
        result[name] = rc == 0
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            vips=dict(type='list', elements='str', required=True),
            state_dir=dict(type='path', default='/run/keepalived-kubeha'),
            services=dict(type='list', elements='str', default=['keepalived', 'haproxy']),
            settle_s=dict(type='float', default=0),
        ),
        supports_check_mode=True,
    )
    deadline = time.time() + module.params['settle_s']
    while True:
        addresses = host_addresses(module)
        vips = []
        for vip in module.params['vips']:
            try:
                entry = find_vip(addresses, vip)
            except ValueError:
                module.fail_json(msg='vips: %r is not an IP address' % vip)
            vips.append(dict(vip=vip, held=entry is not None,
                             interface=entry['ifname'] if entry else None,
                             label=entry['label'] if entry else None))
        states = _vrrp_states(module.params['state_dir'])
        now = time.time()
        if any(v['held'] for v in vips) or now >= deadline or not _electing(states, module.params['settle_s'], now):
            break
        time.sleep(0.05)
    module.exit_json(
        changed=False,
        vips=vips,
        held_vips=[v['vip'] for v in vips if v['held']],
        vrrp=states,
        services=_services(module, module.params['services']),
    )


if __name__ == '__main__':
    main()
