"""drift: every difference from the wanted state, named; nothing changed."""
import hashlib
import os

import pytest

from ansible_collections.kubeha.control_plane.plugins.modules import drift


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def test_files_and_directories(tmp_path, run_module):
    same, other = tmp_path / 'same.conf', tmp_path / 'other.conf'
    same.write_text('a\n')
    other.write_text('b\n')
    os.chmod(str(same), 0o640)
    os.chmod(str(other), 0o644)
    stray = tmp_path / 'stray.timer'
    stray.write_text('')
    result = run_module(drift, {
        'directories': [{'path': str(tmp_path), }, {'path': str(tmp_path / 'missing')}],
        'files': [{'path': str(same), 'sha256': sha('a\n'), 'mode': '0640'},
                  {'path': str(other), 'sha256': sha('c\n'), 'mode': '0600'},
                  {'path': str(tmp_path / 'nothere'), 'sha256': sha('x')},
                  {'path': str(stray), 'state': 'absent'},
                  {'path': str(tmp_path / 'gone'), 'state': 'absent'}]})
    assert result['changed'] is False and result['converged'] is False
    assert result['differences'] == [
        '%s: missing directory' % (tmp_path / 'missing'),
        '%s: content differs' % other, '%s: mode is 0644, not 0600' % other,
        '%s: missing' % (tmp_path / 'nothere'),
        '%s: present, not wanted' % stray]
    assert result['differing_paths'] == [str(tmp_path / 'missing'), str(other), str(tmp_path / 'nothere'), str(stray)]
    assert other.read_text() == 'b\n' and stray.exists()


def test_a_host_as_wanted_has_no_difference(tmp_path, run_module):
    conf = tmp_path / 'a.conf'
    conf.write_text('a\n')
    result = run_module(drift, {'files': [{'path': str(conf), 'sha256': sha('a\n')}],
                                'users': ['root']})
    assert result['converged'] and result['differences'] == [] and result['differing_paths'] == []


def test_missing_user_is_named(run_module):
    result = run_module(drift, {'users': ['no-such-user-kubeha']})
    assert result['differences'] == ['user no-such-user-kubeha does not exist']


def fake_systemctl(tmp_path, monkeypatch, active):
    """A stand-in systemctl on PATH: `is-active` succeeds for the units in ``active``."""
    binary = tmp_path / 'bin' / 'systemctl'
    binary.parent.mkdir()
    binary.write_text('#!/bin/sh\nfor unit; do :; done\ncase " %s " in *" $unit "*) exit 0 ;; esac\nexit 3\n'
                      % ' '.join(active))
    os.chmod(str(binary), 0o755)
    monkeypatch.setenv('PATH', '%s:%s' % (binary.parent, os.environ['PATH']))


def test_no_listen_where_keepalived_runs_already(tmp_path, monkeypatch, run_module):
    fake_systemctl(tmp_path, monkeypatch, ['keepalived'])
    # an interface that does not exist: the module would fail if it tried to listen
    result = run_module(drift, {'wire_listen': {'interface': 'no-such-if0', 'seconds': 5,
                                                'unless_active': ['keepalived']}})
    assert result['rc'] == 0 and result['wire'] == {}


def test_listen_before_a_first_converge(tmp_path, monkeypatch, run_module):
    fake_systemctl(tmp_path, monkeypatch, [])
    result = run_module(drift, {'wire_listen': {'interface': 'no-such-if0', 'seconds': 0.1,
                                                'unless_active': ['keepalived']}})
    assert result['failed'] and 'interface no-such-if0 does not exist' in result['msg']


@pytest.mark.skipif(os.geteuid() != 0, reason='a packet socket needs root or CAP_NET_RAW')
def test_what_was_heard_comes_back_with_the_check(tmp_path, monkeypatch, run_module):
    fake_systemctl(tmp_path, monkeypatch, [])
    conf = tmp_path / 'a.conf'
    conf.write_text('a\n')
    result = run_module(drift, {'files': [{'path': str(conf), 'sha256': sha('b\n')}],
                                'wire_listen': {'interface': 'lo', 'seconds': 0.3, 'unless_active': ['keepalived']}})
    assert result['rc'] == 0 and result['differences'] == ['%s: content differs' % conf]
    assert result['wire']['interface'] == 'lo' and result['wire']['speakers'] == []
    assert result['wire']['listened'] >= 0.3
