"""Helpers shared by the lab's testinfra tests (docker:// hosts)."""
import time

import pytest
import testinfra

VIP = '10.213.0.100'
PORT = 6443
LBS = ['lb1', 'lb2']
CPS = ['cp1', 'cp2', 'cp3']
CLIENT = 'client'


def node(name):
    return testinfra.get_host('docker://' + name)


def holders(lbs=LBS, vip=VIP):
    return [lb for lb in lbs if node(lb).run('ip -o addr show to %s' % vip).stdout.strip()]


def wait_for(probe, predicate, timeout=30.0, interval=0.2):
    """Poll probe() until predicate(value) holds or timeout; return the last value."""
    deadline = time.monotonic() + timeout
    value = probe()
    while not predicate(value) and time.monotonic() < deadline:
        time.sleep(interval)
        value = probe()
    return value


def answering_nodes(count=30, vip=VIP, port=PORT, path='/healthz'):
    """X-Kubeha-Node of `count` requests through the VIP, one TLS connection each."""
    cmd = ('for i in $(seq %d); do curl -sk --max-time 3 -o /dev/null -D - '
           'https://%s:%d%s | tr -d "\\r" | sed -n "s/^[Xx]-[Kk]ubeha-[Nn]ode: //p"; done'
           % (count, vip, port, path))
    return node(CLIENT).check_output(cmd).split()


@pytest.fixture
def client():
    return node(CLIENT)
