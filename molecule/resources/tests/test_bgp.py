"""BGP mode (molecule scenario bgp): the load balancers on two subnets behind an
FRR router announce the VIP; clients reach it only through the router's
paths. Test bounds are generous; make bench measures the figures."""
import json
import os
import subprocess
import time

import pytest

from conftest import (EP, INVENTORY, ROOT, T, Probe, ansible_env, docker, failures_of, node, requests_of, run_playbook,
                      wait_for)

pytestmark = pytest.mark.skipif(os.environ.get('KUBEHA_SCENARIO') != 'bgp', reason='BGP scenario only')
ROUTER = 'bgp-router'


def next_hops():
    """The router's next hops for the VIP, as its kernel has them."""
    routes = json.loads(node(ROUTER).check_output('ip -j route show %s' % T['vip']) or '[]')
    hops = []
    for route in routes:
        hops += [h['gateway'] for h in route.get('nexthops') or []] + ([route['gateway']] if 'gateway' in route else [])
    return sorted(hops)


def lb_addresses():
    return sorted(EP['addresses'][lb] for lb in T['lbs'])


def all_announce(timeout=60):
    return wait_for(next_hops, lambda hops: hops == lb_addresses(), timeout=timeout)


def test_the_router_has_a_path_through_every_load_balancer_with_bfd_up():
    assert all_announce() == lb_addresses()
    peers = json.loads(node(ROUTER).check_output("vtysh -c 'show bfd peers json'"))
    assert sorted(p['peer'] for p in peers if p['status'] == 'up') == lb_addresses()


def test_each_load_balancers_exporter_says_what_the_router_sees():
    all_announce()
    for lb in T['lbs']:
        listen = node(lb).check_output("systemctl show -p ExecStart kubeha-bgp-exporter.service")
        text = node(lb).check_output('curl -s --max-time 5 http://%s/metrics' % listen.split('--listen ')[1].split()[0])
        samples = dict(line.rsplit(' ', 1) for line in text.splitlines() if line and not line.startswith('#'))
        assert samples['kubeha_bgp_announced'] == '1', (lb, text)
        assert samples['kubeha_bgp_gate_up'] == '1' and samples['kubeha_bgp_gate_announcing'] == '1'
        sessions = [k for k in samples if k.startswith('kubeha_bgp_session_up{')]
        assert sessions and all(samples[k] == '1' for k in sessions), text
        assert all(samples[k.replace('session_up', 'bfd_up')] == '1' for k in sessions), text
        assert any(k.startswith('kubeha_bgp_prefix_advertised{') and k.endswith('prefix="%s/32"}' % T['vip'])
                   and v == '1' for k, v in samples.items()), text


def test_the_api_answers_through_the_router_from_both_load_balancers():
    seen = set()
    for _ in range(40):
        out = node(T['client']).check_output(
            'curl -sk --max-time 3 -o /dev/null -w "%%{http_code}" https://%s:%d/healthz' % (T['vip'], T['port']))
        assert out == '200'
    for lb in T['lbs']:  # the router's L4 hash spread the connections over both
        stats = node(lb).check_output('echo "show stat" | python3 -c "import socket,sys;s=socket.socket(socket.AF_UNIX);'
                                      's.connect(\'%s\');s.sendall(b\'show stat\\n\');print(s.makefile().read())"'
                                      % T['socket'])
        row = [line for line in stats.splitlines() if line.startswith('kube-apiserver,FRONTEND,')]
        if row and int(row[0].split(',')[7]) > 0:
            seen.add(lb)
    assert seen == set(T['lbs'])


def test_a_frozen_load_balancer_is_dropped_by_bfd_and_costs_few_requests():
    all_announce()
    probe = Probe('bgp-freeze')
    try:
        time.sleep(3)
        docker('pause', T['lbs'][0])
        hops = wait_for(next_hops, lambda h: len(h) == 1, timeout=15)
        time.sleep(3)
    finally:
        docker('unpause', T['lbs'][0])
        records = probe.stop()
    assert hops == [a for a in lb_addresses() if a != EP['addresses'][T['lbs'][0]]], hops
    assert len(requests_of(records)) > 500
    # BFD drops the path after 3 x 300 ms (default profile). A frozen host's kernel
    # still completes TCP handshakes, so the connections hashed to it until then
    # time out in TLS: about 45 at 100 requests/s (make bench measures it), never hundreds
    assert len(failures_of(records)) <= 100, failures_of(records)[:5]
    assert all_announce() == lb_addresses()  # back once it thaws


def test_a_rolling_change_drains_only_what_restarts_the_gate_and_loses_only_connections_in_flight():
    """A change of haproxy.cfg alone is a reload on each load balancer in turn:
    no withdrawal (as in VRRP mode). A change of the gate's settings restarts
    the gate: each load balancer is withdrawn, changed and announced again, one
    at a time. The router's ECMP (hash-threshold, as FRR 8.4 installs it) moves
    the flows of a withdrawn next hop, and half of the others when one returns;
    the hand-off between the load balancers, on for each drain, takes the
    connections mid-way at those instants to the load balancer that holds them
    (without it, about one per path change was reset: make bench)."""
    all_announce()
    probe = Probe('bgp-rolling', streams=0)
    try:
        reload_only = run_playbook('site.yml', '-e', 'haproxy_timeout_client=5h', '-e', 'haproxy_timeout_server=5h',
                                   inventory=INVENTORY).stdout
        drained = run_playbook('site.yml', '-e', 'bgp_gate_rise=3', inventory=INVENTORY).stdout
    finally:
        back = run_playbook('site.yml', inventory=INVENTORY).stdout  # and back: a third rolling change
        records = probe.stop()
    assert 'withdrawn;' not in reload_only and 'changed: [%s]' % T['lbs'][0] in reload_only
    for out in (drained, back):
        assert all('%s withdrawn;' % lb in out for lb in T['lbs']), out[-3000:]
    failures = failures_of(records)
    assert len(requests_of(records)) > 1000
    assert len(failures) <= 1, failures
    assert all(f['outcome'] in ('tls', 'reset', 'refused', 'http_None', 'timeout') for f in failures), failures
    assert all_announce() == lb_addresses()


def test_connections_in_flight_on_a_load_balancer_in_maintenance_survive_its_withdrawal(tmp_path):
    """maintenance.yml turns the hand-off between the load balancers on before
    the withdrawal: the router then sends the target's connections to the
    other load balancer, which hands their packets back to the target, and the
    target answers them. Without it they are reset (the other one holds no
    connection for them). Connections held open through the withdrawal, then
    used, all answer; the hand-off is gone afterwards."""
    all_announce()
    target, client, count = T['lbs'][0], node(T['client']), 16
    client_ip = client.check_output("ip -4 -o addr show dev eth0 | awk '{print $4}'").split('/')[0]
    docker('cp', os.path.join(os.path.dirname(__file__), 'held_connections.py'),
           '%s:/usr/local/bin/kubeha-held' % T['client'])
    client.run('rm -f /tmp/kubeha-held-go /tmp/kubeha-held.out')
    docker('exec', '-d', T['client'], 'sh', '-c', 'python3 /usr/local/bin/kubeha-held %s %d %d /tmp/kubeha-held-go '
           '> /tmp/kubeha-held.out 2>&1' % (T['vip'], T['port'], count))
    ports = wait_for(lambda: (client.run('head -1 /tmp/kubeha-held.out').stdout.split()),
                     lambda p: len(p) == count, timeout=30)
    held = node(target).check_output("ss -Htn state established '( sport = :%d )'" % T['port'])
    on_target = [p for p in ports if '%s:%s' % (client_ip, p) in held]
    assert on_target, 'none of %d connections went to %s: %s' % (count, target, held)
    go, tasks = tmp_path / 'go', tmp_path / 'wait.yml'
    tasks.write_text('- name: Wait for the test (the load balancer is withdrawn meanwhile)\n'
                     '  ansible.builtin.wait_for: {path: %s, timeout: 300}\n'
                     '  delegate_to: localhost\n  become: false\n' % go)
    maintenance = subprocess.Popen(
        ['ansible-playbook', '-i', INVENTORY, os.path.join(ROOT, 'playbooks', 'maintenance.yml'),
         '-e', 'maintenance_target=%s' % target, '-e', 'maintenance_tasks_file=%s' % tasks],
        cwd=ROOT, env=ansible_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        others = [a for a in lb_addresses() if a != EP['addresses'][target]]
        assert wait_for(next_hops, lambda h: h == others, timeout=120) == others  # the target is withdrawn
        client.run('touch /tmp/kubeha-held-go')
        answers = wait_for(lambda: client.run('tail -n +2 /tmp/kubeha-held.out').stdout.split('\n'),
                           lambda a: len([x for x in a if x]) == count, timeout=30)
    finally:
        go.write_text('go')
        out, _err = maintenance.communicate(timeout=600)
    status = dict(line.split(' ', 1) for line in answers if line)
    assert all(status[p].startswith('HTTP/1.1 200') for p in ports), (on_target, status)
    assert maintenance.returncode == 0, out[-3000:]
    for lb in T['lbs']:
        assert 'kubeha-handoff' not in node(lb).check_output('ip -br link'), lb
        assert 'KUBEHA-HANDOFF' not in node(lb).check_output('iptables -t mangle -S'), lb
    assert all_announce() == lb_addresses()
