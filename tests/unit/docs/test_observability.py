"""The alert rules, their PrometheusRule twin, the promtool tests, the dashboard
and docs/observability.md agree with each other and with the exporters: this
fails when one of them drifts."""
import importlib.util
import json
import re
from pathlib import Path

import pytest
import yaml

from ansible_collections.kubeha.control_plane.plugins.plugin_utils.monitoring import JOBS
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.profiles import HAPROXY_BACKEND_NAME
from ansible_collections.kubeha.control_plane.plugins.module_utils import bgp_status
from ansible_collections.kubeha.control_plane.plugins.module_utils.vrrp_metrics import METRICS, PREFIX

ROOT = Path(__file__).resolve().parents[3]
FILES = ROOT / 'roles' / 'monitoring' / 'files'
RULES = yaml.safe_load((FILES / 'kubeha.rules.yml').read_text())
ALERTS = [r for g in RULES['groups'] for r in g['rules']]
DASHBOARD = json.loads((FILES / 'kubeha-dashboard.json').read_text())
EXPRS = [r['expr'] for r in ALERTS] + [t['expr'] for p in DASHBOARD['panels'] for t in p['targets']]
PAGE = (ROOT / 'docs' / 'observability.md').read_text()
VRRP_NAMES = set(PREFIX + name for name, _kind, _help in METRICS)
BGP_NAMES = set(bgp_status.PREFIX + name for name, _kind, _help in bgp_status.METRICS)
FRONTEND = re.search(r'^frontend (\S+)', (ROOT / 'roles' / 'haproxy' / 'templates' / 'haproxy.cfg.j2').read_text(),
                     re.M).group(1)


def test_the_prometheusrule_manifest_is_the_rules_file():
    spec = importlib.util.spec_from_file_location('prometheusrule', ROOT / 'lab' / 'scripts' / 'prometheusrule.py')
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert (FILES / 'kubeha-prometheusrule.yaml').read_text() == generator.render(), 'run make rules'
    manifest = yaml.safe_load((FILES / 'kubeha-prometheusrule.yaml').read_text())
    assert manifest['kind'] == 'PrometheusRule' and manifest['spec']['groups'] == RULES['groups']


@pytest.mark.parametrize('expr', EXPRS)
def test_queries_name_only_what_the_exporters_and_jobs_provide(expr):
    for name in re.findall(r'\b(kubeha_vrrp_[a-z_]+)', expr):
        assert name in VRRP_NAMES, '%s is not a metric of plugins/module_utils/vrrp_metrics.py' % name
    for name in re.findall(r'\b(kubeha_bgp_[a-z_]+)', expr):
        assert name in BGP_NAMES, '%s is not a metric of plugins/module_utils/bgp_status.py' % name
    for job in re.findall(r'job=~?"([^"]+)"', expr):
        assert set(job.split('|')) <= set(j for j, _k in JOBS), job
    for proxy in re.findall(r'proxy="([^"]+)"', expr):
        assert proxy in (HAPROXY_BACKEND_NAME, FRONTEND), proxy
    assert expr.count('(') == expr.count(')')


@pytest.mark.parametrize('rule', ALERTS, ids=[r['alert'] for r in ALERTS])
def test_every_alert_has_a_severity_a_runbook_and_a_promtool_test(rule):
    name = rule['alert']
    assert rule['labels']['severity'] in ('critical', 'warning')
    assert rule['annotations']['runbook_url'].endswith('docs/observability.md#' + name.lower())
    assert re.search(r'^### %s$' % name, PAGE, re.M), 'docs/observability.md has no runbook heading for ' + name
    tests = yaml.safe_load((ROOT / 'tests' / 'prometheus' / 'kubeha.rules.test.yml').read_text())['tests']
    fired = [c for t in tests for c in t.get('alert_rule_test', []) if c['alertname'] == name and c['exp_alerts']]
    quiet = [c for t in tests for c in t.get('alert_rule_test', []) if c['alertname'] == name and not c['exp_alerts']]
    assert fired and quiet, '%s needs a promtool case where it fires and one where it does not' % name


def test_the_dashboard_is_importable():
    """What Grafana's importer needs (no Grafana here): checked by structure, and
    every query is run against the lab's Prometheus by the molecule tests."""
    assert DASHBOARD['uid'] and DASHBOARD['title'] and isinstance(DASHBOARD['schemaVersion'], int)
    variables = {v['name']: v for v in DASHBOARD['templating']['list']}
    assert variables['datasource']['type'] == 'datasource' and variables['datasource']['query'] == 'prometheus'
    assert 'cluster' in variables
    ids = [p['id'] for p in DASHBOARD['panels']]
    assert len(ids) == len(set(ids))
    for panel in DASHBOARD['panels']:
        grid = panel['gridPos']
        assert grid['x'] + grid['w'] <= 24 and grid['h'] > 0, panel['title']
        assert panel['type'] in ('timeseries', 'state-timeline', 'table', 'stat'), panel['type']
        assert panel['datasource'] == {'type': 'prometheus', 'uid': '${datasource}'}
        assert panel['targets'] and all(t['refId'] and t['expr'] for t in panel['targets'])
    cells = set()
    for panel in DASHBOARD['panels']:  # no two panels overlap
        g = panel['gridPos']
        mine = set((x, y) for x in range(g['x'], g['x'] + g['w']) for y in range(g['y'], g['y'] + g['h']))
        assert not cells & mine, panel['title']
        cells |= mine


def test_the_page_lists_every_vrrp_and_bgp_series():
    for name in VRRP_NAMES | BGP_NAMES:
        assert re.search('`%s[`{]' % name, PAGE), 'docs/observability.md does not describe ' + name
