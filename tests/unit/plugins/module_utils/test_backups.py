"""Backups of files that hold secrets: 0600 from the first byte, capped, and
Ansible's own older backups (0640, uncapped) counted and tightened too."""
import os
import stat

import pytest

from ansible_collections.kubeha.control_plane.plugins.module_utils import backups


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def old_backup(path, stamp, pid=100, file_mode=0o640):
    """A backup as Ansible's backup_local names it (and preserved_copy leaves it: 0640)."""
    name = '%s.%d.%s~' % (path, pid, stamp)
    with open(name, 'w') as handle:
        handle.write('auth_pass old%s\n' % stamp[-2:])
    os.chmod(name, file_mode)
    return name


@pytest.mark.parametrize('count, keep, left', [(0, 3, 0), (2, 3, 2), (3, 3, 3), (7, 3, 3), (4, 1, 1), (4, 0, 0)])
def test_to_prune_keeps_the_newest(count, keep, left):
    names = ['b%d' % i for i in range(count)]
    pruned = backups.to_prune(names, keep)
    assert names[len(pruned):] == names[count - left:]
    assert pruned == names[:count - left]


def test_existing_sorts_by_the_time_in_the_name_not_the_mtime(tmp_path):
    conf = tmp_path / 'keepalived.conf'
    conf.write_text('x')
    newer = old_backup(str(conf), '2026-11-24@10:00:02')
    older = old_backup(str(conf), '2026-11-24@10:00:01', pid=99999)
    os.utime(older, (2e9, 2e9))  # preserved_copy keeps the source's mtime: useless for order
    (tmp_path / 'keepalived.conf.kubeha-orig').write_text('y')  # not a timestamped backup
    (tmp_path / 'other.conf.1.2026-11-24@10:00:00~').write_text('z')  # another file's
    assert backups.existing(str(conf)) == [older, newer]


def test_backup_is_private_capped_and_tightens_the_old_ones(tmp_path, monkeypatch):
    conf = tmp_path / 'keepalived.conf'
    conf.write_text('auth_pass current\n')
    conf.chmod(0o644)
    olds = [old_backup(str(conf), '2026-11-1%d@10:00:00' % day) for day in range(1, 6)]
    opened = []
    real_open = os.open

    def watch(path, flags, file_mode=0o777, *rest):
        if str(path).endswith('~'):
            opened.append((flags & os.O_EXCL, file_mode))
        return real_open(path, flags, file_mode, *rest)
    monkeypatch.setattr(os, 'open', watch)
    made, removed = backups.backup(str(conf), keep=3)
    assert opened == [(os.O_EXCL, 0o600)]  # created 0600, never an existing file reused
    assert open(made).read() == 'auth_pass current\n' and mode(made) == 0o600
    assert removed == olds[:3]
    left = backups.existing(str(conf))
    assert left == olds[3:] + [made]
    assert all(mode(path) == 0o600 for path in left)
    assert not any(os.path.exists(path) for path in removed)


def test_keep_zero_removes_every_backup_and_makes_none(tmp_path):
    conf = tmp_path / 'haproxy.cfg'
    conf.write_text('stats auth admin:secret\n')
    old_backup(str(conf), '2026-11-20@10:00:00')
    made, removed = backups.backup(str(conf), keep=0)
    assert made is None and len(removed) == 1
    assert os.listdir(str(tmp_path)) == ['haproxy.cfg']
