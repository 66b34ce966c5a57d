"""config_files: several files in one call, each validated before it replaces
the old one, never readable by others while it is written, the foreign
original kept once, check mode and diff."""
import os
import stat
import sys

import pytest

from ansible_collections.kubeha.control_plane.plugins.module_utils import installer
from ansible_collections.kubeha.control_plane.plugins.modules import config_files


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_writes_files_and_directories_and_reports_each(tmp_path, run_module):
    conf = tmp_path / 'etc' / 'app.conf'
    gone = tmp_path / 'old.timer'
    gone.write_text('x')
    result = run_module(config_files, {
        'directories': [{'path': str(tmp_path / 'etc'), 'mode': '0750'}],
        'files': [{'path': str(conf), 'content': 'a = 1\n', 'mode': '0640'},
                  {'path': str(gone), 'state': 'absent'}]})
    assert result['changed'] and result['rc'] == 0
    assert result['changed_paths'] == [str(tmp_path / 'etc'), str(conf), str(gone)]
    assert conf.read_text() == 'a = 1\n' and mode_of(conf) == 0o640
    assert mode_of(tmp_path / 'etc') == 0o750 and not gone.exists()
    again = run_module(config_files, {
        'directories': [{'path': str(tmp_path / 'etc'), 'mode': '0750'}],
        'files': [{'path': str(conf), 'content': 'a = 1\n', 'mode': '0640'},
                  {'path': str(gone), 'state': 'absent'}]})
    assert not again['changed'] and again['changed_paths'] == []


def test_a_mode_change_alone_is_a_change(tmp_path, run_module):
    conf = tmp_path / 'app.conf'
    conf.write_text('same\n')
    os.chmod(str(conf), 0o644)
    result = run_module(config_files, {'files': [{'path': str(conf), 'content': 'same\n', 'mode': '0600'}]})
    assert result['changed_paths'] == [str(conf)] and mode_of(conf) == 0o600


def test_a_rejected_file_leaves_the_old_one_and_nothing_else(tmp_path, run_module):
    conf = tmp_path / 'app.conf'
    conf.write_text('good\n')
    result = run_module(config_files, {'files': [{
        'path': str(conf), 'content': 'bad\n', 'mode': '0640',
        'validate': '%s -c "import sys; sys.exit(1 if open(sys.argv[1]).read() == \'bad\\n\' else 0)" %%s'
                    % sys.executable}]})
    assert result.get('failed') and 'rejected the new' in result['msg']
    assert conf.read_text() == 'good\n'
    assert sorted(os.listdir(str(tmp_path))) == ['app.conf']


def test_the_new_file_is_never_readable_by_others_while_written(tmp_path, run_module, monkeypatch):
    """The temporary file is 0600 (then its final mode) before a byte is written."""
    seen = []
    real_fdopen = os.fdopen

    def spy(fd, *args, **kwargs):
        seen.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return real_fdopen(fd, *args, **kwargs)
    monkeypatch.setattr(installer.os, 'fdopen', spy)
    run_module(config_files, {'files': [{'path': str(tmp_path / 'secret.conf'), 'content': 'pw\n',
                                         'mode': '0640'}]})
    assert seen == [0o640] and not seen[0] & 0o007


def test_backup_and_the_foreign_original_kept_once(tmp_path, run_module):
    conf = tmp_path / 'haproxy.cfg'
    conf.write_text('from the package\n')
    args = {'keep_originals': [{'path': str(conf), 'copy_to': str(conf) + '.kubeha-orig'}],
            'files': [{'path': str(conf), 'content': '# kubeha.control_plane\nnew\n', 'backup': True}]}
    first = run_module(config_files, args)
    assert first['originals_kept'] == {str(conf): str(conf) + '.kubeha-orig'}
    assert (tmp_path / 'haproxy.cfg.kubeha-orig').read_text() == 'from the package\n'
    assert mode_of(tmp_path / 'haproxy.cfg.kubeha-orig') == 0o600
    assert os.path.exists(first['backups'][str(conf)])
    args['files'][0]['content'] = '# kubeha.control_plane\nnewer\n'
    second = run_module(config_files, args)
    assert second['originals_kept'] == {}  # ours now: the original stays as it was
    assert (tmp_path / 'haproxy.cfg.kubeha-orig').read_text() == 'from the package\n'


@pytest.mark.parametrize('existing', [None, 'old\n'])
def test_check_mode_changes_nothing_and_shows_the_diff(tmp_path, run_module, existing):
    conf = tmp_path / 'app.conf'
    if existing:
        conf.write_text(existing)
    result = run_module(config_files, {'files': [{'path': str(conf), 'content': 'new\n'}],
                                       '_ansible_check_mode': True, '_ansible_diff': True})
    assert result['changed'] and result['diff'][0]['after'] == 'new\n'
    assert result['diff'][0]['before'] == (existing or '')
    assert (conf.read_text() if existing else None) == existing


def test_backups_are_private_and_capped(tmp_path, run_module):
    """haproxy.cfg holds the stats credentials: each change keeps a 0600 copy, at most backups_kept."""
    conf = tmp_path / 'haproxy.cfg'
    made = []
    for n in range(5):
        result = run_module(config_files, {
            'backups_kept': 2,
            'files': [{'path': str(conf), 'content': '# kubeha.control_plane\nstats auth admin:pw%d\n' % n,
                       'mode': '0640', 'backup': True}]})
        assert result['rc'] == 0 and result['changed'], result
        if n:
            made.append(result['backups'][str(conf)])
    left = sorted(p for p in os.listdir(str(tmp_path)) if p.endswith('~'))
    assert len(left) == 2 and os.path.basename(made[-1]) in left, (left, made)
    assert all(stat.S_IMODE(os.stat(str(tmp_path / p)).st_mode) == 0o600 for p in left)
    assert stat.S_IMODE(os.stat(str(conf)).st_mode) == 0o640


class Passwd(object):
    """A stand-in user database, and useradd/usermod on PATH that log their arguments."""

    def __init__(self, tmp_path, monkeypatch, users):
        self.users, self.log = dict(users), tmp_path / 'calls'
        self.log.write_text('')
        bindir = tmp_path / 'userbin'
        bindir.mkdir()
        for name in ('useradd', 'usermod'):
            (bindir / name).write_text('#!/bin/sh\necho "%s $*" >> %s\n[ "$FAIL" != %s ]\n' % (name, self.log, name))
            os.chmod(str(bindir / name), 0o755)
        monkeypatch.setenv('PATH', '%s:%s' % (bindir, os.environ['PATH']))
        monkeypatch.setattr(installer.pwd, 'getpwnam', self.getpwnam)

    def getpwnam(self, name):
        if name not in self.users and not any(call.startswith('useradd') and call.endswith(' ' + name)
                                              for call in self.calls()):
            raise KeyError(name)
        return type('pw', (), {'pw_shell': self.users.get(name), 'pw_uid': os.getuid()})()

    def calls(self):
        return self.log.read_text().splitlines()


@pytest.mark.parametrize('users, calls', [
    ({}, ['useradd --system --no-create-home --shell /usr/sbin/nologin keepalived_script']),
    ({'keepalived_script': '/bin/bash'}, ['usermod --shell /usr/sbin/nologin keepalived_script']),
    ({'keepalived_script': '/usr/sbin/nologin'}, []),
])
def test_users_are_created_or_given_their_shell_before_the_files(tmp_path, monkeypatch, run_module, users, calls):
    passwd = Passwd(tmp_path, monkeypatch, users)
    script = tmp_path / 'check'
    result = run_module(config_files, {'users': [{'name': 'keepalived_script'}],
                                       'files': [{'path': str(script), 'content': 'x\n', 'owner': 'keepalived_script'}]})
    assert result['rc'] == 0 and passwd.calls() == calls
    assert result['changed_users'] == (['keepalived_script'] if calls else [])
    assert result['changed'] and script.read_text() == 'x\n'


def test_check_mode_says_it_would_create_the_user_and_creates_nothing(tmp_path, monkeypatch, run_module):
    passwd = Passwd(tmp_path, monkeypatch, {})
    result = run_module(config_files, {'_ansible_check_mode': True, '_ansible_diff': True,
                                       'users': [{'name': 'keepalived_script'}]})
    assert result['changed'] and result['changed_users'] == ['keepalived_script'] and passwd.calls() == []
    assert result['diff'][0]['before'] == '(absent)\n'


def test_a_failed_useradd_writes_no_file(tmp_path, monkeypatch, run_module):
    Passwd(tmp_path, monkeypatch, {})
    monkeypatch.setenv('FAIL', 'useradd')
    script = tmp_path / 'check'
    result = run_module(config_files, {'users': [{'name': 'keepalived_script'}],
                                       'files': [{'path': str(script), 'content': 'x\n'}]})
    assert result['failed'] and 'useradd keepalived_script failed' in result['msg'] and not script.exists()


HAPROXY = [{'name': 'haproxy', 'changed_state': 'reloaded'}]


@pytest.mark.parametrize('before, calls, kind', [
    ('old\n', ['reload haproxy'], 'reloaded'),  # a new file: the running haproxy reads it
    ('new\n', [], None),                        # the same file: haproxy is left alone
])
def test_the_units_come_up_after_the_files_reloaded_for_a_new_one(tmp_path, systemd, run_module, before, calls, kind):
    conf = tmp_path / 'haproxy.cfg'
    conf.write_text(before)
    (systemd / 'haproxy.active').touch()
    (systemd / 'haproxy.enabled').touch()
    result = run_module(config_files, {'files': [{'path': str(conf), 'content': 'new\n'}], 'units': HAPROXY})
    assert result['rc'] == 0 and systemd.calls() == calls and conf.read_text() == 'new\n'
    assert result['units']['changed_units'] == (['haproxy'] if kind else [])
    assert result['changed'] == (kind is not None)


def test_a_stopped_service_is_started_not_reloaded(tmp_path, systemd, run_module):
    conf = tmp_path / 'haproxy.cfg'
    result = run_module(config_files, {'files': [{'path': str(conf), 'content': 'new\n'}], 'units': HAPROXY,
                                       'daemon_reload': True})
    assert systemd.calls() == ['daemon-reload', 'enable --no-reload haproxy', 'start haproxy', 'daemon-reload']
    assert result['units']['started'] == ['haproxy'] and result['units']['reloaded'] == []


def test_a_rejected_file_touches_no_unit(tmp_path, systemd, run_module):
    conf = tmp_path / 'haproxy.cfg'
    conf.write_text('old\n')
    (systemd / 'haproxy.active').touch()
    result = run_module(config_files, {'files': [{'path': str(conf), 'content': 'bad\n', 'validate': 'false %s'}],
                                       'units': HAPROXY})
    assert result['failed'] and 'rejected the new' in result['msg']
    assert systemd.calls() == [] and conf.read_text() == 'old\n'


def test_a_failed_reload_says_which_files_were_written(tmp_path, systemd, run_module):
    conf = tmp_path / 'haproxy.cfg'
    (systemd / 'haproxy.active').touch()
    (systemd / 'haproxy.enabled').touch()
    (systemd / 'haproxy.rejects').touch()
    result = run_module(config_files, {'files': [{'path': str(conf), 'content': 'new\n'}], 'units': HAPROXY})
    assert result['failed'] and 'systemctl reload haproxy failed' in result['msg']
    assert result['changed_paths'] == [str(conf)]
