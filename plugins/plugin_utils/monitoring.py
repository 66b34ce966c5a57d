# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a Prometheus scrapes on the load balancers, from the plan.

Three jobs, whose names the alert rules (roles/monitoring/files/kubeha.rules.yml)
select on: ``kubeha-haproxy`` (haproxy's exporter), ``kubeha-vrrp`` (the
VRRP exporter, plugins/module_utils/vrrp_metrics.py) and ``kubeha-bgp`` (the
BGP exporter of kubeha_vip_mode: bgp, plugins/module_utils/bgp_status.py). Every target carries
the labels ``cluster`` (the plan's cluster name) and ``lb`` (the inventory
name), which the rules and the dashboard group by.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

JOBS = (('kubeha-haproxy', 'haproxy'), ('kubeha-vrrp', 'vrrp'), ('kubeha-bgp', 'bgp'))
LABELS = ('cluster', 'lb')


def scrape_targets(plan):
    """{job: [file_sd entry {targets: [address:port], labels: {cluster, lb}}, ...]} for every
    load balancer of every cluster whose exporter is on."""
    out = dict((job, []) for job, _key in JOBS)
    for cluster in plan.get('clusters') or []:
        endpoint = plan['endpoints'][cluster]
        for lb in endpoint['load_balancers']:
            metrics = (endpoint.get('metrics') or {}).get(lb) or {}
            for job, key in JOBS:
                if metrics.get(key):
                    out[job].append(dict(targets=[metrics[key]], labels=dict(cluster=cluster, lb=lb)))
    return out


def target_file(directory, job):
    """Where the file_sd targets of ``job`` live under ``directory``."""
    return '%s/%s.targets.yml' % (directory.rstrip('/'), job)


def scrape_configs(directory):
    """prometheus.yml's scrape_configs entries for every job (targets from target_file())."""
    return [dict(job_name=job, file_sd_configs=[dict(files=[target_file(directory, job)])])
            for job, _key in JOBS]


def _loopback(target):
    address = target.rpartition(':')[0].strip('[]')
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def unreachable_targets(plan, scraper):
    """Sentences for each target that ``scraper`` (a host of the monitoring group)
    cannot reach because the load balancer serves it on its loopback only."""
    out = []
    for job, targets in sorted(scrape_targets(plan).items()):
        for entry in targets:
            lb = entry['labels']['lb']
            if lb != scraper and _loopback(entry['targets'][0]):
                out.append('%s: serves %s metrics on %s, which %s cannot scrape: set kubeha_metrics_address: '
                           'node (its kubeha_address) or another address of %s that %s reaches'
                           % (lb, job, entry['targets'][0], scraper, lb, scraper))
    return out
