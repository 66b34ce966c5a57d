import sys
from pathlib import Path

import pytest

from ansible_collections.kubeha.control_plane.plugins.plugin_utils.profiles import profile_value

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / 'bench'))
from run import CASES, config_change_args as config_change  # noqa: E402


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


@pytest.mark.parametrize('name', sorted(CASES))
def test_a_case_is_one_entry_with_its_fault_and_what_the_page_says(name):
    case = CASES[name]
    assert callable(case.inject) and case.inject.__name__ == name
    assert case.title and case.metric in ('outage_s', 'failed', 'routed_after_bound')
    profiles = ('guide', 'default', 'fast') if case.guide else ('default', 'fast')
    assert set(profiles) <= set(case.bounds) and {'default', 'fast'} <= set(case.targets)
    assert not case.vip or case.metric == 'outage_s'  # a case that moves the VIP is judged by the outage
