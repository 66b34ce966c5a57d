# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verdicts of the verify role, computed on the controller from what the probes saw.

endpoint_phase(ready, control_plane) -> bootstrapping, degraded or healthy: the
one definition of the endpoint's phase, which the post-check names too.

endpoint_report(load_balancers, settings) -> dict(violations, notes, holders,
expected_holder, phase, ready, table). Each load balancer entry: host,
priority, holds, vrrp_state, keepalived, haproxy, backends_up, backends_down,
and optionally address and wire (what kubeha.control_plane.wire_check heard).
With settings.mode bgp: holds means announces, and each entry carries gate
(whether the gate runs) and bgp (sessions, as kubeha.control_plane.bgp_speaker
reads them, and gate_state); every load balancer that can serve must announce.
An entry's leftovers (what kubeha.control_plane.leftovers found: the other
mode's units, files, routes and addresses, a hand-off left on, an exporter on
the wrong address) are violations in either mode.

The endpoint's phase comes from the apiservers that answer /readyz directly:
bootstrapping (none yet: before kubeadm init), degraded (some), healthy (all).
Fewer ready than settings.min_ready (default: all) is a violation; what a
phase the user allows implies (backends DOWN, the VIP closing connections
before kubeadm init) is then a note, not a violation.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubeha.control_plane.plugins.module_utils.wire import strangers, vip_owners


def _healthy(lb):
    return bool(lb.get('announcer') and lb.get('haproxy') and lb.get('backends_up'))


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
        if not lb.get('announcer'):
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


def _wire_violations(lbs, holders, vrid, violations, notes):
    """Strangers speaking our VRID, and MACs other than the holder's answering for a VIP."""
    heard = [lb for lb in lbs if (lb.get('wire') or {}).get('speakers') is not None]
    for lb in lbs:
        wire = lb.get('wire') or {}
        if wire.get('failed'):
            notes.append('%s: the wire check did not run: %s' % (lb['host'], wire.get('msg')))
    if not heard or vrid in (None, ''):
        return
    ours = [lb['address'] for lb in lbs if lb.get('address')]
    speakers = [dict(s, heard_by=lb['host']) for lb in heard for s in lb['wire']['speakers']]
    for stranger in strangers(speakers, int(vrid), ours):
        by = sorted(set(s['heard_by'] for s in speakers
                        if s['source'] == stranger['source'] and s['vrid'] == int(vrid)))
        violations.append(
            'a host that is not one of this cluster\'s load balancers speaks VRRP for its VRID %s: '
            '%s (priority %s, VRRPv%s, heard by %s). With multicast, or without check_unicast_src, '
            'it can take the VIP; with it, keepalived ignores the adverts but a backup may still '
            'enter MASTER for moments (keepalived_vrrp_firewall drops them first). Find it and stop '
            'its keepalived, or move one of the two to a free VRID (keepalived_vrid)'
            % (vrid, stranger['source'], stranger['priority'], stranger['version'], ', '.join(by)))
    holder_macs = [lb['wire'].get('mac') for lb in heard if lb['host'] in holders and lb['wire'].get('mac')]
    if len(holder_macs) < len(holders):
        return  # a holder's own MAC is unknown: no verdict on who else answers
    answers = {}
    for lb in heard:
        for vip, macs in (lb['wire'].get('arp') or {}).items():
            answers.setdefault(vip, set()).update(macs)
    for vip, macs in sorted(vip_owners(answers, holder_macs).items()):
        violations.append(
            '%s is answered for (%s) by %s, which is not %s: two hosts claim the VIP and some '
            'clients reach the wrong one. Find the host with that MAC and remove the address '
            'from it' % (vip, 'neighbour discovery' if ':' in vip else 'ARP', ', '.join(macs),
                         'the holder (%s)' % ', '.join(holders)
                         if holders else 'one of this cluster\'s load balancers (none holds it)'))


def _haproxy_violations(lbs, control_plane, violations, excused=()):
    for lb in lbs:
        if not lb.get('haproxy'):
            violations.append('%s: haproxy is not running' % lb['host'])
            continue
        for name in lb.get('backends_down') or []:
            if name not in excused:
                violations.append('%s: haproxy has backend %s out of rotation' % (lb['host'], name))
        known = set(lb.get('backends_up') or []) | set(lb.get('backends_down') or [])
        for name in control_plane:
            if known and name not in known:
                violations.append('%s: control-plane node %s is not a haproxy backend'
                                  % (lb['host'], name))


def _failures(answer):
    """(kind, message) of each failed GET in an apiserver_healthz result."""
    if not answer:
        return []
    if 'results' not in answer:
        return [('error', answer.get('msg') or 'no answer')]
    return [(r.get('kind'), r.get('message')) for r in answer['results'] if not r.get('ok')]


def phase_of(control_plane, ready):
    """The endpoint's phase: bootstrapping (no apiserver ready yet: before kubeadm
    init), degraded (some), healthy (all). verify counts the apiservers that
    answer /readyz directly; the post-check those haproxy has UP."""
    if not ready:
        return 'bootstrapping'
    if len(ready) < len(control_plane):
        return 'degraded'
    return 'healthy'


def _api_violations(api, control_plane, ready, phase, allowed, violations, notes):
    """What the clients' view says: through the VIP, from the controller, kubectl,
    each node directly, and where kubeadm's kubeconfigs point."""
    url = api.get('url', 'the VIP')
    probes = [('via the VIP from %s' % api.get('probe_host'), api.get('via_vip')),
              ('via the VIP from the controller', api.get('from_controller'))]
    for other, answer in sorted((api.get('via_other_vips') or {}).items()):
        probes.append(('via the VIP %s from %s' % (other, api.get('probe_host')), answer))
    for where, answer in probes:
        for kind, message in _failures(answer):
            if phase == 'bootstrapping' and allowed and kind == 'closed':
                notes.append('%s: no apiserver behind %s yet; haproxy accepts and closes, as '
                             'expected before kubeadm init' % (where, url))
            else:
                violations.append('%s: %s' % (where, message))
    kubectl = api.get('kubectl')
    missing = {100: 'kubectl is not installed on %s', 101: 'the kubeconfig for kubectl is missing on %s'}
    if kubectl and not kubectl.get('skipped') and kubectl.get('rc') in missing:
        violations.append((missing[kubectl['rc']] % api.get('probe_host')) + ' (verify_kubectl: always)')
    elif kubectl and not kubectl.get('skipped'):
        answer = (kubectl.get('stdout') or '').strip()
        if answer == 'ok':
            notes.append('kubectl get --raw /readyz through %s: ok' % url)
        elif not (phase == 'bootstrapping' and allowed):
            violations.append('kubectl get --raw /readyz through %s: %s' % (
                url, (kubectl.get('stderr') or answer or 'no answer').strip()[:300]))
    for host in control_plane:
        if host in ready:
            continue
        failure = (_failures(api.get('direct', {}).get(host)) or [('error', 'not probed')])[0][1]
        if allowed:
            notes.append('%s is not ready (allowed in phase %s): %s' % (host, phase, failure))
        else:
            violations.append('%s does not answer directly: %s' % (host, failure))
    for host, server in sorted((api.get('kubeconfigs') or {}).items()):
        if server and server != url:
            violations.append('%s: %s points at %s, not the HA endpoint %s (kubeadm '
                              'controlPlaneEndpoint)' % (host, api.get('kubeconfig_path'), server, url))


def _table(lbs, holders, total):
    rows = [('host', 'role', 'VRRP', 'prio', 'holds VIP', 'keepalived', 'haproxy', 'backends UP')]
    for lb in lbs:
        rows.append((lb['host'], 'load balancer', lb.get('vrrp_state') or '-',
                     str(lb.get('priority') or '-'), 'yes' if lb['host'] in holders else 'no',
                     'active' if lb.get('announcer') else 'DOWN',
                     'active' if lb.get('haproxy') else 'DOWN',
                     '%d/%d' % (len(lb.get('backends_up') or []), total)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ['  '.join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]


def _bgp_violations(lbs, holders, violations, notes):
    """BGP mode: each load balancer whose haproxy can serve announces the VIP over
    every router session (established, BFD up), and none announces without haproxy."""
    if not holders:
        violations.append('no load balancer announces the VIP: the routers have no path to it')
    for lb in lbs:
        bgp, host = lb.get('bgp') or {}, lb['host']
        for peer, session in sorted((bgp.get('sessions') or {}).items()):
            if not session.get('established'):
                violations.append('%s: the BGP session to %s is %s, not Established'
                                  % (host, peer, session.get('state') or 'down'))
            elif session.get('bfd') not in (None, 'up'):
                violations.append('%s: BFD to %s is %s' % (host, peer, session.get('bfd')))
        if host in holders and not lb.get('haproxy'):
            violations.append('%s announces the VIP but its haproxy is not running' % host)
        elif host not in holders and lb.get('haproxy') and lb.get('backends_up'):
            violations.append('%s can serve but does not announce the VIP (its gate: %s)'
                              % (host, 'running' if lb.get('announcer') else 'NOT running'))
        if (bgp.get('gate_state') or {}).get('standby'):
            notes.append('%s announces the VIP as a standby (a prepended path; active_passive)' % host)


# How to get rid of each kind of leftover (module leftovers' findings).
LEFTOVER_FIXES = {
    'unit': "the other VIP mode's, or an announcer that outlived a switch of kubeha_vip_mode",
    'route': "the BGP gate's route to the VIP, which still draws the VIP's traffic here",
    'address': "the VIP as an address, as keepalived held it; in BGP mode nothing should hold it",
    'chain': 'the hand-off of a planned change that did not finish: it copies packets to the peers',
    'device': 'the hand-off of a planned change that did not finish: it copies packets to the peers',
    'file': "the other VIP mode's",
}


def _leftover_violations(lbs, violations):
    """What does not belong on a load balancer: the other VIP mode's units, files,
    routes and addresses, a hand-off left on, an exporter on the wrong address."""
    for lb in lbs:
        for found in lb.get('leftovers') or []:
            if found['kind'] == 'listener':
                violations.append('%s: %s %s: restart it (site.yml does, when its settings change), or '
                                  'check kubeha_metrics_address' % (lb['host'], found['name'], found['detail']))
                continue
            violations.append('%s: %s %s is still here (%s; %s): run site.yml, which retires it'
                              % (lb['host'], found['kind'], found['name'], found['detail'],
                                 LEFTOVER_FIXES.get(found['kind'], 'it does not belong')))


def _bgp_table(lbs, holders, total):
    rows = [('host', 'role', 'BGP sessions', 'BFD', 'announces VIP', 'gate', 'haproxy', 'backends UP')]
    for lb in lbs:
        sessions = (lb.get('bgp') or {}).get('sessions') or {}
        up = [p for p, s in sessions.items() if s.get('established')]
        bfd = sorted(set(str(s.get('bfd')) for s in sessions.values())) or ['-']
        rows.append((lb['host'], 'load balancer', '%d/%d Established' % (len(up), len(sessions)),
                     ','.join(bfd), 'yes' if lb['host'] in holders else 'no',
                     'active' if lb.get('announcer') else 'DOWN', 'active' if lb.get('haproxy') else 'DOWN',
                     '%d/%d' % (len(lb.get('backends_up') or []), total)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ['  '.join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]


def endpoint_report(load_balancers, settings):
    lbs = sorted(load_balancers, key=lambda lb: lb['host'])
    vip = settings.get('vip')
    preempt = bool(settings.get('preempt', True))
    control_plane = list(settings.get('control_plane') or [])
    api = settings.get('api')
    ready = [h for h in control_plane if api is None or not _failures(api.get('direct', {}).get(h))]
    min_ready = settings.get('min_ready')
    min_ready = len(control_plane) if min_ready in (None, '') else int(min_ready)
    phase = phase_of(control_plane, ready)
    allowed = len(ready) >= min_ready
    violations, notes = [], []
    if not allowed:
        missing = [h for h in control_plane if h not in ready]
        violations.append('phase %s: %d of %d apiservers ready (%s not); set '
                          'verify_min_ready_apiservers: %d if that is expected'
                          % (phase, len(ready), len(control_plane), ', '.join(missing), len(ready)))
    holders = [lb['host'] for lb in lbs if lb.get('holds')]
    bgp = settings.get('mode') == 'bgp'
    if bgp:  # every load balancer that can serve announces; no VRRP, no segment
        expected = ''
        _bgp_violations(lbs, holders, violations, notes)
    else:
        expected = _vip_violations(lbs, vip, holders, preempt, violations, notes,
                                   settings.get('by_priority'))
        _vrrp_violations(lbs, holders, violations)
        _wire_violations(lbs, holders, settings.get('vrid'), violations, notes)
    vips = list(settings.get('vips') or [])
    for lb in lbs if not bgp else []:
        held = lb.get('held_vips')
        if lb['host'] in holders and held is not None and len(vips) > 1 and \
                sorted(held) != sorted(vips):
            violations.append('%s holds %s but not %s: the VIPs of a dual-stack endpoint ride '
                              'on one VRRP instance and must sit together'
                              % (lb['host'], ', '.join(held),
                                 ', '.join(v for v in vips if v not in held)))
    excused = [h for h in control_plane if h not in ready] if allowed else []
    _haproxy_violations(lbs, control_plane, violations, excused)
    _leftover_violations(lbs, violations)
    if api is not None:
        _api_violations(api, control_plane, ready, phase, allowed, violations, notes)
    table = (_bgp_table if bgp else _table)(lbs, holders, len(control_plane))
    table.append('phase: %s (%d/%d apiservers ready)' % (phase, len(ready), len(control_plane)))
    return dict(violations=violations, notes=notes, holders=holders, expected_holder=expected,
                phase=phase, ready=ready, table=table)


def endpoint_phase(ready, control_plane):
    """phase_of, as a filter: ready | kubeha.control_plane.endpoint_phase(control_plane)."""
    return phase_of(list(control_plane or []), list(ready or []))


class FilterModule(object):
    def filters(self):
        return {'endpoint_report': endpoint_report, 'endpoint_phase': endpoint_phase}
