#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: apiserver_healthz
short_description: Check a kube-apiserver's /healthz, /livez and /readyz over HTTPS
version_added: 1.0.0
description:
  - GETs C(https://HOST:PORT/PATH) for each path and expects C(200 ok).
  - Waits until every path is healthy when O(retries) or O(deadline) is given.
  - Fails with what was expected and what came back (refused, timeout, TLS error,
    401 with a hint about anonymous auth, 500 with the body).
  - Reports which backend answered when the endpoint names it (header C(X-Kubeha-Node)).
author:
  - kubeha maintainers (@kubeha)
extends_documentation_fragment:
  - kubeha.control_plane.attributes.info_module
  - ansible.builtin.action_common_attributes
options:
  host:
    description: Address or name of the apiserver, load balancer or VIP.
    type: str
    required: true
  port:
    description: HTTPS port.
    type: int
    default: 6443
  paths:
    description: Paths to check; add C(?verbose) for the list of checks.
    type: list
    elements: str
    default: [/healthz, /livez, /readyz]
  validate_certs:
    description: Verify the server certificate.
    type: bool
    default: true
  ca_path:
    description: CA bundle to verify the server with (the cluster CA).
    type: path
  client_cert:
    description: Client certificate, for clusters that deny anonymous health checks.
    type: path
  client_key:
    description: Key of O(client_cert).
    type: path
  timeout:
    description: Seconds to wait for one answer.
    type: float
    default: 5
  retries:
    description: Extra attempts while a path is unhealthy.
    type: int
    default: 0
  delay:
    description: Seconds between attempts.
    type: float
    default: 1
  deadline:
    description: Keep trying for at most this many seconds (overrides O(retries)).
    type: float
'''

EXAMPLES = r'''
- name: The API answers through the VIP
  kubeha.control_plane.apiserver_healthz:
    host: 192.168.1.100
    ca_path: /etc/kubernetes/pki/ca.crt

- name: Wait up to a minute for one apiserver to be ready again
  kubeha.control_plane.apiserver_healthz:
    host: 192.168.1.3
    paths: [/readyz]
    validate_certs: false
    deadline: 60
'''

RETURN = r'''
results:
  description: One entry per path, from the last attempt.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The path.
      type: str
    ok:
      description: Whether it answered 200 ok.
      type: bool
    status:
      description: HTTP status, when there was an answer.
      type: int
    body:
      description: Body (first 2000 characters) or the error.
      type: str
    latency_ms:
      description: Time to the answer, in milliseconds.
      type: float
    attempts:
      description: Attempts made for this path.
      type: int
    node:
      description: The backend that answered, when the endpoint names it.
      type: str
    message:
      description: What was expected and what came back.
      type: str
'''

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubeha.control_plane.plugins.module_utils.healthz import probe


def _url(host, port, path):
    if ':' in host and not host.startswith('['):
        host = '[%s]' % host
    return 'https://%s:%d%s' % (host, port, path if path.startswith('/') else '/' + path)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            host=dict(type='str', required=True),
            port=dict(type='int', default=6443),
            paths=dict(type='list', elements='str', default=['/healthz', '/livez', '/readyz']),
            validate_certs=dict(type='bool', default=True),
            ca_path=dict(type='path'),
            client_cert=dict(type='path'),
            client_key=dict(type='path', no_log=False),
            timeout=dict(type='float', default=5),
            retries=dict(type='int', default=0),
            delay=dict(type='float', default=1),
            deadline=dict(type='float'),
        ),
        required_together=[['client_cert', 'client_key']],
        supports_check_mode=True,
    )
    p = module.params
    started = time.monotonic()
    results = []
    for path in p['paths']:
        attempts = 0
        while True:
            attempts += 1
            result = probe(_url(p['host'], p['port'], path), timeout=p['timeout'],
                           validate_certs=p['validate_certs'], ca_path=p['ca_path'],
                           client_cert=p['client_cert'], client_key=p['client_key'])
            if result['ok']:
                break
            if p['deadline'] is not None:
                if time.monotonic() - started + p['delay'] > p['deadline']:
                    break
            elif attempts > p['retries']:
                break
            time.sleep(p['delay'])
        result.update(path=path, attempts=attempts)
        results.append(result)
    failed = [r for r in results if not r['ok']]
    if failed:
        module.fail_json(msg='; '.join(r['message'] for r in failed), results=results)
    module.exit_json(changed=False, results=results)


if __name__ == '__main__':
    main()
