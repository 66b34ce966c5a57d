"""Client-visible availability from a probe timeline (pure functions, unit tested).

A timeline is a list of request records: dicts with 't' (start, epoch seconds),
'outcome' ('ok' or a failure kind) and 'latency_ms'. A fault happens at
'fault_t'.

client-visible outage: from the start of the first failed request at or after
the fault to the start of the first success after which every request succeeds.
"""
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                '.build', 'collections'))
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.profiles import (  # noqa: E402
    PROFILE_NAMES, unready_bound_s,
)

# When an unready apiserver must be out of rotation, seconds after it turned
# unready, from the profile table (profiles.unready_bound_s; the guide's TCP
# check never takes it out).
UNREADY_BOUND_S = dict((name, unready_bound_s(name)) for name in PROFILE_NAMES)

# A request is "delayed" when it succeeded but took this much longer than the
# p99 of the requests before the fault: what a client waits, though nothing failed
# (a SYN lost while the VIP moved is resent after 1 s; a connect to a dead
# apiserver waits out "timeout connect" before haproxy redispatches it).
DELAY_MARGIN_MS = 250.0


def percentile(values, q):
    """q-th percentile (0-100) by nearest rank; None for no values."""
    values = sorted(values)
    if not values:
        return None
    rank = max(1, int(math.ceil(q / 100.0 * len(values))))
    return values[rank - 1]


def _latency(reqs):
    lat = [r['latency_ms'] for r in reqs if r['outcome'] == 'ok']
    return {'n': len(reqs), 'p50_ms': percentile(lat, 50), 'p99_ms': percentile(lat, 99)}


def waits(before, after_fault, margin_ms=DELAY_MARGIN_MS):
    """(delayed, longest wait in ms, the delay threshold in ms) after a fault.

    delayed: requests that succeeded but took more than the pre-fault p99 plus
    the margin; the longest wait counts failed requests too (how long their
    clients waited before the error).
    """
    base = percentile([r['latency_ms'] for r in before if r['outcome'] == 'ok'], 99) or 0.0
    threshold = base + margin_ms
    delayed = sum(1 for r in after_fault if r['outcome'] == 'ok' and r['latency_ms'] > threshold)
    longest = max((r['latency_ms'] for r in after_fault if r.get('latency_ms') is not None), default=None)
    return delayed, longest, round(threshold, 2)


def summarize(requests, fault_t):
    """Outage, failure and delay counts and latency before/during/after a fault."""
    reqs = sorted(requests, key=lambda r: r['t'])
    before = [r for r in reqs if r['t'] < fault_t]
    after_fault = [r for r in reqs if r['t'] >= fault_t]
    failures = [r for r in after_fault if r['outcome'] != 'ok']
    delayed, longest, threshold = waits(before, after_fault)
    result = {
        'requests': len(reqs),
        'failed': len(failures),
        'delayed': delayed,
        'longest_wait_ms': longest,
        'delay_threshold_ms': threshold,
        'failed_before_fault': sum(1 for r in before if r['outcome'] != 'ok'),
        'outcomes': {},
        'outage_s': 0.0,
        'first_failure_after_fault_s': None,
        'recovered': True,
        'recovered_after_fault_s': 0.0,
    }
    for r in failures:
        result['outcomes'][r['outcome']] = result['outcomes'].get(r['outcome'], 0) + 1
    if not failures:
        result.update(before=_latency(before), during=_latency([]), after=_latency(after_fault))
        return result
    first_fail = failures[0]
    last_fail_index = max(i for i, r in enumerate(after_fault) if r['outcome'] != 'ok')
    tail = after_fault[last_fail_index + 1:]
    result['first_failure_after_fault_s'] = round(first_fail['t'] - fault_t, 4)
    if tail:
        recovery = tail[0]
        result['outage_s'] = round(recovery['t'] - first_fail['t'], 4)
        result['recovered_after_fault_s'] = round(recovery['t'] - fault_t, 4)
        during = [r for r in after_fault if first_fail['t'] <= r['t'] < recovery['t']]
        after = tail
    else:
        result['recovered'] = False
        result['outage_s'] = round(after_fault[-1]['t'] - first_fail['t'], 4)
        result['recovered_after_fault_s'] = None
        during, after = [r for r in after_fault if r['t'] >= first_fail['t']], []
    result.update(before=_latency(before), during=_latency(during), after=_latency(after))
    return result


def aggregate(values):
    """min / median / max of a list of numbers (None entries ignored)."""
    values = sorted(v for v in values if v is not None)
    if not values:
        return {'n': 0, 'min': None, 'median': None, 'max': None}
    mid = len(values) // 2
    median = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2.0
    return {'n': len(values), 'min': values[0], 'median': median, 'max': values[-1]}


def stream_breaks(records):
    """Long-lived streams: how many broke, how long the longest took to be
    connected again (from the break), and how many were not back at the end.

    The probe retries a broken stream until it reconnects; the failed retries
    of one outage are one break, not many.
    """
    events = sorted((r for r in records if r.get('type') in ('stream_break', 'stream_reconnect')),
                    key=lambda r: r['t'])
    broke_at = {}  # stream -> when it broke, while it is down
    breaks, gaps = 0, []
    for r in events:
        stream = r.get('stream', 0)
        if r['type'] == 'stream_break':
            if stream not in broke_at:
                breaks += 1
                broke_at[stream] = r['t']
        elif stream in broke_at:
            gaps.append(r['t'] - broke_at.pop(stream))
    return {'breaks': breaks,
            'reconnect_max_ms': round(max(gaps) * 1000.0, 2) if gaps else None,
            'not_back': len(broke_at)}


def settled(records, seconds, min_requests=10):
    """True when every request that started in the `seconds` before the latest
    tick's complete_before succeeded (more than min_requests of them). Requests
    after complete_before may still be hanging, so they are not judged yet."""
    ticks = [r for r in records if r.get('type') == 'tick']
    if not ticks:
        return False
    until = ticks[-1]['complete_before']
    window = [r for r in records if r.get('type') == 'req' and until - seconds <= r['t'] < until]
    return len(window) > min_requests and all(r['outcome'] == 'ok' for r in window)


def kubectl_view(text):
    """What a kubectl user saw, from bench/kubectl_probe.sh's output.

    requests/failed: `kubectl get --raw /version` calls and those that did not
    answer (the script writes "ok" for an answer); slowest_s: the longest call; failures: (start, output) of each
    failed call; stream_ends: how often the long-lived watch ended (each end is a
    reconnect); longest_silence_s: the longest gap between two watch events
    (about 1 s when nothing happens: the stand-in sends one a second).
    """
    calls, failures, events, ends = [], [], [], []
    for line in (text or '').splitlines():
        words = line.split(' ', 4)
        if words[0] == 'req' and len(words) >= 4:
            start, end, rc = float(words[1]), float(words[2]), int(words[3])
            output = words[4].strip() if len(words) > 4 else ''
            calls.append(end - start)
            if rc != 0 or output != 'ok':
                failures.append((start, output))
        elif words[0] == 'event' and len(words) >= 2:
            events.append(float(words[1]))
        elif words[0] == 'stream_end' and len(words) >= 2:
            ends.append(float(words[1]))
    gaps = [b - a for a, b in zip(events, events[1:])]
    return dict(requests=len(calls), failed=len(failures), failures=failures,
                slowest_s=round(max(calls), 3) if calls else None,
                stream_ends=len(ends), events=len(events),
                longest_silence_s=round(max(gaps), 3) if gaps else None)
