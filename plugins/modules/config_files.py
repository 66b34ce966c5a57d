#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: config_files
short_description: Install a set of configuration files and directories in one call
version_added: 1.0.0
description:
  - Brings several files and directories to the wanted content, owner, group and mode in
    one module call, where a role would otherwise spend one round trip per file. The
    roles render the content on the controller (the C(template) lookup) and pass it here.
  - Each changed file is written to a temporary file in the same directory, created
    C(0600) and given its final owner and mode before it holds any content reader could
    see, checked with O(files[].validate) when given, and then renamed over the old one;
    a rejected file never replaces the current one, and a file holding a secret is never
    world-readable, not even for an instant.
  - O(keep_originals) keeps, once, a copy of a file that some other tool wrote (it lacks
    the marker), before this collection replaces it.
  - O(users) creates the system users the files belong to or the scripts run as, first, in
    the same call; O(units) brings up the services that read the files, last.
author:
  - kubeha maintainers (@kubeha)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - kubeha.control_plane.units
attributes:
  check_mode:
    support: full
    details: Validation commands are not run in check mode; O(units) says what it would do.
  diff_mode:
    support: full
  platform:
    support: full
    platforms: posix
options:
  users:
    description:
      - System users to create when they do not exist (C(useradd --system), no home
        directory), before any directory or file is set, so O(files[].owner) may name them.
        An existing user is left as it is, except for its login shell.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: User name.
        type: str
        required: true
      shell:
        description: Login shell.
        type: path
        default: /usr/sbin/nologin
  directories:
    description: Directories to create (with their parents) and set.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path.
        type: path
        required: true
      owner:
        description: Owner name; unset keeps it.
        type: str
      group:
        description: Group name; unset keeps it.
        type: str
      mode:
        description: Octal mode, for example V(0755).
        type: str
  files:
    description: Files to write or remove, in this order.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path; its directory must exist (list it in O(directories)).
        type: path
        required: true
      state:
        description: V(present) writes O(files[].content); V(absent) removes the file.
        type: str
        choices: [present, absent]
        default: present
      content:
        description: The whole content of the file.
        type: str
        default: ''
      owner:
        description: Owner name; unset keeps it (root for a new file).
        type: str
      group:
        description: Group name; unset keeps it.
        type: str
      mode:
        description: Octal mode, for example V(0640). Unset keeps it (V(0600) for a new file).
        type: str
      validate:
        description:
          - Command run on the new content before it replaces the file; V(%s) is the
            path of the temporary file. A non-zero exit leaves the old file in place and
            fails the task with the command's output.
        type: str
      backup:
        description:
          - Keep a timestamped copy of the previous file when the content changes,
            created mode V(0600).
          - Only the newest O(backups_kept) copies of the file are kept (older ones,
            also those made before by Ansible's own C(backup), are removed), each V(0600).
        type: bool
        default: false
  backups_kept:
    description: How many timestamped copies of each file with O(files[].backup=true) to keep.
    type: int
    default: 3
  keep_originals:
    description:
      - Before any file is written, copy each O(keep_originals[].path) that exists, lacks
        O(keep_originals[].marker) and has no copy yet, to O(keep_originals[].copy_to).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The file that may have been written by something else.
        type: path
        required: true
      copy_to:
        description: Where its first foreign version is kept.
        type: path
        required: true
      marker:
        description: Text that the files this collection writes contain.
        type: str
        default: kubeha.control_plane
      mode:
        description: Mode of the copy.
        type: str
        default: '0600'
'''

EXAMPLES = r'''
- name: The haproxy configuration, checked before it replaces the old one
  kubeha.control_plane.config_files:
    keep_originals:
      - path: /etc/haproxy/haproxy.cfg
        copy_to: /etc/haproxy/haproxy.cfg.kubeha-orig
    files:
      - path: /etc/haproxy/haproxy.cfg
        content: "{{ lookup('ansible.builtin.template', 'haproxy.cfg.j2') }}"
        owner: root
        group: haproxy
        mode: "0640"
        validate: haproxy -c -f %s
        backup: true
    units:  # started, or reloaded for the new file (established connections finish)
      - {name: haproxy, changed_state: reloaded}

- name: The user that runs the scripts, the scripts and a unit in one round trip
  kubeha.control_plane.config_files:
    users:
      - {name: keepalived_script}
    directories:
      - {path: /usr/local/libexec/kubeha, owner: root, group: root, mode: "0755"}
    files:
      - {path: /usr/local/libexec/kubeha/check, content: "#!/bin/sh\nexit 0\n", mode: "0755"}
      - {path: /etc/systemd/system/old.timer, state: absent}
  register: installed
'''

RETURN = r'''
changed_users:
  description: The users that were (or, in check mode, would be) created, or given their shell.
  returned: always
  type: list
  elements: str
  sample: [keepalived_script]
changed_paths:
  description: The directories and files that were (or, in check mode, would be) changed.
  returned: always
  type: list
  elements: str
  sample: [/etc/haproxy/haproxy.cfg]
backups:
  description: Timestamped copies kept, by file.
  returned: always
  type: dict
  sample: {/etc/haproxy/haproxy.cfg: /etc/haproxy/haproxy.cfg.1234.2026-11-24@10:00:00~}
units:
  description: What O(units) did (or would do), as M(kubeha.control_plane.units) returns it.
  returned: always
  type: dict
  sample: {changed_units: [haproxy], started: [], restarted: [], reloaded: [haproxy], enabled: []}
originals_kept:
  description: The foreign files copied by O(keep_originals), by file.
  returned: always
  type: dict
  sample: {/etc/haproxy/haproxy.cfg: /etc/haproxy/haproxy.cfg.kubeha-orig}
'''

import grp
import os
import pwd
import shlex
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible_collections.kubeha.control_plane.plugins.module_utils import backups
from ansible_collections.kubeha.control_plane.plugins.module_utils.systemd_units import UNIT_OPTIONS, Units


def _mode(text):
    return None if text in (None, '') else int(str(text), 8)


def _uid(name, check_mode, warnings):
    if name is None:
        return None
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        if check_mode:  # created by an earlier task that check mode did not run
            warnings.append('user %s does not exist yet' % name)
            return -2
        raise


def _gid(name, check_mode, warnings):
    if name is None:
        return None
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        if check_mode:
            warnings.append('group %s does not exist yet' % name)
            return -2
        raise


def _attrs_differ(st, uid, gid, mode):
    return ((uid is not None and st.st_uid != uid) or (gid is not None and st.st_gid != gid)
            or (mode is not None and (st.st_mode & 0o7777) != mode))


def _set_attrs(path, uid, gid, mode):
    if uid is not None or gid is not None:
        os.chown(path, -1 if uid is None else uid, -1 if gid is None else gid)
    if mode is not None:
        os.chmod(path, mode)


def _read(path):
    with open(path, 'rb') as handle:
        return handle.read()


class Installer(object):
    """Applies the module's parameters; every change is recorded before it is made."""

    def __init__(self, module):
        self.module = module
        self.check = module.check_mode
        self.changed_paths, self.backups, self.kept, self.diffs, self.warnings = [], {}, {}, [], []
        self.changed_users = []

    def user(self, spec):
        name, shell = spec['name'], spec['shell']
        try:
            current = pwd.getpwnam(name).pw_shell
        except KeyError:
            command = ['useradd', '--system', '--no-create-home', '--shell', shell, name]
        else:
            if current == shell:
                return
            command = ['usermod', '--shell', shell, name]
        self.changed_users.append(name)
        self.diffs.append(dict(before_header='user %s' % name, after_header='user %s' % name,
                               before='(absent)\n' if command[0] == 'useradd' else 'shell %s\n' % current,
                               after='shell %s\n' % shell))
        if self.check:
            return
        rc, out, err = self.module.run_command([self.module.get_bin_path(command[0], required=True)] + command[1:])
        if rc != 0:
            self.module.fail_json(msg='%s %s failed (rc %d); no file was written' % (command[0], name, rc),
                                  stdout=out, stderr=err, changed_users=self.changed_users[:-1])

    def _changed(self, path):
        if path not in self.changed_paths:
            self.changed_paths.append(path)

    def keep_original(self, spec):
        path, copy_to = spec['path'], spec['copy_to']
        if not os.path.isfile(path) or os.path.exists(copy_to):
            return
        if to_bytes(spec['marker']) in _read(path):
            return
        self._changed(copy_to)
        self.kept[path] = copy_to
        if not self.check:
            fd = os.open(copy_to, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _mode(spec['mode']) or 0o600)
            with os.fdopen(fd, 'wb') as handle:
                handle.write(_read(path))
            os.chmod(copy_to, _mode(spec['mode']) or 0o600)

    def directory(self, spec):
        path = spec['path']
        uid = _uid(spec.get('owner'), self.check, self.warnings)
        gid = _gid(spec.get('group'), self.check, self.warnings)
        mode = _mode(spec.get('mode'))
        if not os.path.isdir(path):
            self._changed(path)
            self.diffs.append(dict(before_header=path, after_header=path,
                                   before='(absent)\n', after='(directory)\n'))
            if not self.check:
                os.makedirs(path, mode if mode is not None else 0o755)
                _set_attrs(path, uid, gid, mode)
            return
        if _attrs_differ(os.stat(path), uid, gid, mode):
            self._changed(path)
            if not self.check:
                _set_attrs(path, uid, gid, mode)

    def remove(self, spec):
        path = spec['path']
        if os.path.lexists(path):
            self._changed(path)
            self.diffs.append(dict(before_header=path, after_header=path,
                                   before=to_text(_read(path), errors='surrogate_or_replace')
                                   if os.path.isfile(path) else '', after=''))
            if not self.check:
                os.unlink(path)

    def write(self, spec):
        path = spec['path']
        wanted = to_bytes(spec['content'] or '')
        uid = _uid(spec.get('owner'), self.check, self.warnings)
        gid = _gid(spec.get('group'), self.check, self.warnings)
        mode = _mode(spec.get('mode'))
        exists = os.path.isfile(path)
        current = _read(path) if exists else None
        if current == wanted:
            if _attrs_differ(os.stat(path), uid, gid, mode):
                self._changed(path)
                if not self.check:
                    _set_attrs(path, uid, gid, mode)
            return
        self._changed(path)
        self.diffs.append(dict(before_header=path, after_header=path,
                               before=to_text(current or b'', errors='surrogate_or_replace'),
                               after=to_text(wanted, errors='surrogate_or_replace')))
        if self.check:
            return
        directory = os.path.dirname(path) or '.'
        if not os.path.isdir(directory):
            self.module.fail_json(msg='directory %s of %s does not exist' % (directory, path),
                                  changed_paths=self.changed_paths)
        if exists:  # a changed file keeps what is not asked for
            st = os.stat(path)
            uid = st.st_uid if uid is None else uid
            gid = st.st_gid if gid is None else gid
            mode = (st.st_mode & 0o7777) if mode is None else mode
        fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=directory)
        try:
            # owner and mode first: the content is never readable by anyone else
            os.fchmod(fd, 0o600)
            if uid is not None or gid is not None:
                os.fchown(fd, -1 if uid is None else uid, -1 if gid is None else gid)
            os.fchmod(fd, 0o600 if mode is None else mode)
            with os.fdopen(fd, 'wb') as handle:
                handle.write(wanted)
                handle.flush()
                os.fsync(handle.fileno())
            if spec.get('validate'):
                self._validate(spec['validate'], tmp, path)
            if spec.get('backup') and exists:
                self.backups[path] = backups.backup(path, self.module.params['backups_kept'])[0]
            os.rename(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def _validate(self, command, tmp, path):
        if '%s' not in command:
            self.module.fail_json(msg='validate for %s must contain %%s (the new file)' % path)
        args = [tmp if word == '%s' else word.replace('%s', tmp) for word in shlex.split(command)]
        rc, out, err = self.module.run_command(args)
        if rc != 0:
            self.module.fail_json(msg='%s rejected the new %s; the old file was left in place'
                                      % (args[0], path), rc=rc, stdout=out, stderr=err,
                                  changed_paths=self.changed_paths)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            users=dict(type='list', elements='dict', default=[], options=dict(
                name=dict(type='str', required=True),
                shell=dict(type='path', default='/usr/sbin/nologin'))),
            directories=dict(type='list', elements='dict', default=[], options=dict(
                path=dict(type='path', required=True), owner=dict(type='str'),
                group=dict(type='str'), mode=dict(type='str'))),
            files=dict(type='list', elements='dict', default=[], options=dict(
                path=dict(type='path', required=True),
                state=dict(type='str', choices=['present', 'absent'], default='present'),
                content=dict(type='str', default=''), owner=dict(type='str'),
                group=dict(type='str'), mode=dict(type='str'), validate=dict(type='str'),
                backup=dict(type='bool', default=False))),
            backups_kept=dict(type='int', default=3),
            keep_originals=dict(type='list', elements='dict', default=[], options=dict(
                path=dict(type='path', required=True), copy_to=dict(type='path', required=True),
                marker=dict(type='str', default='kubeha.control_plane'),
                mode=dict(type='str', default='0600'))),
            units=dict(type='list', elements='dict', default=[], options=UNIT_OPTIONS),
            daemon_reload=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    installer = Installer(module)
    for spec in module.params['users']:
        installer.user(spec)
    try:
        for spec in module.params['keep_originals']:
            installer.keep_original(spec)
        for spec in module.params['directories']:
            installer.directory(spec)
        for spec in module.params['files']:
            if spec['state'] == 'absent':
                installer.remove(spec)
            else:
                installer.write(spec)
    except KeyError as exc:
        module.fail_json(msg='unknown user or group %s' % exc, changed_paths=installer.changed_paths)
    except (IOError, OSError) as exc:
        module.fail_json(msg=to_text(exc), changed_paths=installer.changed_paths)
    for warning in installer.warnings:
        module.warn(warning)
    units = dict(changed_units=[], started=[], restarted=[], reloaded=[], enabled=[])
    if module.params['units'] or module.params['daemon_reload']:
        units = Units(module, context=dict(changed_paths=installer.changed_paths)).bring_up_all(
            module.params['units'], module.params['daemon_reload'], files_changed=bool(installer.changed_paths))
    result = dict(changed=bool(installer.changed_paths or installer.changed_users or units['changed_units']),
                  changed_users=installer.changed_users, changed_paths=installer.changed_paths, units=units,
                  backups=installer.backups, originals_kept=installer.kept)
    if module._diff:
        result['diff'] = installer.diffs
    module.exit_json(**result)


if __name__ == '__main__':
    main()
