#!/usr/bin/env python3
"""Write roles/monitoring/files/kubeha-prometheusrule.yaml (the PrometheusRule
manifest for kube-prometheus / prometheus-operator users) from the one home
of the alert rules, roles/monitoring/files/kubeha.rules.yml. `make rules`
runs it; tests/unit/docs/test_observability.py fails if the two differ.

  python lab/scripts/prometheusrule.py           write the manifest
  python lab/scripts/prometheusrule.py --print   print it
"""
import os
import sys

import yaml

FILES = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'roles', 'monitoring', 'files')
RULES = os.path.join(FILES, 'kubeha.rules.yml')
MANIFEST = os.path.join(FILES, 'kubeha-prometheusrule.yaml')
HEADER = ('# Generated from kubeha.rules.yml by lab/scripts/prometheusrule.py (make rules): do not edit.\n'
          '# kube-prometheus / prometheus-operator: kubectl apply -n monitoring -f this file. The\n'
          '# rules select on job="kubeha-haproxy" / job="kubeha-vrrp" and the labels cluster and\n'
          '# lb: see docs/observability.md for a ScrapeConfig that sets them.\n')


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow=False, indentless=False):  # lists indented under their key
        return super().increase_indent(flow, False)


def _str(dumper, value):
    style = '|' if '\n' in value else None
    return dumper.represent_scalar('tag:yaml.org,2002:str', value, style=style)


_Dumper.add_representer(str, _str)


def manifest(rules):
    return {
        'apiVersion': 'monitoring.coreos.com/v1',
        'kind': 'PrometheusRule',
        'metadata': {'name': 'kubeha-control-plane-endpoint',
                     'labels': {'app.kubernetes.io/name': 'kubeha', 'app.kubernetes.io/part-of': 'kubeha.control_plane',
                                'prometheus': 'k8s', 'role': 'alert-rules'}},
        'spec': {'groups': rules['groups']},
    }


def render():
    with open(RULES) as handle:
        rules = yaml.safe_load(handle)
    return HEADER + '---\n' + yaml.dump(manifest(rules), Dumper=_Dumper, sort_keys=False, width=110,
                                        default_flow_style=False, allow_unicode=True)


if __name__ == '__main__':
    text = render()
    if '--print' in sys.argv:
        sys.stdout.write(text)
    else:
        with open(MANIFEST, 'w') as handle:
            handle.write(text)
