#!/usr/bin/env python3
"""make chaos: faults a load-balancer pair meets in production, injected in the
lab at a recorded instant with the probe running, recovered, and judged
against a promise stated beforehand. Raw results: bench/results/chaos.json;
docs/reliability.md is generated from them (--report).

A case is one entry of CASES: the fault, its injection, the promise, how a run
is judged, and what the page says when it is not met. The lab is reached
through bench/lab.py, outages are counted by bench/analysis.py, and the page
is written by bench/report_reliability.py. Traffic stays inside the lab's
Docker network.

  python bench/chaos.py                   the whole suite (SUITE): every case with the
                                          default profile, then the fast profile's and
                                          the settings' runs; the page shows this run only
  python bench/chaos.py --cases partition,vrrp_loss [--profile fast] [--set VAR=VALUE]
                                          these rows again, the others kept
  python bench/chaos.py --report          regenerate docs/reliability.md only
"""
import argparse
import json
import os
import re
import time

import lab as R
import membership
import report_reliability
import rogue
from analysis import summarize
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.profiles import profile_value

RESULTS = os.path.join(R.ROOT, 'bench', 'results', 'chaos.json')
VRRP_LOSS = 'INPUT -p 112 -m statistic --mode random --probability 0.30 -j DROP'
PARTITION_S, LOSS_S, QUIET_S, APISERVERS_DOWN_S = 10.0, 60.0, 30.0, 10.0
POWER_BOUND_S = 90.0
# CPU starvation: the holder's container limited to this share of one CPU.
STARVE_CPUS, STARVE_S = 0.05, 30.0
# A request failing this close to a VIP move is the move's cost; farther away, another fault's.
MOVE_WINDOW_S = 2.0
# haproxy -c rejects a CA file that does not exist; the plan cannot know (it is on the host).
REJECTED_HAPROXY = ['-e', 'haproxy_health_check_ca_file=/etc/kubeha/no-such-ca.pem']
# A broken apt source on the first load balancer of a rollout: nothing listens on 127.0.0.1:9.
BROKEN_APT = ('mv /etc/apt/sources.list.d/debian.sources /root/debian.sources.chaos && '
              'printf "Types: deb\\nURIs: http://127.0.0.1:9/debian\\nSuites: bookworm\\nComponents: main\\n" '
              '> /etc/apt/sources.list.d/chaos.sources && rm -rf /var/lib/apt/lists/* && apt-get clean')
FIXED_APT = ('rm -f /etc/apt/sources.list.d/chaos.sources && '
             'mv /root/debian.sources.chaos /etc/apt/sources.list.d/debian.sources && apt-get update -qq && '
             'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends iptables')
# The rollout that needs a package: the VRRP firewall wants iptables.
NEEDS_IPTABLES = ['-e', 'keepalived_vrrp_firewall=true']
# keepalived -t rejects an interface the host does not have. The plan checks it
# against the gathered facts, so only a playbook of one's own that calls the
# vrrp_config module directly can get this far.
MISSING_INTERFACE = 'eth9'
# The run's settings (-e ...): its profile and any --set; every playbook a case runs gets them.
SETTINGS = []
# How long the rogue speaks (its adverts at priority 254) while the holder is watched.
ROGUE_S = 20.0


def verify_output():
    return R.ansible_output('ansible-playbook', 'playbooks/verify.yml', '-e', 'verify_settle_seconds=0',
                            *SETTINGS)[1]


def moves_since(t, lbs=None):
    """Every MASTER transition any load balancer (``lbs``: the lab's, or these) recorded
    after t, as (seconds after t, host)."""
    out = []
    for lb in lbs or R.LBS:
        log = R.dexec(lb, 'journalctl -t kubeha-vrrp -o short-unix --no-pager --since @%d' % int(t), check=False)
        out += [(round(float(line.split()[0]) - t, 3), lb) for line in log.splitlines()
                if 'is now MASTER' in line and float(line.split()[0]) >= t]
    return sorted(out)


STATE_RE = re.compile(r'Entering (MASTER|BACKUP|FAULT) STATE')
PRIORITY_RE = re.compile(r'Changing effective priority from \d+ to (\d+)')
STOPPING_RE = re.compile(r'Keepalived\[\d+\]: Stopping')  # a clean stop: a priority-0 advert, not a holder


def keepalived_events(log):
    """(epoch, 'state', STATE) and (epoch, 'priority', N) from keepalived's journal
    (journalctl -o short-unix)."""
    out = []
    for line in log.splitlines():
        try:
            when = float(line.split(None, 1)[0])
        except (ValueError, IndexError):
            continue
        state, priority = STATE_RE.search(line), PRIORITY_RE.search(line)
        if state:
            out.append((when, 'state', state.group(1)))
        elif STOPPING_RE.search(line):
            out.append((when, 'state', 'STOP'))
        elif priority:
            out.append((when, 'priority', int(priority.group(1))))
    return out


def false_takeovers(events, holder, full_priority, since):
    """Takeovers by another load balancer while the holder, by its own log, was
    MASTER at its full priority: a backup that stopped hearing a healthy holder's
    adverts (lost, or sent late by a starved keepalived), not one that followed the
    holder's failing haproxy check (FAULT, or its priority lowered by the check's
    weight). events: {lb: keepalived_events(...)}; the holder is MASTER at full
    priority at `since`. Returns the instants (seconds after since)."""
    mine = sorted(e for e in events.get(holder, []) if e[0] >= since)
    out = []
    for lb, evs in sorted(events.items()):
        if lb == holder:
            continue
        for when, kind, value in evs:
            if when < since or kind != 'state' or value != 'MASTER':
                continue
            state, priority = 'MASTER', full_priority
            for at, what, val in mine:
                if at > when:
                    break
                if what == 'state':
                    state = val
                else:
                    priority = val
            if state == 'MASTER' and priority >= full_priority:
                out.append(round(when - since, 3))
    return sorted(out)


def keepalived_events_since(t):
    """{lb: keepalived_events(...)} of every load balancer's keepalived journal since t."""
    return dict((lb, keepalived_events(R.dexec(
        lb, 'journalctl -u keepalived -o short-unix --no-pager --since @%d' % int(t), check=False)))
        for lb in R.LBS)


def false_takeovers_since(holder, t):
    return false_takeovers(keepalived_events_since(t), holder, int(R.EP['priorities'][holder]), t)


def active_and_enabled(lb):
    out = R.dexec(lb, 'systemctl is-active keepalived haproxy; systemctl is-enabled keepalived haproxy', check=False)
    return out.split() == ['active', 'active', 'enabled', 'enabled']


def backup_crash(holder, notes):
    backup = R.peer_of(holder)
    t = time.time()
    R.kill(backup)
    time.sleep(8)

    def restore():
        R.start(backup)
        R.booted(backup)
    return t, restore


def both_power_loss(holder, notes):
    t = time.time()
    R.kill(*R.LBS)
    time.sleep(2)
    started = time.time()
    R.start(*R.LBS)
    for lb in R.LBS:
        R.booted(lb)
    serving = R.wait(lambda: len(R.holders()) == 1 and all(active_and_enabled(lb) for lb in R.LBS)
                     and R.tail_all_ok(2.0), POWER_BOUND_S, 0.5)
    notes.update(back_after_start_s=round(time.time() - started, 1), serving=serving,
                 enabled=all(active_and_enabled(lb) for lb in R.LBS), holders=R.holders())
    return t, lambda: None


def partition(holder, notes):
    """VRRP dropped both ways: each side thinks the other is dead."""
    t = time.time()
    for lb in R.LBS:
        R.dexec(lb, 'iptables -I ' + R.VRRP_DROP)
    split = R.wait(lambda: len(R.holders()) == len(R.LBS), PARTITION_S, 0.2)
    time.sleep(max(0.0, PARTITION_S - (time.time() - t)))
    notes['split_brain_seen'] = split
    notes['verify_named_split_brain'] = 'VRRP states disagree' in verify_output()
    healed = time.time()
    for lb in R.LBS:
        R.dexec(lb, 'iptables -D ' + R.VRRP_DROP, check=False)
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
    R.wait(lambda: not R.running(holder), 60, 0.2)
    R.start(holder)
    R.booted(holder)
    back = R.wait(lambda: R.holders() == [holder], 120, 0.2)
    master_at = R.state_since(holder)
    mono = R.dexec(holder, 'systemctl show haproxy -p ActiveEnterTimestampMonotonic --value', check=False).strip()
    haproxy_at = wall_time_of_monotonic(int(mono)) if mono.isdigit() and int(mono) else None
    notes.update(back=back, master_after_haproxy_s=(round(master_at - haproxy_at, 3)
                                                    if master_at and haproxy_at else None))
    return t, lambda: None


def keepalived_real_time(lb):
    """Whether a keepalived process on lb runs at a real-time priority (SCHED_RR or
    SCHED_FIFO): keepalived_max_auto_priority at work."""
    out = R.dexec(lb, 'for p in $(pidof keepalived); do chrt -p $p; done', check=False)
    return 'SCHED_RR' in out or 'SCHED_FIFO' in out


def cpu_starvation(holder, notes):
    t = time.time()
    R.limit_cpus(holder, STARVE_CPUS)

    def restore():
        R.limit_cpus(holder)
    try:
        time.sleep(STARVE_S)
        notes['keepalived_real_time'] = keepalived_real_time(holder)
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


def rollout_expected_to_fail(notes, args):
    """site.yml with the run's settings and args; notes whether it failed, and where."""
    try:
        R.playbook('site.yml', *(SETTINGS + args))
        notes['site_failed'] = False
    except RuntimeError as exc:
        notes['site_failed'] = True
        notes['failed_on'] = failed_hosts(str(exc))


def haproxy_config_rejected(holder, notes):
    """site.yml with a configuration haproxy -c rejects (a CA file that is not there)."""
    before = dict((lb, _haproxy_files(lb)) for lb in R.LBS)
    t = time.time()
    rollout_expected_to_fail(notes, REJECTED_HAPROXY)
    after = dict((lb, _haproxy_files(lb)) for lb in R.LBS)
    notes['changed_or_left_behind'] = sorted(lb for lb in R.LBS if before[lb] != after[lb])
    notes['services_active'] = all(active_and_enabled(lb) for lb in R.LBS)
    notes['holder_kept'] = R.holders() == [holder]
    return t, lambda: None


def _lb_fingerprint(lb):
    return R.dexec(lb, 'sha256sum /etc/keepalived/keepalived.conf /etc/haproxy/haproxy.cfg; '
                       'iptables -S 2>/dev/null | grep -c KUBEHA-VRRP; systemctl is-active keepalived haproxy',
                   check=False)


def package_install_fails(holder, notes):
    """A rollout that installs a package (the VRRP firewall's iptables, removed from
    the backup first) while the backup, the first load balancer the rollout changes,
    has a broken apt source. The rollout must stop there; the holder is untouched."""
    backup = R.peer_of(holder)
    R.dexec(backup, 'DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq iptables >/dev/null')
    R.dexec(backup, BROKEN_APT)
    before = dict((lb, _lb_fingerprint(lb)) for lb in R.LBS)
    t = time.time()
    rollout_expected_to_fail(notes, NEEDS_IPTABLES)
    notes['holder_untouched'] = _lb_fingerprint(holder) == before[holder]
    notes['backup_config_untouched'] = _lb_fingerprint(backup) == before[backup]
    notes['holder_kept'] = R.holders() == [holder]
    notes['services_active'] = all(active_and_enabled(lb) for lb in R.LBS)
    R.dexec(backup, FIXED_APT)
    return t, lambda: None


def _keepalived_files(lb):
    return R.dexec(lb, 'cd /etc/keepalived && ls -a | sort | tr "\\n" " "; sha256sum keepalived.conf; '
                       'systemctl is-active keepalived', check=False)


def keepalived_config_rejected(holder, notes):
    """The vrrp_config module, called on the backup as a playbook of one's own
    would, with the backup's own instance on an interface the host does not have:
    keepalived -t rejects it. The old file stays, nothing is left beside it,
    keepalived keeps running."""
    backup = R.peer_of(holder)
    vrrp = R.PLAN['hosts'][backup]['vrrp']
    instance = dict(vrrp['instance'], interface=MISSING_INTERFACE)
    secret = rogue.copied_settings(R.dexec(backup, 'cat /etc/keepalived/keepalived.conf'))['secret']
    if secret:
        instance['authentication'] = dict(auth_type='PASS', auth_pass=secret)
    args = dict(backup=True, mode='0600', global_defs=dict(router_id=backup), scripts=vrrp['scripts'],
                instances=[instance])
    before = _keepalived_files(backup)
    t = time.time()
    returncode, out = R.ansible_output('ansible', backup, '-m', 'kubeha.control_plane.vrrp_config',
                                       '-a', json.dumps(args), timeout=300)
    notes['module_failed'] = returncode != 0
    notes['names_the_cause'] = MISSING_INTERFACE in out and 'keepalived -t' in out
    notes['changed_or_left_behind'] = _keepalived_files(backup) != before
    notes['holder_kept'] = R.holders() == [holder]
    return t, lambda: None


def all_apiservers_down(holder, notes):
    t = time.time()
    for cp in R.CPS:
        R.dexec(cp, 'systemctl kill --signal=KILL kube-apiserver-standin')
    # verify while they are down: it must name the cause (no apiserver ready), not the VIP
    out = verify_output()
    notes['verify_named_cause'] = ('0 of %d apiservers ready' % len(R.CPS)) in out
    notes['verify_blamed_the_vip'] = any(word in out for word in ('no holder', 'split brain'))
    time.sleep(max(0.0, APISERVERS_DOWN_S - (time.time() - t)))
    back = time.time()
    for cp in R.CPS:
        R.dexec(cp, 'systemctl start kube-apiserver-standin')
    notes['serving_again_after_s'] = (round(time.time() - back, 1) if R.wait(lambda: R.tail_all_ok(2.0), 60, 0.5)
                                      else None)
    # what sets off the race, whether or not it moved the VIP this time: the checks' weight applied
    notes['priority_drops'] = priority_drops_since(t)
    return t, lambda: None


def priority_drops(events, full):
    """How often each load balancer's effective priority went below its full priority
    (its serving check failed). events: {lb: keepalived_events(...)}; full: {lb: priority}."""
    return dict((lb, sum(1 for _, kind, value in evs if kind == 'priority' and value < full[lb]))
                for lb, evs in sorted(events.items()))


def priority_drops_since(t):
    return priority_drops(keepalived_events_since(t), dict((lb, int(R.EP['priorities'][lb])) for lb in R.LBS))


def _rogue_speaks(holder, notes, secret):
    """A stale node with a copied keepalived.conf (VRID, VIP, version, advert
    interval; the copied secret or a wrong one) speaks at priority 254 to both
    load balancers (bench/rogue.py). The holder must keep the VIP at every sample
    and verify must name the rogue's address and its MAC answering for the VIP."""
    network = R.network_of(holder)
    address = rogue.free_address(R.EP['vip_cidr'], list(R.EP['addresses'].values()) + [R.VIP])
    mac = rogue.create(network, address)
    copied = rogue.copied_settings(R.dexec(holder, 'cat /etc/keepalived/keepalived.conf'))
    conf = rogue.config(address, [R.EP['addresses'][lb] for lb in R.LBS], R.EP['vrid'], R.EP['vip_cidr'],
                        version=copied['version'], advert_int=copied['advert_int'],
                        secret=copied['secret'] if secret == 'copied' else 'wrong12')
    t = time.time()
    try:
        rogue.start(conf)
        notes['rogue_took_vip_on_its_box'] = R.wait(lambda: rogue.holds(R.VIP), 20, 0.2)
        kept, deadline = True, time.time() + ROGUE_S
        while time.time() < deadline:
            kept = kept and R.holders() == [holder]
            time.sleep(0.25)
        out = verify_output()
        notes['holder_kept'] = kept
        notes['verify_named_rogue'] = ('speaks VRRP for its VRID %d: %s' % (R.EP['vrid'], address)) in out
        notes['verify_named_mac'] = re.search(r'is answered for \(ARP\) by [0-9a-f:, ]*%s' % mac, out) is not None
        notes['backup_entered_master'] = sum(1 for _, lb in moves_since(t) if lb != holder)
    finally:
        rogue.remove()
        # The clients that believed the rogue's ARP answer: the holder's refresh
        # (keepalived_garp_master_refresh) would correct them within a minute.
        for host in [R.CLIENT] + list(R.CPS):
            R.dexec(host, 'ip neigh flush to %s' % R.VIP, check=False)
    return t, lambda: None


def rogue_copied_secret(holder, notes):
    return _rogue_speaks(holder, notes, 'copied')


def rogue_wrong_secret(holder, notes):
    return _rogue_speaks(holder, notes, 'wrong')


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
              'avoids it. The row above says what the moves cost the clients, and the row with '
              'keepalived_reannounce_after_split=false what they cost before the holder re-announced the VIP '
              'after each brief takeover'),
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
        promise='no false failover: no backup takes over while the holder is MASTER at its full priority '
                '(keepalived, at real-time priority, keeps its adverts on time); the VIP leaves a holder whose '
                'haproxy fails its checks and does not come back while the starvation lasts (at most 1 move)',
        judge=lambda s, m, n: not n.get('false_takeovers') and len(m) <= 1,
        limit='the row with keepalived_track_overload_hold=0 shows what the hold prevents: the holder\'s own '
              'haproxy check (curl, 1 s timeout) times out at 5 % of a CPU, so the VIP rightly leaves it; once '
              'the clients have gone with the VIP, the idle starved host answers its checks again, preempts, '
              'the clients come back and the check fails again, for as long as the starvation lasts. Real-time '
              'priority for keepalived does not change that (the check that fails runs haproxy and curl, not '
              'keepalived), and neither would a larger keepalived_track_rise (an idle starved host passes '
              'any number of checks in a row). With the hold (keepalived_track_overload_hold) a check that '
              'timed out keeps failing until none has for that long, so the VIP comes back only after the '
              'starvation'),
    'haproxy_config_rejected': dict(
        fault='site.yml run with a haproxy configuration that haproxy -c rejects (a missing CA file)',
        inject=haproxy_config_rejected,
        promise='site.yml fails on the first load balancer it changes (a backup) and goes no further; '
                'no haproxy.cfg changes and nothing is left behind in /etc/haproxy; the holder keeps the '
                'VIP; 0 failed requests',
        judge=lambda s, m, n: (n.get('site_failed') and len(n.get('failed_on', [])) == 1
                               and not n.get('changed_or_left_behind') and n.get('services_active')
                               and n.get('holder_kept') and s['failed'] == 0 and not m)),
    'keepalived_config_rejected': dict(
        fault='the vrrp_config module (a playbook of one\'s own, past the plan) writes the backup\'s '
              'keepalived.conf with an interface the host does not have; keepalived -t rejects it',
        inject=keepalived_config_rejected,
        promise='the module fails naming the interface and keepalived -t; keepalived.conf unchanged and '
                'nothing left in /etc/keepalived; keepalived keeps running; the holder keeps the VIP; '
                '0 failed requests',
        judge=lambda s, m, n: (n.get('module_failed') and n.get('names_the_cause')
                               and not n.get('changed_or_left_behind') and n.get('holder_kept')
                               and s['failed'] == 0 and not m)),
    'package_install_fails': dict(
        fault='site.yml needs a package (iptables, for keepalived_vrrp_firewall) and the first load balancer '
              'it changes (the backup) has a broken apt source',
        inject=package_install_fails,
        promise='site.yml fails on that load balancer and goes no further: its configuration and the '
                'holder are untouched, both keep running, the holder keeps the VIP; 0 failed requests',
        judge=lambda s, m, n: (n.get('site_failed') and len(n.get('failed_on', [])) == 1
                               and n.get('holder_untouched') and n.get('backup_config_untouched')
                               and n.get('services_active') and n.get('holder_kept')
                               and s['failed'] == 0 and not m)),
    'all_apiservers_down': dict(
        fault='every apiserver killed for at least %d s (verify runs meanwhile), then started' % APISERVERS_DOWN_S,
        inject=all_apiservers_down,
        promise='requests fail fast (longest wait under 3 s, no hang), the VIP does not move, verify names '
                'the cause (no apiserver ready) and not the VIP, the endpoint serves again without intervention',
        judge=lambda s, m, n: (s['longest_wait_ms'] or 0) < 3000 and not m
        and n.get('verify_named_cause') and not n.get('verify_blamed_the_vip')
        and n.get('serving_again_after_s') is not None,
        limit='the row with keepalived_track_ask_peers=false shows the race the peers\' answer prevents: '
              'both haproxies find every apiserver down a second or two apart, so one load balancer\'s '
              'priority drops by the check\'s weight first, the other preempts it, then drops too and is '
              'preempted back (two moves, or none when the holder is the later one). With it, a check that '
              'finds no apiserver UP behind its own haproxy first asks the peers\' frontends; when each '
              'accepts the connection and none can answer either, nobody could serve and the VIP stays put'),
    'rogue_copied_secret': dict(
        fault='a rogue VRRP speaker for %d s: a stale node with a copied keepalived.conf (the secret too), '
              'priority 254, unicast to both load balancers' % ROGUE_S,
        inject=rogue_copied_secret,
        promise='the holder keeps the VIP at every sample (check_unicast_src); verify names the rogue\'s '
                'address and its MAC answering ARP for the VIP; failed requests counted (clients that '
                'believe the rogue\'s ARP answer reach it: only the network can stop that)',
        judge=lambda s, m, n: (n.get('holder_kept') and n.get('verify_named_rogue')
                               and n.get('verify_named_mac'))),
    'rogue_wrong_secret': dict(
        fault='the same rogue with a wrong secret', inject=rogue_wrong_secret,
        applies=lambda profile: int(profile_value(profile, 'keepalived_vrrp_version')) == 2,  # VRRPv3: no secret
        promise='as with the copied secret',
        judge=lambda s, m, n: (n.get('holder_kept') and n.get('verify_named_rogue')
                               and n.get('verify_named_mac'))),
}
# Membership changes (bench/membership.py): their steps get the run's settings.
for _name, _case in membership.CASES.items():
    CASES[_name] = dict(_case, inject=lambda h, n, c=_case: c['inject'](h, n, SETTINGS),
                        prepare=(lambda h, n, c=_case: c['prepare'](h, n, SETTINGS)) if _case.get('prepare') else None)


def converge(profile, sets=()):
    """Bring the lab to the profile and settings a run asks for (site.yml), then
    wait until VRRP is quiet: a switch of VRRP version leaves the peers deaf to
    each other until both are changed."""
    R.playbook('site.yml', '-e', 'kubeha_profile=%s' % profile, *[arg for s in sets for arg in ('-e', s)])
    R.steady(profile)
    if not R.wait(lambda: R.vrrp_quiet(5.0), 90, 0.5):
        raise RuntimeError('VRRP did not settle after the %s converge' % profile)


def run_case(name, profile, rate, sets=()):
    case = CASES[name]
    R.install_probes()
    # each case starts where the inventory says: the VIP back on the expected holder
    # (a previous case's last move may have left it on the backup, preempting soon)
    R.steady(profile, R.EP['expected_holder'] or None)
    holder = R.holders()[0]
    notes = {'profile': profile}
    if case.get('prepare'):  # before the probe: a host to add or remove
        case['prepare'](holder, notes)
    R.start_probe(rate, 2)
    time.sleep(R.PRE_S)
    fault_t, restore, moves = None, None, []
    try:
        fault_t, restore = case['inject'](holder, notes)
        R.wait(lambda: R.tail_all_ok(R.SETTLE_S), 60, 0.25)
    finally:
        records = R.stop_probe()
        moves = moves_since(fault_t, notes.get('lbs')) if fault_t else []  # before a restore removes a host
        if restore:
            restore()
    requests = [r for r in records if r['type'] == 'req']
    summary = summarize(requests, fault_t)
    notes['failed_away_from_moves'] = failed_away_from_moves(
        [r for r in requests if r['t'] >= fault_t], [fault_t + m[0] for m in moves]) if fault_t else None
    if fault_t and moves:
        notes['false_takeovers'] = false_takeovers_since(holder, fault_t)
    R.steady(profile, R.EP['expected_holder'] or None)
    met = bool(case['judge'](summary, moves, notes))
    return dict(case=name, profile=profile, settings=list(sets), fault=case['fault'], promise=case['promise'],
                met=met,
                failed=summary['failed'], delayed=summary['delayed'], longest_wait_ms=summary['longest_wait_ms'],
                requests=summary['requests'], vip_moves=len(moves), moves=moves, notes=notes,
                outcomes=summary['outcomes'], when=time.strftime('%Y-%m-%d %H:%M', time.gmtime(fault_t)))


# make chaos: every case with the default profile, then the runs that answer a
# question of their own: (profile, settings, cases).
SUITE = (
    ('default', (), tuple(CASES)),
    # the fast profile's cost: VRRP loss and starvation (issue: can fast be the default?), and the rogue
    ('fast', (), ('vrrp_loss', 'cpu_starvation', 'rogue_copied_secret')),
    # without the overload hold the VIP flaps under starvation; without asking the peers it races
    ('default', ('keepalived_track_overload_hold=0',), ('cpu_starvation',)),
    ('default', ('keepalived_track_ask_peers=false',), ('all_apiservers_down',)),
    # the VRRP firewall against the rogue: no backup flaps
    ('default', ('keepalived_vrrp_firewall=true',), ('rogue_copied_secret',)),
    # what keepalived_reannounce_after_split buys: clients that followed a backup's brief MASTER
    ('default', ('keepalived_reannounce_after_split=false',), ('partition', 'vrrp_loss')),
)


def run_group(profile, sets, cases, rate, results):
    """Run cases with one profile and settings; returns results with theirs replaced."""
    SETTINGS[:] = ['-e', 'kubeha_profile=%s' % profile] + [arg for s in sets for arg in ('-e', s)]
    changed = profile != 'default' or sets
    if changed:
        converge(profile, sets)
    try:
        for name in cases:
            if not CASES[name].get('applies', lambda p: True)(profile):
                print('chaos: %s does not apply to the %s profile' % (name, profile), flush=True)
                continue
            print('chaos: %s (%s)' % (name, ' + '.join([profile] + list(sets))), flush=True)
            result = run_case(name, profile, rate, sets)
            print('  %s: failed %d, delayed %d, moves %d, %s' % (
                name, result['failed'], result['delayed'], result['vip_moves'],
                'met' if result['met'] else 'NOT MET'), flush=True)
            results = [r for r in results if (r['case'], report_reliability.label(r)) != (name, report_reliability.label(result))] + [result]
            os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
            with open(RESULTS, 'w') as handle:
                json.dump(results, handle, indent=1)
    finally:
        if changed:  # the lab as its inventory says, whatever happened
            converge('default')
    return results


def run_bgp_rows(cases, rate):
    """make chaos's BGP rows (bench/bgp.py's CHAOS, in the bgp scenario's lab),
    merged into RESULTS; the page rewritten with every case."""
    import bgp  # the BGP lab's side channel; this suite's only import of it
    bgp.ensure_lab()
    bgp.site('default', 'ecmp')
    results = []
    if os.path.exists(RESULTS):
        with open(RESULTS) as handle:
            results = json.load(handle)
    for name in (cases or ','.join(bgp.CHAOS)).split(','):
        print('chaos: %s' % name, flush=True)
        result = bgp.run_chaos(name, rate)
        print('  %s: failed %d, delayed %d, path changes %d, %s' % (
            name, result['failed'], result['delayed'], result['vip_moves'],
            'met' if result['met'] else 'NOT MET'), flush=True)
        results = [r for r in results if r['case'] != name] + [result]
        with open(RESULTS, 'w') as handle:
            json.dump(results, handle, indent=1)
    print('wrote %s' % report_reliability.write(results, dict(CASES, **bgp.CHAOS)))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--cases', help='only these cases (comma-separated); default: the whole suite')
    parser.add_argument('--profile', help='with --cases: the profile (default: default)')
    parser.add_argument('--set', action='append', default=[], metavar='VAR=VALUE',
                        help='with --cases: a setting for this run (site.yml -e), recorded beside the profile')
    parser.add_argument('--rate', type=int, default=100)
    parser.add_argument('--report', action='store_true', help='only regenerate docs/reliability.md')
    parser.add_argument('--bgp', action='store_true',
                        help="BGP mode's rows instead, in the bgp scenario's lab (--cases: of bench/bgp.py's CHAOS)")
    args = parser.parse_args()
    if args.bgp:
        return run_bgp_rows(args.cases or os.environ.get('CHAOS_BGP_CASES'), args.rate)
    results = []
    if os.path.exists(RESULTS):
        with open(RESULTS) as handle:
            results = json.load(handle)
    if not args.report:
        if args.cases or args.profile or args.set:
            groups = [(args.profile or 'default', tuple(args.set),
                       tuple((args.cases or ','.join(CASES)).split(',')))]
        else:
            # a page from one run of the whole suite (BGP mode's rows come from --bgp)
            groups, results = SUITE, [r for r in results if r['case'] not in CASES]
        started = time.time()
        for profile, sets, cases in groups:
            results = run_group(profile, sets, cases, args.rate, results)
        if groups is SUITE:
            with open(report_reliability.TOOK, 'w') as handle:
                handle.write('%d\n' % round(time.time() - started))
    import bgp  # its CHAOS rows share the page
    print('wrote %s' % report_reliability.write(results, dict(CASES, **bgp.CHAOS)))


if __name__ == '__main__':
    main()
