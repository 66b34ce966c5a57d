#!/usr/bin/env python3
"""make alerts: the lab's real Prometheus (on the client, role
kubeha.control_plane.monitoring) against real faults. Each case is injected,
held until the alerts it must raise are firing in Prometheus and received by
Alertmanager (or a bound passes), recovered, and held until they resolve.
The whole alert timeline is recorded once a second. Raw results:
bench/results/alerts.json; the table and plot in docs/observability.md are
generated from them (--report).

  python bench/alerts.py                         every case
  python bench/alerts.py --cases split_brain     some
  python bench/alerts.py --report                regenerate the page's table and plot only

Traffic stays inside the lab: Prometheus and Alertmanager answer on the
client's lab address.
"""
import argparse
import json
import os
import threading
import time
import urllib.request

import lab as R
import report_observability

RESULTS = os.path.join(R.ROOT, 'bench', 'results', 'alerts.json')
# How long a case may take to fire (the rule's `for:` + scrape + evaluation,
# generously) and to resolve after recovery (a rebooted container included).
FIRE_BOUND_S, RESOLVE_BOUND_S = 240.0, 180.0
# Alerts a case may raise besides the ones it must: real consequences. Every
# case: the suite (and make lab's drill before it) moves the VIP more than 3
# times in 15 minutes, which is flapping by the rule's definition.
ALSO_EXPECTED = {
    'haproxy_stopped': {'KubehaVRRPFault'},
    'no_holder': {'KubehaKeepalivedDown'},
}
ALWAYS_EXPLAINED = {'KubehaVIPFlapping'}


def monitor(port):
    """The URL of a service of the lab's monitoring host: Prometheus (9090, Debian's
    prometheus default port) or Alertmanager (9093, prometheus-alertmanager's). The
    lab's Prometheus runs on the client (group monitoring)."""
    return 'http://%s:%d' % (R.EP['addresses'][R.CLIENT], port)


PROMETHEUS, ALERTMANAGER = 9090, 9093


def get(url):
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.loads(answer.read().decode())


def prometheus_alerts():
    """[(alertname, state, labels)] Prometheus holds now (pending or firing)."""
    return [(a['labels']['alertname'], a['state'], a['labels'])
            for a in get(monitor(PROMETHEUS) + '/api/v1/alerts')['data']['alerts']]


def alertmanager_alerts():
    return [(a['labels']['alertname'], a['labels'])
            for a in get(monitor(ALERTMANAGER) + '/api/v2/alerts?active=true')]


def firing(name, match=None):
    return [labels for alert, state, labels in prometheus_alerts() if alert == name and state == 'firing'
            and all(labels.get(k) == v for k, v in (match or {}).items())]


def received(name, match=None):
    return [labels for alert, labels in alertmanager_alerts() if alert == name
            and all(labels.get(k) == v for k, v in (match or {}).items())]


def targets_up():
    active = get(monitor(PROMETHEUS) + '/api/v1/targets')['data']['activeTargets']
    return [t for t in active if t['labels']['job'].startswith('kubeha-')], all(
        t['health'] == 'up' for t in active if t['labels']['job'].startswith('kubeha-'))


class Timeline(threading.Thread):
    """Every second: each alert Prometheus holds (pending or firing), with its labels."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples, self.stopped = [], threading.Event()

    def run(self):
        while not self.stopped.is_set():
            try:
                self.samples.append((time.time(), [(a, s, dict(l)) for a, s, l in prometheus_alerts()]))
            except OSError:
                pass
            self.stopped.wait(1.0)


# ---------------------------------------------------------------- the cases
# Each returns (what must fire: [(alertname, labels to match)], recover()).

def split_brain(holder):
    for lb in R.LBS:
        R.dexec(lb, 'iptables -I ' + R.VRRP_DROP)

    def recover():
        for lb in R.LBS:
            R.dexec(lb, 'iptables -D ' + R.VRRP_DROP, check=False)
    return [('KubehaVIPSplitBrain', {})], recover


def no_holder(holder):
    for lb in R.LBS:
        R.dexec(lb, 'systemctl stop keepalived')

    def recover():
        for lb in R.LBS:
            R.dexec(lb, 'systemctl start keepalived')
    return [('KubehaVIPNoHolder', {})], recover


def killed_holder(holder):
    R.kill(holder)

    def recover():
        R.start(holder)
        R.booted(holder)
    return [('KubehaLoadBalancerDown', {'lb': holder})], recover


def haproxy_stopped(holder):
    backup = R.peer_of(holder)
    R.dexec(backup, 'systemctl stop haproxy')

    def recover():
        R.dexec(backup, 'systemctl start haproxy')
    return [('KubehaHAProxyDown', {'lb': backup})], recover


def apiserver_dead(holder):
    victim = R.VICTIM_CP
    R.dexec(victim, 'systemctl kill --signal=KILL kube-apiserver-standin')
    R.dexec(victim, 'systemctl stop kube-apiserver-standin', check=False)

    def recover():
        R.dexec(victim, 'systemctl start kube-apiserver-standin')
    return [('KubehaAPIServerBackendDown', {'server': victim})], recover


CASES = {'split_brain': split_brain, 'no_holder': no_holder, 'killed_holder': killed_holder,
         'haproxy_stopped': haproxy_stopped, 'apiserver_dead': apiserver_dead}
ORDER = ['split_brain', 'no_holder', 'haproxy_stopped', 'apiserver_dead', 'killed_holder']


def quiet(timeout=120.0):
    """The lab before a case: every kubeha target up, one VIP holder, no kubeha alert
    firing or pending but a flapping warning left by earlier drills."""
    def calm():
        _targets, up = targets_up()
        others = [a for a, _s, _l in prometheus_alerts() if a != 'KubehaVIPFlapping']
        return up and not others and len(R.holders()) == 1
    return R.wait(calm, timeout, 1.0)


def run_case(name, timeline=None):
    """Inject, wait for every expected alert to fire in Prometheus and reach
    Alertmanager, recover, wait for them to resolve. Times are seconds after
    the injection."""
    if not quiet():
        raise RuntimeError('the lab is not quiet before %s: %s, holders %s' % (
            name, prometheus_alerts(), R.holders()))
    holder = R.holders()[0]
    t0 = time.time()
    expected, recover = CASES[name](holder)
    fired, delivered = {}, {}
    deadline = t0 + FIRE_BOUND_S
    while time.time() < deadline and len(delivered) < len(expected):
        for alert, match in expected:
            if alert not in fired and firing(alert, match):
                fired[alert] = round(time.time() - t0, 1)
            if alert in fired and alert not in delivered and received(alert, match):
                delivered[alert] = round(time.time() - t0, 1)
        time.sleep(0.5)
    recovered = time.time()
    recover()
    resolved = {}
    deadline = time.time() + RESOLVE_BOUND_S
    while time.time() < deadline and len(resolved) < len(expected):
        for alert, match in expected:
            if alert not in resolved and not firing(alert, match):
                resolved[alert] = round(time.time() - recovered, 1)
        time.sleep(0.5)
    seen = set()
    if timeline is not None:
        seen = set(a for t, alerts in timeline.samples if t >= t0 for a, s, _l in alerts if s == 'firing')
    result = dict(case=name, at=t0, recovered_at=round(recovered - t0, 1), holder=holder,
                  expected=[dict(alert=a, labels=m, firing_after_s=fired.get(a), received_after_s=delivered.get(a),
                                 resolved_after_recovery_s=resolved.get(a)) for a, m in expected])
    result.update(judge(name, result['expected'], seen))
    return result


def judge(name, expected, seen):
    """Met: every expected alert fired, reached Alertmanager and resolved after the
    recovery, and every other alert that fired is a known consequence of the fault."""
    others = sorted(set(seen) - set(e['alert'] for e in expected))
    unexplained = [a for a in others if a not in ALSO_EXPECTED.get(name, set()) | ALWAYS_EXPLAINED]
    met = all(e['firing_after_s'] is not None and e['received_after_s'] is not None
              and e['resolved_after_recovery_s'] is not None for e in expected) and not unexplained
    return dict(other_alerts=others, unexplained=unexplained, met=met)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--cases', default=','.join(ORDER))
    parser.add_argument('--report', action='store_true')
    args = parser.parse_args()
    if args.report:
        with open(RESULTS) as handle:
            report_observability.write(json.load(handle))
        return 0
    timeline = Timeline()
    timeline.start()
    results = []
    try:
        for name in args.cases.split(','):
            print('=== %s' % name, flush=True)
            result = run_case(name, timeline)
            print(json.dumps(result), flush=True)
            results.append(result)
        quiet()
    finally:
        timeline.stopped.set()
        timeline.join()
    data = dict(date=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()), results=results,
                samples=timeline.samples)
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, 'w') as handle:
        json.dump(data, handle)
    report_observability.write(data)
    return 0 if all(r['met'] for r in results) else 1


if __name__ == '__main__':
    raise SystemExit(main())
