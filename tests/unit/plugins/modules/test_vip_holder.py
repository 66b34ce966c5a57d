"""vip_holder: who holds the VIP, and (settle_s) waiting for an election that may still run
here, against a stand-in `ip` whose answer the test changes while the module waits."""
import json
import os
import threading
import time

import pytest

from ansible_collections.kubeha.control_plane.plugins.modules import vip_holder

VIP = '10.213.0.100'


def addresses(*extra):
    infos = [{'family': 'inet', 'local': '10.213.0.11', 'prefixlen': 24}]
    infos += [{'family': 'inet', 'local': address, 'prefixlen': 32} for address in extra]
    return json.dumps([{'ifname': 'eth0', 'addr_info': infos}])


@pytest.fixture
def host(tmp_path, monkeypatch):
    """(file the stand-in `ip -j addr show` prints, keepalived's state directory)."""
    answer = tmp_path / 'addr.json'
    answer.write_text(addresses())
    binary = tmp_path / 'bin' / 'ip'
    binary.parent.mkdir()
    binary.write_text('#!/bin/sh\ncat %s\n' % answer)
    os.chmod(str(binary), 0o755)
    monkeypatch.setenv('PATH', '%s:%s' % (binary.parent, os.environ['PATH']))
    state_dir = tmp_path / 'state'
    state_dir.mkdir()
    return answer, state_dir


def backup_since(state_dir, seconds_ago):
    (state_dir / 'VI_1.state').write_text('BACKUP 101 %f\n' % (time.time() - seconds_ago))


def ask(run_module, state_dir, settle_s):
    started = time.time()
    result = run_module(vip_holder, {'vips': [VIP], 'state_dir': str(state_dir), 'services': [],
                                     'settle_s': settle_s})
    return result, time.time() - started


def test_answers_when_the_vip_arrives_during_the_election(host, run_module):
    answer, state_dir = host
    backup_since(state_dir, 0)  # keepalived has just started here
    arrives = threading.Timer(0.5, lambda: answer.write_text(addresses(VIP)))
    arrives.start()
    try:
        result, took = ask(run_module, state_dir, 8)
    finally:
        arrives.cancel()
    assert result['held_vips'] == [VIP] and result['vrrp']['VI_1']['state'] == 'BACKUP'
    assert 0.5 <= took < 6  # it waited for the VIP, and not for the whole settle_s


def test_a_settled_backup_answers_at_once(host, run_module):
    _answer, state_dir = host
    backup_since(state_dir, 60)  # a backup for a minute: a master speaks
    result, took = ask(run_module, state_dir, 8)
    assert result['held_vips'] == [] and took < 6


def test_a_backup_that_stays_one_is_answered_after_settle_s(host, run_module):
    _answer, state_dir = host
    backup_since(state_dir, 0)
    result, took = ask(run_module, state_dir, 0.5)
    assert result['held_vips'] == [] and took >= 0.5


def test_without_settle_s_it_never_waits(host, run_module):
    _answer, state_dir = host
    backup_since(state_dir, 0)
    result, took = ask(run_module, state_dir, 0)
    assert result['held_vips'] == [] and result['vrrp']['VI_1']['priority'] == 101 and took < 6
