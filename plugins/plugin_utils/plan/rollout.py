# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The order in which a rolling change reaches the load balancers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def rollout(plan, holders, pending=None, joining=(), switching=()):
    """The order and batch sizes in which to change the load balancers.

    ``holders`` lists the load balancers that hold their cluster's VIP now;
    ``pending``, when given, the ones with something to change (the others
    are left out); ``joining``, those whose keepalived is not running. Within
    a cluster, the running backups go first and the holder last, one load
    balancer at a time; then the joining ones, together. A joining host must
    come last: until the holder knows it as a unicast peer, it hears no
    adverts, and would take the VIP after three missed ones. The clusters go
    side by side. A cluster whose VIP nobody holds (a first converge) has
    nothing to protect: all its load balancers at once, pending or not. In BGP
    mode every load balancer serves: one at a time, in inventory order.
    ``switching`` lists those whose other VIP mode's announcer still runs (a
    switch of kubeha_vip_mode): their cluster goes one at a time, the lowest
    priority first, so the old VIP is served by the ones not yet switched (a
    VRRP holder last: it never moves) and the new one by those switched.
    Returns (hosts in order, [batch size, ...]).
    """
    ranks = []
    for name in plan['clusters']:
        ep = plan['endpoints'][name]
        lbs = list(ep['load_balancers'])
        held = [h for h in lbs if h in holders]
        moving = [h for h in lbs if h in switching]
        if not held and not moving:
            ranks.append([lbs])
            continue
        todo = [h for h in lbs if pending is None or h in pending]
        if moving:  # a mode switch: one at a time, the old mode's holder last
            ranks.append([[h] for h in reversed(ep.get('by_priority') or lbs) if h in todo])
            continue
        if ep.get('serves') == 'every':  # every one serves (BGP): one at a time, each drained first
            ranks.append([[h] for h in todo])
            continue
        backups = [h for h in reversed(ep['by_priority']) if h not in held and h in todo and h not in joining]
        ranks.append([[h] for h in backups] + [[h for h in held if h in todo]]
                     + [[h for h in lbs if h in todo and h in joining and h not in held]])
    depth = max([len(r) for r in ranks] or [0])
    order, batches = [], []
    for level in range(depth):
        batch = [h for r in ranks if level < len(r) for h in r[level]]
        if batch:
            order += batch
            batches.append(len(batch))
    return order, batches


def leaders(plan, hosts):
    """{leader: [its cluster's load balancers among hosts]}: per cluster, the
    first of its load balancers in ``hosts`` (the play's, so --limit counts),
    which runs what is checked once per cluster. A cluster with none of its
    load balancers in ``hosts`` has no leader."""
    out = {}
    for name in plan['clusters']:
        lbs = [h for h in plan['endpoints'][name]['load_balancers'] if h in hosts]
        if lbs:
            out[lbs[0]] = lbs
    return out


def holders(results, key='held_vips'):
    """The hosts whose drift or vip_holder result ({host: result}) says they hold
    a VIP (or whose ``key`` is set: an announcer's serving.yml says ``ready``)."""
    return [host for host, result in results.items() if (result or {}).get(key)]


def serving(plan, drift):
    """The load balancers of a mode in which every one serves (BGP) whose
    announcer runs ({host: drift result}): they may announce the VIP, so a
    rollout drains them one at a time."""
    out = []
    for host, result in drift.items():
        ann = plan['hosts'][host]['announcer']
        if ann['serves'] == 'every' and ann['unit'] not in ((result or {}).get('inactive_services') or []):
            out.append(host)
    return out


def steps(plan, drift, check_mode=False):
    """{host: the steps its change takes}, read by site.yml's batches: ``drain``,
    take it out of the path first (its announcer's drain.yml), where every load
    balancer serves, it serves now, and the change interrupts serving (a
    package to install, or a file of the announcer's ``drain_paths``: a reload
    of haproxy.cfg keeps serving, as in VRRP mode, where the holder is reloaded
    in place); ``rejoin``, wait after the roles until it serves again and end
    the hand-off a drain turned on (rejoin.yml), before the next batch. Check
    mode changes nothing, so takes neither."""
    out = {}
    running = serving(plan, drift)
    for host, result in drift.items():
        ann, result = plan['hosts'][host]['announcer'], result or {}
        rolling = ann['serves'] == 'every' and not check_mode
        interrupts = bool(result.get('missing_packages')) or bool(
            set(result.get('differing_paths') or []) & set(ann['drain_paths']))
        out[host] = dict(drain=rolling and host in running and interrupts, rejoin=rolling)
    return out


def from_drift(plan, drift, check_mode=False):
    """site.yml's rollout from each load balancer's drift result ({host: result}).

    The load balancers with something to change (every one in check mode, to
    show what would change) are ordered by ``rollout``; those with nothing to
    change are left out, so they run no task at all. Returns order (the hosts
    to change, in order; empty when nothing differs), batches (for
    ``serial``) and steps (``steps``: what each one's change takes).
    """
    hosts = list(drift)
    pending = hosts if check_mode else [h for h in hosts if not (drift[h] or {}).get('converged')]
    joining = [h for h in hosts if plan['hosts'][h]['announcer']['serves'] == 'one'
               and plan['hosts'][h]['announcer']['unit'] in ((drift[h] or {}).get('inactive_services') or [])]
    switching = [h for h in hosts if any(f.get('kind') == 'unit' and 'active' in f.get('detail', '').split()
                                         for f in (drift[h] or {}).get('leftovers') or [])]
    order, batches = rollout(plan, holders(drift) + serving(plan, drift), pending, joining, switching)
    return dict(order=order, batches=batches, steps=steps(plan, drift, check_mode))
