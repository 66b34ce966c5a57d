import copy

import pytest

from ansible_collections.kubeha.control_plane.plugins.filter.verify import endpoint_report

CPS = ['cp1', 'cp2', 'cp3']
SETTINGS = {'vip': '10.213.0.100', 'preempt': True, 'control_plane': CPS}


def lb(host, priority, holds, state, **kw):
    entry = dict(host=host, priority=priority, holds=holds, vrrp_state=state, keepalived=True,
                 haproxy=True, backends_up=list(CPS), backends_down=[])
    entry.update(kw)
    return entry


HEALTHY = [lb('lb1', 101, True, 'MASTER'), lb('lb2', 100, False, 'BACKUP')]


def report(lbs, **settings):
    return endpoint_report(copy.deepcopy(lbs), dict(SETTINGS, **settings))


def test_healthy_pair_has_no_violations():
    result = report(HEALTHY)
    assert result['violations'] == []
    assert result['holders'] == ['lb1'] and result['expected_holder'] == 'lb1'


def test_table_has_one_row_per_load_balancer():
    table = report(HEALTHY)['table']
    assert table[0].split()[:3] == ['host', 'role', 'VRRP']
    assert table[1].startswith('lb1') and 'MASTER' in table[1] and '3/3' in table[1]
    assert len(table) == 3


@pytest.mark.parametrize('lbs, message', [
    ([lb('lb1', 101, False, 'STOP', keepalived=False), lb('lb2', 100, False, 'STOP', keepalived=False)],
     'no holder: no load balancer holds VIP 10.213.0.100'),
    ([lb('lb1', 101, True, 'MASTER'), lb('lb2', 100, True, 'MASTER')],
     'split brain: VIP 10.213.0.100 is held by lb1 and lb2'),
    ([lb('lb1', 101, True, 'MASTER'), lb('lb2', 100, True, 'MASTER')],
     'VRRP states disagree: lb1, lb2 all say MASTER'),
    ([lb('lb1', 101, False, 'BACKUP'), lb('lb2', 100, True, 'MASTER')],
     'lb2 holds VIP 10.213.0.100, but lb1 has the highest priority and is healthy'),
    ([lb('lb1', 101, False, 'FAULT'), lb('lb2', 100, True, 'MASTER')],
     'lb1: VRRP instance is in FAULT'),
    ([lb('lb1', 101, True, 'MASTER', haproxy=False), lb('lb2', 100, False, 'BACKUP')],
     'lb1 holds VIP 10.213.0.100 but its haproxy is not running'),
    ([lb('lb1', 101, True, 'MASTER', backends_up=['cp1', 'cp3'], backends_down=['cp2']),
      lb('lb2', 100, False, 'BACKUP')], 'lb1: haproxy has backend cp2 out of rotation'),
    ([lb('lb1', 101, True, 'MASTER', backends_up=['cp1', 'cp2']), lb('lb2', 100, False, 'BACKUP')],
     'lb1: control-plane node cp3 is not a haproxy backend'),
    ([lb('lb1', 101, True, None), lb('lb2', 100, False, 'BACKUP')],
     'lb1: no VRRP state recorded'),
    ([lb('lb1', 101, False, 'MASTER'), lb('lb2', 100, True, 'BACKUP')],
     'lb1: VRRP state is MASTER but it does not hold the VIP'),
])
def test_each_violation_is_named(lbs, message):
    violations = report(lbs)['violations']
    assert any(message in v for v in violations), violations


def test_a_lower_priority_holder_is_right_when_the_higher_one_is_unhealthy():
    lbs = [lb('lb1', 101, False, 'BACKUP', haproxy=False), lb('lb2', 100, True, 'MASTER')]
    result = report(lbs)
    assert result['expected_holder'] == 'lb2'
    assert result['violations'] == ['lb1: haproxy is not running']


def test_nopreempt_accepts_any_single_healthy_holder_and_says_so():
    lbs = [lb('lb1', 101, False, 'BACKUP'), lb('lb2', 100, True, 'MASTER')]
    result = report(lbs, preempt=False)
    assert result['violations'] == []
    assert result['notes'] == ['nopreempt: VIP 10.213.0.100 stays on lb2 until it fails']
