"""units: several systemd units started, restarted and enabled in one call, in order, against a
stand-in systemctl that keeps each unit's state in a directory and logs every call."""
import os
import stat

import pytest

from ansible_collections.kubeha.control_plane.plugins.modules import units

SYSTEMCTL = r'''#!/bin/sh
# a stand-in systemctl: $STATE/<unit>.active and .enabled hold the state, $STATE/log the calls
echo "$*" >> "$STATE/log"
case "$1" in
  daemon-reload) exit 0 ;;
  is-active) [ -e "$STATE/$3.active" ] ;;
  is-enabled)
    if [ -e "$STATE/$2.static" ]; then echo static; exit 0; fi
    if [ -e "$STATE/$2.masked" ]; then echo masked; exit 1; fi
    if [ -e "$STATE/$2.enabled" ]; then echo enabled; exit 0; fi
    echo disabled; exit 1 ;;
  start|restart)
    if [ -e "$STATE/$2.broken" ]; then echo "Job for $2 failed." >&2; exit 1; fi
    touch "$STATE/$2.active" ;;
  enable) touch "$STATE/$2.enabled" ;;
  status) for unit; do :; done; echo "$unit - status"; exit 3 ;;
esac
'''


class State(type(__import__('pathlib').Path())):
    """The stand-in's state directory, and the calls that change something."""

    def calls(self):
        return [line for line in (self / 'log').read_text().splitlines() if not line.startswith('is-')]


@pytest.fixture
def systemd(tmp_path, monkeypatch):
    state = State(str(tmp_path / 'state'))
    state.mkdir()
    (state / 'log').write_text('')
    binary = tmp_path / 'bin' / 'systemctl'
    binary.parent.mkdir()
    binary.write_text(SYSTEMCTL)
    os.chmod(str(binary), stat.S_IRWXU)
    monkeypatch.setenv('STATE', str(state))
    monkeypatch.setenv('PATH', '%s:%s' % (binary.parent, os.environ['PATH']))
    return state


def test_brings_each_unit_up_in_order_in_one_call(systemd, run_module):
    (systemd / 'exporter.active').touch()
    (systemd / 'exporter.enabled').touch()
    result = run_module(units, {'daemon_reload': True, 'units': [
        {'name': 'firewall'}, {'name': 'keepalived'}, {'name': 'exporter', 'state': 'restarted'}]})
    assert result['rc'] == 0 and result['changed']
    assert systemd.calls() == ['daemon-reload', 'start firewall', 'enable firewall',
                               'start keepalived', 'enable keepalived', 'restart exporter']
    assert result['started'] == ['firewall', 'keepalived'] and result['restarted'] == ['exporter']
    assert result['enabled'] == ['firewall', 'keepalived']
    assert result['changed_units'] == ['firewall', 'keepalived', 'exporter']


def test_running_and_enabled_units_are_left_alone(systemd, run_module):
    for name in ('keepalived', 'timer'):
        (systemd / ('%s.active' % name)).touch()
    (systemd / 'keepalived.enabled').touch()
    (systemd / 'timer.static').touch()  # a static unit cannot be enabled, and need not be
    result = run_module(units, {'units': [{'name': 'keepalived'}, {'name': 'timer'}]})
    assert not result['changed'] and result['changed_units'] == [] and result['started'] == []
    assert systemd.calls() == []


def test_enabled_but_stopped_is_started_and_reported_as_started(systemd, run_module):
    (systemd / 'keepalived.enabled').touch()
    result = run_module(units, {'units': [{'name': 'keepalived'}]})
    assert result['started'] == ['keepalived'] and result['enabled'] == []
    assert systemd.calls() == ['start keepalived']


def test_running_but_disabled_is_enabled_not_started(systemd, run_module):
    (systemd / 'keepalived.active').touch()
    result = run_module(units, {'units': [{'name': 'keepalived'}]})
    assert result['changed'] and result['started'] == [] and result['enabled'] == ['keepalived']
    assert systemd.calls() == ['enable keepalived']


def test_check_mode_says_what_it_would_do_and_does_nothing(systemd, run_module):
    (systemd / 'exporter.active').touch()
    (systemd / 'exporter.enabled').touch()
    result = run_module(units, {'_ansible_check_mode': True, 'daemon_reload': True, 'units': [
        {'name': 'keepalived'}, {'name': 'exporter', 'state': 'restarted'}]})
    assert result['changed'] and result['started'] == ['keepalived'] and result['restarted'] == ['exporter']
    assert systemd.calls() == []
    assert not (systemd / 'keepalived.active').exists()


def test_a_unit_that_fails_stops_the_rest_and_shows_its_status(systemd, run_module):
    (systemd / 'keepalived.broken').touch()
    result = run_module(units, {'units': [{'name': 'firewall'}, {'name': 'keepalived'}, {'name': 'exporter'}]})
    assert result['rc'] == 1 and result['failed']
    assert 'systemctl start keepalived failed' in result['msg']
    assert result['status'].startswith('keepalived - status') and 'Job for keepalived failed.' in result['stderr']
    assert result['started'] == ['firewall']
    assert not any('exporter' in call for call in systemd.calls())


def test_a_masked_unit_is_refused_with_the_fix(systemd, run_module):
    (systemd / 'keepalived.active').touch()
    (systemd / 'keepalived.masked').touch()
    result = run_module(units, {'units': [{'name': 'keepalived'}]})
    assert result['failed'] and 'systemctl unmask keepalived' in result['msg']


def test_enabled_false_only_starts(systemd, run_module):
    result = run_module(units, {'units': [{'name': 'oneshot', 'enabled': False}]})
    assert systemd.calls() == ['start oneshot'] and result['enabled'] == []
