"""units: several systemd units started, restarted and enabled in one call, in order, against a
stand-in systemctl (the systemd fixture) that keeps each unit's state in a directory and logs
every call."""
import pytest

from ansible_collections.kubeha.control_plane.plugins.modules import units


def test_brings_each_unit_up_in_order_in_one_call(systemd, run_module):
    (systemd / 'exporter.active').touch()
    (systemd / 'exporter.enabled').touch()
    result = run_module(units, {'daemon_reload': True, 'units': [
        {'name': 'firewall'}, {'name': 'keepalived'}, {'name': 'exporter', 'state': 'restarted'}]})
    assert result['rc'] == 0 and result['changed']
    assert systemd.calls() == ['daemon-reload', 'enable --no-reload firewall', 'start firewall',
                               'enable --no-reload keepalived', 'start keepalived', 'restart exporter',
                               'daemon-reload']  # once more after the links (systemd 257 warns otherwise)
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
    assert systemd.calls() == ['enable --no-reload keepalived', 'daemon-reload']


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
    # the links made before the failure are loaded all the same
    assert systemd.calls()[-1] == 'daemon-reload'


def test_a_masked_unit_is_refused_with_the_fix(systemd, run_module):
    (systemd / 'keepalived.active').touch()
    (systemd / 'keepalived.masked').touch()
    result = run_module(units, {'units': [{'name': 'keepalived'}]})
    assert result['failed'] and 'systemctl unmask keepalived' in result['msg']


def test_enabled_false_only_starts(systemd, run_module):
    result = run_module(units, {'units': [{'name': 'oneshot', 'enabled': False}]})
    assert systemd.calls() == ['start oneshot'] and result['enabled'] == []


@pytest.mark.parametrize('active, calls, kind', [
    (True, ['reload haproxy'], 'reloaded'),  # running: it reads the new file, connections stay
    (False, ['start haproxy'], 'started'),   # not running: started (it reads the file at start)
])
def test_reloaded_reloads_a_running_unit_and_starts_a_stopped_one(systemd, run_module, active, calls, kind):
    (systemd / 'haproxy.enabled').touch()
    if active:
        (systemd / 'haproxy.active').touch()
    result = run_module(units, {'units': [{'name': 'haproxy', 'state': 'reloaded'}]})
    assert result['changed'] and systemd.calls() == calls
    assert result[kind] == ['haproxy'] and result['changed_units'] == ['haproxy']
    assert result['restarted'] == [] and (result['reloaded'] == []) == (kind != 'reloaded')


def test_a_rejected_reload_fails_and_leaves_the_unit_running(systemd, run_module):
    (systemd / 'haproxy.active').touch()
    (systemd / 'haproxy.enabled').touch()
    (systemd / 'haproxy.rejects').touch()
    result = run_module(units, {'units': [{'name': 'haproxy', 'state': 'reloaded'}, {'name': 'keepalived'}]})
    assert result['failed'] and 'systemctl reload haproxy failed' in result['msg']
    assert (systemd / 'haproxy.active').exists() and result['reloaded'] == []
    assert not any('keepalived' in call for call in systemd.calls())


def test_check_mode_says_it_would_reload(systemd, run_module):
    (systemd / 'haproxy.active').touch()
    (systemd / 'haproxy.enabled').touch()
    result = run_module(units, {'_ansible_check_mode': True, 'units': [{'name': 'haproxy', 'state': 'reloaded'}]})
    assert result['changed'] and result['reloaded'] == ['haproxy'] and systemd.calls() == []


@pytest.mark.parametrize('state, call', [('stopped', 'stop keepalived'), ('killed', 'kill --signal=KILL keepalived')])
def test_a_running_unit_is_taken_down_with_the_time_just_before(systemd, run_module, state, call):
    (systemd / 'keepalived.active').touch()
    (systemd / 'keepalived.enabled').touch()
    before = __import__('time').time()
    result = run_module(units, {'units': [{'name': 'keepalived', 'state': state}, {'name': 'haproxy', 'state': state}]})
    assert result['changed'] and result[state] == ['keepalived'] and result['changed_units'] == ['keepalived']
    assert systemd.calls() == [call]  # haproxy was not running: nothing to do; enablement untouched
    assert before <= result['times']['keepalived'] <= __import__('time').time()
    assert list(result['times']) == ['keepalived']
    assert (systemd / 'keepalived.enabled').exists() and not (systemd / 'keepalived.active').exists()


def test_starting_notes_the_time_just_before_and_check_mode_notes_none(systemd, run_module):
    (systemd / 'keepalived.enabled').touch()
    both = [{'name': 'keepalived', 'state': 'stopped'}, {'name': 'keepalived'}]
    checked = run_module(units, {'_ansible_check_mode': True, 'units': both})
    assert checked['times'] == {} and systemd.calls() == []
    result = run_module(units, {'units': [{'name': 'keepalived'}]})
    assert set(result['times']) == {'keepalived'} and result['started'] == ['keepalived']
