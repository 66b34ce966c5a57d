# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The order in which a rolling change reaches the load balancers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def rollout(plan, holders, pending=None):
    """The order and batch sizes in which to change the load balancers.

    ``holders`` lists the load balancers that hold their cluster's VIP now;
    ``pending``, when given, the ones with something to change (the others
    are left out). Within a cluster, the backups go first and the holder
    last, one load balancer at a time; the clusters go side by side. A
    cluster whose VIP nobody holds (a first converge) has nothing to protect:
    all its load balancers at once, pending or not.
    Returns (hosts in order, [batch size, ...]).
    """
    ranks = []
    for name in plan['clusters']:
        ep = plan['endpoints'][name]
        lbs = list(ep['load_balancers'])
        held = [h for h in lbs if h in holders]
        if not held:
            ranks.append([lbs])
            continue
        todo = [h for h in lbs if pending is None or h in pending]
        backups = [h for h in reversed(ep['by_priority']) if h not in held and h in todo]
        ranks.append([[h] for h in backups] + ([[h for h in held if h in todo]]))
    depth = max([len(r) for r in ranks] or [0])
    order, batches = [], []
    for level in range(depth):
        batch = [h for r in ranks if level < len(r) for h in r[level]]
        if batch:
            order += batch
            batches.append(len(batch))
    return order, batches
