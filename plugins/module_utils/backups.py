# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backups of configuration files that hold secrets (keepalived's auth_pass,
haproxy's stats credentials): each written 0600 from its first byte, and only
the newest few kept, so an old secret does not live forever in /etc.

Names follow Ansible's own backup files (``name.PID.YYYY-MM-DD@HH:MM:SS~``;
the number goes up past the PID when the name is taken), so backups that
``backup: true`` made before are counted and capped too."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import re
import time

DEFAULT_KEEP = 3
MODE = 0o600


def pattern(path):
    """The names of path's backups in its directory, oldest first when sorted by key()."""
    return re.compile(r'^%s\.(\d+)\.(\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d)~$' % re.escape(os.path.basename(path)))


def existing(path):
    """path's backups, oldest first (by the time in their names, then the PID)."""
    directory = os.path.dirname(path) or '.'
    regex = pattern(path)
    found = []
    for name in os.listdir(directory):
        match = regex.match(name)
        if match:
            found.append((match.group(2), int(match.group(1)), os.path.join(directory, name)))
    return [entry[2] for entry in sorted(found)]


def backup_name(path, now=None, pid=None):
    stamp = time.strftime('%Y-%m-%d@%H:%M:%S', time.localtime(time.time() if now is None else now))
    return '%s.%d.%s~' % (path, os.getpid() if pid is None else pid, stamp)


def to_prune(backups, keep):
    """The backups (oldest first) beyond the newest keep; keep 0 keeps none."""
    keep = max(int(keep), 0)
    return list(backups[:len(backups) - keep]) if len(backups) > keep else []


def backup(path, keep=DEFAULT_KEEP):
    """Copy path to a new backup created 0600 (never readable by others, not
    even while it is written), then remove all but the newest keep backups and
    make the rest 0600. Returns (the new backup or None, the removed paths)."""
    made = None
    if keep > 0 and os.path.isfile(path):
        with open(path, 'rb') as source:
            data = source.read()
        now, number = time.time(), os.getpid()
        # A new backup must sort newest: above any other of the same second.
        stamp = backup_name(path, now, 0).rsplit('.', 1)[1]
        regex = pattern(path)
        for name in os.listdir(os.path.dirname(path) or '.'):
            match = regex.match(name)
            if match and match.group(2) + '~' == stamp:
                number = max(number, int(match.group(1)) + 1)
        while True:  # never reuse a file
            made = backup_name(path, now, number)
            try:
                fd = os.open(made, os.O_WRONLY | os.O_CREAT | os.O_EXCL, MODE)
                break
            except OSError as exc:
                if exc.errno != errno.EEXIST:
                    raise
                number += 1
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
        os.chmod(made, MODE)  # the umask cannot widen it, but a group-writable one could narrow: be exact
    backups = existing(path)
    removed = to_prune(backups, keep)
    for old in removed:
        os.unlink(old)
    for kept in backups[len(removed):]:
        if os.stat(kept).st_mode & 0o777 != MODE:
            os.chmod(kept, MODE)
    return made, removed
