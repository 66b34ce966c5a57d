"""Crash case: the VIP holder's container is killed outright (no graceful stop,
no priority-0 advert). The VIP must move within 3 x advert_int + skew plus a
generous margin, the API must answer through it, and the node must come back."""
import time

import pytest

from conftest import (TAKEOVER_BOUND, T, answering_nodes, docker, healthz_via_vip, holders, single_holder,
                      wait_booted, wait_for)

# VRRP: one holder at a time (BGP mode: test_bgp.py)
pytestmark = pytest.mark.skipif(T.get('mode') == 'bgp', reason='VRRP mode only')


def test_killing_the_holder_container_moves_the_vip():
    first = single_holder()
    assert len(first) == 1
    first = first[0]
    try:
        docker('kill', first)
        started = time.monotonic()
        survivors = [lb for lb in T['lbs'] if lb != first]  # docker exec fails on the dead one
        moved = wait_for(lambda: holders(survivors), lambda h: len(h) == 1, timeout=TAKEOVER_BOUND)
        elapsed = time.monotonic() - started
        assert len(moved) == 1 and moved[0] != first, moved
        assert elapsed <= TAKEOVER_BOUND
        assert wait_for(lambda: healthz_via_vip().stdout, lambda out: out == 'ok', timeout=20) == 'ok'
    finally:
        docker('start', first)
        wait_booted(first)
    expected = [first] if T['preempt'] else moved
    assert wait_for(holders, lambda h: h == expected, timeout=60) == expected
    if first in T['cps']:  # co-located: its apiserver stand-in must be back in rotation too
        assert wait_for(lambda: healthz_via_vip('/readyz').stdout, lambda o: o == 'ok', timeout=30) == 'ok'
        assert first in wait_for(lambda: answering_nodes(12), lambda seen: first in seen, timeout=60, interval=1)

