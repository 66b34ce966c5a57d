#!/usr/bin/env python3
"""Turn bench/results/results.json into docs/performance.md and docs/img/bench-*.png:
the page writer of make bench. What it says of each case (title, metric, bound,
target) comes from the case's entry in bench/run.py's CASES."""
import datetime
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from analysis import DELAY_MARGIN_MS, UNREADY_BOUND_S, aggregate  # noqa: E402
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.profiles import (  # noqa: E402
    PROFILE_VARIABLES, PROFILES as PROFILE_TABLE, takeover_bound_s, vip_move_bounds_s,
)
import lab  # noqa: E402
from run import CASES, MAX_WAIT_S, PRE_S, SETTLE_S, min_after_fault_s  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROFILES = ['guide', 'default', 'fast']
def took(results):
    if 'finished' not in results:
        return 'an unknown time (it did not finish)'
    minutes, seconds = divmod(int(round(results['finished'] - results['started'])), 60)
    return '%d min %02d s (`make bench` with these settings, the lab already up)' % (minutes, seconds)


def fmt(value, unit):
    if value is None:
        return '-'
    if unit == 's':
        return '%.2f' % value
    return '%g' % value


def metric(run, name):
    if name == 'routed_after_bound':
        bound = UNREADY_BOUND_S.get(run['profile'])
        answers = run.get('answers_from_victim_after_fault') or []
        return len(answers) if bound is None else sum(1 for t in answers if t > bound)
    return run.get(name)


def plots(results, img_dir):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    os.makedirs(img_dir, exist_ok=True)
    made = {}
    for case, entry in CASES.items():
        title = entry.title
        runs = [r for r in results['runs'] if r.get('case') == case and r.get('rep') == 0]
        if not runs:
            continue
        fig, axes = plt.subplots(len(runs), 1, figsize=(9, 1.6 * len(runs) + 0.6), sharex=True, squeeze=False)
        for ax, run in zip(axes[:, 0], sorted(runs, key=lambda r: PROFILES.index(r['profile']))):
            ok = [t for t, o in run['timeline'] if o == 'ok']
            bad = [t for t, o in run['timeline'] if o != 'ok']
            ax.scatter(ok, [1] * len(ok), s=4, color='tab:green', label='ok')
            ax.scatter(bad, [0] * len(bad), s=6, color='tab:red', label='failed')
            ax.axvline(0, color='black', linewidth=0.8)
            ax.set_yticks([0, 1], ['failed', 'ok'])
            ax.set_ylim(-0.5, 1.5)
            ax.set_title('%s profile: %d failed, outage %.2f s' % (run['profile'], run['failed'], run['outage_s']),
                         fontsize=9, loc='left')
        axes[-1, 0].set_xlabel('seconds after the fault (one dot per request, new TLS connection each)')
        fig.suptitle(title, fontsize=10)
        fig.tight_layout()
        path = os.path.join(img_dir, 'bench-%s.png' % case)
        fig.savefig(path, dpi=90)
        plt.close(fig)
        made[case] = path
    # measured median vs bound, for the outage cases
    backup = min(lab.EP['priorities'].values())  # the lab's backup takes over
    bars = [(case, dict((p, vip_move_bounds_s(p, backup)[case]) for p in PROFILES
                        if vip_move_bounds_s(p, backup)[case] is not None))
            for case in ('holder_container_kill', 'haproxy_kill', 'keepalived_stop')]
    fig, ax = plt.subplots(figsize=(9, 3.8))
    x, ticks, labels = 0.0, [], []
    for case, bounds in bars:
        for profile in PROFILES:
            values = [r['outage_s'] for r in results['runs'] if r.get('case') == case and r.get('profile') == profile]
            if not values:
                continue
            ax.bar(x, aggregate(values)['median'], color='tab:blue')
            if profile in bounds:
                ax.plot([x - 0.4, x + 0.4], [bounds[profile]] * 2, color='tab:red')
            ticks.append(x)
            labels.append('%s\n%s' % (case.replace('_', ' '), profile))
            x += 1
        x += 0.5
    ax.set_xticks(ticks, labels, rotation=45, ha='right', fontsize=7)
    ax.set_ylabel('client outage, median (s)')
    ax.set_title('measured median (bars) and protocol bound (red lines)', fontsize=10)
    fig.tight_layout()
    path = os.path.join(img_dir, 'bench-bounds.png')
    fig.savefig(path, dpi=90)
    plt.close(fig)
    made['bounds'] = path
    return made


def window_text(results):
    """How a run was bounded, from the results (runs before they were recorded
    there used bench/run.py's values)."""
    window = results.get('window') or {'pre_s': PRE_S, 'settle_s': SETTLE_S, 'max_wait_s': MAX_WAIT_S,
                                       'min_after_fault_s': min_after_fault_s()}
    longer = ['%s %s' % (case.replace('_', ' '), ', '.join('%g s (%s)' % (s, p) for p, s in by_profile.items()))
              for case, by_profile in sorted(window['min_after_fault_s'].items())]
    return ('the probe starts %g s before the fault; the run ends once every request has succeeded for %g s, '
            'no sooner than %g s after the fault (longer for: %s), or %g s after the fault'
            % (window['pre_s'], window['settle_s'], window['settle_s'] + 1, '; '.join(longer), window['max_wait_s']))


def profile_table():
    """The profile table itself (plugins/plugin_utils/profiles.py), and the bounds it implies."""
    names = [n for n in PROFILE_VARIABLES if n != 'haproxy_template']
    out = ['## The profiles\n\n',
           'Generated from `plugins/plugin_utils/profiles.py` (the one home of these values); a value a '
           'profile does not set is not used by it (the guide\'s files have no such setting).\n\n',
           '| setting | %s |\n|---|%s\n' % (' | '.join(PROFILES), '---|' * len(PROFILES))]
    for name in names:
        cells = [str(PROFILE_TABLE[p][name]).lower() if isinstance(PROFILE_TABLE[p].get(name), bool)
                 else str(PROFILE_TABLE[p].get(name, '-')) for p in PROFILES]
        out.append('| `%s` | %s |\n' % (name, ' | '.join(cells)))
    out.append('| takeover after the holder dies, at most (3 adverts + skew, s) | %s |\n'
               % ' | '.join('%.2f' % takeover_bound_s(PROFILE_TABLE[p]['keepalived_advert_int']) for p in PROFILES))
    out.append('| an unready apiserver out of rotation within (s) | %s |\n\n'
               % ' | '.join('never (tcp check)' if UNREADY_BOUND_S[p] is None else '%.2f' % UNREADY_BOUND_S[p]
                            for p in PROFILES))
    return out


def summary_table(results):
    """The first table: what clients lived through, per case and profile."""
    out = ['## Summary: what clients wait\n\n',
           'Per case and profile, over its N runs: requests that **failed**, requests that succeeded but were '
           '**delayed** (slower than the pre-fault p99 + %g ms), the **longest wait** of any request after the '
           'fault (failed ones included), and how long the VIP took to move. Median / max.\n\n'
           % DELAY_MARGIN_MS,
           '| case | profile | N | failed | delayed | longest wait (ms) | VIP move (s) |\n'
           '|---|---|---|---|---|---|---|\n']
    for case in CASES:
        for profile in PROFILES:
            prs = [r for r in results['runs'] if r.get('case') == case and r['profile'] == profile]
            if not prs:
                continue
            failed = aggregate([r['failed'] for r in prs])
            delayed = aggregate([r.get('delayed') for r in prs])
            longest = aggregate([r.get('longest_wait_ms') for r in prs])
            move = aggregate([r.get('vip_move_s') for r in prs])
            out.append('| %s | %s | %d | %s / %s | %s / %s | %s / %s | %s |\n' % (
                case.replace('_', ' '), profile, len(prs), fmt(failed['median'], ''), fmt(failed['max'], ''),
                fmt(delayed['median'], ''), fmt(delayed['max'], ''), fmt(longest['median'], ''),
                fmt(longest['max'], ''), fmt(move['median'], 's')))
    out.append('\n')
    return out


def kubectl_table(results):
    """What a real kubectl saw beside the probe, in the VIP cases."""
    rows = []
    for case in CASES:
        for profile in PROFILES:
            views = [r['kubectl'] for r in results['runs']
                     if r.get('case') == case and r['profile'] == profile and r.get('kubectl')]
            if not views:
                continue
            rows.append('| %s | %s | %d | %d | %d | %s | %d | %s |\n' % (
                case.replace('_', ' '), profile, len(views), sum(v['requests'] for v in views),
                sum(v['failed'] for v in views), fmt(aggregate([v['slowest_s'] for v in views])['max'], 's'),
                sum(v['stream_ends'] for v in views),
                fmt(aggregate([v['longest_silence_s'] for v in views])['max'], 's')))
    if not rows:
        return []
    return ['## What kubectl saw\n\n',
            'A real `kubectl` (Debian\'s kubernetes-client) on the client, beside the probe, in the VIP cases: '
            'a loop of `kubectl get --raw /version`, and a long-lived `kubectl get --raw ...?watch=true` that '
            'is started again whenever it ends. Sums over the runs; the slowest call and the longest silence of '
            'the watch (one event a second when all is well) are maxima.\n\n',
            '| case | profile | runs | kubectl calls | failed | slowest call (s) | watch ended | longest silence (s) |\n'
            '|---|---|---|---|---|---|---|---|\n'] + rows + ['\n']


# The VRRP row each BGP row stands next to (bench/run.py's CASES).
BGP_NEXT_TO = {'lb_poweroff': 'holder_container_kill', 'haproxy_kill': 'haproxy_kill',
               'apiserver_kill': 'apiserver_kill', 'maintenance': 'maintenance', 'config_change': 'config_change',
               'drain_change': 'config_change', 'frr_change': 'config_change'}


def _cells(runs):
    failed = aggregate([r['failed'] for r in runs])
    delayed = aggregate([r.get('delayed') for r in runs])
    longest = aggregate([r.get('longest_wait_ms') for r in runs])
    return '%s / %s | %s / %s | %s' % (fmt(failed['median'], ''), fmt(failed['max'], ''), fmt(delayed['median'], ''),
                                      fmt(delayed['max'], ''), fmt(longest['max'], ''))


def bgp_section(bgp, results):
    """BGP mode's rows (bench/bgp.py), each next to the VRRP row of the same fault."""
    import bgp as bgp_bench  # noqa: E402 (bench/bgp.py: its cases' titles and targets)
    if not bgp or not bgp.get('runs'):
        return []
    machine = bgp.get('machine', {})
    out = ['## BGP mode (`kubeha_vip_mode: bgp`)\n\n',
           'Measured by `bench/bgp.py` in the bgp scenario\'s lab: two load balancers on two subnets (no shared '
           'L2) announce the VIP to an FRR router (ECMP over an L4 hash: `fib_multipath_hash_policy` %s; BFD '
           'on every session), the client and the control planes behind the router. The same probe at %g new '
           'TLS connections/s, %d long-lived streams through the VIP and a real kubectl beside it; N = %d runs '
           '(%d for the playbook cases). %s; %s. **failed**, **delayed** and **longest wait** as above '
           '(median / max); streams: long-lived connections broken, summed over the runs; kubectl: failed calls '
           'and watch ends, summed. The VRRP row of the same fault (the VIP holder\'s, above) is beside each.\n\n'
           % (machine.get('router_hash', '?'), bgp.get('rate', 100), bgp.get('streams', 0), bgp.get('n', 0),
              bgp.get('n_heavy', 0), machine.get('frr', '?'), machine.get('haproxy', '?')),
           '| case | mode | profile | N | failed | delayed | longest wait (ms) | streams broken | kubectl failed / '
           'watch ended | target | VRRP, same profile: failed / delayed / longest |\n'
           '|---|---|---|---|---|---|---|---|---|---|---|\n']
    for case, entry in bgp_bench.CASES.items():
        for profile, mode in entry.settings:
            runs = [r for r in bgp['runs'] if r['case'] == case and r['profile'] == profile and r['mode'] == mode]
            if not runs:
                continue
            views = [r.get('kubectl') or {} for r in runs]
            vrrp = [r for r in (results or {}).get('runs', [])
                    if r.get('case') == BGP_NEXT_TO.get(case) and r.get('profile') == profile]
            out.append('| %s | %s | %s | %d | %s | %d | %d / %d | %s | %s |\n' % (
                entry.title, mode.replace('_', '-'), profile, len(runs), _cells(runs),
                sum(r['streams']['breaks'] for r in runs), sum(v.get('failed', 0) for v in views),
                sum(v.get('stream_ends', 0) for v in views), entry.target,
                _cells(vrrp).replace(' | ', ' ; ') if vrrp else '-'))
    out.append('\n')
    return out


def converge_section(results):
    """Converge and re-run times: the lab, and the fleet with one cluster and with all."""
    conv = [r for r in results['runs'] if r.get('case') == 'converge']
    if not conv:
        return []
    when = results.get('converge_measured') or results['started']
    out = ['## Converge time\n\n',
           '`site.yml` from bare containers (packages not installed yet), then again (idempotent), over SSH '
           'as the lab\'s sudo user with become, pipelining and ControlPersist (as the README recommends), '
           'measured on %s%s. Targets: the lab\'s re-run at most 8 s, its converge from bare at most 20 s, and all '
           'the fleet\'s clusters at most 1.5 times one cluster\'s time.\n\n'
           % (datetime.datetime.utcfromtimestamp(when).strftime('%Y-%m-%d %H:%M UTC'),
              ' (`bench/run.py --converge-only`, %d s)' % results['converge_took_s']
              if results.get('converge_took_s') else ''),
           '| inventory | clusters | load balancers | profile | from bare (s) | machine busy | '
           'idempotent re-run (s) | machine busy | re-run changed |\n|---|---|---|---|---|---|---|---|---|\n']

    def busy(r, key):
        cpu = r.get(key + '_cpu_s')
        if cpu is None or not r.get('cores'):
            return '-'
        return '%d%% of %d cores' % (round(100.0 * cpu / (r[key + '_s'] * r['cores'])), r['cores'])
    for r in conv:
        out.append('| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' % (
            r.get('inventory', 'lab'), r.get('clusters', 1), r.get('load_balancers', '-'), r['profile'],
            r['converge_s'], busy(r, 'converge'), r['rerun_s'], busy(r, 'rerun'), r['rerun_changed']))
    fleet = sorted((r for r in conv if r.get('inventory') == 'fleet'), key=lambda r: r['clusters'])
    if len(fleet) >= 2:
        one, many = fleet[0], fleet[-1]
        out.append('\n%d clusters (%d load balancers) took %.2f times the converge time of %d (%d load '
                   'balancers) and %.2f times its re-run time.\n'
                   % (many['clusters'], many['load_balancers'], many['converge_s'] / one['converge_s'],
                      one['clusters'], one['load_balancers'], many['rerun_s'] / one['rerun_s']))
        out.extend(apt_floor_lines(results, one, many))
    out.append('\n')
    out.extend(cpu_per_lb_lines(conv))
    return out


# The controller's work for each load balancer on a re-run: the cost every real
# controller pays, whatever its hosts (issue "One plan, one pass").
CONTROLLER_RERUN_TARGET_S = 1.5


def cpu_per_lb_lines(conv):
    """CPU-seconds per load balancer: the controller's (ansible-playbook and its
    children, rusage) and the load balancers' own (their containers' cgroups)."""
    rows = [r for r in conv if r.get('rerun_controller_cpu_per_lb_s') is not None]
    if not rows:
        return []
    out = ['### CPU-seconds per load balancer\n\n',
           'What each run cost, divided by its load balancers: the controller (`ansible-playbook` and every '
           'process it started, from their resource usage, plus its SSH connection masters) and the load balancers themselves (their '
           'containers\' cgroups). In the lab every host is a container on the controller\'s cores, so both '
           'count against one machine; the controller\'s share is what a real controller pays. Target: at most '
           '%.1f controller CPU-seconds per load balancer on a re-run.\n\n' % CONTROLLER_RERUN_TARGET_S,
           '| inventory | clusters | load balancers | from bare: controller | from bare: load balancer | '
           're-run: controller | re-run: load balancer | re-run target |\n|---|---|---|---|---|---|---|---|\n']
    for r in rows:
        met = r['rerun_controller_cpu_per_lb_s'] <= CONTROLLER_RERUN_TARGET_S
        out.append('| %s | %s | %s | %.2f | %.2f | %.2f | %.2f | %s |\n' % (
            r.get('inventory', 'lab'), r.get('clusters', 1), r['load_balancers'],
            r['converge_controller_cpu_per_lb_s'], r['converge_lbs_cpu_per_lb_s'],
            r['rerun_controller_cpu_per_lb_s'], r['rerun_lbs_cpu_per_lb_s'], 'met' if met else 'not met'))
    out.append('\n')
    return out


def apt_floor_lines(results, one, many):
    """apt by itself on one cluster's load balancers and on all of them at once, and what that
    alone adds to the fleet's converge from bare on this machine."""
    apt = dict((r['load_balancers'], r) for r in results['runs'] if r.get('case') == 'apt_alone')
    few, all_ = apt.get(one['load_balancers']), apt.get(many['load_balancers'])
    if not few or not all_:
        return []
    floor = one['converge_s'] + all_['wall_s'] - few['wall_s']
    return ['\napt by itself, as a first converge runs it (the lists and the archives emptied and %s purged, then '
            '`apt-get update` and the install), with no playbook running: %s s on %d load balancers at once (%s CPU-seconds), '
            '%s s on %d (%s CPU-seconds). That difference alone puts %d clusters at no less than %.1f s, '
            '%.2f times one cluster\'s converge, on this %s-core machine.\n'
            % (', '.join(few['packages']), few['wall_s'], few['load_balancers'], few['cpu_s'],
               all_['wall_s'], all_['load_balancers'], all_['cpu_s'], many['clusters'], floor,
               floor / one['converge_s'], all_.get('cores') or '?')]


def header(results):
    """The page's title and the method: what is measured, how, on what."""
    when = datetime.datetime.utcfromtimestamp(results['started']).strftime('%Y-%m-%d %H:%M UTC')
    machine = results.get('machine', {})
    return ['# Measured failover\n\n',
           '*Generated by `make bench` (`bench/run.py`, then `bench/report_performance.py`) on %s. Do not edit by hand.*\n\n' % when,
           'What a client sees, measured from the lab\'s client container: `bench/probe.py` opens a **new TLS '
           'connection per request** to the VIP at %g requests/s, GETs `/healthz`, and records each '
           'outcome; two long-lived connections stand in for `kubectl logs -f`. A fault is injected at a recorded '
           'instant; %s.\n\n' % (results.get('rate', 100), window_text(results)),
           '- **client outage**: from the first failed request after the fault to the first success after which '
           'every request succeeds;\n- **failed**: requests that failed after the fault;\n'
           '- **VIP move**: from the fault to the new holder\'s MASTER transition (notify script timestamp);\n'
           '- N = %d runs per case and profile (%d for the playbook cases, which take 20-40 s each); the N '
           'column says what each row had; min / median / max.\n'
           '- This run took %s.\n\n' % (results['n'], results.get('n_heavy', results['n']), took(results)),
           'Machine: %s, %s cores; %s; %s. The control-plane nodes run the lab\'s kube-apiserver **stand-in**, '
           'not kube-apiserver. Probe resolution: requests start late against their schedule by the p99 lag '
           'shown per row (thread scheduling on a 2-core machine).\n\n'
           % (machine.get('uname', '?'), machine.get('nproc', '?'), machine.get('haproxy', '?'), machine.get('keepalived', '?')),
           'Profiles: **guide** is the guide\'s configuration verbatim (multicast, tcp-check, 30 s timeouts, no '
           'track script, no redispatch); **default** keeps the guide\'s timings but fixes its failure modes; '
           '**fast** is tuned for sub-second takeover (see the end of this page).\n\n']


def case_section(case, entry, results, images):
    """One failover case's table (per profile), its long-lived connections and plot."""
    title, name, unit, targets, bounds = entry.title, entry.metric, entry.unit, entry.targets, entry.bounds
    runs = [r for r in results['runs'] if r.get('case') == case]
    if not runs:
        return []
    out = []
    out.append('## %s\n\n' % title)
    out.append('| profile | N | %s min / median / max | failed min / median / max | delayed median / max | '
               'longest wait max (ms) | VIP move median (s) | bound | target | probe lag p99 (ms) |\n'
               '|---|---|---|---|---|---|---|---|---|---|\n'
               % ('outage (s)' if unit == 's' else '%s (%s)' % (name.replace('_', ' '), unit)))
    for profile in PROFILES:
        prs = [r for r in runs if r['profile'] == profile]
        if not prs:
            continue
        agg = aggregate([metric(r, name) for r in prs])
        failed = aggregate([r['failed'] for r in prs])
        move = aggregate([r.get('vip_move_s') for r in prs])
        lag = aggregate([r.get('lag_p99_ms') for r in prs])
        never = sum(1 for r in prs if not r.get('recovered', True))
        shown = '%s / %s / %s' % (fmt(agg['min'], unit), fmt(agg['median'], unit), fmt(agg['max'], unit))
        if never and name == 'outage_s':
            shown = 'not recovered in %d of %d runs (ended after >= %s s)' % (never, len(prs), fmt(agg['min'], unit))
        delayed = aggregate([r.get('delayed') for r in prs])
        longest = aggregate([r.get('longest_wait_ms') for r in prs])
        out.append('| %s | %d | %s | %s / %s / %s | %s / %s | %s | %s | %s | %s | %s |\n' % (
            profile, len(prs), shown,
            fmt(failed['min'], ''), fmt(failed['median'], ''), fmt(failed['max'], ''),
            fmt(delayed['median'], ''), fmt(delayed['max'], ''), fmt(longest['max'], ''),
            fmt(move['median'], 's'), bounds.get(profile, '-'), targets.get(profile, '-'),
            fmt(lag['median'], '')))
    streams = [r.get('streams', {}) for r in runs]
    breaks = sum(st.get('breaks', 0) for st in streams)
    back = aggregate([st.get('reconnect_max_ms') for st in streams])
    out.append('\nLong-lived connections (2 per run) broken in these runs: %d; longest time from a break to '
               'reconnected: %s ms; not back when the run ended: %d.\n\n'
               % (breaks, fmt(back['max'], ''), sum(st.get('not_back', 0) for st in streams)))
    if case in images:
        out.append('![%s](img/%s)\n\n' % (title, os.path.basename(images[case])))
    return out


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, 'bench', 'results', 'results.json')
    results = json.load(open(src))
    img_dir = os.path.join(ROOT, 'docs', 'img')
    images = plots(results, img_dir)
    out = header(results)
    out.extend(summary_table(results))
    out.extend(kubectl_table(results))
    for case, entry in CASES.items():
        out.extend(case_section(case, entry, results, images))
    bgp_results = os.path.join(ROOT, 'bench', 'results', 'bgp.json')
    if os.path.exists(bgp_results):
        out.extend(bgp_section(json.load(open(bgp_results)), results))
    out.extend(converge_section(results))
    if 'bounds' in images:
        out.append('## Measured against the protocol bounds\n\n![bounds](img/bench-bounds.png)\n\n')
    out.extend(profile_table())
    out.append('## Reading these figures\n\nWhat they mean, what each profile costs, and where a target is not met: '
               '[performance_notes.md](performance_notes.md).\n')
    with open(os.path.join(ROOT, 'docs', 'performance.md'), 'w') as handle:
        handle.write(''.join(out))
    print('wrote docs/performance.md and %d plots' % len(images))


if __name__ == '__main__':
    main()
