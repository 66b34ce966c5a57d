#!/usr/bin/env python3
"""make bench, BGP mode (kubeha_vip_mode: bgp): what a client sees in the bgp
scenario's lab. Two load balancers on two subnets with no shared L2 announce
the VIP to an FRR router (ECMP over an L4 hash, BFD); the client and the
control planes sit behind the router.

The same probe as bench/run.py (a new TLS connection per request at 100/s,
long-lived streams for `kubectl logs -f`, and a real kubectl beside it) runs
on the client against the VIP while one fault is injected at a recorded
instant; the run ends once every request has succeeded for a while, and the
lab is restored. Results: bench/results/bgp.json; bench/report_performance.py
puts them on docs/performance.md next to the VRRP rows.

The lab is molecule's bgp scenario: created, prepared and converged here
when its containers are missing (molecule destroy -s bgp removes it).
Traffic stays inside the lab's Docker networks.
"""
import argparse
import glob
import json
import os
import sys
import time
from collections import namedtuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab  # noqa: E402
from analysis import kubectl_view, stream_breaks, summarize  # noqa: E402
from lab import ROOT, dexec, playbook, sh, wait  # noqa: E402
from run import MAX_WAIT_S, config_change_args  # noqa: E402

SCENARIO = 'bgp'
OUT = os.path.join(ROOT, 'bench', 'results', 'bgp.json')


def inventory():
    """The bgp scenario's inventory (molecule's ephemeral directory), the newest if several."""
    found = sorted(glob.glob(os.path.expanduser('~/.ansible/tmp/molecule.*.%s/inventory/ansible_inventory.yml'
                                                % SCENARIO)), key=os.path.getmtime)
    if not found:
        raise RuntimeError('no inventory of molecule scenario %s: molecule create -s %s' % (SCENARIO, SCENARIO))
    return os.path.dirname(found[-1])


def ensure_lab():
    """The bgp scenario up and converged, with kubectl on the client; the bench's topology read from it."""
    if sh(['docker', 'inspect', '-f', '{{.State.Running}}', 'bgp-lb1'], check=False).strip() != 'true':
        for step in (['destroy'], ['create'], ['prepare', '--force'], ['converge']):
            sh(['molecule'] + step[:1] + ['-s', SCENARIO] + step[1:], timeout=1800)
    lab.INVENTORY = inventory()
    playbook('lab/prepare.yml', '--limit', lab.topology().CLIENT, '-e', 'lab_kubectl=true', inventory=lab.INVENTORY)
    lab.install_probes()


def site(profile, mode, *extra):
    return playbook('site.yml', '-e', 'kubeha_profile=%s' % profile, '-e', 'bgp_mode=%s' % mode, *extra,
                    inventory=lab.INVENTORY)


def gate(lb):
    """The gate's state on a load balancer ({} when it never ran), with ``age_s``:
    how long ago the gate wrote it (it writes after every check)."""
    out = dexec(lb, 'cat /run/kubeha-bgp/gate.json && echo && echo $(( $(date +%s) - '
                    '$(stat -c %Y /run/kubeha-bgp/gate.json) ))', check=False).splitlines()
    try:
        return dict(json.loads(out[0]), age_s=int(out[1]))
    except (IndexError, ValueError):
        return {}


def bfd_up():
    """The load balancers whose BFD session with the router is up, as the router has them."""
    out = dexec('bgp-router', "vtysh -c 'show bfd peers json'", check=False)
    try:
        peers = json.loads(out or '[]')
    except ValueError:
        return []
    by_address = dict((lab.topology().PLAN['hosts'][lb]['address'], lb) for lb in lab.topology().LBS)
    return sorted(by_address[p['peer']] for p in peers if p.get('status') == 'up' and p.get('peer') in by_address)


def router_paths():
    """The load balancers the router forwards the VIP to (its kernel's next hops)."""
    out = dexec('bgp-router', 'ip -j route show %s' % lab.topology().VIP, check=False)
    routes = json.loads(out or '[]')
    hops = [h.get('gateway') for r in routes for h in (r.get('nexthops') or [r])]
    by_address = dict((lab.topology().PLAN['hosts'][lb]['address'], lb) for lb in lab.topology().LBS)
    return sorted(by_address[h] for h in hops if h in by_address)


def serving(mode):
    """Steady: every gate runs (its state fresh) and announces (one plain path,
    the others prepended in active_passive), BFD is up with every load balancer,
    and the router forwards to every load balancer (ecmp) or to the primary alone."""
    gates = [gate(lb) for lb in lab.topology().LBS]
    if not all(g.get('announced') and g.get('check_ok') and g.get('age_s', 99) <= 3 for g in gates):
        return False
    if bfd_up() != sorted(lab.topology().LBS):
        return False
    paths = router_paths()
    if mode == 'ecmp':
        return paths == sorted(lab.topology().LBS)
    primaries = [lb for lb, g in zip(lab.topology().LBS, gates) if not g.get('standby')]
    return len(primaries) == 1 and paths == primaries


def steady(mode, timeout=120):
    if not wait(lambda: serving(mode), timeout, 0.5):
        raise RuntimeError('the BGP lab did not settle (%s): gates %s, router paths %s'
                           % (mode, [gate(lb) for lb in lab.topology().LBS], router_paths()))


def primary(mode):
    """The load balancer a fault hits: in active_passive the one the router uses."""
    if mode == 'active_passive':
        return router_paths()[0]
    return lab.topology().LBS[0]


def _stamp(name, command):
    return float(dexec(name, 'date +%s.%N; ' + command).split()[0])


# ------------------------------------------------------------------ faults
# Each: fault(lb, profile, mode, rep, reps) -> (fault time, restore()).
def lb_poweroff(lb, *_):
    # a power loss: nothing answers any more (no RST, no BFD), and the host is frozen
    t = _stamp(lb, 'iptables -I INPUT 1 -i eth0 -j DROP; iptables -I OUTPUT 1 -o eth0 -j DROP')
    sh(['docker', 'pause', lb])

    def restore():
        sh(['docker', 'unpause', lb])
        # as a reboot would find it: /run empty (the gate's check, frozen mid-run,
        # timed out, and would otherwise hold it back for keepalived_track_overload_hold)
        dexec(lb, 'iptables -D INPUT -i eth0 -j DROP; iptables -D OUTPUT -o eth0 -j DROP; '
                  'rm -f /run/kubeha-bgp/*.timedout')
    return t, restore


def haproxy_kill(lb, *_):
    dexec(lb, 'mkdir -p /run/systemd/system/haproxy.service.d && printf "[Service]\\nRestart=no\\n" '
              '> /run/systemd/system/haproxy.service.d/bench.conf && systemctl daemon-reload')
    t = _stamp(lb, 'systemctl kill --signal=KILL haproxy')

    def restore():
        dexec(lb, 'rm -f /run/systemd/system/haproxy.service.d/bench.conf && systemctl daemon-reload; '
                  'systemctl reset-failed haproxy; systemctl start haproxy')
    return t, restore


def apiserver_kill(*_):
    victim = lab.topology().CPS[0]
    t = _stamp(victim, 'systemctl kill --signal=KILL kube-apiserver-standin')
    return t, lambda: dexec(victim, 'systemctl start kube-apiserver-standin')


def lb_return(lb, _profile, mode, *_):
    # set up before the probe starts (prepare): the load balancer withdrawn; the
    # fault is its gate starting again, which announces once its checks pass
    return _stamp(lb, 'systemctl start kubeha-bgp-gate.service'), lambda: None


def lb_return_prepare(lb, _profile, mode):
    dexec(lb, 'systemctl stop kubeha-bgp-gate.service')
    if not wait(lambda: lb not in router_paths(), 30, 0.2):
        raise RuntimeError('the router still forwards to %s after its gate stopped' % lb)


def maintenance(lb, profile, mode, *_):
    t = time.time()
    playbook('playbooks/maintenance.yml', '-e', 'maintenance_target=%s' % lb, '-e', 'kubeha_profile=%s' % profile,
             '-e', 'bgp_mode=%s' % mode, inventory=lab.INVENTORY)
    return t, lambda: None


def config_change(_lb, profile, mode, rep, reps):
    t = time.time()
    site(profile, mode, *config_change_args(rep, reps))
    return t, lambda: None


def drain_change(_lb, profile, mode, rep, reps):
    """A change that restarts the gate (bgp_gate_rise): site.yml drains each load
    balancer in turn (withdraw, change, announce), the last run rolls it back."""
    t = time.time()
    site(profile, mode, *(['-e', 'bgp_gate_rise=3'] if rep < reps - 1 or reps == 1 else []))
    return t, lambda: None


def frr_change(_lb, profile, mode, rep, reps):
    """A change of frr.conf (the BGP timers, bgp_keepalive and bgp_holdtime),
    rolled out with site.yml; the last run rolls it back."""
    t = time.time()
    site(profile, mode, *(['-e', 'bgp_keepalive=4', '-e', 'bgp_holdtime=12'] if rep < reps - 1 or reps == 1
                          else []))
    return t, lambda: None


# One entry per case: its fault, what the page says of it (title, target), the
# settings it runs with ((profile, mode) pairs), a set-up before the probe
# starts, how long it is watched at least, and whether it is a playbook case.
Case = namedtuple('Case', 'inject title target settings prepare min_after_s heavy')
Case.__new__.__defaults__ = (None, 0.0, False)
ECMP = (('default', 'ecmp'), ('fast', 'ecmp'))
CASES = {
    'lb_poweroff': Case(
        lb_poweroff, 'a load balancer powered off (drops everything, frozen)',
        'fast: <= 10 failed, no wait > 1.1 s (BFD 3 x 100 ms)',
        ECMP + (('fast', 'active_passive'),), min_after_s=3.0),
    'haproxy_kill': Case(
        haproxy_kill, 'haproxy SIGKILLed (stays dead) on a load balancer', 'the gate withdraws after fall checks',
        ECMP, min_after_s=4.0),
    'apiserver_kill': Case(
        apiserver_kill, 'an apiserver SIGKILLed (connections refused)', '0 failed (redispatch)', (('default', 'ecmp'),)),
    'lb_return': Case(
        lb_return, 'a load balancer returns (its gate starts; long-lived streams held)',
        'active_passive: no stream broken', (('default', 'ecmp'), ('default', 'active_passive')),
        prepare=lb_return_prepare, min_after_s=6.0),
    'maintenance': Case(
        maintenance, 'planned maintenance of a load balancer (maintenance.yml)', '0 failed',
        (('default', 'ecmp'), ('default', 'active_passive')), heavy=True),
    'config_change': Case(
        config_change, 'configuration change rolled out with site.yml', '0 failed',
        (('default', 'ecmp'), ('default', 'active_passive')), heavy=True),
    'frr_change': Case(
        frr_change, 'a change of frr.conf (the BGP timers), rolled out with site.yml', '0 failed',
        (('default', 'ecmp'), ('default', 'active_passive')), heavy=True),
    'drain_change': Case(
        drain_change, 'a change that restarts the gate, rolled out with site.yml (drains each load balancer)',
        '0 failed', (('default', 'ecmp'), ('default', 'active_passive')), heavy=True),
}


# ------------------------------------------------------------------ chaos
# make chaos's BGP rows (bench/chaos.py --bgp runs them): faults between a load balancer and its router,
# judged against a promise stated beforehand; the rows join bench/results/chaos.json
# and docs/reliability.md (bench/report_reliability.py).
CUT_S, SESSION_S, FLAP_S = 10.0, 20.0, 60.0
HEAL_BOUND_S = 30.0


def _iptables(lb, rules, verb):
    dexec(lb, '; '.join('iptables %s %s' % (verb, rule) for rule in rules))


def _broken_for(lb, rules, seconds, notes):
    """Add the rules, keep them `seconds`, remove them; then how long until the
    load balancer serves again (the router forwards to it)."""
    t = float(dexec(lb, 'date +%s.%N').split()[0])
    _iptables(lb, rules, '-I')
    time.sleep(seconds)
    _iptables(lb, rules, '-D')
    healed = time.time()
    back = wait(lambda: serving('ecmp'), 60, 0.2)
    notes['announced_again_after_heal_s'] = round(time.time() - healed, 2) if back else None
    return t


def session_lost(lb, notes):
    rules = ['INPUT -p tcp --dport 179 -j DROP', 'INPUT -p tcp --sport 179 -j DROP',
             'OUTPUT -p tcp --dport 179 -j DROP', 'OUTPUT -p tcp --sport 179 -j DROP']
    return _broken_for(lb, rules, SESSION_S, notes)


def bfd_flapping(lb, notes):
    rules = ['INPUT -p udp --dport 3784 -m statistic --mode random --probability 0.30 -j DROP',
             'OUTPUT -p udp --dport 3784 -m statistic --mode random --probability 0.30 -j DROP']
    return _broken_for(lb, rules, FLAP_S, notes)


def cut_off(lb, notes):
    return _broken_for(lb, ['INPUT -i eth0 -j DROP', 'OUTPUT -o eth0 -j DROP'], CUT_S, notes)


def _healed(n):
    return n.get('announced_again_after_heal_s') is not None and n['announced_again_after_heal_s'] <= HEAL_BOUND_S


CHAOS = {
    'bgp_session_lost': dict(
        fault='BGP mode: a load balancer\'s session with the router lost (TCP 179 dropped for %d s; BFD up)'
              % SESSION_S, inject=session_lost,
        promise='requests fail only at the two path changes (at most 5 in all); it announces again within %d s '
                'of the heal' % HEAL_BOUND_S,
        judge=lambda s, n: s['failed'] <= 5 and _healed(n)),
    'bgp_bfd_flapping': dict(
        fault='BGP mode: 30 %% of BFD packets dropped both ways on a load balancer for %d s (iptables statistic)'
              % FLAP_S, inject=bfd_flapping,
        promise='each drop counted (kubeha_bgp_session_drops_total, KubehaBGPSessionFlapping\'s input); '
                'requests fail only at path changes (none farther than 2 s from one); announced again within '
                '%d s of the heal' % HEAL_BOUND_S,
        judge=lambda s, n: (n.get('session_drops', 0) >= 1 and n.get('failed_away_from_changes') == 0
                            and _healed(n)),
        limit='BFD at 300 ms x 3 survives 30 % loss only while no three packets in a row are lost; each drop '
              'withdraws and re-announces the path, and the router re-hashes its flows both times'),
    'bgp_lb_cut_off': dict(
        fault='BGP mode: a load balancer cut off from the router for %d s (everything dropped both ways)' % CUT_S,
        inject=cut_off,
        promise='at most 10 failed requests (BFD notices in 0.9 s); it announces again within %d s of the heal'
                % HEAL_BOUND_S,
        judge=lambda s, n: s['failed'] <= 10 and _healed(n)),
}


def _drops(lb):
    """The BGP exporter's kubeha_bgp_session_drops_total, summed over the routers."""
    out = dexec(lb, 'curl -s %s/metrics' % lab.topology().PLAN['hosts'][lb]['metrics']['bgp'], check=False)
    return sum(float(line.split()[-1]) for line in out.splitlines()
               if line.startswith('kubeha_bgp_session_drops_total'))


def run_chaos(name, rate):
    import threading
    case = CHAOS[name]
    steady('ecmp')
    lb = lab.topology().LBS[0]
    notes = {'profile': 'default', 'mode': 'ecmp'}
    drops_before = _drops(lb)
    changes, stop = [], []

    def watch():  # the router's next hops, every 0.1 s: each change is a path change
        last = router_paths()
        while not stop:
            now = router_paths()
            if now != last:
                changes.append((time.time(), now))
                last = now
            time.sleep(0.1)
    watcher = threading.Thread(target=watch)
    watcher.start()
    lab.start_probe(rate, 2)
    time.sleep(lab.PRE_S)
    try:
        fault_t = case['inject'](lb, notes)
        wait(lambda: lab.tail_all_ok(lab.SETTLE_S), 60, 0.25)
    finally:
        records = lab.stop_probe()
        stop.append(True)
        watcher.join()
    steady('ecmp')
    notes['session_drops'] = int(_drops(lb) - drops_before)
    requests = [r for r in records if r['type'] == 'req']
    summary = summarize(requests, fault_t)
    change_times = [t for t, _paths in changes]
    notes['failed_away_from_changes'] = sum(
        1 for r in requests if r['t'] >= fault_t and r['outcome'] != 'ok'
        and not any(abs(r['t'] - t) <= 2.0 for t in change_times))
    return dict(case=name, profile='default', settings=['kubeha_vip_mode=bgp'], fault=case['fault'],
                promise=case['promise'], met=bool(case['judge'](summary, notes)),
                failed=summary['failed'], delayed=summary['delayed'], longest_wait_ms=summary['longest_wait_ms'],
                requests=summary['requests'], vip_moves=len(changes),
                moves=[[round(t - fault_t, 2), paths] for t, paths in changes], notes=notes,
                outcomes=summary['outcomes'], when=time.strftime('%Y-%m-%d %H:%M', time.gmtime(fault_t)))


def run_case(name, profile, mode, rep, reps, args):
    case = CASES[name]
    lb = primary(mode)
    if case.prepare:
        case.prepare(lb, profile, mode)
    lab.start_probe(args.rate, args.streams)
    lab.start_kubectl()
    time.sleep(args.pre)
    fault_t, restore = case.inject(lb, profile, mode, rep, reps)
    observe = max(args.settle + 1, case.min_after_s)
    try:
        wait(lambda: time.time() - fault_t > observe and lab.tail_all_ok(args.settle), args.max_wait, 0.25)
    finally:
        try:
            records = lab.stop_probe()
            seen_by_kubectl = kubectl_view(lab.stop_kubectl())
        finally:
            restore()  # never leave the lab broken
    steady(mode)
    reqs = [r for r in records if r['type'] == 'req']
    summary = summarize(reqs, fault_t)
    seen_by_kubectl.pop('failures', None)
    summary.update(case=name, profile=profile, mode=mode, rep=rep, fault_t=fault_t, lb=lb,
                   streams=stream_breaks(records), kubectl=seen_by_kubectl,
                   timeline=[[round(r['t'] - fault_t, 3), r['outcome']] for r in reqs
                             if -1.0 <= r['t'] - fault_t <= 15.0])
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('-n', '--repeat', type=int, default=int(os.environ.get('BENCH_N', 5)))
    parser.add_argument('--repeat-heavy', type=int, default=int(os.environ.get('BENCH_N_HEAVY', 5)))
    parser.add_argument('--cases', default=os.environ.get('BENCH_BGP_CASES', ','.join(CASES)))
    parser.add_argument('--rate', type=float, default=100.0)
    parser.add_argument('--streams', type=int, default=8, help='long-lived connections held through the VIP')
    parser.add_argument('--pre', type=float, default=lab.PRE_S)
    parser.add_argument('--settle', type=float, default=lab.SETTLE_S)
    parser.add_argument('--max-wait', type=float, default=MAX_WAIT_S)
    parser.add_argument('--out', default=OUT)
    args = parser.parse_args()
    started = time.time()
    ensure_lab()
    first = lab.topology().LBS[0]
    results = {'started': started, 'n': args.repeat, 'n_heavy': args.repeat_heavy, 'rate': args.rate,
               'streams': args.streams, 'runs': [],
               'machine': {'nproc': os.cpu_count(), 'uname': ' '.join(os.uname()),
                           'haproxy': dexec(first, 'haproxy -v | head -1', check=False).strip(),
                           'frr': dexec(first, "vtysh -c 'show version' | head -1", check=False).strip(),
                           'router_hash': dexec('bgp-router', 'sysctl -n net.ipv4.fib_multipath_hash_policy',
                                                check=False).strip()}}
    settings = []
    for name in args.cases.split(','):
        settings.extend(s for s in CASES[name].settings if s not in settings)
    if args.cases != ','.join(CASES) and os.path.exists(args.out):
        # some cases again: the other cases' rows are kept
        with open(args.out) as handle:
            results['runs'] = [r for r in json.load(handle)['runs'] if r['case'] not in args.cases.split(',')]
    for profile, mode in settings:
        print('== BGP %s, profile %s: converge' % (mode, profile), flush=True)
        site(profile, mode)
        steady(mode)
        for name in args.cases.split(','):
            case = CASES[name]
            if (profile, mode) not in case.settings:
                continue
            reps = args.repeat_heavy if case.heavy else args.repeat
            for rep in range(reps):
                summary = run_case(name, profile, mode, rep, reps, args)
                print('%-14s %-7s %-15s #%d failed=%-4d delayed=%-4d longest=%sms streams broken=%d' % (
                    mode, profile, name, rep, summary['failed'], summary['delayed'], summary['longest_wait_ms'],
                    summary['streams']['breaks']), flush=True)
                results['runs'].append(summary)
                with open(args.out, 'w') as handle:
                    json.dump(results, handle)
    if settings and settings[-1] != ('default', 'ecmp'):
        print('== back to the inventory\'s settings', flush=True)
        playbook('site.yml', inventory=lab.INVENTORY)
    results['finished'] = time.time()
    with open(args.out, 'w') as handle:
        json.dump(results, handle)
    print('results: %s' % args.out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
