"""Shared testinfra helpers for every scenario. T says what the scenario built,
read from its inventory through the plan (lab/topology.py)."""
import json
import os
import subprocess
import sys
import time

import pytest
import testinfra

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
sys.path.insert(0, os.path.join(ROOT, 'lab'))
from topology import ansible_env, inventory_data, inventory_plan  # noqa: E402
from ansible_collections.kubeha.control_plane.plugins.module_utils.haproxy_stat import parse_show_stat  # noqa: E402

# The scenario's own inventory (molecule's), read through the plan: names,
# addresses, VIP, port, priorities and preempt are written only there.
INVENTORY = os.path.dirname(os.environ['MOLECULE_INVENTORY_FILE']) if os.environ.get(
    'MOLECULE_INVENTORY_FILE') else os.path.join(ROOT, 'inventory', 'lab')
PLAN = inventory_plan(INVENTORY)
EP = PLAN['endpoint']
_HOSTVARS = inventory_data(INVENTORY)[0]
T = dict(mode=EP['mode'], lbs=EP['load_balancers'], cps=EP['control_plane'], client=EP['probe_host'],
         vip=EP['vip'], port=EP['port'], preempt=EP['preempt'], priorities=EP['priorities'],
         # VRRP over unicast (BGP mode has no vrrp block)
         unicast=bool(((PLAN['hosts'][EP['load_balancers'][0]]['vrrp'] or {}).get('instance') or {}).get('unicast_peers')),
         health_timer=str(_HOSTVARS[EP['load_balancers'][0]].get('keepalived_health_timer')).lower() == 'true',
         state_dir=EP['state_dir'], instance=EP['instance'],
         socket=PLAN['hosts'][EP['load_balancers'][0]]['haproxy']['socket'])
# Keepalived takes over after 3 missed adverts plus skew (the plan's bound).
# Test bounds are generous on purpose; speed is measured by make bench, not here.
TAKEOVER_BOUND = EP['takeover_bound_s'] + 10


def node(name):
    return testinfra.get_host('docker://' + name)


def holders(lbs=None):
    """Load balancers (all, or those given) that have the VIP."""
    return [lb for lb in (T['lbs'] if lbs is None else lbs)
            if node(lb).run('ip -o addr show to %s' % T['vip']).stdout.strip()]


def wait_for(probe, predicate, timeout=30.0, interval=0.2):
    """Poll probe() until predicate(value) holds or timeout; return the last value."""
    deadline = time.monotonic() + timeout
    value = probe()
    while not predicate(value) and time.monotonic() < deadline:
        time.sleep(interval)
        value = probe()
    return value


def single_holder():
    return wait_for(holders, lambda h: len(h) == 1)


def expected_holder():
    """With preempt, the plan's expected holder; without, whoever holds it now."""
    if T['preempt']:
        return EP['expected_holder']
    return single_holder()[0]


def settled(hold=3.0, timeout=60.0):
    """Wait until the VIP has stayed on the expected holder for `hold` seconds, so a
    later measurement does not see a preemption still on its way."""
    want = [expected_holder()]
    deadline = time.monotonic() + timeout
    since = None
    while time.monotonic() < deadline:
        if holders() == want:
            since = since or time.monotonic()
            if time.monotonic() - since >= hold:
                return want
        else:
            since = None
        time.sleep(0.2)
    raise AssertionError('VIP did not settle on %s: %s' % (want, holders()))


def healthz_via_vip(path='/healthz'):
    return node(T['client']).run('curl -sk --max-time 3 https://%s:%d%s' % (T['vip'], T['port'], path))


def answering_nodes(count=30, path='/healthz'):
    """X-Kubeha-Node of `count` requests through the VIP, one TLS connection each."""
    cmd = ('for i in $(seq %d); do curl -sk --max-time 3 -o /dev/null -D - '
           'https://%s:%d%s | tr -d "\\r" | sed -n "s/^[Xx]-[Kk]ubeha-[Nn]ode: //p"; done'
           % (count, T['vip'], T['port'], path))
    return node(T['client']).check_output(cmd).split()


def docker(*args):
    return subprocess.run(['docker'] + list(args), check=True, capture_output=True, text=True).stdout


def wait_booted(name, timeout=90):
    state = wait_for(lambda: node(name).run('systemctl is-system-running').stdout.strip(),
                     lambda s: s in ('running', 'degraded'), timeout=timeout, interval=1)
    assert state in ('running', 'degraded'), '%s did not boot: %s' % (name, state)


@pytest.fixture
def client():
    return node(T['client'])


@pytest.fixture
def topology():
    return json.loads(json.dumps(T))


class Probe(object):
    """bench/probe.py running on the client, against the VIP, until stopped."""

    def __init__(self, name, rate=100, streams=2):
        self.out = '/tmp/%s.jsonl' % name
        self.stop_file = '/tmp/%s.stop' % name
        docker('cp', os.path.join(ROOT, 'bench', 'probe.py'), '%s:/usr/local/bin/kubeha-probe' % T['client'])
        node(T['client']).run('rm -f %s %s' % (self.out, self.stop_file))
        docker('exec', '-d', T['client'], 'python3', '/usr/local/bin/kubeha-probe',
               '--host', T['vip'], '--port', str(T['port']), '--rate', str(rate),
               '--streams', str(streams), '--duration', '600', '--stop-file', self.stop_file,
               '--out', self.out)
        self.started = time.time()

    def stop(self):
        """Stop the probe and return its records."""
        client = node(T['client'])
        client.check_output('touch %s' % self.stop_file)
        wait_for(lambda: client.run('grep -c \'"type": "end"\' %s' % self.out).stdout.strip(),
                 lambda n: n == '1', timeout=30, interval=0.5)
        return [json.loads(line) for line in client.check_output('cat %s' % self.out).splitlines()]


class KubectlProbe(object):
    """bench/kubectl_probe.sh on the client: a real kubectl's view through the VIP."""

    def __init__(self, name):
        self.out = '/tmp/%s.kubectl' % name
        self.stop_file = '/tmp/%s.kubectl-stop' % name
        docker('cp', os.path.join(ROOT, 'bench', 'kubectl_probe.sh'), '%s:/usr/local/bin/kubeha-kubectl-probe' % T['client'])
        node(T['client']).run('rm -f %s %s' % (self.out, self.stop_file))
        docker('exec', '-d', T['client'], 'sh', '/usr/local/bin/kubeha-kubectl-probe', self.out, self.stop_file)

    def stop(self):
        """Stop it and return kubectl's view (bench/analysis.py kubectl_view)."""
        client = node(T['client'])
        client.check_output('touch %s' % self.stop_file)
        wait_for(lambda: client.run('grep -c "^end " %s' % self.out).stdout.strip(),
                 lambda n: n == '1', timeout=30, interval=0.5)
        sys.path.insert(0, os.path.join(ROOT, 'bench'))
        from analysis import kubectl_view
        return kubectl_view(client.check_output('cat %s' % self.out))


def backend_states(lb):
    """{apiserver: status} as the haproxy on ``lb`` sees them (its stats socket)."""
    out = node(lb).run('python3 -c "import socket;s=socket.socket(socket.AF_UNIX);s.connect(\'%s\');'
                       's.sendall(b\'show stat\\n\');print(s.makefile().read())"' % T['socket']).stdout
    try:
        return dict((s['name'], s['status']) for s in parse_show_stat(out.strip('\n'), EP['backend']))
    except ValueError:
        return {}


def requests_of(records):
    return [r for r in records if r['type'] == 'req']


def failures_of(records):
    return [r for r in requests_of(records) if r['outcome'] != 'ok']


def run_playbook(playbook, *args, inventory=os.path.join(ROOT, 'inventory', 'lab')):
    env = ansible_env()
    result = subprocess.run(['ansible-playbook', '-i', inventory,
                             os.path.join(ROOT, playbook)] + list(args),
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return result


def vip_moves(since):
    """Epoch times at which some load balancer became MASTER after `since`."""
    moves = []
    for lb in T['lbs']:
        out = node(lb).run('journalctl -t kubeha-vrrp -o short-unix --no-pager --since @%d' % int(since)).stdout
        moves += [float(line.split()[0]) for line in out.splitlines() if 'is now MASTER' in line]
    return sorted(moves)
