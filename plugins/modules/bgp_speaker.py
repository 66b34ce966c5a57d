#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: bgp_speaker
short_description: What a load balancer announces over BGP, its sessions and BFD; waits for a change
version_added: 1.0.0
description:
  - Reads the BGP speaker of a load balancer in BGP mode (FRR, through C(vtysh)) and its gate
    (role kubeha.control_plane.bgp) - each router's session and BFD state, the prefixes advertised
    to each router, whether the VIP is announced (every prefix to an established router) and the
    gate's own state.
  - With O(wait), polls until the VIP is announced or withdrawn, for at most O(timeout) seconds.
  - With O(haproxy_socket), waits after that until no new connection has reached haproxy's
    O(frontend) for O(quiet_s) seconds, for at most O(timeout) seconds in all - a drain's end (the
    routers send new connections elsewhere).
author:
  - kubeha maintainers (@kubeha)
extends_documentation_fragment:
  - kubeha.control_plane.attributes.info_module
  - ansible.builtin.action_common_attributes
options:
  prefixes:
    description: The VIP's host routes (C(10.0.100.10/32)).
    type: list
    elements: str
    required: true
  peers:
    description: The routers' addresses.
    type: list
    elements: str
    required: true
  state_dir:
    description: The gate's state directory (its C(gate.json)).
    type: path
    default: /run/kubeha-bgp
  wait:
    description: V(announced) or V(withdrawn) to poll until it holds; V(none) reads once.
    type: str
    choices: [none, announced, withdrawn]
    default: none
  timeout:
    description: At most how long to wait (s); the module fails when it runs out.
    type: float
    default: 30
  haproxy_socket:
    description: haproxy's stats socket, to wait for new connections to stop (with O(wait=withdrawn)).
    type: path
  frontend:
    description: The frontend whose new connections are watched.
    type: str
    default: kube-apiserver
  quiet_s:
    description: How long no new connection must arrive.
    type: float
    default: 2
'''

EXAMPLES = r'''
- name: Wait until the routers no longer get the VIP from this load balancer, and new connections stop
  kubeha.control_plane.bgp_speaker:
    prefixes: [10.0.100.10/32]
    peers: [10.0.1.1]
    wait: withdrawn
    haproxy_socket: /run/haproxy/admin.sock
    timeout: 30
'''

RETURN = r'''
sessions:
  description: Each router's session, with its BFD status (C(null) without BFD).
  returned: always
  type: dict
  sample: {10.0.1.1: {state: Established, established: true, uptime_s: 120.0, bfd: up}}
advertised:
  description: The VIP's prefixes advertised to each router.
  returned: always
  type: dict
  sample: {10.0.1.1: [10.0.100.10/32]}
announced:
  description: Every prefix is advertised to an established router.
  returned: always
  type: bool
withdrawn:
  description: No prefix is advertised to any router.
  returned: always
  type: bool
held_vips:
  description: The VIPs, when RV(announced) (as M(kubeha.control_plane.vip_holder) names the VIPs a host holds).
  returned: always
  type: list
  elements: str
gate:
  description: The gate's state (announced, metric, standby, check_ok, since); empty when it never ran.
  returned: always
  type: dict
waited_s:
  description: How long the module waited.
  returned: always
  type: float
new_connections:
  description: New connections haproxy's frontend took while the drain waited (with O(haproxy_socket)).
  returned: always
  type: int
'''

import json
import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubeha.control_plane.plugins.module_utils import bgp_status, haproxy_stat


def read(module):
    vtysh = module.get_bin_path('vtysh')
    prefixes, peers = module.params['prefixes'], module.params['peers']

    def show(command, default):
        if vtysh is None:
            return default
        rc, out, _err = module.run_command([vtysh, '-c', command])
        return out if rc == 0 else default

    states = bgp_status.sessions(show('show bgp summary json', '{}'))
    bfd = bgp_status.bfd(show('show bfd peers json', '[]'))
    adverts = {}
    for peer in peers:
        afi = 'ipv6' if ':' in peer else 'ipv4'
        adverts[peer] = [p for p in bgp_status.advertised(
            show('show bgp %s unicast neighbors %s advertised-routes json' % (afi, peer), '{}')) if p in prefixes]
    sessions = dict((peer, dict(states.get(peer) or dict(state='', established=False, uptime_s=0.0),
                                bfd=bfd.get(peer))) for peer in peers)
    gate = {}
    try:
        with open(os.path.join(module.params['state_dir'], 'gate.json')) as handle:
            gate = json.load(handle)
    except (IOError, OSError, ValueError):
        pass
    announced = bgp_status.announced(prefixes, adverts, sessions)
    return dict(sessions=sessions, advertised=adverts, gate=gate, announced=announced,
                withdrawn=bgp_status.withdrawn(prefixes, adverts),
                # as vip_holder and drift say it (kubeha.control_plane.holders reads it)
                held_vips=[p.split('/')[0] for p in prefixes] if announced else [])


def frontend_total(path, frontend):
    """The frontend's connections so far (stot), or None."""
    try:
        return haproxy_stat.frontend_sessions_total(haproxy_stat.command(path, 'show stat'), frontend)
    except (IOError, OSError):
        return None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            prefixes=dict(type='list', elements='str', required=True),
            peers=dict(type='list', elements='str', required=True),
            state_dir=dict(type='path', default='/run/kubeha-bgp'),
            wait=dict(type='str', choices=['none', 'announced', 'withdrawn'], default='none'),
            timeout=dict(type='float', default=30),
            haproxy_socket=dict(type='path'),
            frontend=dict(type='str', default='kube-apiserver'),
            quiet_s=dict(type='float', default=2),
        ),
        supports_check_mode=True,
    )
    wait, start = module.params['wait'], time.time()
    deadline = start + module.params['timeout']
    result = read(module)
    while wait != 'none' and not result[wait] and time.time() < deadline:
        time.sleep(0.1)
        result = read(module)
    if wait != 'none' and not result[wait]:
        module.fail_json(msg='the VIP is not %s after %gs' % (wait, module.params['timeout']),
                         waited_s=round(time.time() - start, 3), new_connections=0, **result)
    new = 0
    if wait == 'withdrawn' and module.params['haproxy_socket']:
        last, quiet_since = frontend_total(module.params['haproxy_socket'], module.params['frontend']), time.time()
        first = last
        while last is not None and time.time() < deadline and time.time() - quiet_since < module.params['quiet_s']:
            time.sleep(0.2)
            now = frontend_total(module.params['haproxy_socket'], module.params['frontend'])
            if now != last:
                last, quiet_since = now, time.time()
        new = (last or 0) - (first or 0)
    module.exit_json(changed=False, waited_s=round(time.time() - start, 3), new_connections=new, **result)


if __name__ == '__main__':
    main()
