# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Installing a set of users, directories and files in one module call (config_files, and
vrrp_config for the scripts and units keepalived.conf refers to): every change recorded
before it is made, each file validated before it replaces the old one and never readable
by others while it is written."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import os
import pwd
import shlex
import tempfile

from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible_collections.kubeha.control_plane.plugins.module_utils import backups

# The options, as the modules' argument specs list them (doc fragment kubeha.control_plane.install).
INSTALL_OPTIONS = dict(
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
    keep_originals=dict(type='list', elements='dict', default=[], options=dict(
        path=dict(type='path', required=True), copy_to=dict(type='path', required=True),
        marker=dict(type='str', default='kubeha.control_plane'),
        mode=dict(type='str', default='0600'))),
)


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

    def install(self):
        """users, keep_originals, directories, files, in this order (the module's parameters);
        fails the module on an unknown owner or an I/O error, naming what was changed so far."""
        params = self.module.params
        for spec in params['users']:
            self.user(spec)
        try:
            for spec in params['keep_originals']:
                self.keep_original(spec)
            for spec in params['directories']:
                self.directory(spec)
            for spec in params['files']:
                if spec['state'] == 'absent':
                    self.remove(spec)
                else:
                    self.write(spec)
        except KeyError as exc:
            self.module.fail_json(msg='unknown user or group %s' % exc, changed_paths=self.changed_paths)
        except (IOError, OSError) as exc:
            self.module.fail_json(msg=to_text(exc), changed_paths=self.changed_paths)
        for warning in self.warnings:
            self.module.warn(warning)
        return self
