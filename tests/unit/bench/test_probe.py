import json
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / 'bench'))
import probe  # noqa: E402


@pytest.mark.parametrize('exc, outcome', [
    (ConnectionRefusedError(), 'refused'),
    (TimeoutError(), 'timeout'),
    (ConnectionResetError(), 'reset'),
    (OSError(113, 'No route to host'), 'unreachable'),
    (ValueError(), 'error'),
])
def test_classify(exc, outcome):
    assert probe.classify(exc) == outcome


def test_parse_response_reads_status_node_and_body():
    status, node, body = probe.parse_response(
        b'HTTP/1.1 200 OK\r\nX-Kubeha-Node: cp2\r\nContent-Length: 2\r\n\r\nok')
    assert (status, node, body) == (200, 'cp2', b'ok')


def test_lag_is_how_late_a_request_starts_not_its_latency(tmp_path, monkeypatch):
    """Slow answers (300 ms) at 20 req/s: every request still starts on time."""
    def slow_request(host, port, path, timeout, context):
        started = time.time()
        time.sleep(0.3)
        return {'type': 'req', 't': started, 'outcome': 'ok', 'latency_ms': 300.0}
    monkeypatch.setattr(probe, 'one_request', slow_request)
    out = tmp_path / 'probe.jsonl'
    assert probe.main(['--host', '127.0.0.1', '--rate', '20', '--duration', '0.5',
                       '--out', str(out)]) == 0
    reqs = [r for r in map(json.loads, out.read_text().splitlines()) if r['type'] == 'req']
    assert len(reqs) >= 5
    assert max(r['lag_ms'] for r in reqs) < 150.0


def test_a_tick_comes_after_every_request_that_started_before_its_complete_before(tmp_path, monkeypatch):
    """One request in ten hangs for 0.4 s at 50 req/s: no tick may claim it complete
    before its record is written, and ticks keep coming while it hangs."""
    counter = iter(range(1000))

    def sometimes_hanging(host, port, path, timeout, context):
        started = time.time()
        if next(counter) % 10 == 0:
            time.sleep(0.4)
        return {'type': 'req', 't': started, 'outcome': 'ok', 'latency_ms': 0.0}
    monkeypatch.setattr(probe, 'one_request', sometimes_hanging)
    out = tmp_path / 'probe.jsonl'
    assert probe.main(['--host', '127.0.0.1', '--rate', '50', '--duration', '1.0', '--out', str(out)]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    ticks = [i for i, r in enumerate(records) if r['type'] == 'tick']
    assert len(ticks) >= 5
    for i in ticks:
        later = [r['t'] for r in records[i:] if r['type'] == 'req']
        assert all(t >= records[i]['complete_before'] for t in later), (i, records[i])
    # while a request hangs, complete_before stays behind the tick's own time
    assert any(records[i]['complete_before'] < records[i]['t'] - 0.1 for i in ticks)
