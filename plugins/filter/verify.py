# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verdicts of the verify role, computed on the controller from what the probes saw.

endpoint_report(load_balancers, settings) -> dict(violations, notes, holders,
expected_holder, table). Each load balancer entry: host, priority, holds,
vrrp_state, keepalived, haproxy, backends_up, backends_down.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def _healthy(lb):
    return bool(lb.get('keepalived') and lb.get('haproxy') and lb.get('backends_up'))


def _expected_holder(lbs, preempt, order=None):
    """With preempt, the first healthy load balancer in the plan's priority order
    (endpoint.by_priority); without an order, the healthy one with the highest
    priority it reports."""
    healthy = [lb for lb in lbs if _healthy(lb)]
    if not preempt or not healthy:
        return None
    if order:
        names = [lb['host'] for lb in healthy]
        for host in order:
            if host in names:
                return host
    return max(healthy, key=lambda lb: (int(lb.get('priority') or 0), lb['host']))['host']


def _vip_violations(lbs, vip, holders, preempt, violations, notes, order=None):
    if not holders:
        states = ', '.join('%s %s' % (lb['host'], lb.get('vrrp_state') or 'no state') for lb in lbs)
        violations.append('no holder: no load balancer holds VIP %s (%s)' % (vip, states))
    elif len(holders) > 1:
        violations.append('split brain: VIP %s is held by %s; the load balancers do not hear '
                          'each other\'s adverts (VRID, auth_pass, firewall for IP protocol 112, '
                          'unicast peers?)' % (vip, ' and '.join(holders)))
    expected = _expected_holder(lbs, preempt, order)
    if len(holders) == 1:
        holder = holders[0]
        lb = next(lb for lb in lbs if lb['host'] == holder)
        if not lb.get('haproxy'):
            violations.append('%s holds VIP %s but its haproxy is not running' % (holder, vip))
        if expected and holder != expected:
            violations.append('%s holds VIP %s, but %s has the highest priority and is healthy; '
                              'with preempt it should hold it' % (holder, vip, expected))
        elif not preempt:
            notes.append('nopreempt: VIP %s stays on %s until it fails' % (vip, holder))
    return expected


def _vrrp_violations(lbs, holders, violations):
    masters = [lb['host'] for lb in lbs if lb.get('vrrp_state') == 'MASTER']
    for lb in lbs:
        state = lb.get('vrrp_state')
        if not lb.get('keepalived'):
            violations.append('%s: keepalived is not running' % lb['host'])
        elif state is None:
            violations.append('%s: no VRRP state recorded (the notify script has not run)'
                              % lb['host'])
        elif state == 'FAULT':
            violations.append('%s: VRRP instance is in FAULT (its haproxy check fails, or its '
                              'interface is down)' % lb['host'])
        if state == 'MASTER' and lb['host'] not in holders:
            violations.append('%s: VRRP state is MASTER but it does not hold the VIP' % lb['host'])
        if lb['host'] in holders and state not in ('MASTER', None):
            violations.append('%s holds the VIP but its VRRP state is %s' % (lb['host'], state))
    if len(masters) > 1:
        violations.append('VRRP states disagree: %s all say MASTER' % ', '.join(masters))


def _haproxy_violations(lbs, control_plane, violations):
    for lb in lbs:
        if not lb.get('haproxy'):
            violations.append('%s: haproxy is not running' % lb['host'])
            continue
        for name in lb.get('backends_down') or []:
            violations.append('%s: haproxy has backend %s out of rotation' % (lb['host'], name))
        known = set(lb.get('backends_up') or []) | set(lb.get('backends_down') or [])
        for name in control_plane:
            if known and name not in known:
                violations.append('%s: control-plane node %s is not a haproxy backend'
                                  % (lb['host'], name))


def _table(lbs, holders, total):
    rows = [('host', 'role', 'VRRP', 'prio', 'holds VIP', 'keepalived', 'haproxy', 'backends UP')]
    for lb in lbs:
        rows.append((lb['host'], 'load balancer', lb.get('vrrp_state') or '-',
                     str(lb.get('priority') or '-'), 'yes' if lb['host'] in holders else 'no',
                     'active' if lb.get('keepalived') else 'DOWN',
                     'active' if lb.get('haproxy') else 'DOWN',
                     '%d/%d' % (len(lb.get('backends_up') or []), total)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ['  '.join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]


def endpoint_report(load_balancers, settings):
    lbs = sorted(load_balancers, key=lambda lb: lb['host'])
    vip = settings.get('vip')
    preempt = bool(settings.get('preempt', True))
    control_plane = list(settings.get('control_plane') or [])
    violations, notes = [], []
    holders = [lb['host'] for lb in lbs if lb.get('holds')]
    expected = _vip_violations(lbs, vip, holders, preempt, violations, notes,
                               settings.get('by_priority'))
    _vrrp_violations(lbs, holders, violations)
    _haproxy_violations(lbs, control_plane, violations)
    return dict(violations=violations, notes=notes, holders=holders, expected_holder=expected,
                table=_table(lbs, holders, len(control_plane)))


class FilterModule(object):
    def filters(self):
        return {'endpoint_report': endpoint_report}
