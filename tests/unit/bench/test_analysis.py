import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / 'bench'))
from analysis import aggregate, kubectl_view, percentile, settled, stream_breaks, summarize  # noqa: E402
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.profiles import vip_move_bounds_s  # noqa: E402


def timeline(pattern, start=100.0, step=0.01, latency=5.0):
    """'.' ok, 'x' refused, 't' timeout; one request every `step` seconds."""
    kinds = {'.': 'ok', 'x': 'refused', 't': 'timeout'}
    return [{'t': start + i * step, 'outcome': kinds[c], 'latency_ms': latency}
            for i, c in enumerate(pattern)]


def test_fault_with_no_failures():
    result = summarize(timeline('.' * 200), fault_t=101.0)
    assert result['failed'] == 0 and result['outage_s'] == 0.0 and result['recovered']
    assert result['before']['n'] == 100 and result['after']['n'] == 100


def test_simple_outage():
    # fault at index 100 (t=101.00); failures at 110..139; ok from 140 on
    reqs = timeline('.' * 110 + 'x' * 30 + '.' * 60)
    result = summarize(reqs, fault_t=101.0)
    assert result['failed'] == 30
    assert result['outage_s'] == pytest.approx(0.30)
    assert result['first_failure_after_fault_s'] == pytest.approx(0.10)
    assert result['recovered_after_fault_s'] == pytest.approx(0.40)
    assert result['outcomes'] == {'refused': 30}
    assert result['during']['n'] == 30


def test_intermittent_failures_extend_the_outage_to_the_last_one():
    reqs = timeline('.' * 100 + 'x' + '.' * 9 + 't' + '.' * 89)
    result = summarize(reqs, fault_t=101.0)
    assert result['failed'] == 2
    assert result['outage_s'] == pytest.approx(0.11)  # first failure to first success after the last
    assert result['outcomes'] == {'refused': 1, 'timeout': 1}


def test_failures_before_the_fault_are_counted_apart():
    reqs = timeline('..xx' + '.' * 196)
    result = summarize(reqs, fault_t=101.0)
    assert result['failed_before_fault'] == 2
    assert result['failed'] == 0 and result['outage_s'] == 0.0


def test_never_recovering():
    reqs = timeline('.' * 100 + 'x' * 100)
    result = summarize(reqs, fault_t=101.0)
    assert result['recovered'] is False
    assert result['recovered_after_fault_s'] is None
    assert result['outage_s'] == pytest.approx(0.99)
    assert result['after']['n'] == 0


def test_order_of_records_does_not_matter():
    reqs = timeline('.' * 110 + 'x' * 30 + '.' * 60)
    assert summarize(list(reversed(reqs)), 101.0) == summarize(reqs, 101.0)


def test_latency_percentiles_only_count_successes():
    reqs = timeline('.' * 100, latency=5.0) + [{'t': 102.0, 'outcome': 'timeout', 'latency_ms': 2000.0}]
    result = summarize(reqs, fault_t=101.5)
    assert result['before']['p99_ms'] == 5.0


@pytest.mark.parametrize('values, q, expected', [
    ([1, 2, 3, 4], 50, 2), ([1, 2, 3, 4], 99, 4), ([7], 99, 7), ([], 50, None)])
def test_percentile(values, q, expected):
    assert percentile(values, q) == expected


def test_aggregate():
    assert aggregate([3.0, 1.0, 2.0, None]) == {'n': 3, 'min': 1.0, 'median': 2.0, 'max': 3.0}
    assert aggregate([1, 2, 3, 4])['median'] == 2.5
    assert aggregate([])['median'] is None


def test_stream_breaks():
    records = [{'type': 'stream_reconnect', 't': 1.0, 'stream': 0, 'took_ms': 12.0},  # first connect
               {'type': 'stream_break', 't': 5.0, 'stream': 0},
               {'type': 'stream_reconnect', 't': 5.04, 'stream': 0, 'took_ms': 40.0},
               {'type': 'req', 't': 6.0}]
    assert stream_breaks(records) == {'breaks': 1, 'reconnect_max_ms': 40.0, 'not_back': 0}


def test_stream_retries_of_one_outage_are_one_break():
    records = [{'type': 'stream_break', 't': 10.0 + i * 0.01, 'stream': 1} for i in range(300)]
    records += [{'type': 'stream_reconnect', 't': 13.5, 'stream': 1, 'took_ms': 3.0},
                {'type': 'stream_break', 't': 20.0, 'stream': 0}]
    assert stream_breaks(records) == {'breaks': 2, 'reconnect_max_ms': 3500.0, 'not_back': 1}


def test_no_stream_events():
    assert stream_breaks([{'type': 'req', 't': 1.0}]) == {'breaks': 0, 'reconnect_max_ms': None,
                                                          'not_back': 0}


@pytest.mark.parametrize('pattern, complete_before, expected', [
    ('.' * 300, 103.0, True),                  # 2 s of successes, all finished
    ('.' * 150 + 'x' + '.' * 149, 103.0, False),  # a failure inside the window
    ('x' + '.' * 299, 103.0, True),            # the failure is older than the window
    ('.' * 300, 100.05, False),                # a request from 100.05 still hangs: too few judged
    ('.' * 200 + 't' + '.' * 99, 102.0, True),  # the timeout started after complete_before: not judged yet
])
def test_settled_judges_only_requests_that_have_finished(pattern, complete_before, expected):
    records = [dict(r, type='req') for r in timeline(pattern)]
    assert settled(records + [{'type': 'tick', 't': 103.0, 'complete_before': complete_before}], 2.0) is expected


def test_settled_needs_a_tick():
    assert settled([dict(r, type='req') for r in timeline('.' * 300)], 2.0) is False


def test_kubectl_view_counts_failures_reconnects_and_silences():
    text = '\n'.join([
        'req 100.0 100.1 0 ok',
        'req 100.2 101.3 0 ok',
        'req 101.4 101.5 1 Unable to connect to the server: EOF',
        'req 101.6 101.7 0 [-]shutdown failed',
        'event 100.0', 'event 101.0', 'stream_end 101.2', 'event 104.2', 'event 105.2',
        'end 106.0'])
    view = kubectl_view(text)
    assert (view['requests'], view['failed'], view['stream_ends'], view['events']) == (4, 2, 1, 4)
    assert view['slowest_s'] == 1.1 and view['longest_silence_s'] == 3.2
    assert view['failures'][0] == (101.4, 'Unable to connect to the server: EOF')


def test_kubectl_view_of_nothing():
    assert kubectl_view('')['requests'] == 0 and kubectl_view('')['slowest_s'] is None


def test_delayed_and_longest_wait_count_what_clients_waited():
    """A SYN lost at a VIP move: the request succeeds, 1 s late. Failed requests
    count in the longest wait, not as delayed."""
    reqs = timeline('.' * 100, latency=5.0)
    fault = reqs[50]['t']
    reqs[60]['latency_ms'] = 1005.0   # SYN retransmitted after 1 s
    reqs[61]['latency_ms'] = 200.0    # slower, but within p99 + 250 ms
    reqs[70]['outcome'], reqs[70]['latency_ms'] = 'timeout', 2000.0
    result = summarize(reqs, fault)
    assert result['delayed'] == 1 and result['failed'] == 1
    assert result['longest_wait_ms'] == 2000.0
    assert result['delay_threshold_ms'] == 255.0


def test_nothing_delayed_when_nothing_happens():
    reqs = timeline('.' * 50)
    result = summarize(reqs, reqs[25]['t'])
    assert result['delayed'] == 0 and result['longest_wait_ms'] == 5.0


def test_vip_move_bounds_come_from_the_profile_table():
    default, fast, guide = (vip_move_bounds_s(p, 100) for p in ('default', 'fast', 'guide'))
    assert round(default['holder_container_kill'], 2) == 3.61 and round(fast['holder_container_kill'], 2) == 0.36
    assert round(default['haproxy_kill'], 2) == 2.61 and round(fast['haproxy_kill'], 2) == 1.06
    assert round(default['keepalived_stop'], 2) == 0.61 and guide['haproxy_kill'] is None
