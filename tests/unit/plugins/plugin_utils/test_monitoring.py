"""What a Prometheus scrapes on the load balancers, from the plan."""
from ansible_collections.kubeha.control_plane.plugins.plugin_utils import monitoring as M
from ansible_collections.kubeha.control_plane.tests.unit.plugins.plugin_utils.test_plan import build
from ansible_collections.kubeha.control_plane.tests.unit.plugins.plugin_utils.test_plan_bgp import bgp


def test_targets_per_job_labelled_cluster_and_lb():
    plan = build(group_vars={'kubeha_metrics_address': 'node'})
    assert M.scrape_targets(plan) == {
        'kubeha-haproxy': [{'targets': ['192.168.1.9:8405'], 'labels': {'cluster': 'kubernetes', 'lb': 'lb1'}},
                           {'targets': ['192.168.1.10:8405'], 'labels': {'cluster': 'kubernetes', 'lb': 'lb2'}}],
        'kubeha-vrrp': [{'targets': ['192.168.1.9:9650'], 'labels': {'cluster': 'kubernetes', 'lb': 'lb1'}},
                        {'targets': ['192.168.1.10:9650'], 'labels': {'cluster': 'kubernetes', 'lb': 'lb2'}}],
        'kubeha-bgp': []}


def test_in_bgp_mode_the_bgp_exporter_is_scraped_instead_of_the_vrrp_one():
    plan = bgp({'kubeha_metrics_address': 'node'})
    targets = M.scrape_targets(plan)
    assert targets['kubeha-vrrp'] == []
    assert targets['kubeha-bgp'] == [
        {'targets': ['192.168.1.9:9651'], 'labels': {'cluster': 'kubernetes', 'lb': 'lb1'}},
        {'targets': ['192.168.1.10:9651'], 'labels': {'cluster': 'kubernetes', 'lb': 'lb2'}}]
    assert plan['hosts']['lb1']['bgp']['exporter'] == '192.168.1.9:9651'
    assert M.scrape_targets(bgp({'bgp_metrics_exporter': False}))['kubeha-bgp'] == []
    clash = bgp({'bgp_metrics_port': 8405})['errors']
    assert any('haproxy_metrics_port equals bgp_metrics_port (8405)' in e for e in clash)


def test_an_exporter_turned_off_is_not_scraped():
    plan = build(group_vars={'kubeha_metrics_address': 'node', 'haproxy_prometheus_exporter': False})
    assert M.scrape_targets(plan)['kubeha-haproxy'] == []
    assert len(M.scrape_targets(plan)['kubeha-vrrp']) == 2


def test_scrape_configs_read_the_target_files():
    assert M.scrape_configs('/etc/prometheus/kubeha/') == [
        {'job_name': 'kubeha-haproxy',
         'file_sd_configs': [{'files': ['/etc/prometheus/kubeha/kubeha-haproxy.targets.yml']}]},
        {'job_name': 'kubeha-vrrp',
         'file_sd_configs': [{'files': ['/etc/prometheus/kubeha/kubeha-vrrp.targets.yml']}]},
        {'job_name': 'kubeha-bgp',
         'file_sd_configs': [{'files': ['/etc/prometheus/kubeha/kubeha-bgp.targets.yml']}]}]


def test_loopback_targets_are_unreachable_from_elsewhere():
    plan = build()
    problems = M.unreachable_targets(plan, 'mon1')
    assert len(problems) == 4
    assert problems[0] == ('lb1: serves kubeha-haproxy metrics on 127.0.0.1:8405, which mon1 cannot scrape: set '
                           'kubeha_metrics_address: node (its kubeha_address) or another address of lb1 that mon1 '
                           'reaches')
    # a load balancer scraping itself reaches its loopback
    assert not any(p.startswith('lb1:') for p in M.unreachable_targets(plan, 'lb1'))
    assert M.unreachable_targets(build(group_vars={'kubeha_metrics_address': 'node'}), 'mon1') == []
