#!/usr/bin/env python3
"""make chaos: faults a load-balancer pair meets in production, injected in the
lab at a recorded instant with the probe running, recovered, and judged
against a promise stated beforehand. Raw results: bench/results/chaos.json;
docs/reliability.md is generated from them (--report).

It reuses the bench's lab access, probe and outage accounting (bench/run.py,
bench/analysis.py). Traffic stays inside the lab's Docker network.

  python bench/chaos.py                   every case, default profile
  python bench/chaos.py --cases partition,vrrp_loss
  python bench/chaos.py --report          regenerate docs/reliability.md only
"""
import argparse
import json
import os
import re
import subprocess
import time

import run as R
from analysis import summarize

RESULTS = os.path.join(R.ROOT, 'bench', 'results', 'chaos.json')
PAGE = os.path.join(R.ROOT, 'docs', 'reliability.md')
VRRP_DROP = 'INPUT -p 112 -j DROP'
VRRP_LOSS = 'INPUT -p 112 -m statistic --mode random --probability 0.30 -j DROP'
PARTITION_S, LOSS_S, QUIET_S, APISERVERS_DOWN_S = 10.0, 60.0, 30.0, 10.0
POWER_BOUND_S = 90.0
# CPU starvation: the holder's container limited to this share of one CPU.
STARVE_CPUS, STARVE_S = 0.05, 30.0
# A request failing this close to a VIP move is the move's cost; farther away, another fault's.
MOVE_WINDOW_S = 2.0
# haproxy -c rejects a CA file that does not exist; the plan cannot know (it is on the host).
REJECTED_HAPROXY = ['-e', 'haproxy_health_check_ca_file=/etc/kubeha/no-such-ca.pem']


def verify_output():
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(R.ROOT, 'ansible.cfg'), ANSIBLE_NOCOLOR='1',
               ANSIBLE_COLLECTIONS_PATH=os.path.join(R.ROOT, '.build', 'collections'))
    result = subprocess.run(['ansible-playbook', '-i', os.path.join(R.ROOT, 'inventory', 'lab'),
                             os.path.join(R.ROOT, 'playbooks', 'verify.yml'), '-e', 'verify_settle_seconds=0'],
                            cwd=R.ROOT, env=env, capture_output=True, text=True, timeout=600)
    return ' '.join((result.stdout + result.stderr).split())


def moves_since(t):
    """Every MASTER transition any load balancer recorded after t, as (seconds after t, host)."""
    out = []
    for lb in R.LBS:
        log = R.dexec(lb, 'journalctl -t kubeha-vrrp -o short-unix --no-pager --since @%d' % int(t), check=False)
        out += [(round(float(line.split()[0]) - t, 3), lb) for line in log.splitlines()
                if 'is now MASTER' in line and float(line.split()[0]) >= t]
    return sorted(out)


def active_and_enabled(lb):
    out = R.dexec(lb, 'systemctl is-active keepalived haproxy; systemctl is-enabled keepalived haproxy', check=False)
    return out.split() == ['active', 'active', 'enabled', 'enabled']


def booted(name):
    return R.wait(lambda: R.dexec(name, 'systemctl is-system-running', check=False).strip()
                  in ('running', 'degraded'), 120, 0.5)


def backup_crash(holder, notes):
    backup = R.peer_of(holder)
    t = time.time()
    R.sh(['docker', 'kill', backup])
    time.sleep(8)

    def restore():
        R.sh(['docker', 'start', backup])
        booted(backup)
    return t, restore


def both_power_loss(holder, notes):
    t = time.time()
    R.sh(['docker', 'kill'] + list(R.LBS))
    time.sleep(2)
    started = time.time()
    R.sh(['docker', 'start'] + list(R.LBS))
    for lb in R.LBS:
        booted(lb)
    serving = R.wait(lambda: len(R.holders()) == 1 and all(active_and_enabled(lb) for lb in R.LBS)
                     and R.tail_all_ok(2.0), POWER_BOUND_S, 0.5)
    notes.update(back_after_start_s=round(time.time() - started, 1), serving=serving,
                 enabled=all(active_and_enabled(lb) for lb in R.LBS), holders=R.holders())
    return t, lambda: None


def partition(holder, notes):
    """VRRP dropped both ways: each side thinks the other is dead."""
    t = time.time()
    for lb in R.LBS:
        R.dexec(lb, 'iptables -I ' + VRRP_DROP)
    split = R.wait(lambda: len(R.holders()) == len(R.LBS), PARTITION_S, 0.2)
    time.sleep(max(0.0, PARTITION_S - (time.time() - t)))
    notes['split_brain_seen'] = split
    notes['verify_named_split_brain'] = 'VRRP states disagree' in verify_output()
    healed = time.time()
    for lb in R.LBS:
        R.dexec(lb, 'iptables -D ' + VRRP_DROP, check=False)
    one = R.wait(lambda: len(R.holders()) == 1, 30, 0.2)
    notes['one_holder_after_heal_s'] = round(time.time() - healed, 2) if one else None
    settled_at = time.time()
    time.sleep(QUIET_S)
    notes['moves_after_settle'] = len(moves_since(settled_at))
    return t, lambda: None


def vrrp_loss(holder, notes):
    t = time.time()
    for lb in R.LBS:
        R.dexec(lb, 'iptables -I ' + VRRP_LOSS)
    time.sleep(LOSS_S)

    def restore():
        for lb in R.LBS:
            R.dexec(lb, 'iptables -D ' + VRRP_LOSS, check=False)
    return t, restore


def failed_away_from_moves(requests, move_times, window_s=MOVE_WINDOW_S):
    """Failed requests that started more than window_s from every VIP move (epoch times)."""
    return sum(1 for r in requests if r['outcome'] != 'ok'
               and all(abs(r['t'] - m) > window_s for m in move_times))


def wall_time_of_monotonic(mono_us, now=None, mono_now=None):
    """A container's CLOCK_MONOTONIC instant (systemd's ...TimestampMonotonic, in us) as
    epoch seconds: the containers share this kernel's clocks."""
    now = time.time() if now is None else now
    mono_now = time.monotonic() if mono_now is None else mono_now
    return now - (mono_now - mono_us / 1e6)


def holder_reboot(holder, notes):
    """The holder (the highest priority, preemption on) is rebooted: powered off
    cleanly by systemd, then started. It must take the VIP back only once its haproxy runs."""
    t = time.time()
    R.dexec(holder, 'systemctl poweroff', check=False)
    R.wait(lambda: R.sh(['docker', 'inspect', '-f', '{{.State.Running}}', holder]).strip() == 'false', 60, 0.2)
    R.sh(['docker', 'start', holder])
    booted(holder)
    back = R.wait(lambda: R.holders() == [holder], 120, 0.2)
    master_at = R.state_since(holder)
    mono = R.dexec(holder, 'systemctl show haproxy -p ActiveEnterTimestampMonotonic --value', check=False).strip()
    haproxy_at = wall_time_of_monotonic(int(mono)) if mono.isdigit() and int(mono) else None
    notes.update(back=back, master_after_haproxy_s=(round(master_at - haproxy_at, 3)
                                                    if master_at and haproxy_at else None))
    return t, lambda: None


def cpu_starvation(holder, notes):
    t = time.time()
    R.sh(['docker', 'update', '--cpus', str(STARVE_CPUS), holder])

    def restore():
        # every CPU of the machine: no limit (docker 20.10 keeps the old limit on --cpus 0)
        R.sh(['docker', 'update', '--cpus', str(os.cpu_count() or 1), holder])
    try:
        time.sleep(STARVE_S)
    except BaseException:
        restore()
        raise
    return t, restore


def _haproxy_files(lb):
    return R.dexec(lb, 'cd /etc/haproxy && ls -a | sort | tr "\\n" " "; sha256sum haproxy.cfg', check=False)


def failed_hosts(output):
    """The hosts the PLAY RECAP of ansible-playbook output reports as failed."""
    recap = output.split('PLAY RECAP')[-1]
    return sorted(host for host, failed in re.findall(r'^(\S+)\s+: ok=\d+ .*?failed=(\d+)', recap, re.M)
                  if failed != '0')


def haproxy_config_rejected(holder, notes):
    """site.yml with a configuration haproxy -c rejects (a CA file that is not there)."""
    before = dict((lb, _haproxy_files(lb)) for lb in R.LBS)
    t = time.time()
    try:
        R.playbook('site.yml', *REJECTED_HAPROXY)
        notes['site_failed'] = False
    except RuntimeError as exc:
        notes['site_failed'] = True
        notes['failed_on'] = failed_hosts(str(exc))
    after = dict((lb, _haproxy_files(lb)) for lb in R.LBS)
    notes['changed_or_left_behind'] = sorted(lb for lb in R.LBS if before[lb] != after[lb])
    notes['services_active'] = all(active_and_enabled(lb) for lb in R.LBS)
    notes['holder_kept'] = R.holders() == [holder]
    return t, lambda: None


def all_apiservers_down(holder, notes):
    t = time.time()
    for cp in R.CPS:
        R.dexec(cp, 'systemctl kill --signal=KILL kube-apiserver-standin')
    time.sleep(APISERVERS_DOWN_S)
    back = time.time()
    for cp in R.CPS:
        R.dexec(cp, 'systemctl start kube-apiserver-standin')
    notes['serving_again_after_s'] = (round(time.time() - back, 1) if R.wait(lambda: R.tail_all_ok(2.0), 60, 0.5)
                                      else None)
    return t, lambda: None


# Each case: what breaks, the promise, and how a run is judged (summary, moves, notes).
CASES = {
    'backup_crash': dict(
        fault='the backup load balancer crashes (container killed)', inject=backup_crash,
        promise='0 failed requests; the VIP does not move',
        judge=lambda s, m, n: s['failed'] == 0 and not m),
    'both_power_loss': dict(
        fault='both load balancers lose power (containers killed, started 2 s later)', inject=both_power_loss,
        promise='services come back enabled, exactly one holder, the endpoint serves within %d s of power'
                % POWER_BOUND_S,
        judge=lambda s, m, n: n.get('serving') and n.get('enabled') and len(n.get('holders', [])) == 1),
    'partition': dict(
        fault='VRRP dropped both ways between the load balancers for %d s (iptables)' % PARTITION_S,
        inject=partition,
        promise='verify names the split brain while it lasts; after the heal exactly one holder within 10 s '
                'and no further VIP moves for %d s' % QUIET_S,
        judge=lambda s, m, n: (n.get('verify_named_split_brain') and n.get('one_holder_after_heal_s') is not None
                               and n['one_holder_after_heal_s'] <= 10 and n.get('moves_after_settle') == 0)),
    'vrrp_loss': dict(
        fault='30 %% of VRRP packets dropped on both load balancers for %d s (iptables statistic)' % LOSS_S,
        inject=vrrp_loss,
        promise='default profile: no VIP move; fast profile: moves counted',
        judge=lambda s, m, n: not m if n.get('profile') == 'default' else True,
        limit='a protocol limit: a backup takes over after three adverts in a row are missed (3 x 1 s + '
              'skew); with 30 % of them lost that happens for 2.7 % of adverts, so about once a minute. '
              'Only a longer master-down interval (a larger keepalived_advert_int, a slower takeover) '
              'avoids it. The row above says what the moves cost the clients'),
    'holder_reboot': dict(
        fault='the holder (highest priority, preemption on) is rebooted: clean poweroff, then started',
        inject=holder_reboot,
        promise='the VIP moves away and back (2 moves), taken back only after the rebooted node\'s haproxy '
                'runs; no failed request farther than %g s from a move' % MOVE_WINDOW_S,
        judge=lambda s, m, n: (n.get('back') and len(m) == 2 and n.get('master_after_haproxy_s') is not None
                               and n['master_after_haproxy_s'] >= 0 and n.get('failed_away_from_moves') == 0)),
    'cpu_starvation': dict(
        fault='the holder limited to %g of a CPU for %d s (docker update --cpus)' % (STARVE_CPUS, STARVE_S),
        inject=cpu_starvation,
        promise='the VIP leaves a holder whose haproxy no longer answers its checks in time, and does not '
                'come back while the starvation lasts (at most 1 move); fast profile: moves counted',
        judge=lambda s, m, n: len(m) <= 1 if n.get('profile') == 'default' else True,
        limit='at 5 % of a CPU the holder\'s own haproxy check (curl, 1 s timeout) fails, so the VIP rightly '
              'leaves it; but with preemption it comes back as soon as two checks in a row pass again '
              '(keepalived_track_rise 2), and leaves again: the VIP flapped for as long as the starvation '
              'lasted. Real-time priority for keepalived (keepalived_max_auto_priority) does not change this: '
              'missed adverts are not the trigger, the failing haproxy check is. What would: a larger '
              'keepalived_track_rise (slower returns), or keepalived_preempt: false (no return at all); not '
              'changed yet, the trade-off is a slower failback after every fault'),
    'haproxy_config_rejected': dict(
        fault='site.yml run with a haproxy configuration that haproxy -c rejects (a missing CA file)',
        inject=haproxy_config_rejected,
        promise='site.yml fails on the first load balancer it changes (a backup) and goes no further; '
                'no haproxy.cfg changes and nothing is left behind in /etc/haproxy; the holder keeps the '
                'VIP; 0 failed requests',
        judge=lambda s, m, n: (n.get('site_failed') and len(n.get('failed_on', [])) == 1
                               and not n.get('changed_or_left_behind') and n.get('services_active')
                               and n.get('holder_kept') and s['failed'] == 0 and not m)),
    'all_apiservers_down': dict(
        fault='every apiserver killed for %d s, then started' % APISERVERS_DOWN_S, inject=all_apiservers_down,
        promise='requests fail fast (longest wait under 3 s, no hang), the VIP does not move, the endpoint '
                'serves again without intervention',
        judge=lambda s, m, n: (s['longest_wait_ms'] or 0) < 3000 and not m
        and n.get('serving_again_after_s') is not None),
}


def run_case(name, profile, rate):
    case = CASES[name]
    R.sh(['docker', 'cp', os.path.join(R.ROOT, 'bench', 'probe.py'), '%s:%s' % (R.CLIENT, R.PROBE)])
    R.steady(profile)
    holder = R.holders()[0]
    R.start_probe(rate, 2)
    time.sleep(R.PRE_S)
    notes = {'profile': profile}
    fault_t, restore = None, None
    try:
        fault_t, restore = case['inject'](holder, notes)
        R.wait(lambda: R.tail_all_ok(R.SETTLE_S), 60, 0.25)
    finally:
        records = R.stop_probe()
        if restore:
            restore()
    moves = moves_since(fault_t) if fault_t else []
    requests = [r for r in records if r['type'] == 'req']
    summary = summarize(requests, fault_t)
    notes['failed_away_from_moves'] = failed_away_from_moves(
        [r for r in requests if r['t'] >= fault_t], [fault_t + m[0] for m in moves]) if fault_t else None
    R.steady(profile)
    met = bool(case['judge'](summary, moves, notes))
    return dict(case=name, profile=profile, fault=case['fault'], promise=case['promise'], met=met,
                failed=summary['failed'], delayed=summary['delayed'], longest_wait_ms=summary['longest_wait_ms'],
                requests=summary['requests'], vip_moves=len(moves), moves=moves, notes=notes,
                outcomes=summary['outcomes'], when=time.strftime('%Y-%m-%d %H:%M', time.gmtime(fault_t)))


def report(results):
    lines = ['# Reliability: faults drilled in the lab, and the promise each must keep', '',
             'Generated by `make chaos` (bench/chaos.py) from bench/results/chaos.json; do not edit.',
             'Each fault is injected at a recorded instant with the probe on the client (new TLS connection '
             'per request to the VIP, 100 per second) and judged against the promise written before it ran. '
             '**failed**: requests that got no answer; **delayed**: answered later than the pre-fault p99 + '
             '250 ms; **VIP moves**: MASTER transitions recorded by the load balancers after the fault.', '',
             'The lab runs a kube-apiserver stand-in (lab/standin/), not kube-apiserver.', '',
             '| fault | profile | failed | delayed | longest wait (ms) | VIP moves | verdict | promise |',
             '|---|---|---|---|---|---|---|---|']
    for r in results:
        lines.append('| %s | %s | %d / %d | %d | %s | %d | %s | %s |' % (
            r['fault'], r['profile'], r['failed'], r['requests'], r['delayed'],
            '%.0f' % r['longest_wait_ms'] if r['longest_wait_ms'] is not None else '-', r['vip_moves'],
            'met' if r['met'] else '**not met**', r['promise']))
    limits = [(r, CASES[r['case']].get('limit')) for r in results
              if not r['met'] and r['case'] in CASES and CASES[r['case']].get('limit')]
    if limits:
        lines += ['', '## Promises not met, and why', '']
        lines += ['- **%s** (%s): %s.' % (r['case'], r['profile'], why) for r, why in limits]
    lines += ['', '## Details', '']
    for r in results:
        extra = ', '.join('%s %s' % (k, v) for k, v in sorted(r['notes'].items()) if k != 'profile')
        lines.append('- **%s** (%s, %s): outcomes %s; moves %s%s' % (
            r['case'], r['profile'], r['when'], r['outcomes'] or 'none', r['moves'] or 'none',
            '; ' + extra if extra else ''))
    lines += ['', '## Not drilled yet', '',
              '- A package install failing mid-rollout: the lab\'s load balancers already have every package, so '
              'no rollout installs one; not drilled.',
              '- A configuration rejected by `keepalived -t`: every rejection found so far (interface, VRID, '
              'priorities, secret length, addresses, script settings) is refused earlier, by the plan, before any '
              'host changes (tests/integration); the role still checks with `keepalived -t` before replacing '
              'the file (tests/unit, module vrrp_config).',
              '- The rogue VRRP speaker is tested in Molecule (test_rogue.py) and measured in '
              '[security.md](security.md), not here.', '']
    with open(PAGE, 'w') as handle:
        handle.write('\n'.join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--cases', default=','.join(CASES))
    parser.add_argument('--profile', default='default')
    parser.add_argument('--rate', type=int, default=100)
    parser.add_argument('--report', action='store_true', help='only regenerate docs/reliability.md')
    args = parser.parse_args()
    results = []
    if os.path.exists(RESULTS):
        with open(RESULTS) as handle:
            results = json.load(handle)
    if not args.report:
        for name in args.cases.split(','):
            print('chaos: %s (%s)' % (name, args.profile), flush=True)
            result = run_case(name, args.profile, args.rate)
            print('  %s: failed %d, delayed %d, moves %d, %s' % (
                name, result['failed'], result['delayed'], result['vip_moves'],
                'met' if result['met'] else 'NOT MET'), flush=True)
            results = [r for r in results if (r['case'], r['profile']) != (name, args.profile)] + [result]
            os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
            with open(RESULTS, 'w') as handle:
                json.dump(results, handle, indent=1)
    order = list(CASES)
    report(sorted(results, key=lambda r: (order.index(r['case']) if r['case'] in order else 99, r['profile'])))
    print('wrote %s' % PAGE)


if __name__ == '__main__':
    main()
