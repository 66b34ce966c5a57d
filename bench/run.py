#!/usr/bin/env python3
"""make bench: measure what a client sees when things fail, in the lab.

For each profile (guide, default, fast) the lab is converged with that profile;
then for each case the probe (bench/probe.py) runs on the client against the
VIP, the fault is injected at a recorded instant, the probe keeps going until
every request has succeeded for a while, and the lab is restored. Each case is
repeated N times. Raw results go to bench/results/results.json;
bench/report_performance.py turns them into docs/performance.md and plots.

A case is one entry of CASES: its fault (inject), how long it is watched, how
often it runs, and what the page says of it (title, metric, bound, target).
The lab itself is reached through bench/lab.py.

Traffic stays inside the lab's Docker network (the VIP and lab addresses).
"""
import argparse
import json
import os
import sys
import time
from collections import namedtuple
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab  # noqa: E402
from analysis import UNREADY_BOUND_S, kubectl_view, stream_breaks, summarize  # noqa: E402
from lab import ROOT, dexec, holders, inventory_plan, peer_of, playbook, sh, steady, timed_playbook, wait  # noqa: E402
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.profiles import OS  # noqa: E402

# default last: its converge from bare containers starts it, and the lab is
# left as the inventory describes it with no extra run at the end.
PROFILES = ['guide', 'fast', 'default']
# A run ends once every request has succeeded for SETTLE_S, or MAX_WAIT_S after
# the fault (never recovered).
PRE_S, SETTLE_S, MAX_WAIT_S = lab.PRE_S, lab.SETTLE_S, 18.0


# ------------------------------------------------------------------ faults
# Each: fault(holder, profile, rep, reps) -> (fault time, restore(), expected holder after restore).
def _stamp(name, command):
    """Run `command` in a container right after reading its clock: the fault's instant."""
    return float(dexec(name, 'date +%s.%N; ' + command).split()[0])


def keepalived_stop(holder, *_):
    t = _stamp(holder, 'systemctl stop keepalived')
    return t, lambda: dexec(holder, 'systemctl start keepalived'), holder


def keepalived_kill(holder, *_):
    t = _stamp(holder, 'systemctl kill --signal=KILL keepalived')
    # the kubeha drop-in restarts it (after 5 s, fast 2 s); the guide has none
    return t, lambda: dexec(holder, 'systemctl is-active -q keepalived || systemctl start keepalived'), holder


def holder_container_kill(holder, *_):
    t = time.time()
    lab.kill(holder)

    def restore():
        lab.start(holder)
        lab.booted(holder, 90)
    return t, restore, holder


def haproxy_norestart(lb, on):
    if on:
        dexec(lb, 'mkdir -p /run/systemd/system/haproxy.service.d && printf "[Service]\\nRestart=no\\n" '
                  '> /run/systemd/system/haproxy.service.d/bench.conf && systemctl daemon-reload')
    else:
        dexec(lb, 'rm -f /run/systemd/system/haproxy.service.d/bench.conf && systemctl daemon-reload')


def haproxy_kill(holder, *_):
    haproxy_norestart(holder, True)
    t = _stamp(holder, 'systemctl kill --signal=KILL haproxy')

    def restore():
        haproxy_norestart(holder, False)
        dexec(holder, 'systemctl reset-failed haproxy; systemctl start haproxy')
    return t, restore, holder


def victim():
    """The control-plane node the apiserver faults hit."""
    return lab.CPS[0]


def apiserver_kill(holder, *_):
    t = _stamp(victim(), 'systemctl kill --signal=KILL kube-apiserver-standin')
    return t, lambda: dexec(victim(), 'systemctl start kube-apiserver-standin'), holder


def apiserver_container_kill(holder, *_):
    t = time.time()
    lab.kill(victim())

    def restore():
        lab.start(victim())
        wait(lambda: dexec(victim(), 'systemctl is-active kube-apiserver-standin', check=False).strip() == 'active',
             90, 0.25)
    return t, restore, holder


def apiserver_unready(holder, *_):
    t = _stamp(victim(), 'touch /run/kubeha-standin/unready')
    return t, lambda: dexec(victim(), 'rm -f /run/kubeha-standin/unready'), holder


def apiserver_graceful_restart(holder, *_):
    # what kubeadm upgrade or a flag change does to the static pod: SIGTERM, then start
    return _stamp(victim(), 'systemctl restart kube-apiserver-standin'), lambda: None, holder


def control_plane_roll(holder, profile, *_):
    # a control-plane upgrade: each apiserver in turn, the next once the last is back
    t = time.time()
    for cp in lab.CPS:
        dexec(cp, 'systemctl restart kube-apiserver-standin')
        if not wait(lambda: lab.is_steady(profile), 90, 0.25):
            raise RuntimeError('%s did not come back into rotation' % cp)
    return t, lambda: None, holder


def maintenance(holder, profile, *_):
    t = time.time()
    playbook('playbooks/maintenance.yml', '-e', 'maintenance_target=%s' % holder, '-e', 'kubeha_profile=%s' % profile)
    return t, lambda: None, holder


CONFIG_CHANGES = (['-e', 'haproxy_timeout_client=5h', '-e', 'haproxy_timeout_server=5h'],
                  ['-e', 'haproxy_timeout_client=6h', '-e', 'haproxy_timeout_server=6h'])


def config_change_args(rep, reps):
    """Extra vars of config-change run `rep` of `reps`: every run changes the
    running configuration (the role's 4h -> 5h, 6h, 5h, ...) and the last one rolls back to the
    inventory's, so no unmeasured run is needed to restore the lab."""
    if rep == reps - 1 and reps > 1:
        return []
    return CONFIG_CHANGES[rep % 2]


def config_change(holder, profile, rep, reps):
    t = time.time()
    playbook('site.yml', '-e', 'kubeha_profile=%s' % profile, *config_change_args(rep, reps))
    return t, lambda: None, holder


# ------------------------------------------------------------------ the suite
# One entry per case: the fault, how it is run and watched, and what the page
# says of it. vip: the case may move the VIP (kubectl watches it, the VIP is
# handed back after it). min_after_s: keep probing at least this long after the
# fault, by profile, so effects that come late are seen. max_reps: long cases
# run fewer times (the lifecycle scenario asserts the same in every CI run).
# heavy: a playbook case (--repeat-heavy). guide: whether the guide has this
# procedure at all (it has neither maintenance nor a rollout: its step is "edit
# haproxy.cfg, restart haproxy", so those rows would measure ours).
Case = namedtuple('Case', 'inject title metric unit targets bounds vip min_after_s max_reps heavy guide')
Case.__new__.__defaults__ = (False, {}, None, False, True)
ALL = ('guide', 'default', 'fast')
CASES = {
    'keepalived_stop': Case(
        keepalived_stop, 'keepalived stopped gracefully on the VIP holder', 'outage_s', 's',
        {'default': '<= 0.5 s', 'fast': '<= 0.3 s'},
        {'guide': '0.6 s (priority-0 advert, then skew)', 'default': '0.6 s (priority-0 advert, then skew)',
         'fast': '0.06 s (priority-0 advert, then skew)'}, vip=True),
    'keepalived_kill': Case(
        keepalived_kill, 'keepalived SIGKILLed on the VIP holder', 'outage_s', 's',
        {'default': '<= 4.0 s', 'fast': '<= 1.0 s'},
        {'guide': '3.6 s (3 x 1 s + skew), or until restarted',
         'default': '~0: peer takes over at 3.6 s, restart after 5 s',
         'fast': '~0: peer takes over at 0.36 s, restart after 2 s'}, vip=True,
        # the VIP stays put until the peer misses 3 adverts (3.6 s with
        # advert_int 1): a run must not end before the takeover
        min_after_s={'guide': 5.0, 'default': 5.0}),
    'holder_container_kill': Case(
        holder_container_kill, 'VIP holder container killed', 'outage_s', 's',
        {'default': '<= 4.0 s', 'fast': '<= 1.0 s'},
        {'guide': '3.6 s', 'default': '3.6 s (3 x 1 s + skew)', 'fast': '0.36 s (3 x 0.1 s + skew)'}, vip=True),
    'haproxy_kill': Case(
        haproxy_kill, 'haproxy SIGKILLed (stays dead) on the VIP holder', 'outage_s', 's',
        {'default': '<= 4.0 s', 'fast': '<= 1.5 s'},
        {'guide': 'never (no track script)', 'default': '2.6 s (2 x 1 s checks, FAULT, then skew 0.6 s)',
         'fast': '1.06 s (1 x 1 s check, FAULT, then skew 0.06 s)'}, vip=True),
    'apiserver_kill': Case(
        apiserver_kill, 'an apiserver SIGKILLed (connections refused)', 'failed', 'requests',
        {'default': '0', 'fast': '0'},
        {'guide': 'failures until 3 failed TCP checks (no redispatch)',
         'default': '0 with redispatch', 'fast': '0 with redispatch'}),
    'apiserver_container_kill': Case(
        apiserver_container_kill, 'an apiserver container killed (connections time out)', 'failed', 'requests',
        {'default': '0', 'fast': '0'},
        {'guide': 'failures until 3 checks time out (no redispatch)',
         'default': '0: redispatch after timeout connect 1 s', 'fast': '0: redispatch after timeout connect 0.5 s'}),
    'apiserver_unready': Case(
        apiserver_unready, 'an apiserver unready (/readyz 500) but listening', 'routed_after_bound', 'requests',
        {'default': '0', 'fast': '0'},
        {'guide': 'never taken out (TCP check)', 'default': 'out after 2 s + 2 x 1 s',
         'fast': 'out after 1 s + 1 x 0.25 s'},
        # watched past the check bound, or "routed after the bound" would be 0 by
        # construction (the guide's TCP check has no bound: 10 s, as in earlier runs)
        min_after_s={p: (10.0 if b is None else b + 2.0) for p, b in UNREADY_BOUND_S.items()}),
    'apiserver_graceful_restart': Case(
        apiserver_graceful_restart, 'an apiserver restarted gracefully (SIGTERM: /readyz 500, serves 8 s more, '
        'starts unready)', 'failed', 'requests', {'default': '0', 'fast': '0'},
        {'guide': 'failures once it stops listening (TCP check, no redispatch)',
         'default': '0: out of rotation within 6 s, it serves for 8 s', 'fast': '0: out of rotation within 1.75 s'},
        # the stand-in keeps serving 8 s after SIGTERM, starts unready for 3 s, and
        # must pass `rise` checks: watch it come back into rotation too
        min_after_s={p: 18.0 for p in UNREADY_BOUND_S}, max_reps=3),
    'control_plane_roll': Case(
        control_plane_roll, 'a control-plane upgrade: every apiserver restarted gracefully in turn', 'failed',
        'requests', {'default': '0', 'fast': '0'},
        {'guide': 'failures at each restart (TCP check, no redispatch)', 'default': '0', 'fast': '0'},
        max_reps=2, heavy=True),
    'maintenance': Case(
        maintenance, 'planned maintenance of the VIP holder (maintenance.yml)', 'failed', 'requests',
        {'default': '0', 'fast': '0'}, {p: 'requests in flight at 2 VIP moves' for p in ALL}, heavy=True, guide=False),
    'config_change': Case(
        config_change, 'configuration change rolled out with site.yml', 'failed', 'requests',
        {'default': '0', 'fast': '0'}, {p: '0 (reload, holder last)' for p in ALL}, heavy=True, guide=False),
}


def run_case(name, profile, rep, args, reps=1):
    case = CASES[name]
    holder = holders()[0]
    lab.start_probe(args.rate, args.streams)
    kubectl = case.vip and args.kubectl
    if kubectl:
        lab.start_kubectl()
    time.sleep(args.pre)
    fault_t, restore, expect = case.inject(holder, profile, rep, reps)
    observe = max(args.settle + 1, (case.min_after_s or {}).get(profile, 0.0))
    try:
        wait(lambda: time.time() - fault_t > observe and lab.tail_all_ok(args.settle), args.max_wait, 0.25)
    finally:
        peer = peer_of(holder)
        try:
            records = lab.stop_probe()
            seen_by_kubectl = kubectl_view(lab.stop_kubectl()) if kubectl else None
            since = lab.state_since(peer) if case.vip else None  # before hand_back restarts it
        finally:
            restore()  # even when the probe's records are unusable: never leave the lab broken
        if case.vip:
            lab.hand_back(holder, fault_t)
    reqs = [r for r in records if r['type'] == 'req']
    summary = summarize(reqs, fault_t)
    summary.update(case=name, profile=profile, rep=rep, fault_t=fault_t, holder=holder,
                   vip_move_s=round(since - fault_t, 3) if since and since > fault_t else None,
                   lag_p99_ms=sorted(r['lag_ms'] for r in reqs)[int(len(reqs) * 0.99) - 1] if reqs else None,
                   streams=stream_breaks(records))
    if seen_by_kubectl is not None:
        seen_by_kubectl.pop('failures', None)
        summary['kubectl'] = seen_by_kubectl
    if name == 'apiserver_unready':
        summary['answers_from_victim_after_fault'] = [round(r['t'] - fault_t, 3) for r in reqs
                                                      if r['t'] >= fault_t and r.get('node') == victim()]
    summary['timeline'] = [[round(r['t'] - fault_t, 3), r['outcome']] for r in reqs
                           if -1.0 <= r['t'] - fault_t <= 15.0]
    steady(profile, expect)  # every profile runs with preempt: the VIP returns
    return summary


def min_after_fault_s():
    """{case: {profile: seconds}} of the cases watched longer than the settle time."""
    return dict((name, case.min_after_s) for name, case in CASES.items() if case.min_after_s)


# -------------------------------------------------------------- converge
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
    first, _ = timed_playbook('site.yml', '-e', 'kubeha_profile=%s' % profile, load_balancers=lab.LBS)
    again, out = timed_playbook('site.yml', '-e', 'kubeha_profile=%s' % profile, load_balancers=lab.LBS)
    return converge_row(first, again, out, case='converge', profile=profile, inventory='lab', clusters=1,
                        load_balancers=len(lab.LBS))


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
        busy, started = lab.cpu_busy_s(), time.time()
        with ThreadPoolExecutor(len(lbs)) as pool:
            list(pool.map(lambda lb: dexec(lb, install), lbs))
        rows.append({'case': 'apt_alone', 'load_balancers': len(lbs), 'packages': packages.split(),
                     'wall_s': round(time.time() - started, 1), 'cpu_s': round(lab.cpu_busy_s() - busy, 1),
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


def parse_args():
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
    return parser.parse_args()


def run_profile(profile, args, results):
    """Converge the lab with ``profile``, then run every case of it, saving after each run."""
    print('== profile %s: converge' % profile, flush=True)
    if not args.no_converge_times and profile == 'default':
        results['runs'].append(converge_times(profile))
        results['runs'].extend(fleet_converge_times())  # the lab is left as it was
    else:
        playbook('site.yml', '-e', 'kubeha_profile=%s' % profile)
    steady(profile)
    if not wait(lambda: lab.vrrp_quiet(5.0), 90, 0.5):
        raise RuntimeError('VRRP did not settle after the %s converge' % profile)
    steady(profile)
    lab.install_probes()
    for case in args.cases.split(','):
        if profile == 'guide' and not CASES[case].guide:
            continue
        reps = args.repeat_heavy if CASES[case].heavy else args.repeat
        reps = min(reps, CASES[case].max_reps or reps)
        for rep in range(reps):
            summary = run_case(case, profile, rep, args, reps)
            print('%-8s %-26s #%d failed=%-4d outage=%.3fs vip_move=%s' % (
                profile, case, rep, summary['failed'], summary['outage_s'], summary['vip_move_s']), flush=True)
            results['runs'].append(summary)
            with open(args.out, 'w') as handle:
                json.dump(results, handle)


def main():
    args = parse_args()
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    if args.converge_only:
        return converge_only(args)
    results = {'started': time.time(), 'n': args.repeat, 'n_heavy': args.repeat_heavy, 'rate': args.rate, 'runs': [],
               'window': {'pre_s': args.pre, 'settle_s': args.settle, 'max_wait_s': args.max_wait,
                          'min_after_fault_s': min_after_fault_s()},
               'machine': {'nproc': os.cpu_count(), 'uname': ' '.join(os.uname()),
                           'haproxy': dexec(lab.LBS[0], 'haproxy -v | head -1', check=False).strip(),
                           'keepalived': dexec(lab.LBS[0], 'keepalived --version 2>&1 | head -1', check=False).strip()}}
    for profile in args.profiles.split(','):
        run_profile(profile, args, results)
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
