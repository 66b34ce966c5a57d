import sys
from pathlib import Path

import pytest

from ansible_collections.kubeha.control_plane.plugins.plugin_utils.profiles import profile_value

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / 'bench'))
from run import config_change  # noqa: E402


def effective(extra_vars):
    """The haproxy timeouts site.yml renders with these extra vars (default profile)."""
    settings = {name: profile_value('default', name)
                for name in ('haproxy_timeout_client', 'haproxy_timeout_server')}
    settings.update(arg.split('=', 1) for arg in extra_vars if arg != '-e')
    return settings


@pytest.mark.parametrize('reps', [2, 3, 4, 5, 6])
def test_every_config_change_run_changes_the_config_and_the_last_restores_it(reps):
    states = [effective([])] + [effective(config_change(rep, reps)) for rep in range(reps)]
    assert all(before != after for before, after in zip(states, states[1:])), states
    assert states[-1] == effective([])


def test_a_single_config_change_run_is_a_change():
    assert effective(config_change(0, 1)) != effective([])
