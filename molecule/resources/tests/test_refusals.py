"""Against the running lab (default scenario): bad input is refused before any
host changes, including what only the hosts' facts reveal, and an inventory
whose groups have other names works end to end."""
import os
import subprocess

import pytest
import yaml

from conftest import ROOT, T, ansible_env, node

pytestmark = pytest.mark.skipif(os.environ.get('KUBEHA_SCENARIO') != 'default',
                                reason='runs against inventory/lab (default scenario)')
WATCHED = '/etc/haproxy /etc/keepalived'


def fingerprint():
    """Every file under the config directories of every load balancer, with its checksum."""
    return {lb: node(lb).check_output('find %s -type f -print0 | sort -z | xargs -0 sha256sum' % WATCHED)
            for lb in T['lbs']}


def playbook(inventory, name, *args):
    # never coloured: molecule forces colour on (ANSIBLE_FORCE_COLOR) when run from a terminal
    env = ansible_env(ANSIBLE_CALLBACK_RESULT_FORMAT='json', ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0')
    result = subprocess.run(['ansible-playbook', '-i', inventory, os.path.join(ROOT, name)] + list(args),
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    return result.returncode, ' '.join((result.stdout + result.stderr).split())


LAB = os.path.join(ROOT, 'inventory', 'lab')
# The task that computes the plan (roles/kubeha/tasks/plan.yml, the only caller
# of the plan filter), and the one that completes it with the facts.
PLANNED = 'TASK [kubeha.control_plane.kubeha : Compute the plan]'
COMPLETED = "TASK [kubeha.control_plane.kubeha : Complete the plan with the load balancers' facts]"


@pytest.mark.parametrize('extra, message', [
    (['-e', 'keepalived_interface=eno9'],
     "keepalived_interface 'eno9' does not exist on this host (it has eth0, lo)"),
    (['-e', 'keepalived_interface=eth0', '-e', 'kubeha_vip=10.99.0.100'],
     'kubeha_vip 10.99.0.100 is outside the subnets of eth0 (10.213.0.0/24)'),
    (['-e', 'haproxy_timeout_client=forever'], "haproxy_timeout_client 'forever' is not a haproxy time"),
    (['-e', 'keepalived_auth_pass=ninechars'], 'keepalived_auth_pass has 9 characters: use 1-8'),
    (['-e', 'keepalived_advert_int=0.5'], 'keepalived_advert_int 0.5: VRRPv2 needs whole seconds >= 1'),
    # the segment's router (the lab network's gateway), found in the facts' default route
    (['-e', 'kubeha_vip=10.213.0.1/24'], 'kubeha_vip 10.213.0.1 is the default gateway of this host'),
    (['-e', 'kubeha_vip=10.213.0.0/24'], 'kubeha_vip 10.213.0.0 is the network address of 10.213.0.0/24'),
    # a file the inventory names on the load balancers, looked at with the facts
    (['-e', 'haproxy_health_check_client_cert=/nonexistent/cert.pem'],
     'haproxy_health_check_client_cert /nonexistent/cert.pem does not exist on this load balancer'),
    # a port another daemon holds (sshd on every load balancer), read with the facts
    (['-e', 'haproxy_frontend_port=22'],
     'haproxy_frontend_port: TCP port 22 is already held by sshd (pid '),
    # an address the load balancers do not have
    (['-e', 'kubeha_metrics_address=10.213.0.99'],
     'kubeha_metrics_address 10.213.0.99 is not an address of this host'),
    # a string that would write a line of its own into haproxy.cfg
    (['-e', '{"haproxy_health_check_path": "/readyz\\n    server rogue 10.213.0.50:6443"}'],
     'haproxy_health_check_path has a control character'),
    # the lab's SSH user without become (a run without -b): refused by the facts
    (['-e', 'ansible_become=false'], '%s: reached as deploy (uid 1000) without become, but the load '
                                     'balancers need root' % ', '.join(T['lbs'])),
])
def test_refused_before_any_host_changes(extra, message):
    before = fingerprint()
    rc, out = playbook(LAB, 'site.yml', *extra)
    assert rc != 0
    assert 'The inventory has problems; no host was changed' in out, out[-3000:]
    assert message in out, out[-3000:]
    assert 'changed=1' not in out and 'changed: [' not in out
    assert fingerprint() == before  # same files, same checksums: nothing written, nothing left behind


def test_a_port_another_process_holds_is_refused_naming_it():
    """A process that is not ours listens on the monitor port the run would
    move haproxy to: refused before any host changes, naming the process."""
    lb = node(T['lbs'][0])
    lb.check_output("setsid python3 -c 'import socket, time; s = socket.socket(); "
                    "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((\"127.0.0.1\", 8499)); "
                    "s.listen(); time.sleep(300)' >/dev/null 2>&1 < /dev/null &")
    try:
        lb.check_output('for i in $(seq 50); do ss -Hltn "sport = :8499" | grep -q . && exit 0; sleep 0.1; done; '
                        'exit 1')
        before = fingerprint()
        rc, out = playbook(LAB, 'site.yml', '-e', 'haproxy_monitor_port=8499')
        assert rc != 0 and 'The inventory has problems; no host was changed' in out, out[-3000:]
        assert '%s: haproxy_monitor_port: TCP port 8499 is already held by python3 (pid ' % T['lbs'][0] in out, \
            out[-3000:]
        assert 'changed: [' not in out
        assert fingerprint() == before
    finally:
        lb.run("pkill -f 's.bind((\"127.0.0.1\", 8499))'")


def test_other_group_names(tmp_path):
    """The lab's own hosts with the groups called lbs / apiservers / testers: site
    converges with no change, verify passes, a drill step and a maintenance run.
    Each of the four plans once, maintenance and the drill included, though both
    import verify.yml (which plans when run alone)."""
    hosts = yaml.safe_load(open(os.path.join(LAB, 'hosts.yml')))
    children = hosts['all']['children']
    renamed = {'loadbalancers': 'lbs', 'control_plane': 'apiservers', 'clients': 'testers'}
    hosts['all']['children'] = dict((renamed.get(k, k), v) for k, v in children.items())
    hosts['all']['vars'].update(kubeha_lb_group='lbs', kubeha_cp_group='apiservers',
                                kubeha_client_group='testers')
    (tmp_path / 'hosts.yml').write_text(yaml.safe_dump(hosts))
    os.symlink(os.path.join(LAB, 'group_vars'), str(tmp_path / 'group_vars'))
    inventory = str(tmp_path)
    rc, out = playbook(inventory, 'site.yml')
    assert rc == 0 and 'changed=0' in out and 'changed=1' not in out, out[-3000:]
    assert out.count(PLANNED) == 1 and out.count(COMPLETED) == 1, out[-3000:]  # once per run
    rc, out = playbook(inventory, 'playbooks/verify.yml')
    assert rc == 0 and 'phase: healthy (%d/%d apiservers ready)' % (len(T['cps']), len(T['cps'])) in out, out[-3000:]
    assert out.count(PLANNED) == 1, out[-3000:]
    rc, out = playbook(inventory, 'playbooks/failover_drill.yml', '-e', 'drill_confirm=true',
                       '--tags', 'keepalived')
    assert rc == 0 and 'VIP moved' in out, out[-3000:]
    assert out.count(PLANNED) == 1 and out.count('phase: healthy') >= 2, out[-3000:]  # two verifies, one plan
    backup = [lb for lb in T['lbs'] if lb != T['lbs'][0]][0]
    rc, out = playbook(inventory, 'playbooks/maintenance.yml', '-e', 'maintenance_target=%s' % backup)
    assert rc == 0 and 'Take it out of the VIP' in out and 'phase: healthy' in out, out[-3000:]
    assert out.count(PLANNED) == 1, out[-3000:]


def test_the_roles_in_a_play_of_ones_own_plan_once(tmp_path):
    """A user's play that includes both roles, without gathering facts: the plan is
    computed once for the play (not once per role), completed with the network facts
    the keepalived role gathers, and the converged lab is left as it is."""
    play = tmp_path / 'mine.yml'
    play.write_text(yaml.safe_dump([{'name': 'Mine', 'hosts': 'loadbalancers', 'gather_facts': False,
                                     'roles': ['kubeha.control_plane.haproxy', 'kubeha.control_plane.keepalived']}]))
    before = fingerprint()
    rc, out = playbook(LAB, str(play))
    assert rc == 0 and 'changed=1' not in out, out[-3000:]
    assert out.count(PLANNED) == 1, out[-3000:]
    assert fingerprint() == before


def test_a_vip_another_host_answers_for_is_refused():
    """A new VIP that another host on the segment already has (here the client,
    as a router would have its gateway address) is refused before any host
    changes: the load balancers ask the segment who answers for it (an ARP probe)
    and name the MAC that did."""
    taken = '10.213.0.150'
    client = node(T['client'])
    mac = client.check_output('cat /sys/class/net/eth0/address').strip()
    client.check_output('ip addr add %s/24 dev eth0' % taken)
    try:
        before = fingerprint()
        rc, out = playbook(LAB, 'site.yml', '-e', 'kubeha_vip=%s/24' % taken)
        assert rc != 0 and 'The VIP is taken; no host was changed' in out, out[-3000:]
        assert 'kubeha_vip %s is already answered for on eth0 by %s' % (taken, mac) in out, out[-3000:]
        assert 'changed: [' not in out
        assert fingerprint() == before
    finally:
        client.run('ip addr del %s/24 dev eth0' % taken)


def test_a_failed_post_check_stops_at_its_first_error():
    """The API unreachable through the VIP from the probe host (the client rejects
    its own connections): the post-check fails once, on the cluster's first load
    balancer, naming the cause. Regression: the checks were run by the first load
    balancer still in the play, so once lb1 had failed, lb2 carried on and printed
    the kubeadm endpoint as if all was well (before defaults hid it, it failed
    again there, on a fact only lb1 had: "'__kubeha_phase' is undefined")."""
    client = node(T['client'])
    rule = 'OUTPUT -d %s -p tcp --dport %d -j REJECT --reject-with tcp-reset' % (T['vip'], T['port'])
    client.check_output('iptables -I ' + rule)
    try:
        rc, out = playbook(LAB, 'site.yml')
    finally:
        client.run('iptables -D ' + rule)
    assert rc != 0
    assert out.count('FAILED!') == 1, out[-3000:]
    assert 'connection to https://%s:%d/healthz refused' % (T['vip'], T['port']) in out, out[-3000:]
    after = out.split('FAILED!', 1)[1]
    assert 'apiServer.certSANs' not in after and 'is undefined' not in out, after[-3000:]
