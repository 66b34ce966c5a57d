"""make chaos: each promise's judge, and the generated page (no lab needed)."""
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / 'bench'))
import chaos  # noqa: E402
import report_reliability  # noqa: E402

OK = dict(failed=0, delayed=0, longest_wait_ms=120.0)
DOWN_NAMED = dict(verify_named_cause=True, verify_blamed_the_vip=False)


@pytest.mark.parametrize('case, summary, moves, notes, met', [
    ('backup_crash', OK, [], {}, True),
    ('backup_crash', dict(OK, failed=3), [], {}, False),
    ('backup_crash', OK, [(3.6, 'lb2')], {}, False),
    ('both_power_loss', OK, [(20.0, 'lb1')], dict(serving=True, enabled=True, holders=['lb1']), True),
    ('both_power_loss', OK, [], dict(serving=True, enabled=True, holders=['lb1', 'lb2']), False),
    ('both_power_loss', OK, [], dict(serving=True, enabled=False, holders=['lb1']), False),
    ('partition', OK, [], dict(verify_named_split_brain=True, one_holder_after_heal_s=1.2, moves_after_settle=0), True),
    ('partition', OK, [], dict(verify_named_split_brain=False, one_holder_after_heal_s=1.2, moves_after_settle=0), False),
    ('partition', OK, [], dict(verify_named_split_brain=True, one_holder_after_heal_s=None, moves_after_settle=0), False),
    ('partition', OK, [], dict(verify_named_split_brain=True, one_holder_after_heal_s=1.0, moves_after_settle=2), False),
    ('vrrp_loss', OK, [], dict(profile='default'), True),
    ('vrrp_loss', OK, [(12.0, 'lb2')], dict(profile='default'), False),
    ('vrrp_loss', OK, [(12.0, 'lb2')], dict(profile='fast'), True),  # counted, not judged
    ('all_apiservers_down', dict(OK, failed=900, longest_wait_ms=40.0), [], dict(DOWN_NAMED, serving_again_after_s=4.0),
     True),
    ('all_apiservers_down', dict(OK, failed=900, longest_wait_ms=9000.0), [],
     dict(DOWN_NAMED, serving_again_after_s=4.0), False),
    ('all_apiservers_down', dict(OK, failed=900, longest_wait_ms=40.0), [], dict(DOWN_NAMED, serving_again_after_s=None),
     False),
    ('all_apiservers_down', dict(OK, failed=900, longest_wait_ms=40.0), [],
     dict(serving_again_after_s=4.0, verify_named_cause=False), False),
    ('all_apiservers_down', dict(OK, failed=900, longest_wait_ms=40.0), [],
     dict(serving_again_after_s=4.0, verify_named_cause=True, verify_blamed_the_vip=True), False),
])
def test_each_promise_is_judged(case, summary, moves, notes, met):
    assert bool(chaos.CASES[case]['judge'](summary, moves, notes)) is met


def test_the_page_shows_every_run_and_a_missed_promise_plainly(tmp_path):
    base = dict(profile='default', requests=6000, delayed=0, longest_wait_ms=80.0, outcomes={}, moves=[],
                notes={'profile': 'default'}, when='2026-11-25 04:00')
    report_reliability.write(
        [dict(base, case='partition', fault='f2', promise='p2', met=False, failed=7, vip_moves=2),
         dict(base, case='backup_crash', fault='f1', promise='p1', met=True, failed=0, vip_moves=0)],
        chaos.CASES, str(tmp_path / 'reliability.md'))
    text = (tmp_path / 'reliability.md').read_text()
    assert '| f1 | default | 0 / 6000 | 0 | 80 | 0 | met | p1 |' in text
    assert '| f2 | default | 7 / 6000 | 0 | 80 | 2 | **not met** | p2 |' in text
    assert text.index('| f1 |') < text.index('| f2 |')  # in the order of the table of cases


def test_failed_away_from_moves():
    reqs = [dict(t=10.0, outcome='ok'), dict(t=11.5, outcome='timeout'), dict(t=14.1, outcome='refused'),
            dict(t=30.0, outcome='reset'), dict(t=29.0, outcome='ok')]
    assert chaos.failed_away_from_moves(reqs, [12.0]) == 2     # 14.1 and 30.0 are more than 2 s away
    assert chaos.failed_away_from_moves(reqs, [12.0, 29.5]) == 1
    assert chaos.failed_away_from_moves(reqs, []) == 3


def test_wall_time_of_monotonic():
    assert chaos.wall_time_of_monotonic(5_000_000, now=1000.0, mono_now=8.0) == 997.0


def test_failed_hosts_reads_the_recap():
    out = ('fatal: [lb2]: FAILED! => ...\nPLAY RECAP ****\n'
           'lb1                        : ok=20   changed=0    unreachable=0    failed=0    skipped=3\n'
           'lb2                        : ok=12   changed=0    unreachable=0    failed=1    skipped=3\n')
    assert chaos.failed_hosts(out) == ['lb2']
    assert chaos.failed_hosts('no recap here') == []


@pytest.mark.parametrize('notes, summary, moves, met', [
    (dict(back=True, master_after_haproxy_s=2.5, failed_away_from_moves=0), OK, [(1, 'lb2'), (40, 'lb1')], True),
    (dict(back=True, master_after_haproxy_s=-0.4, failed_away_from_moves=0), OK, [(1, 'lb2'), (40, 'lb1')], False),
    (dict(back=True, master_after_haproxy_s=2.5, failed_away_from_moves=3), OK, [(1, 'lb2'), (40, 'lb1')], False),
    (dict(back=False, master_after_haproxy_s=None, failed_away_from_moves=0), OK, [(1, 'lb2')], False),
])
def test_holder_reboot_judge(notes, summary, moves, met):
    assert bool(chaos.CASES['holder_reboot']['judge'](summary, moves, notes)) is met


@pytest.mark.parametrize('notes, summary, moves, met', [
    (dict(site_failed=True, failed_on=['lb2'], changed_or_left_behind=[], services_active=True, holder_kept=True),
     OK, [], True),
    (dict(site_failed=False), OK, [], False),
    (dict(site_failed=True, failed_on=['lb2'], changed_or_left_behind=['lb2'], services_active=True,
          holder_kept=True), OK, [], False),
    (dict(site_failed=True, failed_on=['lb1', 'lb2'], changed_or_left_behind=[], services_active=True,
          holder_kept=True), OK, [], False),
    (dict(site_failed=True, failed_on=['lb2'], changed_or_left_behind=[], services_active=True, holder_kept=True),
     dict(OK, failed=2), [], False),
])
def test_haproxy_config_rejected_judge(notes, summary, moves, met):
    assert bool(chaos.CASES['haproxy_config_rejected']['judge'](summary, moves, notes)) is met


@pytest.mark.parametrize('profile, moves, notes, met', [
    ('default', [], {}, True), ('default', [(5.0, 'lb2')], dict(false_takeovers=[]), True),
    ('default', [(5.0, 'lb2'), (11.0, 'lb1')], {}, False),   # came back while starved: flapping
    ('fast', [(5.0, 'lb2'), (11.0, 'lb1')], {}, False),      # the same promise for every profile
    ('fast', [(0.4, 'lb2')], dict(false_takeovers=[0.4]), False),  # the holder's adverts were late
])
def test_cpu_starvation_judge(profile, moves, notes, met):
    assert bool(chaos.CASES['cpu_starvation']['judge'](OK, moves, dict(notes, profile=profile))) is met


LOG_LB1 = """1000.50 lb1 Keepalived_vrrp[9]: (VI_1) Changing effective priority from 101 to 51
1000.60 lb1 Keepalived_vrrp[9]: (VI_1) Entering FAULT STATE
1003.10 lb1 Keepalived_vrrp[9]: (VI_1) Entering BACKUP STATE
1003.90 lb1 Keepalived_vrrp[9]: (VI_1) Changing effective priority from 51 to 101
1004.20 lb1 Keepalived_vrrp[9]: (VI_1) Entering MASTER STATE
-- Boot 1 --
"""
LOG_LB2 = """1000.70 lb2 Keepalived_vrrp[8]: (VI_1) Entering MASTER STATE
1004.20 lb2 Keepalived_vrrp[8]: (VI_1) Entering BACKUP STATE
1005.00 lb2 Keepalived_vrrp[8]: (VI_1) Entering MASTER STATE
1005.10 lb2 Keepalived_vrrp[8]: (VI_1) Entering BACKUP STATE
"""


def test_keepalived_events_reads_states_and_priorities():
    assert chaos.keepalived_events(LOG_LB1)[:2] == [(1000.5, 'priority', 51), (1000.6, 'state', 'FAULT')]
    assert len(chaos.keepalived_events(LOG_LB1)) == 5  # the boot marker is not an event


def test_a_takeover_from_a_healthy_master_is_false_one_after_its_fault_is_not():
    events = {'lb1': chaos.keepalived_events(LOG_LB1), 'lb2': chaos.keepalived_events(LOG_LB2)}
    # 1000.7: lb1 had entered FAULT (its check failed): a rightful takeover.
    # 1005.0: lb1 was MASTER at 101 again: lb2 stopped hearing its adverts.
    assert chaos.false_takeovers(events, 'lb1', 101, 1000.0) == [5.0]
    # the holder's lowered priority (its check's weight) makes a takeover rightful too
    lowered = {'lb1': [(1000.5, 'priority', 51)], 'lb2': [(1001.0, 'state', 'MASTER')]}
    assert chaos.false_takeovers(lowered, 'lb1', 101, 1000.0) == []
    assert chaos.false_takeovers({'lb1': [], 'lb2': [(1001.0, 'state', 'MASTER')]}, 'lb1', 101, 1000.0) == [1.0]


def test_a_takeover_after_the_holder_stopped_cleanly_is_not_false():
    stopped = chaos.keepalived_events('1000.40 lb1 Keepalived[828]: Stopping\n'
                                      '1000.90 lb1 Keepalived_vrrp[829]: Stopped\n')
    assert stopped == [(1000.4, 'state', 'STOP')]
    assert chaos.false_takeovers({'lb1': stopped, 'lb2': [(1000.7, 'state', 'MASTER')]}, 'lb1', 101, 1000.0) == []


def test_priority_drops_count_each_load_balancers_lowered_priority():
    events = {'lb1': chaos.keepalived_events(LOG_LB1), 'lb2': [(1001.0, 'priority', 50), (1009.0, 'priority', 100)]}
    assert chaos.priority_drops(events, {'lb1': 101, 'lb2': 100}) == {'lb1': 1, 'lb2': 1}
    assert chaos.priority_drops({'lb1': [], 'lb2': [(1009.0, 'state', 'MASTER')]},
                                {'lb1': 101, 'lb2': 100}) == {'lb1': 0, 'lb2': 0}
