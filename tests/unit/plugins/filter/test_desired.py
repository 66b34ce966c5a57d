"""What the roles want, as drift reads it: keepalived.conf rendered on the
controller is byte for byte what the vrrp_config module writes, and file
entries travel as digests."""
import hashlib

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kubeha.control_plane.plugins.filter.desired import file_digests, keepalived_conf
from ansible_collections.kubeha.control_plane.plugins.modules import vrrp_config

from ..modules.test_vrrp_config import args, keepalived  # noqa: F401  pylint: disable=unused-import


def test_keepalived_conf_is_what_the_module_writes(tmp_path, keepalived, run_module):  # noqa: F811
    params = args(tmp_path)
    assert run_module(vrrp_config, params)['changed']
    written = open(params['dest']).read()
    controller = dict((k, v) for k, v in params.items() if k not in ('mode', 'backup'))
    assert keepalived_conf(controller) == written
    assert 'auth_pass secret1' in written  # the digest covers the secret


def test_keepalived_conf_refuses_what_the_module_refuses(tmp_path):
    params = args(tmp_path)
    params['instances'][0]['authentication']['auth_pass'] = 'ninechars'
    with pytest.raises(AnsibleFilterError, match='auth_pass'):
        keepalived_conf(dict((k, v) for k, v in params.items() if k not in ('mode', 'backup')))


def test_file_digests_drop_the_content():
    out = file_digests([{'path': '/a', 'content': 'x\n', 'mode': '0644', 'validate': 'true %s', 'backup': True},
                        {'path': '/b', 'state': 'absent', 'content': ''}])
    assert out == [{'path': '/a', 'mode': '0644', 'sha256': hashlib.sha256(b'x\n').hexdigest()},
                   {'path': '/b', 'state': 'absent'}]
