#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: drift
short_description: Say, in one read-only call, whether a host differs from the wanted state
version_added: 1.0.0
description:
  - Compares the host with what the roles want (packages installed, users present,
    directories and files with their content digest, owner, group and mode, services
    active and enabled) and lists every difference. Changes nothing.
  - C(site.yml) asks every load balancer at once and rolls only those that differ, so a
    re-run that has nothing to change costs one round trip per load balancer instead of
    one per task.
  - File contents are given as SHA-256 digests, so a secret in a file never travels in
    the module's arguments.
author:
  - kubeha maintainers (@kubeha)
extends_documentation_fragment:
  - kubeha.control_plane.attributes.info_module
  - ansible.builtin.action_common_attributes
options:
  packages:
    description: Packages that must be installed (dpkg, else rpm).
    type: list
    elements: str
    default: []
  users:
    description: Users that must exist.
    type: list
    elements: str
    default: []
  directories:
    description: Directories that must exist, with owner, group and mode when given.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path.
        type: path
        required: true
      owner:
        description: Owner name.
        type: str
      group:
        description: Group name.
        type: str
      mode:
        description: Octal mode.
        type: str
  files:
    description: Files that must have this content (or be absent), owner, group and mode.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path.
        type: path
        required: true
      state:
        description: V(present) or V(absent).
        type: str
        choices: [present, absent]
        default: present
      sha256:
        description: SHA-256 hex digest of the wanted content.
        type: str
      owner:
        description: Owner name.
        type: str
      group:
        description: Group name.
        type: str
      mode:
        description: Octal mode.
        type: str
  vips:
    description:
      - Virtual IPs to look for on the host's interfaces (read-only); the answer is
        RV(held_vips). C(site.yml) orders its rollout by it, in the same round trip.
    type: list
    elements: str
    default: []
  wire_listen:
    description:
      - Before a first converge, listen on the VRRP segment (as M(kubeha.control_plane.wire_check)
        does, without probing any VIP) for O(wire_listen.seconds), while the rest of the check runs,
        and return what was heard as RV(wire). C(site.yml) refuses a VRID another router speaks
        from it, when no load balancer of the cluster holds its VIP.
      - Skipped (RV(wire) empty) when any unit of O(wire_listen.unless_active) is active here, as
        this load balancer then already runs its VRRP and its cluster is past its first converge.
      - With O(wire_listen.result_file), the report of a listen that
        M(kubeha.control_plane.wire_check) started in the background before (site.yml starts it
        before it gathers facts) is read instead, waiting for it to end; if it listened on
        another interface than O(wire_listen.interface), never reported, or the path is not a
        background listener's report in this host's temporary directory (it is then neither
        read nor removed), this module listens itself.
    type: dict
    suboptions:
      interface:
        description: The interface to listen on; empty, the one that holds O(wire_listen.address).
        type: str
        default: ''
      address:
        description: This host's address on the VRRP network.
        type: str
      seconds:
        description: How long to listen.
        type: float
        default: 3.0
      unless_active:
        description: Units whose being active here skips the listen (and discards the background one's report).
        type: list
        elements: str
        default: []
      result_file:
        description: RV(kubeha.control_plane.wire_check#module:result_file) of a background listen ('' or unset, none).
        type: str
        default: ''
  services:
    description: systemd units and whether they must be active and enabled.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Unit name.
        type: str
        required: true
      active:
        description: Must be running.
        type: bool
        default: true
      enabled:
        description: Must start at boot.
        type: bool
        default: true
  leftovers:
    description:
      - What must not be here, as M(kubeha.control_plane.leftovers) takes it (keys units,
        configured_units, files, routes, addresses, devices, chains). Each one found is a difference
        (the other VIP mode's announcer, a hand-off left on), and is returned in RV(leftovers).
    type: dict
    default: {}
'''

EXAMPLES = r'''
- name: Does this load balancer need the roles?
  kubeha.control_plane.drift:
    packages: [haproxy]
    files:
      - path: /etc/haproxy/haproxy.cfg
        sha256: "{{ lookup('ansible.builtin.template', 'haproxy.cfg.j2') | hash('sha256') }}"
        owner: root
        group: haproxy
        mode: "0640"
    services:
      - {name: haproxy}
  register: drift
'''

RETURN = r'''
differences:
  description: Every difference found, one sentence each; empty when the host is as wanted.
  returned: always
  type: list
  elements: str
  sample: ["/etc/haproxy/haproxy.cfg: content differs", "haproxy is not active"]
missing_packages:
  description: The packages of O(packages) that are not installed, in the order given (site.yml installs them in one transaction).
  returned: always
  type: list
  elements: str
  sample: [haproxy, keepalived]
differing_paths:
  description:
    - The paths of O(directories) and O(files) that differ in any way (missing, content, owner,
      group, mode, or present where O(files[].state=absent)), in the order given. The roles skip a
      task whose files are not among them.
  returned: always
  type: list
  elements: str
  sample: [/etc/haproxy/haproxy.cfg]
converged:
  description: True when there is no difference.
  returned: always
  type: bool
inactive_services:
  description:
    - The units of O(services) that must be active and are not, in the order given. A load balancer
      whose keepalived is not running joins its cluster last in a rollout, once the others know it.
  returned: always
  type: list
  elements: str
  sample: [keepalived]
wire:
  description:
    - What O(wire_listen) heard, with the keys M(kubeha.control_plane.wire_check) returns
      (speakers, interface, mac, listened, arp); empty when it did not listen.
  returned: always
  type: dict
  sample: {interface: eth0, listened: 3.0, speakers: [], mac: '02:42:0a:d5:00:0b', arp: {}}
leftovers:
  description: What of O(leftovers) was found, as M(kubeha.control_plane.leftovers) returns it (kind, name, detail).
  returned: always
  type: list
  elements: dict
  sample: [{kind: unit, name: kubeha-bgp-gate.service, detail: active and enabled}]
held_vips:
  description: The O(vips) this host has on an interface now.
  returned: always
  type: list
  elements: str
  sample: [192.168.1.100]
'''

import grp
import hashlib
import os
import pwd
import threading

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubeha.control_plane.plugins.module_utils.vip_probe import held, host_addresses
from ansible_collections.kubeha.control_plane.plugins.module_utils import leftovers as L
from ansible_collections.kubeha.control_plane.plugins.module_utils import wire_socket


def _digest(path):
    sha = hashlib.sha256()
    with open(path, 'rb') as handle:
        for chunk in iter(lambda: handle.read(65536), b''):
            sha.update(chunk)
    return sha.hexdigest()


def _name(lookup, number):
    try:
        return lookup(number)[0]
    except KeyError:
        return str(number)


def attribute_differences(path, st, spec):
    """Owner, group and mode of ``st`` against ``spec``."""
    out = []
    if spec.get('owner') and _name(pwd.getpwuid, st.st_uid) != spec['owner']:
        out.append('%s: owner is %s, not %s' % (path, _name(pwd.getpwuid, st.st_uid), spec['owner']))
    if spec.get('group') and _name(grp.getgrgid, st.st_gid) != spec['group']:
        out.append('%s: group is %s, not %s' % (path, _name(grp.getgrgid, st.st_gid), spec['group']))
    if spec.get('mode') and (st.st_mode & 0o7777) != int(spec['mode'], 8):
        out.append('%s: mode is %04o, not %s' % (path, st.st_mode & 0o7777, spec['mode']))
    return out


def file_differences(spec):
    path = spec['path']
    if spec.get('state') == 'absent':
        return ['%s: present, not wanted' % path] if os.path.lexists(path) else []
    if not os.path.isfile(path):
        return ['%s: missing' % path]
    out = []
    if spec.get('sha256') and _digest(path) != spec['sha256'].lower():
        out.append('%s: content differs' % path)
    return out + attribute_differences(path, os.stat(path), spec)


def directory_differences(spec):
    path = spec['path']
    if not os.path.isdir(path):
        return ['%s: missing directory' % path]
    return attribute_differences(path, os.stat(path), spec)


def user_differences(names):
    out = []
    for name in names:
        try:
            pwd.getpwnam(name)
        except KeyError:
            out.append('user %s does not exist' % name)
    return out


def missing_packages(module, names):
    if not names:
        return []
    dpkg = module.get_bin_path('dpkg-query')
    if dpkg:
        rc, out, err = module.run_command([dpkg, '-W', '-f', '${Package} ${db:Status-Status}\\n'] + list(names))
        installed = set(line.split()[0] for line in out.splitlines()
                        if line.strip().endswith(' installed'))
    else:
        rpm = module.get_bin_path('rpm', required=True)
        installed = set()
        for name in names:
            if module.run_command([rpm, '-q', name])[0] == 0:
                installed.add(name)
    return [name for name in names if name not in installed]


def service_differences(module, services):
    """(differences, the units that must be active and are not)."""
    if not services:
        return [], []
    systemctl = module.get_bin_path('systemctl', required=True)
    out, inactive = [], []
    for spec in services:
        name = spec['name']
        if spec['active'] and module.run_command([systemctl, 'is-active', '--quiet', name])[0] != 0:
            out.append('%s is not active' % name)
            inactive.append(name)
        if spec['enabled'] and module.run_command([systemctl, 'is-enabled', '--quiet', name])[0] != 0:
            out.append('%s is not enabled' % name)
    return out, inactive


BACKGROUND_GRACE_S = 5.0  # how much longer than its listen the background listener may take to report


def collect_background(module, spec):
    """The report of the background listen of spec['result_file'] (wire_check), or None when
    this module must listen itself (it heard another interface than the one wanted, or did not
    report); a listen that failed fails the module."""
    try:
        heard = wire_socket.collect(spec['result_file'], spec['seconds'] + BACKGROUND_GRACE_S)
    except ValueError as exc:  # not read, not removed (another temp dir here, or not ours)
        module.warn('wire_listen.result_file: %s; listening again for %s s' % (exc, spec['seconds']))
        return None
    if heard is None:
        module.warn('the background listen did not report; listening again for %s s' % spec['seconds'])
        return None
    if 'error' in heard:
        module.fail_json(msg='listening on the VRRP segment failed: %s' % heard['error'])
    if spec['interface'] and heard['interface'] != spec['interface']:
        return None  # it found the interface by the address; the plan with facts says another
    return heard


def vrrp_runs_here(module, spec):
    """Is a unit of spec['unless_active'] (keepalived) active here?"""
    systemctl = module.get_bin_path('systemctl')
    return any(systemctl and module.run_command([systemctl, 'is-active', '--quiet', name])[0] == 0
               for name in spec['unless_active'])


def start_listening(module, spec):
    """(thread, what it heard, socket filter) listening on the segment while the rest of the
    check runs (joined by its caller)."""
    interface, mac, sock, keep = wire_socket.open_for(module, spec['interface'], spec['address'])
    heard = {}

    def run():
        try:
            speakers, arp, listened = wire_socket.listen(sock, mac, [], spec['seconds'])
            heard['report'] = wire_socket.report(mac, interface, listened, speakers, arp)
        except Exception as exc:  # pylint: disable=broad-except  # reported by the caller
            heard['error'] = '%s' % exc
        finally:
            sock.close()

    thread = threading.Thread(target=run)
    thread.daemon = True  # a failing check does not wait for it
    thread.start()
    return thread, heard, keep


def state_differences(module, params):
    """(differences, the paths that differ, the missing packages, the inactive units)."""
    missing = missing_packages(module, params['packages'])
    differences = ['package %s is not installed' % name for name in missing]
    differences += user_differences(params['users'])
    differing_paths = []
    for spec, found in ([(spec, directory_differences(spec)) for spec in params['directories']]
                        + [(spec, file_differences(spec)) for spec in params['files']]):
        differences += found
        if found:
            differing_paths.append(spec['path'])
    found, inactive = service_differences(module, params['services'])
    return differences + found, differing_paths, missing, inactive


ARGUMENT_SPEC = dict(
    packages=dict(type='list', elements='str', default=[]),
    users=dict(type='list', elements='str', default=[]),
    directories=dict(type='list', elements='dict', default=[], options=dict(
        path=dict(type='path', required=True), owner=dict(type='str'),
        group=dict(type='str'), mode=dict(type='str'))),
    files=dict(type='list', elements='dict', default=[], options=dict(
        path=dict(type='path', required=True),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        sha256=dict(type='str'), owner=dict(type='str'), group=dict(type='str'),
        mode=dict(type='str'))),
    vips=dict(type='list', elements='str', default=[]),
    services=dict(type='list', elements='dict', default=[], options=dict(
        name=dict(type='str', required=True), active=dict(type='bool', default=True),
        enabled=dict(type='bool', default=True))),
    wire_listen=dict(type='dict', options=dict(
        interface=dict(type='str', default=''), address=dict(type='str'),
        seconds=dict(type='float', default=3.0),
        unless_active=dict(type='list', elements='str', default=[]),
        result_file=dict(type='str', default=''))),
    leftovers=dict(type='dict', default={}),
)


def start_wire(module, listening):
    """Before the state is read: where VRRP runs here already, no listen (a
    background one's result is dropped); without a background listen, one of
    its own starts now, in a thread, so it hears the segment while the state
    is read. Returns (what is left to collect, the listener or None)."""
    if listening and vrrp_runs_here(module, listening):
        if listening['result_file']:  # not needed: its cluster is past its first converge
            try:
                wire_socket.collect(listening['result_file'], 0)
            except ValueError as exc:  # left as it is
                module.warn('wire_listen.result_file: %s' % exc)
        return {}, None
    if listening and not listening['result_file']:
        return listening, start_listening(module, listening)
    return listening, None


def finish_wire(module, listening, listener):
    """What the VRRP segment said ({} when not listened to): the background
    listen's result, else (none to collect, or it heard another interface) a
    listen of its own, joined here."""
    wire = {}
    if listening and listening['result_file']:
        wire = collect_background(module, listening)  # it has listened meanwhile
        if wire is None:
            listener = start_listening(module, listening)
        wire = wire or {}
    if listener is not None:
        thread, heard, _filter = listener
        thread.join()
        if 'error' in heard:
            module.fail_json(msg='listening on the VRRP segment failed: %s' % heard['error'])
        wire = heard['report']
    return wire


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    listening, listener = start_wire(module, params['wire_listen'] or {})
    differences, differing_paths, missing, inactive = state_differences(module, params)
    leftovers = L.find(L.runner(module), params['leftovers']) if params['leftovers'] else []
    differences += ['%s %s is still here (%s): it does not belong to this VIP mode, or a planned change left it'
                    % (f['kind'], f['name'], f['detail']) for f in leftovers]
    held_vips = []
    if params['vips']:
        try:
            held_vips = held(host_addresses(module), params['vips'])
        except ValueError as exc:
            module.fail_json(msg='vips: %s' % exc)
    wire = finish_wire(module, listening, listener)
    module.exit_json(changed=False, differences=differences, differing_paths=differing_paths, missing_packages=missing,
                     converged=not differences, held_vips=held_vips, wire=wire, inactive_services=inactive,
                     leftovers=leftovers)


if __name__ == '__main__':
    main()
