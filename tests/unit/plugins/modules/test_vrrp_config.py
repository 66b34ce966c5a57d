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


@pytest.fixture
def with_units(tmp_path, systemd, monkeypatch):
    """keepalived.conf with the files it refers to and its units, against the stand-in
    systemctl (no keepalived binary: the file is written unchecked, with a warning)."""
    systemctl = str(tmp_path / 'bin' / 'systemctl')
    monkeypatch.setattr(AnsibleModule, 'get_bin_path',
                        lambda self, name, *a, **k: systemctl if name == 'systemctl' else None)
    libexec = tmp_path / 'libexec'
    dropin = tmp_path / 'etc' / 'systemd' / 'system' / 'keepalived.service.d'

    def call(run_module, conf_pass='secret1', exporter='v1\n'):
        a = args(tmp_path, instances=[dict(args(tmp_path)['instances'][0], authentication={'auth_pass': conf_pass})])
        a.update(
            directories=[{'path': str(libexec), 'mode': '0755'}, {'path': str(dropin), 'mode': '0755'}],
            files=[{'path': str(libexec / 'vrrp-exporter'), 'content': exporter, 'mode': '0755'},
                   {'path': str(dropin / 'kubeha.conf'), 'content': '[Service]\nRestart=on-failure\n'}],
            units=[{'name': 'keepalived', 'changed_state': 'reloaded', 'changed_by': [a['dest']]},
                   {'name': 'exporter', 'changed_state': 'restarted', 'changed_by': [str(libexec / 'vrrp-exporter')]}])
        return run_module(vrrp_config, a)
    return call


def test_files_then_keepalived_conf_then_units_in_one_call(tmp_path, systemd, with_units, run_module):
    result = with_units(run_module)
    assert result['rc'] == 0 and result['changed']
    assert (tmp_path / 'libexec' / 'vrrp-exporter').read_text() == 'v1\n'
    assert os.path.exists(result['dest']) and result['dest'] in result['changed_paths']
    # a drop-in was written: systemd reloads its units before any starts
    assert systemd.calls() == ['daemon-reload', 'enable --no-reload keepalived', 'start keepalived',
                               'enable --no-reload exporter', 'start exporter', 'daemon-reload']
    assert result['units']['started'] == ['keepalived', 'exporter']


@pytest.mark.parametrize('change, calls', [
    ({'conf_pass': 'secret2'}, ['reload keepalived']),  # a new keepalived.conf: reloaded, exporter left alone
    ({'exporter': 'v2\n'}, ['restart exporter']),       # a new exporter: restarted, keepalived left alone
    ({}, []),                                            # nothing new: nothing touched
])
def test_each_unit_follows_its_own_files(tmp_path, systemd, with_units, run_module, change, calls):
    with_units(run_module)
    (systemd / 'log').write_text('')
    result = with_units(run_module, **change)
    assert result['rc'] == 0 and systemd.calls() == calls
    assert result['changed'] == bool(calls)


def test_an_invalid_configuration_writes_none_of_the_files(tmp_path, systemd, with_units, run_module):
    a = args(tmp_path, instances=[dict(args(tmp_path)['instances'][0], priority=300)],
             files=[{'path': str(tmp_path / 'script'), 'content': 'x\n'}], units=[{'name': 'keepalived'}])
    result = run_module(vrrp_config, a)
    assert result['failed'] and 'invalid VRRP configuration' in result['msg']
    assert not (tmp_path / 'script').exists() and systemd.calls() == []
