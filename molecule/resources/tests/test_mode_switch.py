"""Against the running lab (default scenario): kubeha_vip_mode switched from
VRRP to BGP and back, with the client made a BGP router (FRR, AS 65000) on
the load balancers' segment. Each switch retires the old announcer whole (its
units, files, routes, devices and rules); verify fails while a leftover
exists; a BGP change that fails after its drain ends the hand-off it turned on.
"""
import os
import subprocess

import pytest
import yaml

from conftest import ROOT, T, ansible_env, node, wait_for

pytestmark = pytest.mark.skipif(os.environ.get('KUBEHA_SCENARIO') != 'default',
                                reason='runs against inventory/lab (default scenario)')
LAB = os.path.join(ROOT, 'inventory', 'lab')
BGP_VIP = '10.213.200.10'  # outside the segment: the router routes it to the load balancers
ROUTER = '''frr defaults datacenter
hostname client
service integrated-vtysh-config
!
router bgp 65000
 bgp router-id {client}
 no bgp ebgp-requires-policy
 bgp bestpath as-path multipath-relax
{neighbors}
 address-family ipv4 unicast
  maximum-paths 8
 exit-address-family
exit
'''
VRRP_LEFT = 'systemctl is-active keepalived kubeha-vrrp-exporter kubeha-healthcheck.timer; ' \
            'ls /etc/keepalived/keepalived.conf /usr/local/libexec/kubeha/vrrp-notify 2>/dev/null; ' \
            'ip -o addr show to %s' % T['vip']
BGP_LEFT = 'systemctl is-active frr kubeha-bgp-gate kubeha-bgp-exporter; systemctl is-enabled frr 2>/dev/null; ' \
           'ls /usr/local/libexec/kubeha/bgp-gate /etc/kubeha/bgp-gate.json 2>/dev/null; ' \
           'ip route show table all proto static; ip -o link show kubeha-handoff 2>/dev/null; ' \
           'iptables -t mangle -S | grep KUBEHA'


def playbook(inventory, name, *args):
    env = ansible_env(ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0')
    result = subprocess.run(['ansible-playbook', '-i', inventory, os.path.join(ROOT, name)] + list(args),
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    return result.returncode, result.stdout + result.stderr


def left(command):
    """What each load balancer still has of a mode: the lines that say active, or name something."""
    out = {}
    for lb in T['lbs']:
        lines = [line for line in node(lb).run(command).stdout.splitlines()
                 if line.strip() and line.strip() not in ('inactive', 'disabled', 'failed')]
        if lines:
            out[lb] = lines
    return out


def router_paths():
    return node(T['client']).run('ip route show %s' % BGP_VIP).stdout.count('via ')


@pytest.fixture(scope='module')
def bgp_inventory(tmp_path_factory):
    """The lab's inventory in BGP mode: the VRRP settings out, the client as the router."""
    work = tmp_path_factory.mktemp('bgp-inventory')
    settings = yaml.safe_load(open(os.path.join(LAB, 'group_vars', 'all.yml')))
    settings = dict((k, v) for k, v in settings.items() if not k.startswith('keepalived_'))
    client = T['client']
    address = node(client).check_output("ip -o -4 addr show eth0 | awk '{print $4}'").split('/')[0]
    settings.update(kubeha_vip_mode='bgp', kubeha_vip=BGP_VIP, bgp_asn=65101, bgp_bfd=False,
                    bgp_peers=[{'address': address, 'asn': 65000, 'name': client}],
                    verify_from_controller='never')  # the controller is not behind the router
    (work / 'group_vars').mkdir()
    (work / 'group_vars' / 'all.yml').write_text(yaml.safe_dump(settings))
    (work / 'hosts.yml').write_text(open(os.path.join(LAB, 'hosts.yml')).read())
    lbs = [node(lb).check_output("ip -o -4 addr show eth0 | awk '{print $4}'").split('/')[0] for lb in T['lbs']]
    conf = ROUTER.format(client=address, neighbors='\n'.join(' neighbor %s remote-as 65101' % a for a in lbs))
    router = node(client)
    router.check_output('command -v vtysh >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive '
                        'apt-get install -y -qq --no-install-recommends frr >/dev/null; }')
    router.check_output("sed -i 's/^bgpd=no/bgpd=yes/' /etc/frr/daemons && cat > /etc/frr/frr.conf <<'EOF'\n%sEOF\n"
                        'systemctl restart frr' % conf)
    yield str(work)
    router.run('systemctl disable --now frr')


def test_a_switch_to_bgp_and_back_leaves_nothing_of_the_other_mode(bgp_inventory):
    rc, out = playbook(bgp_inventory, 'site.yml')
    assert rc == 0, out[-3000:]
    assert 'Retire what the other VIP mode' in out
    assert left(VRRP_LEFT) == {}  # keepalived, its units, files and the VIP: gone
    assert wait_for(router_paths, lambda n: n == len(T['lbs'])) == len(T['lbs'])
    assert node(T['client']).run('curl -sk --max-time 5 https://%s:%d/healthz' % (BGP_VIP, T['port'])).stdout == 'ok'
    rc, out = playbook(bgp_inventory, 'playbooks/verify.yml')
    assert rc == 0, out[-3000:]
    # a leftover of VRRP (the VIP as an address, as a killed keepalived leaves it) fails verify
    node(T['lbs'][1]).check_output('ip addr add %s/32 dev lo' % BGP_VIP)
    try:
        rc, out = playbook(bgp_inventory, 'playbooks/verify.yml')
        assert rc != 0 and '%s: address %s is still here' % (T['lbs'][1], BGP_VIP) in out, out[-3000:]
    finally:
        node(T['lbs'][1]).run('ip addr del %s/32 dev lo' % BGP_VIP)
    # a change that drains and then fails (the router is gone, so the load balancer
    # never announces again): the hand-off its drain turned on is ended everywhere
    node(T['client']).check_output('systemctl stop frr')
    try:
        rc, out = playbook(bgp_inventory, 'site.yml', '-e', 'bgp_gate_rise=3')
    finally:
        node(T['client']).check_output('systemctl start frr')
    assert rc != 0 and 'the hand-off its drain turned on is ended' in out, out[-3000:]
    assert [lb for lb in T['lbs'] if node(lb).run('ip link show kubeha-handoff').rc == 0] == []
    rc, out = playbook(LAB, 'site.yml')
    assert rc == 0, out[-3000:]
    assert left(BGP_LEFT) == {}  # FRR, the gate, its routes, the exporter, the hand-off: gone
    assert wait_for(router_paths, lambda n: n == 0) == 0
    rc, out = playbook(LAB, 'site.yml')
    assert rc == 0 and 'changed=0' in out and 'changed=1' not in out, out[-3000:]
    rc, out = playbook(LAB, 'playbooks/verify.yml')
    assert rc == 0, out[-3000:]
