"""Planned work with clients watching: a probe on the client opens a new TLS
connection to the VIP every 10 ms (and holds two long-lived streams) while the
real playbooks run against the lab (default scenario, inventory/lab)."""
import os

import pytest

from conftest import Probe, failures_of, requests_of, run_playbook, settled, vip_moves

pytestmark = pytest.mark.skipif(os.environ.get('KUBEHA_SCENARIO') != 'default',
                                reason='runs against inventory/lab (default scenario)')


def test_rolling_config_change_fails_no_request_and_breaks_no_stream():
    settled()
    probe = Probe('rolling')
    try:
        run_playbook('site.yml', '-e', 'haproxy_timeout_client=5h', '-e', 'haproxy_timeout_server=5h')
    finally:
        run_playbook('site.yml')  # and back: a second rolling change
        records = probe.stop()
    assert len(requests_of(records)) > 1000
    assert failures_of(records) == []
    assert [r for r in records if r['type'] == 'stream_break'] == []


def test_control_plane_maintenance_fails_no_request():
    settled()
    probe = Probe('maintenance-cp')
    try:
        run_playbook('playbooks/maintenance.yml', '-e', 'maintenance_target=cp2')
    finally:
        records = probe.stop()
    assert len(requests_of(records)) > 300
    assert failures_of(records) == []


def test_load_balancer_maintenance_loses_only_connections_in_flight_at_a_vip_move():
    """Moving the VIP hands new packets to another host; a TCP connection that is
    mid-way through at that instant has its state on the old one and is reset.
    Every failure must sit at a VIP move, and there must be at most two per move."""
    settled()
    probe = Probe('maintenance-lb')
    try:
        run_playbook('playbooks/maintenance.yml', '-e', 'maintenance_target=lb1')
    finally:
        records = probe.stop()
    moves = vip_moves(probe.started)
    failures = failures_of(records)
    assert len(moves) >= 2  # away and back (preempt)
    assert len(requests_of(records)) > 300
    for failure in failures:
        assert any(move - 1.0 <= failure['t'] <= move + 1.0 for move in moves), (failure, moves)
    assert len(failures) <= 2 * len(moves), failures
