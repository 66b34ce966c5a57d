#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: vrrp_config
short_description: Build, validate and write keepalived.conf for VRRP virtual IPs
version_added: 1.0.0
description:
  - Builds C(keepalived.conf) from structured VRRP instances and track scripts.
  - Refuses configurations keepalived would accept but get wrong, naming the field
    at fault, for example an C(auth_pass) longer than 8 characters (keepalived
    silently truncates it), sub-second adverts with VRRPv2, a unicast peer list
    that contains the host itself, or a track-script weight too small to move the
    VIP off a failing MASTER.
  - Renders deterministic text, so re-runs are idempotent.
  - Writes atomically, after C(keepalived -t -f) has accepted the new file when the
    binary is present; a rejected file never replaces the current one.
  - O(users), O(directories) and O(files) install what keepalived.conf refers to (the scripts,
    their user, the units' drop-ins) first, in the same call, as
    M(kubeha.control_plane.config_files) does; O(units) then brings keepalived (and the units
    around it) up, keepalived reloaded for a new file with O(units[].changed_state=reloaded) and
    O(units[].changed_by) naming O(dest).
author:
  - kubeha maintainers (@kubeha)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.files
  - kubeha.control_plane.install
  - kubeha.control_plane.units
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff masks C(auth_pass).
  platform:
    support: full
    platforms: posix
options:
  dest:
    description: Path of the keepalived configuration file.
    type: path
    default: /etc/keepalived/keepalived.conf
  backup:
    description:
      - Keep a timestamped copy of the previous file before replacing it, created
        mode V(0600) (it holds the previous C(auth_pass)).
    type: bool
    default: false
  backups_kept:
    description:
      - With O(backup=true), how many timestamped copies to keep; older ones (also
        those made before by Ansible's own C(backup)) are removed and the kept ones
        made V(0600). V(0) keeps none.
    type: int
    default: 3
  validate:
    description:
      - Run C(keepalived -t -f) on the new file before it replaces O(dest).
      - Skipped with a warning when no keepalived binary is found.
    type: bool
    default: true
  host_addresses:
    description:
      - Addresses of every host taking part in the VRRP group.
      - Used only to refuse a VIP that is some host's own address.
    type: list
    elements: str
    default: []
  global_defs:
    description: The C(global_defs) block.
    type: dict
    default: {}
    suboptions:
      router_id:
        description: Name of this router in keepalived's logs and notifications.
        type: str
      enable_script_security:
        description: Refuse to run scripts that a non-root user could change.
        type: bool
        default: true
      script_user:
        description: User that runs track and notify scripts.
        type: str
      vrrp_garp_master_refresh:
        description: Seconds between repeated gratuitous ARPs while MASTER (0 disables).
        type: int
      vrrp_notify_fifo:
        description:
          - A FIFO keepalived writes every VRRP state change to, in order (C(INSTANCE "VI_1" MASTER 100)),
            owned by O(global_defs.script_user). Unlike notify scripts, which run concurrently and can
            finish out of order, the FIFO keeps the order.
        type: path
      vrrp_notify_fifo_script:
        description: The script keepalived starts to read O(global_defs.vrrp_notify_fifo) (its path is the last argument).
        type: path
      max_auto_priority:
        description:
          - Highest real-time priority (1-99) a keepalived process raises itself to when it is
            not scheduled in time (a loaded host), so adverts keep their pace. Unset or V(0) leaves
            keepalived's scheduling alone.
        type: int
      min_auto_priority_delay:
        description:
          - How late (microseconds) the VRRP process must be scheduled before it raises its
            priority (needs O(global_defs.max_auto_priority)). Unset means keepalived's default of
            1 s, too late for sub-second adverts.
        type: int
      vrrp_higher_prio_send_advert:
        description:
          - A MASTER that hears a higher priority advert sends one more advert of its own before it
            steps back, so the other MASTER announces the VIP after it (clients that followed the
            one stepping back return at once).
        type: bool
      vrrp_garp_lower_prio_delay:
        description:
          - Seconds before the MASTER's second set of gratuitous ARPs after it heard a lower priority
            advert. Unset means keepalived's default (its gratuitous ARP delay, 5 s).
        type: int
  scripts:
    description: C(vrrp_script) blocks (track scripts).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Script name, referenced from O(instances[].track_scripts).
        type: str
        required: true
      script:
        description: Command to run; exit 0 means healthy.
        type: str
        required: true
      interval:
        description: Seconds between runs.
        type: float
        default: 1
      timeout:
        description: Seconds before a run counts as failed.
        type: float
      fall:
        description: Consecutive failures before the script is KO.
        type: int
        default: 2
      rise:
        description: Consecutive successes before the script is OK again.
        type: int
        default: 2
      weight:
        description:
          - Priority change. 0 puts the instance in FAULT when the script fails,
            which always releases the VIP.
        type: int
        default: 0
      user:
        description: User (and optionally group) that runs the script.
        type: str
  instances:
    description: C(vrrp_instance) blocks.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Instance name, also the name of the notify state file.
        type: str
        required: true
      interface:
        description: Interface that sends adverts and carries the VIPs.
        type: str
        required: true
      virtual_router_id:
        description: VRID, 1-255, shared by every node of the group.
        type: int
        required: true
      priority:
        description: 1-254; the highest healthy node holds the VIPs.
        type: int
        required: true
      state:
        description: Initial state. Must be V(BACKUP) with O(instances[].nopreempt).
        type: str
        choices: [MASTER, BACKUP]
        default: BACKUP
      advert_int:
        description: Seconds between adverts; sub-second values need O(instances[].version=3).
        type: float
        default: 1
      version:
        description: VRRP version.
        type: int
        choices: [2, 3]
        default: 2
      virtual_ipaddresses:
        description: VIPs in CIDR form, for example V(192.168.1.100/24).
        type: list
        elements: str
        required: true
      virtual_ipaddresses_excluded:
        description:
          - VIPs the holder adds and removes like O(instances[].virtual_ipaddresses) but
            that are not carried in the adverts. VRRP speaks one address family, so this
            is where the IPv6 VIP of a dual-stack endpoint goes beside an IPv4 instance;
            both VIPs then always sit on the same holder.
        type: list
        elements: str
        default: []
      authentication:
        description: VRRPv2 authentication.
        type: dict
        suboptions:
          auth_type:
            description: Authentication type.
            type: str
            choices: [PASS, AH]
            default: PASS
          auth_pass:
            description: Shared secret, 1-8 characters. Never logged.
            type: str
            required: true
      unicast_src_ip:
        description: Source address for unicast adverts.
        type: str
      check_unicast_src:
        description:
          - With O(instances[].unicast_peers), ignore adverts whose source is not one of them,
            so a stray or rogue VRRP speaker with the same VRID cannot take the VIP.
        type: bool
        default: false
      unicast_peers:
        description: The other nodes' addresses; empty means multicast.
        type: list
        elements: str
        default: []
      peer_priorities:
        description:
          - Priorities of the other nodes, used only to check that every non-zero
            track-script weight drops a failing MASTER below every peer.
        type: list
        elements: int
        default: []
      track_scripts:
        description: Scripts this instance tracks.
        type: list
        elements: dict
        default: []
        suboptions:
          name:
            description: Name of a script in O(scripts).
            type: str
            required: true
          weight:
            description: Overrides the script's weight for this instance.
            type: int
      nopreempt:
        description: Do not take the VIP back from a lower-priority MASTER.
        type: bool
        default: false
      preempt_delay:
        description: Seconds to wait after start-up before preempting.
        type: int
      garp_master_delay:
        description: Seconds after becoming MASTER before the second set of gratuitous ARPs.
        type: int
      garp_master_refresh:
        description: Seconds between gratuitous ARP refreshes while MASTER.
        type: int
      notify:
        description: Absolute path of a script called as C(notify TYPE NAME STATE PRIORITY).
        type: path
'''

EXAMPLES = r'''
- name: Two load balancers, unicast VRRP, track the local haproxy
  kubeha.control_plane.vrrp_config:
    backup: true
    mode: '0640'
    host_addresses: [192.168.1.10, 192.168.1.11]
    global_defs:
      router_id: lb1
      script_user: keepalived_script
    scripts:
      - name: chk_haproxy
        script: /usr/local/libexec/kubeha/check-haproxy
        interval: 1
        fall: 2
        rise: 2
        weight: -50
    instances:
      - name: VI_1
        interface: eno1
        virtual_router_id: 51
        priority: 101
        state: MASTER
        virtual_ipaddresses: [192.168.1.100/24]
        authentication:
          auth_pass: "{{ vault_keepalived_auth_pass }}"
        unicast_src_ip: 192.168.1.10
        unicast_peers: [192.168.1.11]
        peer_priorities: [100]
        track_scripts:
          - name: chk_haproxy
    users: [{name: keepalived_script}]
    files:
      - {path: /usr/local/libexec/kubeha/check-haproxy, content: "{{ lookup('ansible.builtin.file', 'check-haproxy') }}", mode: "0755"}
    units:  # started, or reloaded for a new keepalived.conf
      - {name: keepalived, changed_state: reloaded, changed_by: [/etc/keepalived/keepalived.conf]}

- name: Only check what would change
  kubeha.control_plane.vrrp_config:
    instances: "{{ my_instances }}"
  check_mode: true
  diff: true
'''

RETURN = r'''
changed_paths:
  description: The files and directories (O(dest) included) that were (or would be) changed.
  returned: always
  type: list
  elements: str
changed_users:
  description: The users of O(users) that were (or would be) created, or given their shell.
  returned: always
  type: list
  elements: str
backups:
  description: Timestamped copies kept of O(files) with O(files[].backup=true), by file.
  returned: always
  type: dict
originals_kept:
  description: The foreign files copied by O(keep_originals), by file.
  returned: always
  type: dict
units:
  description: What O(units) did (or would do), as M(kubeha.control_plane.units) returns it.
  returned: always
  type: dict
  sample: {changed_units: [keepalived], started: [keepalived], restarted: [], reloaded: [], enabled: [keepalived]}
config:
  description: The rendered configuration, with C(auth_pass) masked.
  returned: always
  type: str
dest:
  description: Path of the configuration file.
  returned: always
  type: str
backup_file:
  description: Path of the copy of the previous file (mode 0600).
  returned: when O(backup=true) and the file changed
  type: str
validated:
  description: Whether C(keepalived -t) checked the new file.
  returned: always
  type: bool
'''

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text
from ansible_collections.kubeha.control_plane.plugins.module_utils import backups
from ansible_collections.kubeha.control_plane.plugins.module_utils.installer import INSTALL_OPTIONS, Installer
from ansible_collections.kubeha.control_plane.plugins.module_utils.systemd_units import UNIT_OPTIONS, bring_up
from ansible_collections.kubeha.control_plane.plugins.module_utils.vrrp_config import (
    argument_spec, mask_secrets, render, script_paths, validate, without_scripts,
)

KILLED_BY_SIGTERM = (-15, 143)


def _read(path):
    if not os.path.exists(path):
        return None
    with open(path, 'rb') as handle:
        return to_text(handle.read(), errors='surrogate_or_strict')


def _script_problems(paths):
    """What keepalived's enable_script_security would refuse, checked directly."""
    problems = []
    for path in paths:
        if not os.path.isfile(path) or not os.access(path, os.X_OK):
            problems.append('%s is not an executable file' % path)
            continue
        current = path
        while current not in ('/', ''):
            st = os.stat(current)
            if st.st_uid != 0 or st.st_mode & 0o022:
                problems.append('%s must be owned by root and not group/world writable '
                                '(enable_script_security)' % current)
                break
            current = os.path.dirname(current)
    return problems


def _run_test(module, binary, text, directory):
    fd, tmp = tempfile.mkstemp(prefix='.keepalived.test.', dir=directory)
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(to_bytes(text))
        return module.run_command([binary, '-t', '-f', tmp])
    finally:
        os.unlink(tmp)


def _keepalived_test(module, path, directory):
    """Run keepalived -t on the new file; fail (leaving dest alone) if it is rejected."""
    binary = module.get_bin_path('keepalived')
    if binary is None:
        module.warn('keepalived is not installed here; the new file was not checked with keepalived -t')
        return False
    rc, out, err = module.run_command([binary, '-t', '-f', path])
    if rc in KILLED_BY_SIGTERM and not (out or err).strip():
        # keepalived 2.2.7 kills its own config test while checking scripts
        # (fixed upstream in 2.2.8). Test the rest, and the scripts directly.
        rc, out, err = _run_test(module, binary, render(without_scripts(module.params)), directory)
        problems = _script_problems(script_paths(module.params))
        if problems:
            module.fail_json(msg='keepalived would refuse to run these scripts; %s was left '
                                 'unchanged: %s' % (module.params['dest'], '; '.join(problems)))
    if rc != 0:
        module.fail_json(
            msg='keepalived -t rejected the new configuration; %s was left unchanged'
                % module.params['dest'],
            rc=rc, stdout=out, stderr=err)
    return True


def _write(module, text):
    dest = module.params['dest']
    directory = os.path.dirname(dest) or '.'
    if not os.path.isdir(directory):
        module.fail_json(msg='directory %s does not exist; is keepalived installed?' % directory)
    fd, tmp = tempfile.mkstemp(prefix='.keepalived.conf.', dir=directory)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, 'wb') as handle:
            handle.write(to_bytes(text))
        validated = module.params['validate'] and _keepalived_test(module, tmp, directory)
        backup_file = None
        if module.params['backup'] and os.path.exists(dest):
            backup_file = backups.backup(dest, module.params['backups_kept'])[0]
        if os.path.exists(dest):
            module.atomic_move(tmp, dest)
        else:
            # atomic_move would chmod a new file to 0666 & ~umask before our mode
            # applies: the secret would be world-readable for a moment. The
            # temporary file is 0600; renaming it keeps that.
            os.rename(tmp, dest)
            module.set_default_selinux_context(dest, False)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return validated, backup_file


def main():
    spec = argument_spec()
    spec.update(INSTALL_OPTIONS)
    spec.update(units=dict(type='list', elements='dict', default=[], options=UNIT_OPTIONS),
                daemon_reload=dict(type='bool', default=False))
    module = AnsibleModule(
        argument_spec=spec,
        add_file_common_args=True,
        supports_check_mode=True,
    )
    params = module.params
    errors = validate(params)
    if errors:
        module.fail_json(msg='invalid VRRP configuration: ' + '; '.join(errors), errors=errors)

    # what keepalived.conf refers to (its scripts, their user, the units' drop-ins) first, so
    # keepalived -t checks the scripts as they will run
    installer = Installer(module).install()
    text = render(params)
    shown = render(params, mask_secrets=True)
    current = _read(params['dest'])
    changed = current != text
    result = dict(changed=changed or bool(installer.changed_paths or installer.changed_users),
                  dest=params['dest'], config=shown, validated=False, changed_users=installer.changed_users,
                  changed_paths=installer.changed_paths + ([params['dest']] if changed else []),
                  backups=installer.backups, originals_kept=installer.kept)
    if module._diff:
        diffs = list(installer.diffs)
        if changed:
            # The old file may hold another secret than the new one: mask every auth_pass.
            diffs.append(dict(before=mask_secrets(current), after=shown,
                              before_header=params['dest'], after_header=params['dest']))
        if diffs:
            result['diff'] = diffs
    if changed and not module.check_mode:
        try:
            result['validated'], backup_file = _write(module, text)
        except (IOError, OSError) as exc:
            module.fail_json(msg='could not write %s: %s' % (params['dest'], to_native(exc)),
                             changed_paths=installer.changed_paths)
        if backup_file:
            result['backup_file'] = backup_file
    file_args = module.load_file_common_arguments(params)
    if not module.check_mode or os.path.exists(params['dest']):
        result['changed'] = module.set_fs_attributes_if_different(file_args, result['changed'])
    result['units'] = bring_up(module, params['units'], params['daemon_reload'], result['changed_paths'],
                               context=dict(dest=params['dest'], changed_paths=result['changed_paths']))
    result['changed'] = result['changed'] or bool(result['units']['changed_units'])
    module.exit_json(**result)


if __name__ == '__main__':
    main()
