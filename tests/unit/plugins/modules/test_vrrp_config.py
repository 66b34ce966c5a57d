"""The vrrp_config module's own code paths: the atomic, never world-readable
write, check mode, keepalived -t (and 2.2.7's self-killing test), script checks."""
import os
import stat

import pytest

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubeha.control_plane.plugins.modules import vrrp_config

# keepalived 2.2.7 SIGTERMs its own -t run when the file has scripts; this stand-in
# does the same, and rejects any file containing REJECT.
FAKE_KEEPALIVED = '''#!/bin/sh
file="$3"
grep -q REJECT "$file" && { echo "bad config" >&2; exit 1; }
grep -q vrrp_script "$file" && kill -TERM $$
exit 0
'''


@pytest.fixture
def keepalived(tmp_path, monkeypatch):
    bindir = tmp_path / 'bin'
    bindir.mkdir()
    binary = bindir / 'keepalived'
    binary.write_text(FAKE_KEEPALIVED)
    binary.chmod(0o755)
    monkeypatch.setenv('PATH', '%s:%s' % (bindir, os.environ['PATH']))
    monkeypatch.setattr(AnsibleModule, 'get_bin_path',
                        lambda self, name, *a, **k: str(binary) if name == 'keepalived' else None)
    return binary


def args(tmp_path, **changes):
    conf = tmp_path / 'etc'
    conf.mkdir(exist_ok=True)
    base = dict(
        dest=str(conf / 'keepalived.conf'), mode='0640', backup=True,
        host_addresses=['192.168.1.10', '192.168.1.11'],
        global_defs={'router_id': 'lb1'},
        # root-owned, not writable by others, all the way up: what keepalived's
        # enable_script_security accepts
        scripts=[{'name': 'chk_haproxy', 'script': '/usr/bin/true', 'weight': -50}],
        instances=[{'name': 'VI_1', 'interface': 'eno1', 'virtual_router_id': 51, 'priority': 101,
                    'state': 'MASTER', 'virtual_ipaddresses': ['192.168.1.100/24'],
                    'authentication': {'auth_pass': 'secret1'}, 'unicast_src_ip': '192.168.1.10',
                    'unicast_peers': ['192.168.1.11'], 'peer_priorities': [100],
                    'track_scripts': [{'name': 'chk_haproxy'}], 'notify': '/usr/bin/true'}])
    base.update(changes)
    return base


@pytest.mark.parametrize('exists', [False, True], ids=['created', 'replaced'])
def test_writes_validates_and_is_never_world_readable(tmp_path, keepalived, run_module, monkeypatch, exists):
    """The file at dest never has a mode that lets others read it: not while the
    temporary file is written, not between the rename and the final mode (Ansible's
    atomic_move would make a new file 0666 & ~umask for that moment)."""
    a = args(tmp_path)
    if exists:
        run_module(vrrp_config, a)
        a['instances'][0]['authentication'] = {'auth_pass': 'secret2'}
    seen = []
    original_set = AnsibleModule.set_fs_attributes_if_different

    def watch(self, file_args, changed, *rest, **kw):
        seen.append(stat.S_IMODE(os.stat(file_args['path']).st_mode))  # before the final mode
        return original_set(self, file_args, changed, *rest, **kw)
    monkeypatch.setattr(AnsibleModule, 'set_fs_attributes_if_different', watch)
    monkeypatch.setattr(os, 'umask', lambda mask=0: 0)  # the most permissive umask: 0666 if anything widened it
    result = run_module(vrrp_config, a)
    assert result['rc'] == 0 and result['changed'] and result['validated'], result
    assert seen and not seen[0] & 0o007, oct(seen[0])
    assert stat.S_IMODE(os.stat(a['dest']).st_mode) == 0o640
    text = open(a['dest']).read()
    secret = 'secret2' if exists else 'secret1'
    assert 'auth_pass %s' % secret in text and secret not in result['config']
    names = sorted(os.listdir(os.path.dirname(a['dest'])))
    assert names[0] == 'keepalived.conf' and len(names) == (2 if exists else 1), names


def test_second_run_changes_nothing_and_backs_up_a_change(tmp_path, keepalived, run_module):
    a = args(tmp_path)
    run_module(vrrp_config, a)
    again = run_module(vrrp_config, a)
    assert again['rc'] == 0 and not again['changed']
    a['instances'][0]['priority'] = 102
    changed = run_module(vrrp_config, a)
    assert changed['changed'] and os.path.exists(changed['backup_file'])


def test_check_mode_reports_a_change_and_writes_nothing(tmp_path, keepalived, run_module):
    a = args(tmp_path, _ansible_check_mode=True, _ansible_diff=True)
    result = run_module(vrrp_config, a)
    assert result['rc'] == 0 and result['changed'] and not result['validated']
    assert not os.path.exists(a['dest'])
    assert 'secret1' not in str(result['diff'])


def test_diff_masks_the_old_secret_too(tmp_path, keepalived, run_module):
    a = args(tmp_path)
    run_module(vrrp_config, a)
    a['instances'][0]['authentication'] = {'auth_pass': 'other12'}
    result = run_module(vrrp_config, dict(a, _ansible_diff=True, _ansible_check_mode=True))
    assert 'secret1' not in str(result['diff']) and 'other12' not in str(result['diff'])


def test_a_rejected_config_leaves_the_old_file_and_nothing_else(tmp_path, keepalived, run_module):
    a = args(tmp_path)
    run_module(vrrp_config, a)
    before = open(a['dest']).read()
    a['global_defs'] = {'router_id': 'REJECT'}
    result = run_module(vrrp_config, a)
    assert result['rc'] == 1 and 'keepalived -t rejected' in result['msg']
    assert open(a['dest']).read() == before
    assert os.listdir(os.path.dirname(a['dest'])) == ['keepalived.conf']


def test_keepalived_227_self_kill_falls_back_and_checks_scripts_itself(tmp_path, keepalived, run_module):
    """The fake keepalived SIGTERMs itself on files with scripts, as 2.2.7 does:
    the module tests the file without scripts, and the scripts' ownership itself."""
    good = run_module(vrrp_config, args(tmp_path))
    assert good['rc'] == 0 and good['validated']
    script = tmp_path / 'check.sh'  # under /tmp: world-writable parent, refused
    script.write_text('#!/bin/sh\nexit 0\n')
    script.chmod(0o755)
    bad = args(tmp_path, scripts=[{'name': 'chk_haproxy', 'script': str(script), 'weight': -50}])
    bad['instances'][0]['priority'] = 103
    result = run_module(vrrp_config, bad)
    assert result['rc'] == 1 and 'keepalived would refuse to run these scripts' in result['msg']
    assert 'must be owned by root and not group/world writable' in result['msg']
    missing = args(tmp_path, scripts=[{'name': 'chk_haproxy', 'script': '/nonexistent/check', 'weight': -50}])
    missing['instances'][0]['priority'] = 104
    result = run_module(vrrp_config, missing)
    assert result['rc'] == 1 and '/nonexistent/check is not an executable file' in result['msg']


def test_invalid_input_is_refused_before_writing(tmp_path, keepalived, run_module):
    a = args(tmp_path)
    a['instances'][0]['advert_int'] = 0.5
    result = run_module(vrrp_config, a)
    assert result['rc'] == 1 and 'advert_int 0.5: VRRPv2 needs whole seconds' in result['msg']
    assert not os.path.exists(a['dest'])
