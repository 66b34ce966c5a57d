"""Against the running lab (default scenario): a rogue VRRP speaker on the
segment. A stale node with a copied keepalived.conf (same VRID and VIP,
priority 254, unicast adverts to both load balancers), with the right secret
and with a wrong one: the holder keeps the VIP (check_unicast_src), and
verify fails naming the rogue's address and its MAC answering for the VIP.

Runs once per scenario (the first verify), not again after the side effect."""
import os
import re
import subprocess
import sys
import time

import pytest

from conftest import EP, ROOT, T, ansible_env, docker, holders, node, settled, wait_for

sys.path.insert(0, os.path.join(ROOT, 'bench'))
import rogue as R  # noqa: E402  bench/rogue.py: the one home of the rogue

pytestmark = pytest.mark.skipif(os.environ.get('KUBEHA_SCENARIO') != 'default',
                                reason='runs against inventory/lab (default scenario)')
MARK = (os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'rogue-tested')
        if os.environ.get('MOLECULE_EPHEMERAL_DIRECTORY') else None)


@pytest.fixture(scope='module')
def rogue():
    if MARK and os.path.exists(MARK):
        pytest.skip('ran in this scenario\'s first verify')
    lb = T['lbs'][0]
    network = docker('inspect', '-f', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}', lb).split()[0]
    address = R.free_address(EP['vip_cidr'], list(EP['addresses'].values()) + [T['vip']])
    mac = R.create(network, address)
    # The holder's own file, as a stale node would have it.
    copied = R.copied_settings(node(lb).check_output('cat /etc/keepalived/keepalived.conf'))
    yield dict(address=address, secret=copied['secret'], mac=mac, copied=copied)
    R.remove()
    # Clients that learnt the rogue's MAC for the VIP forget it (the holder's
    # ARP refresh would correct them within keepalived_garp_master_refresh).
    for host in [T['client']] + T['cps']:
        node(host).run('ip neigh flush to %s' % T['vip'])
    subprocess.run(['ip', 'neigh', 'flush', 'to', T['vip']], capture_output=True)  # this controller too
    if MARK:
        open(MARK, 'w').close()


def start(rogue, secret):
    R.start(R.config(rogue['address'], [EP['addresses'][lb] for lb in T['lbs']], EP['vrid'], EP['vip_cidr'],
                     version=rogue['copied']['version'], advert_int=rogue['copied']['advert_int'], secret=secret))


def stop():
    R.stop()
    wait_for(R.running, lambda up: not up, timeout=15)


def rogue_holds():
    return R.holds(T['vip'])


def playbook(name, *args):
    env = ansible_env(ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0')  # molecule may force colour on
    result = subprocess.run(['ansible-playbook', '-i', os.path.join(ROOT, 'inventory', 'lab'),
                             os.path.join(ROOT, name)] + list(args),
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    return result.returncode, ' '.join((result.stdout + result.stderr).split())


def verify_output():
    return playbook('playbooks/verify.yml', '-e', 'verify_settle_seconds=0')


def holder_keeps_the_vip(holder, seconds):
    """The holder has the VIP at every sample; returns how often each other load
    balancer entered MASTER meanwhile (from its journal)."""
    since = docker('exec', holder[0], 'date', '+%Y-%m-%d %H:%M:%S').strip()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert holder[0] in holders(), 'the holder lost the VIP while the rogue spoke'
        time.sleep(0.25)
    return dict((lb, int(node(lb).run('journalctl -u keepalived --since "%s" | grep -c "Entering MASTER STATE"'
                                      % since).stdout.strip() or 0))
                for lb in T['lbs'] if lb != holder[0])


@pytest.mark.parametrize('secret', ['copied', 'wrong'])
def test_a_rogue_speaker_does_not_take_the_vip_and_verify_names_it(rogue, secret):
    holder = settled()
    start(rogue, rogue['secret'] if secret == 'copied' else 'wrong12')
    try:
        # The rogue hears no adverts (the load balancers unicast to each other), so
        # it goes MASTER and puts the VIP on its own interface: the stale node's harm.
        assert wait_for(rogue_holds, bool, timeout=20), 'the rogue never came up'
        # eight of its adverts at priority 254. keepalived 2.2.7 ignores them (check_unicast_src)
        # but shortens the backup's master-down timer for each: the backup may enter MASTER for
        # a moment (docs/security.md); the holder keeps the VIP throughout.
        holder_keeps_the_vip(holder, 8)
        states = dict((lb, node(lb).run('cat %s/%s.state' % (T['state_dir'], T['instance'])).stdout)
                      for lb in T['lbs'])
        assert 'MASTER' in states[holder[0]], states
        rc, out = verify_output()
        assert rc != 0, out[-3000:]
        assert 'speaks VRRP for its VRID %d: %s (priority 254' % (EP['vrid'], rogue['address']) in out, out[-4000:]
        assert re.search(r'is answered for \(ARP\) by [0-9a-f:, ]*%s' % rogue['mac'], out), out[-4000:]
    finally:
        stop()
    assert not rogue_holds()
    assert holders() == holder


def chain(lb):
    return node(lb).run('iptables -S KUBEHA-VRRP')


def test_the_vrrp_firewall_drops_the_rogue_and_leaves_nothing_when_turned_off(rogue):
    """keepalived_vrrp_firewall: VRRP only from the other load balancer, the rogue's
    adverts dropped (and still named by verify); turned off, the chain, its jump and
    its unit are gone."""
    holder = settled()
    rc, out = playbook('site.yml', '-e', 'keepalived_vrrp_firewall=true')
    assert rc == 0, out[-3000:]
    for lb in T['lbs']:
        peers = [EP['addresses'][other] for other in T['lbs'] if other != lb]
        assert chain(lb).stdout.split('\n')[:-1] == ['-N KUBEHA-VRRP'] + [
            '-A KUBEHA-VRRP -s %s/32 -j ACCEPT' % p for p in peers] + ['-A KUBEHA-VRRP -j DROP']
        assert node(lb).check_output('iptables -S INPUT').count('-j KUBEHA-VRRP') == 1
        assert node(lb).service('kubeha-vrrp-firewall').is_enabled
    assert settled() == holder  # the peers' adverts still pass
    start(rogue, rogue['secret'])
    try:
        assert wait_for(rogue_holds, bool, timeout=20), 'the rogue never came up'
        dropped = wait_for(lambda: node(holder[0]).check_output(
            "iptables -L KUBEHA-VRRP -v -n -x | awk '$3 == \"DROP\" {print $1}'"), lambda n: int(n or 0) > 0, timeout=10)
        assert int(dropped) > 0, 'the rogue\'s adverts were not dropped'
        flaps = holder_keeps_the_vip(holder, 10)
        assert not any(flaps.values()), 'a backup entered MASTER although the rogue is dropped: %s' % flaps
        rc, out = verify_output()
        assert rc != 0 and 'speaks VRRP for its VRID %d: %s' % (EP['vrid'], rogue['address']) in out, out[-4000:]
    finally:
        stop()
    rc, out = playbook('site.yml')
    assert rc == 0, out[-3000:]
    for lb in T['lbs']:
        assert chain(lb).rc != 0, chain(lb).stdout
        assert 'KUBEHA-VRRP' not in node(lb).check_output('iptables -S INPUT')
        assert not node(lb).file('/etc/systemd/system/kubeha-vrrp-firewall.service').exists
    assert holders() == holder


def test_a_vrid_another_router_speaks_is_refused_before_a_first_converge(rogue):
    """Nobody of ours holds the VIP (as before a first converge: keepalived stopped on
    every load balancer) and another router speaks the cluster's VRID: site.yml
    refuses, naming it, and changes nothing; once it is gone, site.yml converges."""
    settled()
    fingerprint = 'sha256sum /etc/keepalived/keepalived.conf /etc/haproxy/haproxy.cfg'
    for lb in T['lbs']:
        node(lb).check_output('systemctl stop keepalived')
    before = dict((lb, node(lb).check_output(fingerprint)) for lb in T['lbs'])
    start(rogue, 'other12')
    try:
        assert wait_for(rogue_holds, bool, timeout=20), 'the rogue never came up'
        rc, out = playbook('site.yml')
        assert rc != 0, out[-3000:]
        assert 'The VRID is taken; no host was changed' in out, out[-3000:]
        assert 'keepalived_vrid %d is already spoken on eth0 by %s (priority 254' % (
            EP['vrid'], rogue['address']) in out, out[-3000:]
        for lb in T['lbs']:
            assert node(lb).check_output(fingerprint) == before[lb]
            assert not node(lb).service('keepalived').is_running  # nothing was started either
    finally:
        stop()
    rc, out = playbook('site.yml')
    assert rc == 0, out[-3000:]
    assert settled()
