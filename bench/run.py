#!/usr/bin/env python3
"""make bench: measure what a client sees when things fail, in the lab.

For each profile (guide, default, fast) the lab is converged with that profile;
then for each case the probe (bench/probe.py) runs on the client against the
VIP, the fault is injected at a recorded instant, the probe keeps going until
every request has succeeded for a while, and the lab is restored. Each case is
repeated N times. Raw results go to bench/results/results.json; bench/report.py
turns them into docs/performance.md and plots.

Traffic stays inside the lab's Docker network (the VIP and lab addresses).
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'lab'))
from analysis import UNREADY_BOUND_S, kubectl_view, settled, stream_breaks, summarize  # noqa: E402
from topology import ansible_env, inventory_plan  # noqa: E402
from ansible_collections.kubeha.control_plane.plugins.module_utils.haproxy_stat import parse_show_stat  # noqa: E402
from ansible_collections.kubeha.control_plane.plugins.module_utils.vip_probe import parse_state_file  # noqa: E402
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.profiles import OS  # noqa: E402

# The lab as inventory/lab describes it, through the plan: nothing here repeats it.
PLAN = inventory_plan()
EP = PLAN['endpoint']
VIP, PORT = EP['vip'], EP['port']
LBS, CPS, CLIENT = EP['load_balancers'], EP['control_plane'], EP['probe_host']
SOCKET = PLAN['hosts'][LBS[0]]['haproxy']['socket']
STATE_FILE = '%s/%s.state' % (EP['state_dir'], EP['instance'])
PROBE = '/usr/local/bin/kubeha-probe'
OUT, STOP = '/tmp/bench.jsonl', '/tmp/bench.stop'
KUBECTL_PROBE = '/usr/local/bin/kubeha-kubectl-probe'
KUBECTL_OUT, KUBECTL_STOP = '/tmp/bench.kubectl', '/tmp/bench.kubectl-stop'
VICTIM_CP = CPS[0]
# default last: its converge from bare containers starts it, and the lab is
# left as the inventory describes it with no extra run at the end.
PROFILES = ['guide', 'fast', 'default']
HEAVY = ('maintenance', 'config_change', 'control_plane_roll')
# Long cases run fewer times (each restart waits out the stand-in's 8 s shutdown
# delay): the lifecycle scenario asserts the same with the probe in every CI run.
MAX_REPS = {'apiserver_graceful_restart': 3, 'control_plane_roll': 2}
VIP_CASES = ('keepalived_stop', 'keepalived_kill', 'holder_container_kill', 'haproxy_kill')
# A run probes PRE_S before the fault and ends once every request has
# succeeded for SETTLE_S, or MAX_WAIT_S after the fault (never recovered).
PRE_S, SETTLE_S, MAX_WAIT_S = 1.0, 2.0, 18.0
# Keep probing at least this long after the fault (seconds, by profile), so
# effects that come late are seen: an unready apiserver must be watched past
# the check bound or "routed after the bound" would be 0 by construction (the
# guide's TCP check has no bound: 10 s, as in earlier runs); after keepalived is
# SIGKILLed the VIP stays put until the peer misses 3 adverts (3.6 s with
# advert_int 1), so a run must not end before the takeover.
MIN_AFTER_FAULT_S = {
    'apiserver_unready': {p: (10.0 if b is None else b + 2.0) for p, b in UNREADY_BOUND_S.items()},
    'keepalived_kill': {'guide': 5.0, 'default': 5.0},
    # the stand-in keeps serving 8 s after SIGTERM, starts unready for 3 s, and
    # must pass `rise` checks: watch it come back into rotation too
    'apiserver_graceful_restart': {p: 18.0 for p in UNREADY_BOUND_S},
}
# The guide has neither a maintenance procedure nor a rollout procedure (its
# step is "edit haproxy.cfg, restart haproxy"); those rows would measure ours.
NOT_IN_GUIDE = ('maintenance', 'config_change')
CASES = ['keepalived_stop', 'keepalived_kill', 'holder_container_kill', 'haproxy_kill',
         'apiserver_kill', 'apiserver_container_kill', 'apiserver_unready',
         'apiserver_graceful_restart', 'control_plane_roll', 'maintenance', 'config_change']


def sh(cmd, check=True, timeout=600):
    result = subprocess.run(cmd, shell=isinstance(cmd, str), capture_output=True, text=True,
                            timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError('%s failed: %s %s' % (cmd, result.stdout[-500:], result.stderr[-1000:]))
    return result.stdout


def dexec(name, command, check=True):
    return sh(['docker', 'exec', name, 'sh', '-c', command], check=check)


def playbook(*args, inventory=os.path.join(ROOT, 'inventory', 'lab')):
    env = ansible_env()
    started = time.time()
    result = subprocess.run(['ansible-playbook', '-i', inventory] + list(args),
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    if result.returncode != 0:
        raise RuntimeError('ansible-playbook %s failed:\n%s' % (' '.join(args), result.stdout[-3000:]))
    return time.time() - started, result.stdout


def holders():
    return [lb for lb in LBS if dexec(lb, 'ip -o addr show to %s' % VIP, check=False).strip()]


def wait(predicate, timeout, interval=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


# One round trip per host, all hosts at once: the VIP address and the stats
# socket's server states on each load balancer; 12 requests through the VIP,
# in parallel, from the client (each prints the answering node and the status).
LB_STATE = ('ip -o addr show to %s | grep -q . && echo HOLDER; '
            'python3 -c "import socket;s=socket.socket(socket.AF_UNIX);'
            's.connect(\'%s\');s.sendall(b\'show stat\\n\');'
            'print(s.makefile().read())" 2>/dev/null' % (VIP, SOCKET))
THROUGH_VIP = ('for i in $(seq 12); do curl -sk --max-time 2 -o /dev/null '
               '-w "%%header{x-kubeha-node} %%{http_code}\\n" https://%s:%d/healthz & done; wait' % (VIP, PORT))


def backend_states(out):
    """{apiserver: status} from LB_STATE's output (empty without a stats socket)."""
    text = out.split('\n', 1)[1] if out.startswith('HOLDER') else out
    try:
        rows = parse_show_stat(text.strip('\n'), EP['backend'])
    except ValueError:
        return {}
    return {row['name']: row['status'] for row in rows if row['name'] in CPS}


def lab_state():
    """(holders, {lb: {server: status}}, [(node, http code)] of 12 requests via the VIP)."""
    with ThreadPoolExecutor(max_workers=len(LBS) + 1) as pool:
        via_vip = pool.submit(dexec, CLIENT, THROUGH_VIP, check=False)
        lbs = dict(zip(LBS, pool.map(lambda lb: dexec(lb, LB_STATE, check=False), LBS)))
        answers = via_vip.result()
    servers = {lb: backend_states(out) for lb, out in lbs.items()}
    return ([lb for lb, out in lbs.items() if out.startswith('HOLDER')], servers,
            [tuple(line.split()) for line in answers.splitlines() if line.strip()])


def is_steady(profile, expect_holder=None):
    """Exactly one holder (the expected one), every request through the VIP ok,
    every apiserver answering, and every apiserver UP on every haproxy (the
    guide's haproxy has no stats socket: there, who answers is the judge)."""
    holding, servers, answers = lab_state()
    return (len(holding) == 1 and expect_holder in (None, holding[0])
            and len(answers) == 12 and all(len(a) == 2 and a[1] == '200' for a in answers)
            and {a[0] for a in answers} == set(CPS)
            and (profile == 'guide' or all(servers[lb] == dict.fromkeys(CPS, 'UP') for lb in LBS)))


def steady(profile, expect_holder=None):
    if not wait(lambda: is_steady(profile, expect_holder), timeout=90, interval=0.25):
        raise RuntimeError('lab not steady: holders %s' % holders())


def vrrp_state(lb):
    """(STATE, epoch of the transition) from keepalived's notify-script state file, or None."""
    state = parse_state_file(dexec(lb, 'cat %s 2>/dev/null' % STATE_FILE, check=False))
    return (state['state'], state['since']) if state and state['since'] is not None else None


def peer_of(lb):
    return [other for other in LBS if other != lb][0]


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
    states = [vrrp_state(lb) for lb in LBS]
    if None in states:
        return False
    return (sorted(state for state, _ in states) == ['BACKUP'] * (len(LBS) - 1) + ['MASTER']
            and time.time() - max(since for _, since in states) > seconds)


def start_probe(rate, streams):
    """Start the probe in the background (one exec; run_case then probes PRE_S)."""
    sh(['docker', 'exec', '-d', CLIENT, 'sh', '-c',
        'rm -f %s %s; exec python3 %s --host %s --port %d --rate %s --streams %d --timeout 2 '
        '--duration 600 --stop-file %s --out %s' % (OUT, STOP, PROBE, VIP, PORT, rate, streams, STOP, OUT)])


def tail_all_ok(seconds):
    """Every request of the last `seconds` that has surely finished succeeded."""
    records = []
    for line in dexec(CLIENT, 'tail -n 1000 %s' % OUT, check=False).splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:  # the line the probe is writing right now
            continue
    return settled(records, seconds)


def stop_probe():
    """Stop the probe, wait for its end record (hanging requests finish first), read it all."""
    out = dexec(CLIENT, 'touch %s; for i in $(seq 600); do tail -n 3 %s | grep -q \'"type": "end"\' && break; '
                        'sleep 0.05; done; cat %s' % (STOP, OUT, OUT))
    records = [json.loads(line) for line in out.splitlines() if line.startswith('{')]
    if not any(r.get('type') == 'end' for r in records):
        raise RuntimeError('the probe did not end: %s' % out[-500:])
    return records


def haproxy_norestart(lb, on):
    if on:
        dexec(lb, 'mkdir -p /run/systemd/system/haproxy.service.d && printf "[Service]\\nRestart=no\\n" '
                  '> /run/systemd/system/haproxy.service.d/bench.conf && systemctl daemon-reload')
    else:
        dexec(lb, 'rm -f /run/systemd/system/haproxy.service.d/bench.conf && systemctl daemon-reload')


CONFIG_CHANGES = (['-e', 'haproxy_timeout_client=5h', '-e', 'haproxy_timeout_server=5h'],
                  ['-e', 'haproxy_timeout_client=6h', '-e', 'haproxy_timeout_server=6h'])


def config_change(rep, reps):
    """Extra vars of config-change run `rep` of `reps`: every run changes the
    running configuration (the role's 4h -> 5h, 6h, 5h, ...) and the last one rolls back to the
    inventory's, so no unmeasured run is needed to restore the lab."""
    if rep == reps - 1 and reps > 1:
        return []
    return CONFIG_CHANGES[rep % 2]


def inject(case, holder, profile, rep=0, reps=1):
    """Break something; return (fault time, restore function, expected holder after restore)."""
    if case == 'keepalived_stop':
        t = float(dexec(holder, 'date +%s.%N; systemctl stop keepalived').split()[0])
        return t, lambda: dexec(holder, 'systemctl start keepalived'), holder
    if case == 'keepalived_kill':
        t = float(dexec(holder, 'date +%s.%N; systemctl kill --signal=KILL keepalived').split()[0])
        # the kubeha drop-in restarts it (after 5 s, fast 2 s); the guide has none
        return t, lambda: dexec(holder, 'systemctl is-active -q keepalived || systemctl start keepalived'), holder
    if case == 'holder_container_kill':
        t = time.time()
        sh(['docker', 'kill', holder])

        def restore():
            sh(['docker', 'start', holder])
            wait(lambda: dexec(holder, 'systemctl is-system-running', check=False).strip() in ('running', 'degraded'), 90, 0.25)
        return t, restore, holder
    if case == 'haproxy_kill':
        haproxy_norestart(holder, True)
        t = float(dexec(holder, 'date +%s.%N; systemctl kill --signal=KILL haproxy').split()[0])

        def restore():
            haproxy_norestart(holder, False)
            dexec(holder, 'systemctl reset-failed haproxy; systemctl start haproxy')
        return t, restore, holder
    if case == 'apiserver_kill':
        t = float(dexec(VICTIM_CP, 'date +%s.%N; systemctl kill --signal=KILL kube-apiserver-standin').split()[0])
        return t, lambda: dexec(VICTIM_CP, 'systemctl start kube-apiserver-standin'), holder
    if case == 'apiserver_container_kill':
        t = time.time()
        sh(['docker', 'kill', VICTIM_CP])

        def restore():
            sh(['docker', 'start', VICTIM_CP])
            wait(lambda: dexec(VICTIM_CP, 'systemctl is-active kube-apiserver-standin', check=False).strip() == 'active', 90, 0.25)
        return t, restore, holder
    if case == 'apiserver_unready':
        t = float(dexec(VICTIM_CP, 'date +%s.%N; touch /run/kubeha-standin/unready').split()[0])
        return t, lambda: dexec(VICTIM_CP, 'rm -f /run/kubeha-standin/unready'), holder
    if case == 'apiserver_graceful_restart':
        # what kubeadm upgrade or a flag change does to the static pod: SIGTERM, then start
        t = float(dexec(VICTIM_CP, 'date +%s.%N; systemctl restart kube-apiserver-standin').split()[0])
        return t, lambda: None, holder
    if case == 'control_plane_roll':
        # a control-plane upgrade: each apiserver in turn, the next once the last is back
        t = time.time()
        for cp in CPS:
            dexec(cp, 'systemctl restart kube-apiserver-standin')
            if not wait(lambda: is_steady(profile), 90, 0.25):
                raise RuntimeError('%s did not come back into rotation' % cp)
        return t, lambda: None, holder
    if case == 'maintenance':
        t = time.time()
        playbook('playbooks/maintenance.yml', '-e', 'maintenance_target=%s' % holder, '-e', 'kubeha_profile=%s' % profile)
        return t, lambda: None, holder
    if case == 'config_change':
        t = time.time()
        playbook('site.yml', '-e', 'kubeha_profile=%s' % profile, *config_change(rep, reps))
        return t, lambda: None, holder
    raise ValueError(case)


def start_kubectl():
    """bench/kubectl_probe.sh on the client: a real kubectl's view, beside the probe."""
    sh(['docker', 'exec', '-d', CLIENT, 'sh', '-c', 'rm -f %s %s; exec sh %s %s %s'
        % (KUBECTL_OUT, KUBECTL_STOP, KUBECTL_PROBE, KUBECTL_OUT, KUBECTL_STOP)])


def stop_kubectl():
    out = dexec(CLIENT, 'touch %s; for i in $(seq 300); do grep -q "^end " %s && break; sleep 0.1; done; '
                        'cat %s' % (KUBECTL_STOP, KUBECTL_OUT, KUBECTL_OUT), check=False)
    return kubectl_view(out)


def run_case(case, profile, rep, args, reps=1):
    holder = holders()[0]
    start_probe(args.rate, args.streams)
    kubectl = case in VIP_CASES and args.kubectl
    if kubectl:
        start_kubectl()
    time.sleep(args.pre)
    fault_t, restore, expect = inject(case, holder, profile, rep, reps)
    observe = max(args.settle + 1, MIN_AFTER_FAULT_S.get(case, {}).get(profile, 0.0))
    try:
        wait(lambda: time.time() - fault_t > observe and tail_all_ok(args.settle), args.max_wait, 0.25)
    finally:
        peer = peer_of(holder)
        try:
            records = stop_probe()
            seen_by_kubectl = stop_kubectl() if kubectl else None
            since = state_since(peer) if case in VIP_CASES else None  # before hand_back restarts it
        finally:
            restore()  # even when the probe's records are unusable: never leave the lab broken
        if case in VIP_CASES:
            hand_back(holder, fault_t)
    reqs = [r for r in records if r['type'] == 'req']
    summary = summarize(reqs, fault_t)
    summary.update(case=case, profile=profile, rep=rep, fault_t=fault_t, holder=holder,
                   vip_move_s=round(since - fault_t, 3) if since and since > fault_t else None,
                   lag_p99_ms=sorted(r['lag_ms'] for r in reqs)[int(len(reqs) * 0.99) - 1] if reqs else None,
                   streams=stream_breaks(records))
    if seen_by_kubectl is not None:
        seen_by_kubectl.pop('failures', None)
        summary['kubectl'] = seen_by_kubectl
    if case == 'apiserver_unready':
        summary['answers_from_victim_after_fault'] = [round(r['t'] - fault_t, 3) for r in reqs
                                                      if r['t'] >= fault_t and r.get('node') == VICTIM_CP]
    summary['timeline'] = [[round(r['t'] - fault_t, 3), r['outcome']] for r in reqs
                           if -1.0 <= r['t'] - fault_t <= 15.0]
    steady(profile, expect)  # every profile runs with preempt: the VIP returns
    return summary


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


def timed_playbook(*args, load_balancers=(), **kwargs):
    """One playbook run: {wall_s, cpu_s (the whole machine), controller_cpu_s
    (ansible-playbook and its children, from rusage), lbs_cpu_s (the load
    balancers' containers, from their cgroups)} and its output."""
    busy, own, lbs = cpu_busy_s(), _own_children_cpu_s(), container_cpu_s(load_balancers)
    wall, out = playbook(*args, **kwargs)
    return dict(wall_s=wall, cpu_s=cpu_busy_s() - busy, controller_cpu_s=_own_children_cpu_s() - own,
                lbs_cpu_s=container_cpu_s(load_balancers) - lbs), out


def converge_row(first, again, out, **row):
    """A converge row: from bare and the re-run, wall and CPU (the machine's, the
    controller's and the load balancers'), per load balancer too."""
    n = row['load_balancers']
    for key, run in (('converge', first), ('rerun', again)):
        row.update({key + '_s': round(run['wall_s'], 1), key + '_cpu_s': round(run['cpu_s'], 1),
                    key + '_controller_cpu_per_lb_s': round(run['controller_cpu_s'] / n, 2),
                    key + '_lbs_cpu_per_lb_s': round(run['lbs_cpu_s'] / n, 2)})
    row.update(rerun_changed=_changed(out), cores=os.cpu_count())
    return row


def _changed(out):
    return sum(int(part.split('=')[1]) for line in out.splitlines() if 'changed=' in line
               for part in line.split() if part.startswith('changed='))


def _bare(scenario):
    sh(['molecule', 'destroy', '-s', scenario], timeout=600)
    sh(['molecule', 'create', '-s', scenario], timeout=900)
    sh(['molecule', 'prepare', '-s', scenario, '--force'], timeout=900)


def converge_times(profile):
    """The lab (one cluster, two load balancers): converge from bare containers, then the idempotent re-run."""
    _bare('default')
    first, _ = timed_playbook('site.yml', '-e', 'kubeha_profile=%s' % profile, load_balancers=LBS)
    again, out = timed_playbook('site.yml', '-e', 'kubeha_profile=%s' % profile, load_balancers=LBS)
    return converge_row(first, again, out, case='converge', profile=profile, inventory='lab', clusters=1,
                        load_balancers=len(LBS))


def fleet_converge_times():
    """The fleet scenario's inventory: one cluster alone (--limit), then all of them,
    each from bare containers and then re-run: does the time grow with the fleet?"""
    inventory = os.path.join(ROOT, 'inventory', 'fleet')
    fleet = inventory_plan(inventory)
    rows = []
    for clusters in (fleet['clusters'][:1], fleet['clusters']):
        limit = ['--limit', ','.join(clusters)] if len(clusters) < len(fleet['clusters']) else []
        lbs = [lb for c in clusters for lb in fleet['endpoints'][c]['load_balancers']]
        _bare('fleet')
        first, _ = timed_playbook('site.yml', *limit, inventory=inventory, load_balancers=lbs)
        again, out = timed_playbook('site.yml', *limit, inventory=inventory, load_balancers=lbs)
        rows.append(converge_row(first, again, out, case='converge', profile='default', inventory='fleet',
                                 clusters=len(clusters), load_balancers=len(lbs)))
    rows.extend(apt_alone(fleet))
    sh(['molecule', 'destroy', '-s', 'fleet'], timeout=600)
    return rows


def _role_packages():
    """The Debian packages the roles install (profiles.OS, the one home of the lists)."""
    return [name for role in ('haproxy', 'keepalived') for name in OS['Debian'][role]['packages']]


def apt_alone(fleet):
    """apt by itself, as a first converge runs it, on one cluster's load balancers and then on
    all the fleet's at once: lists, archives and the packages emptied, then `apt-get update`
    and the install of the roles' packages. No playbook change can make a fleet's first
    converge on this machine shorter than what this adds for the extra load balancers."""
    packages = ' '.join(_role_packages())
    purge = ('DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq %s >/dev/null 2>&1; '
             'apt-get autoremove -y -qq --purge >/dev/null 2>&1; apt-get clean; rm -rf /var/lib/apt/lists/*'
             % packages)
    install = ('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq '
               '--no-install-recommends %s >/dev/null' % packages)
    first = fleet['endpoints'][fleet['clusters'][0]]['load_balancers']
    every = [lb for c in fleet['clusters'] for lb in fleet['endpoints'][c]['load_balancers']]
    rows = []
    for lbs in (first, every):
        with ThreadPoolExecutor(len(every)) as pool:
            list(pool.map(lambda lb: dexec(lb, purge), every))
        busy, started = cpu_busy_s(), time.time()
        with ThreadPoolExecutor(len(lbs)) as pool:
            list(pool.map(lambda lb: dexec(lb, install), lbs))
        rows.append({'case': 'apt_alone', 'load_balancers': len(lbs), 'packages': packages.split(),
                     'wall_s': round(time.time() - started, 1), 'cpu_s': round(cpu_busy_s() - busy, 1),
                     'cores': os.cpu_count()})
    return rows


def converge_only(args):
    """Measure only the converge rows and put them into an earlier results file."""
    results = json.load(open(args.out)) if os.path.exists(args.out) else {
        'started': time.time(), 'n': 0, 'runs': [], 'machine': {}}
    results['runs'] = [r for r in results['runs'] if r.get('case') not in ('converge', 'apt_alone')]
    results['converge_measured'] = time.time()
    results['runs'].append(converge_times('default'))
    results['runs'].extend(fleet_converge_times())
    results['converge_took_s'] = round(time.time() - results['converge_measured'])
    with open(args.out, 'w') as handle:
        json.dump(results, handle)
    for row in [r for r in results['runs'] if r.get('case') == 'converge']:
        print('%(inventory)s %(clusters)d cluster(s): converge %(converge_s)s s, re-run %(rerun_s)s s '
              '(changed=%(rerun_changed)d)' % row)
    for row in [r for r in results['runs'] if r.get('case') == 'apt_alone']:
        print('apt alone on %(load_balancers)d load balancers at once: %(wall_s)s s' % row)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('-n', '--repeat', type=int, default=int(os.environ.get('BENCH_N', 5)))
    parser.add_argument('--repeat-heavy', type=int, default=int(os.environ.get('BENCH_N_HEAVY', 5)),
                        help='runs of the playbook cases (maintenance, config_change), 20-40 s each')
    parser.add_argument('--profiles', default=os.environ.get('BENCH_PROFILES', ','.join(PROFILES)))
    parser.add_argument('--cases', default=os.environ.get('BENCH_CASES', ','.join(CASES)))
    parser.add_argument('--rate', type=float, default=100.0)
    parser.add_argument('--streams', type=int, default=2)
    parser.add_argument('--pre', type=float, default=PRE_S, help='seconds probed before the fault')
    parser.add_argument('--settle', type=float, default=SETTLE_S, help='seconds of all-ok requests that end a run')
    parser.add_argument('--max-wait', type=float, default=MAX_WAIT_S,
                        help='seconds after the fault before a run that never recovers is ended')
    parser.add_argument('--no-converge-times', action='store_true')
    parser.add_argument('--converge-only', action='store_true',
                        help='measure only the converge rows (lab and fleet) and replace them in --out')
    parser.add_argument('--no-kubectl', dest='kubectl', action='store_false',
                        help='no kubectl beside the probe in the VIP cases')
    parser.add_argument('--out', default=os.path.join(ROOT, 'bench', 'results', 'results.json'))
    args = parser.parse_args()
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    if args.converge_only:
        return converge_only(args)
    results = {'started': time.time(), 'n': args.repeat, 'n_heavy': args.repeat_heavy, 'rate': args.rate, 'runs': [],
               'window': {'pre_s': args.pre, 'settle_s': args.settle, 'max_wait_s': args.max_wait,
                          'min_after_fault_s': MIN_AFTER_FAULT_S},
               'machine': {'nproc': os.cpu_count(), 'uname': ' '.join(os.uname()),
                           'haproxy': dexec(LBS[0], 'haproxy -v | head -1', check=False).strip(),
                           'keepalived': dexec(LBS[0], 'keepalived --version 2>&1 | head -1', check=False).strip()}}
    for profile in args.profiles.split(','):
        print('== profile %s: converge' % profile, flush=True)
        if not args.no_converge_times and profile == 'default':
            results['runs'].append(converge_times(profile))
            results['runs'].extend(fleet_converge_times())  # the lab is left as it was
        else:
            playbook('site.yml', '-e', 'kubeha_profile=%s' % profile)
        steady(profile)
        if not wait(lambda: vrrp_quiet(5.0), 90, 0.5):
            raise RuntimeError('VRRP did not settle after the %s converge' % profile)
        steady(profile)
        sh(['docker', 'cp', os.path.join(ROOT, 'bench', 'probe.py'), '%s:%s' % (CLIENT, PROBE)])
        sh(['docker', 'cp', os.path.join(ROOT, 'bench', 'kubectl_probe.sh'), '%s:%s' % (CLIENT, KUBECTL_PROBE)])
        for case in args.cases.split(','):
            if profile == 'guide' and case in NOT_IN_GUIDE:
                continue
            reps = args.repeat_heavy if case in HEAVY else args.repeat
            reps = min(reps, MAX_REPS.get(case, reps))
            for rep in range(reps):
                summary = run_case(case, profile, rep, args, reps)
                print('%-8s %-26s #%d failed=%-4d outage=%.3fs vip_move=%s' % (
                    profile, case, rep, summary['failed'], summary['outage_s'], summary['vip_move_s']), flush=True)
                results['runs'].append(summary)
                with open(args.out, 'w') as handle:
                    json.dump(results, handle)
    if args.profiles.split(',')[-1] != 'default' or (
            'config_change' in args.cases.split(',') and args.repeat_heavy == 1):
        print('== back to the default profile and configuration', flush=True)
        playbook('site.yml')
    results['finished'] = time.time()
    with open(args.out, 'w') as handle:
        json.dump(results, handle)
    print('results: %s' % args.out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
