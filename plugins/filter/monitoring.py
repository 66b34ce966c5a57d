# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a Prometheus scrapes on the load balancers, from the plan.

scrape_targets      plan | kubeha.control_plane.scrape_targets
                    {job: [file_sd entry, ...]}
scrape_configs      directory | kubeha.control_plane.scrape_configs
                    prometheus.yml's scrape_configs entries reading those targets
unreachable_targets plan | kubeha.control_plane.unreachable_targets(scrapers)
                    sentences for targets bound to a load balancer's loopback
scrape_target_files plan | kubeha.control_plane.scrape_target_files(directory)
                    [{path, content}]: the file_sd files of both jobs, as YAML
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.filter.core import to_nice_yaml

from ansible_collections.kubeha.control_plane.plugins.plugin_utils import monitoring


def scrape_targets(plan):
    return monitoring.scrape_targets(plan)


def scrape_configs(directory):
    return monitoring.scrape_configs(directory)


def unreachable_targets(plan, scrapers):
    """``scrapers``: one host's name, or a list of them (every sentence of each)."""
    names = [scrapers] if isinstance(scrapers, str) else list(scrapers or [])
    return [line for scraper in names for line in monitoring.unreachable_targets(plan, scraper)]


def scrape_target_files(plan, directory):
    """The file_sd file of each job (monitoring.target_file) with its targets as YAML."""
    targets = monitoring.scrape_targets(plan)
    return [dict(path=monitoring.target_file(directory, job), content=to_nice_yaml(targets[job], indent=2))
            for job, _key in monitoring.JOBS]


class FilterModule(object):
    def filters(self):
        return {'scrape_targets': scrape_targets, 'scrape_configs': scrape_configs,
                'unreachable_targets': unreachable_targets, 'scrape_target_files': scrape_target_files}
