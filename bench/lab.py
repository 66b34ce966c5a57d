"""Lab access for make bench, make chaos and make alerts: the lab's side channel.

The playbooks reach the load balancers the way a user's would (ansible's
connection). This module is the bench's own way in, for what no user does
through ansible: run a command in a container (to inject a fault or read a
state), kill, start or throttle a container, run the probe on the client and
read what it saw, run a playbook and count the CPU it cost.

Nothing here reads the inventory at import. The lab's topology (PLAN, EP, VIP,
PORT, LBS, CPS, CLIENT, SOCKET, STATE_FILE) comes from inventory/lab through
the plan (lab/topology.py), read once when first used.

Traffic stays inside the lab's Docker network (the VIP and lab addresses).
"""
import ipaddress
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'lab'))
from analysis import settled  # noqa: E402
from topology import ansible_env, inventory_plan  # noqa: E402
from ansible_collections.kubeha.control_plane.plugins.module_utils.haproxy_stat import parse_show_stat  # noqa: E402
from ansible_collections.kubeha.control_plane.plugins.module_utils.vip_probe import parse_state_file  # noqa: E402

INVENTORY = os.path.join(ROOT, 'inventory', 'lab')
# The fault injections the suites share: VRRP dropped on a load balancer (iptables -I / -D).
VRRP_DROP = 'INPUT -p 112 -j DROP'
# How molecule/default creates the lab's hosts (its first platform): a host the
# bench adds or replaces is created the same way.
MOLECULE = os.path.join(ROOT, 'molecule', 'default', 'molecule.yml')
PROBE = '/usr/local/bin/kubeha-probe'
OUT, STOP = '/tmp/bench.jsonl', '/tmp/bench.stop'
KUBECTL_PROBE = '/usr/local/bin/kubeha-kubectl-probe'
KUBECTL_OUT, KUBECTL_STOP = '/tmp/bench.kubectl', '/tmp/bench.kubectl-stop'
# A run probes PRE_S before the fault and ends once every request has
# succeeded for SETTLE_S (bench and chaos alike).
PRE_S, SETTLE_S = 1.0, 2.0

_TOPOLOGY = []


def topology():
    """The lab as inventory/lab describes it, through the plan (read once)."""
    if not _TOPOLOGY:
        plan = inventory_plan(INVENTORY)
        ep = plan['endpoint']
        lbs = ep['load_balancers']
        _TOPOLOGY.append(SimpleNamespace(
            PLAN=plan, EP=ep, VIP=ep['vip'], PORT=ep['port'], LBS=lbs, CPS=ep['control_plane'],
            CLIENT=ep['probe_host'], SOCKET=plan['hosts'][lbs[0]]['haproxy']['socket'],
            STATE_FILE='%s/%s.state' % (ep['state_dir'], ep['instance'])))
    return _TOPOLOGY[0]


def __getattr__(name):
    """lab.PLAN, lab.EP, lab.VIP, ...: the topology, read from the inventory on first use (PEP 562)."""
    if name.isupper() and hasattr(topology(), name):
        return getattr(topology(), name)
    raise AttributeError(name)


# ------------------------------------------------------------ commands
def sh(cmd, check=True, timeout=600):
    result = subprocess.run(cmd, shell=isinstance(cmd, str), capture_output=True, text=True,
                            timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError('%s failed: %s %s' % (cmd, result.stdout[-500:], result.stderr[-1000:]))
    return result.stdout


def dexec(name, command, check=True):
    """Run a shell command in a lab container as root; its output."""
    return sh(['docker', 'exec', name, 'sh', '-c', command], check=check)


def dexec_background(name, command):
    sh(['docker', 'exec', '-d', name, 'sh', '-c', command])


def copy_to(name, source, dest):
    sh(['docker', 'cp', source, '%s:%s' % (name, dest)])


def on_each(names, command, check=True):
    """The command on every container at once: {name: output}."""
    names = list(names)
    with ThreadPoolExecutor(max(1, len(names))) as pool:
        return dict(zip(names, pool.map(lambda n: dexec(n, command, check=check), names)))


# ---------------------------------------------------------- containers
def kill(*names):
    sh(['docker', 'kill'] + list(names))


def start(*names):
    sh(['docker', 'start'] + list(names))


def running(name):
    return sh(['docker', 'inspect', '-f', '{{.State.Running}}', name]).strip() == 'true'


def limit_cpus(name, cpus=None):
    """Limit a container to `cpus` CPUs, or lift the limit (every CPU of the
    machine: docker 20.10 keeps the old limit on --cpus 0)."""
    sh(['docker', 'update', '--cpus', str(cpus if cpus is not None else (os.cpu_count() or 1)), name])


def network_of(name):
    return sh(['docker', 'inspect', '-f', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}',
               name]).split()[0]


def wait(predicate, timeout, interval=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def _platform():
    import yaml  # the bench's venv has it (ansible-core needs it)
    with open(MOLECULE) as handle:
        node = yaml.safe_load(handle)['platforms'][0]
    # molecule expands ${VAR:-default} in its file; so does this
    node['image'] = re.sub(r'\$\{(\w+):-([^}]*)\}', lambda m: os.environ.get(m.group(1)) or m.group(2), node['image'])
    return node


def create_host(name, address):
    """A fresh lab host: a container from the lab's image at ``address`` on the lab's
    network, as molecule/default creates its hosts; booted, with the real-time
    budget its keepalived needs (lab/scripts/rt-budget.sh), and no SSH connection
    master left from a host that had its address before."""
    node = _platform()
    args = ['docker', 'run', '-d', '--name', name, '--hostname', name,
            '--network', node['networks'][0]['name'], '--ip', address,
            '--cgroupns', node['cgroupns_mode']]
    for flag, values in (('--cap-add', node['capabilities']), ('--security-opt', node['security_opts']),
                         ('-v', node['volumes']), ('--tmpfs', node['tmpfs']),
                         ('--ulimit', [u.replace(':', '=', 1) for u in node['ulimits']])):
        for value in values:
            args += [flag, value]
    sh(args + [node['image']])
    forget_ssh(address)
    if not booted(name):
        raise RuntimeError('lab host %s did not boot' % name)
    sh([os.path.join(ROOT, 'lab', 'scripts', 'rt-budget.sh'), name])


def remove_host(name, address=None):
    sh(['docker', 'rm', '-f', name], check=False)
    if address:
        forget_ssh(address)


def forget_ssh(address):
    """End the controller's SSH connection masters to ``address`` (ControlPersist):
    one left from a removed container would be reused for its successor."""
    for pid in ssh_masters_cpu_s():
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as handle:
                argv = handle.read().split(b'\0')
            if any(a == address.encode() or a.endswith(b'@' + address.encode()) for a in argv):
                os.kill(int(pid), 15)
        except OSError:
            continue


def next_address(taken):
    """The first address after the highest of ``taken`` (the lab's load balancers)."""
    return str(max(ipaddress.ip_address(a) for a in taken) + 1)


def inventory_with(load_balancers):
    """A copy of inventory/lab whose loadbalancers group is ``load_balancers``
    ([(name, {host variables})], in order): its directory (the caller removes it)."""
    import yaml
    with open(os.path.join(INVENTORY, 'hosts.yml')) as handle:
        data = yaml.safe_load(handle)
    data['all']['children']['loadbalancers']['hosts'] = dict(load_balancers)
    path = tempfile.mkdtemp(prefix='kubeha-inventory.')
    with open(os.path.join(path, 'hosts.yml'), 'w') as handle:
        yaml.safe_dump(data, handle, sort_keys=False)
    shutil.copytree(os.path.join(INVENTORY, 'group_vars'), os.path.join(path, 'group_vars'))
    return path


def booted(name, timeout=120):
    """systemd in the container has finished starting (running or degraded)."""
    return wait(lambda: dexec(name, 'systemctl is-system-running', check=False).strip()
                in ('running', 'degraded'), timeout, 0.25)


# ----------------------------------------------------------- playbooks
# Output the suites parse (the recap, the messages): never coloured, even
# under molecule, which forces colour on for what it starts.
PLAIN = dict(ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0')


def playbook(*args, inventory=INVENTORY):
    """(seconds, output) of ansible-playbook with this checkout's environment; raises on failure."""
    started = time.time()
    result = subprocess.run(['ansible-playbook', '-i', inventory] + list(args),
                            cwd=ROOT, env=ansible_env(**PLAIN), capture_output=True, text=True, timeout=1800)
    if result.returncode != 0:
        raise RuntimeError('ansible-playbook %s failed:\n%s' % (' '.join(args), result.stdout[-3000:]))
    return time.time() - started, result.stdout


def ansible_output(*args, timeout=600):
    """(returncode, stdout and stderr on one line) of an ansible or ansible-playbook
    command line against the lab inventory, uncoloured; never raises on failure."""
    result = subprocess.run([args[0], '-i', INVENTORY] + list(args[1:]), cwd=ROOT,
                            env=ansible_env(**PLAIN), capture_output=True, text=True, timeout=timeout)
    return result.returncode, ' '.join((result.stdout + result.stderr).split())


def cpu_busy_s():
    """Seconds of CPU the whole machine has spent busy (every core, /proc/stat)."""
    with open('/proc/stat') as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / float(os.sysconf('SC_CLK_TCK'))


def container_cpu_s(names):
    """CPU seconds the containers ``names`` have used since they started (their
    cgroups: v1 cpuacct, or v2 cpu.stat), summed."""
    total = 0.0
    for name in names:
        cid = sh(['docker', 'inspect', '-f', '{{.Id}}', name]).strip()
        for path, field, scale in (('/sys/fs/cgroup/cpuacct/docker/%s/cpuacct.usage' % cid, None, 1e-9),
                                   ('/sys/fs/cgroup/system.slice/docker-%s.scope/cpu.stat' % cid, 'usage_usec', 1e-6),
                                   ('/sys/fs/cgroup/docker/%s/cpu.stat' % cid, 'usage_usec', 1e-6)):
            if os.path.exists(path):
                with open(path) as handle:
                    text = handle.read()
                value = text.split()[0] if field is None else \
                    next(line.split()[1] for line in text.splitlines() if line.startswith(field + ' '))
                total += int(value) * scale
                break
        else:
            raise RuntimeError('no cgroup CPU accounting found for container %s (%s)' % (name, cid))
    return total


def _own_children_cpu_s():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def ssh_masters_cpu_s():
    """{pid: CPU-seconds} of the controller's SSH connection masters
    (ControlPersist): they detach from ansible-playbook, so its rusage misses them."""
    tick, out = os.sysconf('SC_CLK_TCK'), {}
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as handle:
                argv = handle.read().split(b'\0')
            with open('/proc/%s/stat' % pid) as handle:
                fields = handle.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if os.path.basename(argv[0]) == b'ssh' and any(b'ControlPersist' in a for a in argv):
            out[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return out


def timed_playbook(*args, load_balancers=(), **kwargs):
    """One playbook run: {wall_s, cpu_s (the whole machine), controller_cpu_s
    (ansible-playbook and its children, from rusage, plus what the SSH connection
    masters it uses spent meanwhile), lbs_cpu_s (the load balancers' containers,
    from their cgroups)} and its output."""
    busy, own, lbs, masters = cpu_busy_s(), _own_children_cpu_s(), container_cpu_s(load_balancers), ssh_masters_cpu_s()
    wall, out = playbook(*args, **kwargs)
    ssh = sum(cpu - masters.get(pid, 0.0) for pid, cpu in ssh_masters_cpu_s().items())
    return dict(wall_s=wall, cpu_s=cpu_busy_s() - busy, controller_cpu_s=_own_children_cpu_s() - own + ssh,
                lbs_cpu_s=container_cpu_s(load_balancers) - lbs), out


# ------------------------------------------------------------ the VIP
def holders():
    return [lb for lb in topology().LBS if dexec(lb, 'ip -o addr show to %s' % topology().VIP,
                                                     check=False).strip()]


def peer_of(lb):
    return [other for other in topology().LBS if other != lb][0]


def vrrp_state(lb):
    """(STATE, epoch of the transition) from keepalived's notify-script state file, or None."""
    state = parse_state_file(dexec(lb, 'cat %s 2>/dev/null' % topology().STATE_FILE, check=False))
    return (state['state'], state['since']) if state and state['since'] is not None else None


def state_since(lb):
    state = vrrp_state(lb)
    return state[1] if state and state[0] == 'MASTER' else None


def back_as_backup(lb, since):
    """keepalived on lb entered BACKUP after `since`."""
    state = vrrp_state(lb)
    return bool(state) and state[0] == 'BACKUP' and state[1] > since


def hand_back(holder, since):
    """Give the VIP back to `holder` now. A keepalived that comes back discards
    the lower-priority adverts of the peer that took over and becomes MASTER only
    when its master-down timer expires (3 adverts + skew: 3.6 s with advert_int
    1). Once it is BACKUP again, a graceful restart of the peer (a priority-0
    advert) hands the VIP over after the skew time. Between runs only: the
    probe is not running."""
    peer = peer_of(holder)
    wait(lambda: holders() != [peer] or back_as_backup(holder, since), 30)
    if holders() == [peer] and back_as_backup(holder, since):
        dexec(peer, 'systemctl restart keepalived')


def vrrp_quiet(seconds):
    """One MASTER, the rest BACKUP, and no VRRP transition for `seconds`. A
    profile switch changes the VRRP version or unicast/multicast, which the
    peers do not speak to each other until both are changed: for a few seconds
    after the rollout a backup may still take over (seen once: 0.6 s after the
    first fault), so the first run waits until VRRP has been quiet."""
    lbs = topology().LBS
    states = [vrrp_state(lb) for lb in lbs]
    if None in states:
        return False
    return (sorted(state for state, _ in states) == ['BACKUP'] * (len(lbs) - 1) + ['MASTER']
            and time.time() - max(since for _, since in states) > seconds)


def _lb_state_command():
    # One round trip per load balancer: the VIP address, and the stats socket's server states.
    return ('ip -o addr show to %s | grep -q . && echo HOLDER; '
            'python3 -c "import socket;s=socket.socket(socket.AF_UNIX);'
            's.connect(\'%s\');s.sendall(b\'show stat\\n\');'
            'print(s.makefile().read())" 2>/dev/null' % (topology().VIP, topology().SOCKET))


def _through_vip_command():
    # 12 requests through the VIP, in parallel, from the client (each prints the answering node and the status).
    return ('for i in $(seq 12); do curl -sk --max-time 2 -o /dev/null '
            '-w "%%header{x-kubeha-node} %%{http_code}\\n" https://%s:%d/healthz & done; wait'
            % (topology().VIP, topology().PORT))


def backend_states(out):
    """{apiserver: status} from the load balancer state command's output (empty without a stats socket)."""
    text = out.split('\n', 1)[1] if out.startswith('HOLDER') else out
    try:
        rows = parse_show_stat(text.strip('\n'), topology().EP['backend'])
    except ValueError:
        return {}
    return {row['name']: row['status'] for row in rows if row['name'] in topology().CPS}


def lab_state():
    """(holders, {lb: {server: status}}, [(node, http code)] of 12 requests via the VIP)."""
    lbs = topology().LBS
    with ThreadPoolExecutor(max_workers=len(lbs) + 1) as pool:
        via_vip = pool.submit(dexec, topology().CLIENT, _through_vip_command(), check=False)
        states = dict(zip(lbs, pool.map(lambda lb: dexec(lb, _lb_state_command(), check=False), lbs)))
        answers = via_vip.result()
    servers = {lb: backend_states(out) for lb, out in states.items()}
    return ([lb for lb, out in states.items() if out.startswith('HOLDER')], servers,
            [tuple(line.split()) for line in answers.splitlines() if line.strip()])


def is_steady(profile, expect_holder=None):
    """Exactly one holder (the expected one), every request through the VIP ok,
    every apiserver answering, and every apiserver UP on every haproxy (the
    guide's haproxy has no stats socket: there, who answers is the judge)."""
    holding, servers, answers = lab_state()
    cps = topology().CPS
    return (len(holding) == 1 and expect_holder in (None, holding[0])
            and len(answers) == 12 and all(len(a) == 2 and a[1] == '200' for a in answers)
            and {a[0] for a in answers} == set(cps)
            and (profile == 'guide' or all(servers[lb] == dict.fromkeys(cps, 'UP') for lb in topology().LBS)))


def steady(profile, expect_holder=None):
    if not wait(lambda: is_steady(profile, expect_holder), timeout=90, interval=0.25):
        raise RuntimeError('lab not steady: holders %s' % holders())


# ------------------------------------------------------------ the probe
def install_probes():
    """bench/probe.py and bench/kubectl_probe.sh onto the client."""
    client = topology().CLIENT
    copy_to(client, os.path.join(ROOT, 'bench', 'probe.py'), PROBE)
    copy_to(client, os.path.join(ROOT, 'bench', 'kubectl_probe.sh'), KUBECTL_PROBE)


def start_probe(rate, streams=2):
    """Start the probe against the VIP in the background on the client."""
    dexec_background(topology().CLIENT,
                     'rm -f %s %s; exec python3 %s --host %s --port %d --rate %s --streams %d --timeout 2 '
                     '--duration 600 --stop-file %s --out %s'
                     % (OUT, STOP, PROBE, topology().VIP, topology().PORT, rate, streams, STOP, OUT))


def tail_all_ok(seconds):
    """Every request of the last `seconds` that has surely finished succeeded."""
    records = []
    for line in dexec(topology().CLIENT, 'tail -n 1000 %s' % OUT, check=False).splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:  # the line the probe is writing right now
            continue
    return settled(records, seconds)


def stop_probe():
    """Stop the probe, wait for its end record (hanging requests finish first), read it all."""
    out = dexec(topology().CLIENT, 'touch %s; for i in $(seq 600); do tail -n 3 %s | grep -q \'"type": "end"\' '
                                       '&& break; sleep 0.05; done; cat %s' % (STOP, OUT, OUT))
    records = [json.loads(line) for line in out.splitlines() if line.startswith('{')]
    if not any(r.get('type') == 'end' for r in records):
        raise RuntimeError('the probe did not end: %s' % out[-500:])
    return records


def start_kubectl():
    """bench/kubectl_probe.sh on the client: a real kubectl's view, beside the probe."""
    dexec_background(topology().CLIENT, 'rm -f %s %s; exec sh %s %s %s'
                     % (KUBECTL_OUT, KUBECTL_STOP, KUBECTL_PROBE, KUBECTL_OUT, KUBECTL_STOP))


def stop_kubectl():
    """The kubectl probe's raw output, once it has written its end line."""
    return dexec(topology().CLIENT, 'touch %s; for i in $(seq 300); do grep -q "^end " %s && break; '
                                        'sleep 0.1; done; cat %s' % (KUBECTL_STOP, KUBECTL_OUT, KUBECTL_OUT),
                 check=False)
