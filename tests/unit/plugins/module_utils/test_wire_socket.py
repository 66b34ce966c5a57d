"""wire_socket: the background listener's report files, read once and never left behind."""
import os
import tempfile
import time

import pytest

from ansible_collections.kubeha.control_plane.plugins.module_utils import wire_socket


@pytest.fixture
def tmpdir_base(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, 'tempdir', str(tmp_path))
    return tmp_path


def report_dir(base, name, age_s, extra=None):
    directory = base / name
    directory.mkdir()
    (directory / wire_socket.RESULT_NAME).write_text('{}')
    if extra:
        (directory / extra).write_text('x')
    then = time.time() - age_s
    os.utime(str(directory), (then, then))
    return directory


def test_reports_nobody_collected_are_removed_after_a_while(tmpdir_base):
    old = report_dir(tmpdir_base, 'kubeha-wire.old', wire_socket.STALE_S + 60)
    fresh = report_dir(tmpdir_base, 'kubeha-wire.fresh', 5)  # a listen of this run, not collected yet
    other = report_dir(tmpdir_base, 'someone-else.x', wire_socket.STALE_S + 60)
    crowded = report_dir(tmpdir_base, 'kubeha-wire.crowded', wire_socket.STALE_S + 60, extra='not-ours')
    wire_socket.remove_stale_reports()
    assert not old.exists() and fresh.exists() and other.exists()
    assert crowded.exists() and (crowded / 'not-ours').exists()


def test_collect_reads_once_and_removes(tmpdir_base):
    directory = report_dir(tmpdir_base, 'kubeha-wire.abc', 0)
    (directory / wire_socket.RESULT_NAME).write_text('{"interface": "eth0", "speakers": []}')
    path = str(directory / wire_socket.RESULT_NAME)
    assert wire_socket.collect(path, 0) == {'interface': 'eth0', 'speakers': []}
    assert not directory.exists()
    with pytest.raises(ValueError):
        wire_socket.collect('/etc/' + wire_socket.RESULT_NAME, 0)
