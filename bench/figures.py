"""Every figure the pages quote about failover, converge time and cost, named,
from the bench's results (bench/results/*.json): the one source the pages'
quotes are checked against (tests/unit/docs/test_figures.py).

A page quotes a figure with a marker right after it, which renders as nothing:

    the re-run took 6.8 s<!--fig:converge.lab.rerun_s--> on the lab

and the test fails when the number before the marker is not this module's
figure of that name, rounded as the page rounds it."""

import json
import os
import statistics

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, 'bench', 'results')


def _load(name):
    path = os.path.join(RESULTS, name)
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return json.load(handle)


def _spread(prefix, values, out):
    """PREFIX.median, .min, .max (and .n) of the values that are given."""
    values = [v for v in values if v is not None]
    if values:
        out.update({prefix + '.median': statistics.median(values), prefix + '.min': min(values),
                    prefix + '.max': max(values), prefix + '.n': len(values)})


def _seconds(ms):
    return None if ms is None else ms / 1000.0


def _converge(runs, out):
    rows = [r for r in runs if r.get('case') == 'converge']
    names = {('lab', 1): 'lab', ('fleet', 1): 'fleet1', ('fleet', 3): 'fleet3'}
    for row in rows:
        name = names.get((row.get('inventory'), row.get('clusters')))
        if name:
            for key in ('converge_s', 'rerun_s', 'converge_controller_cpu_per_lb_s',
                        'rerun_controller_cpu_per_lb_s'):
                out['converge.%s.%s' % (name, key)] = row[key]
    if 'converge.fleet1.converge_s' in out and 'converge.fleet3.converge_s' in out:
        out['converge.fleet_ratio'] = out['converge.fleet3.converge_s'] / out['converge.fleet1.converge_s']
        out['converge.fleet_rerun_ratio'] = out['converge.fleet3.rerun_s'] / out['converge.fleet1.rerun_s']


def _vrrp(runs, out):
    """vrrp.CASE.PROFILE.{outage_s,failed,vip_move_s,longest_wait_ms,longest_wait_s,delayed}.{median,min,max,n}"""
    keys = sorted(set((r['case'], r['profile']) for r in runs if r.get('case') != 'converge' and 'profile' in r))
    for case, profile in keys:
        prs = [r for r in runs if r.get('case') == case and r.get('profile') == profile]
        for metric in ('outage_s', 'failed', 'vip_move_s', 'longest_wait_ms', 'delayed'):
            _spread('vrrp.%s.%s.%s' % (case, profile, metric), [r.get(metric) for r in prs], out)
        _spread('vrrp.%s.%s.longest_wait_s' % (case, profile), [_seconds(r.get('longest_wait_ms')) for r in prs], out)


def _bgp(runs, out):
    """bgp.CASE.MODE.PROFILE.{failed,longest_wait_ms,longest_wait_s,delayed}.{median,min,max,n}"""
    for case, mode, profile in sorted(set((r['case'], r['mode'], r['profile']) for r in runs)):
        prs = [r for r in runs if (r['case'], r['mode'], r['profile']) == (case, mode, profile)]
        for metric in ('failed', 'longest_wait_ms', 'delayed'):
            _spread('bgp.%s.%s.%s.%s' % (case, mode, profile, metric), [r.get(metric) for r in prs], out)
        _spread('bgp.%s.%s.%s.longest_wait_s' % (case, mode, profile),
                [_seconds(r.get('longest_wait_ms')) for r in prs], out)


def figures():
    """{name: value} for every figure the results hold."""
    out = {}
    results = _load('results.json')
    if results:
        _converge(results['runs'], out)
        _vrrp(results['runs'], out)
    bgp = _load('bgp.json')
    if bgp:
        _bgp(bgp['runs'], out)
    return out


if __name__ == '__main__':
    for name, value in sorted(figures().items()):
        print('%s %s' % (name, value))
