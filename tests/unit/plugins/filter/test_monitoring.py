"""The monitoring role's target files: each job's file, where its scrape config reads it, holding
its targets as YAML (what the role writes and drift compares by digest)."""
import yaml

from ansible_collections.kubeha.control_plane.plugins.filter.monitoring import scrape_target_files
from ansible_collections.kubeha.control_plane.plugins.plugin_utils import monitoring as M
from ansible_collections.kubeha.control_plane.tests.unit.plugins.plugin_utils.test_plan import build


def test_one_file_per_job_where_its_scrape_config_reads_it():
    plan = build(group_vars={'kubeha_metrics_address': 'node'})
    files = scrape_target_files(plan, '/etc/prometheus/kubeha')
    read = [c['file_sd_configs'][0]['files'][0] for c in M.scrape_configs('/etc/prometheus/kubeha')]
    assert [f['path'] for f in files] == read
    targets = M.scrape_targets(plan)
    for entry, config in zip(files, M.scrape_configs('/etc/prometheus/kubeha')):
        assert yaml.safe_load(entry['content']) == targets[config['job_name']]


def test_a_job_without_targets_gets_an_empty_list():
    plan = build(group_vars={'kubeha_metrics_address': 'node', 'haproxy_prometheus_exporter': False})
    haproxy = scrape_target_files(plan, '/p')[0]
    assert haproxy['path'] == '/p/kubeha-haproxy.targets.yml'
    assert yaml.safe_load(haproxy['content']) == []
