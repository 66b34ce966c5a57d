"""The exporters' one HTTP server (plugins/module_utils/exporter_http.py), served
for real on 127.0.0.1, and both exporters' main() through it."""

import subprocess
import sys
import threading
import urllib.error
import urllib.request

import pytest

from ansible_collections.kubeha.control_plane.plugins.module_utils import bgp_status, exporter_http as E, vrrp_metrics
from ansible_collections.kubeha.control_plane.plugins.plugin_utils import desired


@pytest.mark.parametrize('text, want', [('127.0.0.1:9650', ('127.0.0.1', 9650)),
                                        ('[fd00::1]:9650', ('fd00::1', 9650))])
def test_parse_listen(text, want):
    assert E.parse_listen(text) == want


@pytest.fixture
def served():
    calls = []
    server = E.server('127.0.0.1:0', lambda: calls.append(1) or 'kubeha_up 1\n')
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield 'http://127.0.0.1:%d' % server.server_address[1], calls
    server.shutdown()
    server.server_close()


def test_metrics_are_collected_per_scrape_and_anything_else_is_404(served):
    url, calls = served
    for n in (1, 2):
        with urllib.request.urlopen(url + '/metrics?x=1', timeout=5) as answer:
            assert answer.status == 200
            assert answer.headers['Content-Type'] == E.CONTENT_TYPE
            assert answer.read() == b'kubeha_up 1\n'
        assert len(calls) == n  # collected again for each scrape, never cached
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(url + '/', timeout=5)
    assert err.value.code == 404 and len(calls) == 2


@pytest.mark.parametrize('module, argv', [
    (vrrp_metrics, ['--listen', '127.0.0.1:1', '--state-dir', '/nonexistent', '--instance', 'VI_1']),
    (bgp_status, ['--listen', '127.0.0.1:1', '--state-dir', '/nonexistent', '--interval', '1']),
])
def test_both_exporters_serve_through_it(monkeypatch, module, argv):
    served = []
    monkeypatch.setattr(E, 'serve', lambda listen, collect: served.append((listen, collect)))
    module.main(argv)
    assert [call[0] for call in served] == ['127.0.0.1:1']
    assert callable(served[0][1])


def test_on_the_host_each_exporter_imports_the_file_shipped_beside_it(tmp_path):
    """As the roles ship them: the program without .py, exporter_http.py beside it, and no collection."""
    for name, source in (('vrrp-exporter', desired.EXPORTER_PROGRAM), ('bgp-exporter', desired.BGP_EXPORTER_PROGRAM)):
        (tmp_path / name).write_text(open(source).read())
    (tmp_path / E.FILE_NAME).write_text(open(desired.EXPORTER_HTTP).read())
    probe = ("import runpy, sys; sys.path.insert(0, %r); g = runpy.run_path(%r, run_name='probe'); "
             "print(g['_exporter_http']().__file__)")
    for name in ('vrrp-exporter', 'bgp-exporter'):
        out = subprocess.run([sys.executable, '-I', '-c', probe % (str(tmp_path), str(tmp_path / name))],
                             capture_output=True, text=True, check=True, cwd=str(tmp_path))
        assert out.stdout.strip() == str(tmp_path / E.FILE_NAME)
