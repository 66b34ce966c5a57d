"""drift: every difference from the wanted state, named; nothing changed."""
import hashlib
import json
import os
import tempfile
import time

import pytest

from ansible_collections.kubeha.control_plane.plugins.modules import drift, wire_check


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


def background(run_module, seconds):
    """wire_check's background listen on lo: (its result, how long the call took)."""
    started = time.time()
    result = run_module(wire_check, {'interface': 'lo', 'seconds': seconds, 'background': True})
    return result, time.time() - started


@pytest.mark.skipif(os.geteuid() != 0, reason='a packet socket needs root or CAP_NET_RAW')
def test_a_background_listen_returns_at_once_and_drift_collects_it(tmp_path, monkeypatch, run_module):
    fake_systemctl(tmp_path, monkeypatch, [])
    listening, took = background(run_module, 1.5)
    assert listening['rc'] == 0 and listening['result_file'] and listening['interface'] == 'lo'
    assert took < 1.0  # it did not wait for its 1.5 s listen
    path = listening['result_file']
    result = run_module(drift, {'wire_listen': {'interface': 'lo', 'seconds': 1.5, 'unless_active': ['keepalived'],
                                                'result_file': path}})
    assert result['rc'] == 0 and result['wire']['interface'] == 'lo' and result['wire']['speakers'] == []
    assert result['wire']['listened'] >= 1.5  # the background listener's own report
    assert not os.path.exists(os.path.dirname(path))  # read once, then removed


@pytest.mark.skipif(os.geteuid() != 0, reason='a packet socket needs root or CAP_NET_RAW')
def test_a_background_listen_is_discarded_where_keepalived_runs(tmp_path, monkeypatch, run_module):
    listening, _took = background(run_module, 0.2)
    fake_systemctl(tmp_path, monkeypatch, ['keepalived'])
    result = run_module(drift, {'wire_listen': {'interface': 'lo', 'seconds': 0.2, 'unless_active': ['keepalived'],
                                                'result_file': listening['result_file']}})
    assert result['rc'] == 0 and result['wire'] == {}
    assert not os.path.exists(listening['result_file'])


@pytest.mark.skipif(os.geteuid() != 0, reason='a packet socket needs root or CAP_NET_RAW')
def test_a_background_listen_on_another_interface_is_not_taken(tmp_path, monkeypatch, run_module):
    fake_systemctl(tmp_path, monkeypatch, [])
    listening, _took = background(run_module, 0.2)
    # the plan with facts wants another interface: drift listens there itself (here it fails to)
    result = run_module(drift, {'wire_listen': {'interface': 'no-such-if0', 'seconds': 0.2,
                                                'result_file': listening['result_file']}})
    assert result['failed'] and 'interface no-such-if0 does not exist' in result['msg']


def test_a_background_listen_that_never_reports_is_replaced(tmp_path, monkeypatch, run_module):
    fake_systemctl(tmp_path, monkeypatch, [])
    monkeypatch.setattr(drift, 'BACKGROUND_GRACE_S', 0.1)
    path = os.path.join(tempfile.mkdtemp(prefix='kubeha-wire.'), 'report.json')  # nobody writes it
    result = run_module(drift, {'wire_listen': {'interface': 'no-such-if0', 'seconds': 0.1, 'result_file': path}})
    assert result['failed'] and 'interface no-such-if0 does not exist' in result['msg']  # it listened itself
    assert not os.path.exists(os.path.dirname(path))


def test_a_failed_background_listen_fails_the_check(tmp_path, monkeypatch, run_module):
    fake_systemctl(tmp_path, monkeypatch, [])
    path = os.path.join(tempfile.mkdtemp(prefix='kubeha-wire.'), 'report.json')
    with open(path, 'w') as handle:
        json.dump({'error': 'Network is down'}, handle)
    result = run_module(drift, {'wire_listen': {'interface': 'lo', 'seconds': 0.1, 'result_file': path}})
    assert result['failed'] and result['msg'] == 'listening on the VRRP segment failed: Network is down'


@pytest.mark.parametrize('where', ['outside', 'named'])
def test_only_a_background_listeners_report_is_read_and_removed(tmp_path, monkeypatch, run_module, where):
    fake_systemctl(tmp_path, monkeypatch, [])
    # a report-looking file outside the temp dir, or one not named as a listener's report
    directory = tmp_path / 'kubeha-wire.x' if where == 'outside' else tmp_path
    directory.mkdir(exist_ok=True)
    path = directory / ('report.json' if where == 'outside' else 'passwd')
    path.write_text('{"interface": "no-such-if0", "speakers": []}')
    # not read (it would pass): drift listens itself, here on an interface that does not exist
    result = run_module(drift, {'wire_listen': {'interface': 'no-such-if0', 'seconds': 0.1, 'result_file': str(path)}})
    assert result['failed'] and 'interface no-such-if0 does not exist' in result['msg']
    assert path.exists()  # and not removed


def test_missing_packages_are_named_and_listed(tmp_path, monkeypatch, run_module):
    binary = tmp_path / 'pkgbin' / 'dpkg-query'
    binary.parent.mkdir()
    # dpkg-query -W -f '${Package} ${db:Status-Status}\n' NAMES: one installed, one removed, one unknown
    binary.write_text('#!/bin/sh\necho "haproxy installed"\necho "keepalived config-files"\n'
                      'echo "dpkg-query: no packages found matching curl" >&2\nexit 1\n')
    os.chmod(str(binary), 0o755)
    monkeypatch.setenv('PATH', '%s:%s' % (binary.parent, os.environ['PATH']))
    result = run_module(drift, {'packages': ['haproxy', 'keepalived', 'curl']})
    assert result['missing_packages'] == ['keepalived', 'curl']
    assert result['differences'] == ['package keepalived is not installed', 'package curl is not installed']


def test_vips_are_not_probed_in_the_background(run_module):
    result = run_module(wire_check, {'interface': 'lo', 'background': True, 'vips': ['10.0.0.1']})
    assert result['failed'] and 'background' in result['msg']


def test_units_that_do_not_run_are_listed_for_the_rollout(tmp_path, monkeypatch, run_module):
    """A load balancer whose keepalived is not running joins its cluster last."""
    fake_systemctl(tmp_path, monkeypatch, ['haproxy'])
    result = run_module(drift, {'services': [{'name': 'haproxy'}, {'name': 'keepalived'},
                                             {'name': 'kubeha-healthcheck.timer', 'active': False}]})
    assert result['inactive_services'] == ['keepalived']
    assert result['differences'] == ['keepalived is not active', 'keepalived is not enabled',
                                     'kubeha-healthcheck.timer is not enabled']
