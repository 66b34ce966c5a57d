"""Run a module's main() in-process and read what it returned; a stand-in systemctl."""
import json
import os
import pathlib
import stat

import pytest

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core before 2.19: the arguments a module reads, set by hand
    import contextlib

    from ansible.module_utils import basic

    @contextlib.contextmanager
    def patch_module_args(args):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = json.dumps({'ANSIBLE_MODULE_ARGS': args}).encode()
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved


@pytest.fixture
def run_module(capsys):
    def run(module, args):
        with patch_module_args(args):
            with pytest.raises(SystemExit) as exit_info:
                module.main()
        result = json.loads(capsys.readouterr().out)
        result['rc'] = exit_info.value.code
        return result
    return run


SYSTEMCTL = r'''#!/bin/sh
# a stand-in systemctl: $STATE/<unit>.active and .enabled hold the state, $STATE/log the calls
echo "$*" >> "$STATE/log"
case "$1" in
  daemon-reload) exit 0 ;;
  is-active) [ -e "$STATE/$3.active" ] ;;
  is-enabled)
    if [ -e "$STATE/$2.static" ]; then echo static; exit 0; fi
    if [ -e "$STATE/$2.masked" ]; then echo masked; exit 1; fi
    if [ -e "$STATE/$2.enabled" ]; then echo enabled; exit 0; fi
    echo disabled; exit 1 ;;
  start|restart)
    if [ -e "$STATE/$2.broken" ]; then echo "Job for $2 failed." >&2; exit 1; fi
    touch "$STATE/$2.active" ;;
  reload)
    if [ -e "$STATE/$2.rejects" ]; then echo "Job for $2 failed." >&2; exit 1; fi
    touch "$STATE/$2.reloaded" ;;
  enable) for unit; do :; done; touch "$STATE/$unit.enabled" ;;
  stop|kill) for unit; do :; done; rm -f "$STATE/$unit.active" ;;
  status) for unit; do :; done; echo "$unit - status"; exit 3 ;;
esac
'''


class State(type(pathlib.Path())):
    """The stand-in's state directory, and the calls that change something."""

    def calls(self):
        return [line for line in (self / 'log').read_text().splitlines() if not line.startswith('is-')]


@pytest.fixture
def systemd(tmp_path, monkeypatch):
    state = State(str(tmp_path / 'state'))
    state.mkdir()
    (state / 'log').write_text('')
    binary = tmp_path / 'bin' / 'systemctl'
    binary.parent.mkdir()
    binary.write_text(SYSTEMCTL)
    os.chmod(str(binary), stat.S_IRWXU)
    monkeypatch.setenv('STATE', str(state))
    monkeypatch.setenv('PATH', '%s:%s' % (binary.parent, os.environ['PATH']))
    return state
