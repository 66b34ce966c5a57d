"""Role docs, argument specs, defaults files, templates and bench bounds agree
with the one profile table (plugins/plugin_utils/profiles.py) and the defaults
files: this fails when any of them drifts."""
import re
import sys
from pathlib import Path

import pytest
import yaml

from ansible_collections.kubeha.control_plane.plugins.plugin_utils.profiles import (
    PROFILE_NAMES, PROFILE_VARIABLES, PROFILES, unready_bound_s,
)

ROOT = Path(__file__).resolve().parents[3]
ROLES = ('kubeha', 'haproxy', 'keepalived', 'bgp', 'verify', 'monitoring')


def spec(role):
    return yaml.safe_load((ROOT / 'roles' / role / 'meta' / 'argument_specs.yml').read_text())[
        'argument_specs']['main']['options']


def defaults(role):
    return yaml.safe_load((ROOT / 'roles' / role / 'defaults' / 'main.yml').read_text()) or {}


def readme_entries(role):
    """{variable: the '- type ...' line under its heading} of the role README."""
    text = (ROOT / 'roles' / role / 'README.md').read_text()
    out = {}
    for match in re.finditer(r'^### `([a-z0-9_]+)`\n(.*?)(?=^### |\Z)', text, re.M | re.S):
        lines = [line for line in match.group(2).splitlines() if line.startswith('- type ')]
        out[match.group(1)] = lines[0] if lines else ''
    return out


def profile_line(name):
    values = ', '.join('`%s` (%s)' % (str(PROFILES[p][name]).lower() if isinstance(PROFILES[p][name], bool)
                                      else PROFILES[p][name], p)
                       for p in PROFILE_NAMES if name in PROFILES[p])
    return 'default from the profile: %s' % values


def fmt(value):
    if value in ('', None):
        return 'empty'
    if isinstance(value, bool):
        return '`%s`' % str(value).lower()
    return '`%s`' % (value,)


@pytest.mark.parametrize('role', ROLES)
def test_defaults_files_are_literal_and_match_the_specs(role):
    options, values = spec(role), defaults(role)
    for name, value in values.items():
        assert '{{' not in str(value), '%s: %s is templated; the plan reads it literally' % (role, name)
        assert name in options, '%s: %s has a default but no argument spec' % (role, name)
        assert options[name].get('default') == value, '%s: %s spec default %r != %r' % (
            role, name, options[name].get('default'), value)
        assert name not in PROFILE_VARIABLES, '%s: %s is set by the profile table' % (role, name)


@pytest.mark.parametrize('role', ROLES)
def test_profile_variables_have_no_other_default(role):
    for name, option in spec(role).items():
        if name in PROFILE_VARIABLES:
            assert 'default' not in option, '%s: %s has a spec default besides the profile' % (role, name)


@pytest.mark.parametrize('role', ROLES)
def test_readme_has_one_heading_per_variable_with_the_right_default(role):
    options, values, entries = spec(role), defaults(role), readme_entries(role)
    assert set(entries) == set(options), 'README headings vs argument spec: %s' % sorted(
        set(entries) ^ set(options))
    for name, line in entries.items():
        if name in PROFILE_VARIABLES:
            assert profile_line(name) in line, '%s README, %s: %r should say %r' % (
                role, name, line, profile_line(name))
        elif name in values:
            assert 'default %s' % fmt(values[name]) in line, '%s README, %s: %r, default is %s' % (
                role, name, line, fmt(values[name]))


def test_every_profile_variable_has_a_documented_home():
    documented = set()
    for role in ROLES:
        documented |= set(spec(role))
    internal = {'haproxy_template'}
    assert set(PROFILE_VARIABLES) - internal <= documented


def test_the_guide_template_renders_every_guide_value():
    template = (ROOT / 'roles' / 'haproxy' / 'templates' / 'haproxy-guide.cfg.j2').read_text()
    for name in PROFILES['guide']:
        if name.startswith('haproxy_') and name != 'haproxy_template':
            key = name[len('haproxy_'):]
            assert 'p.%s' % key in template, 'guide profile value %s is never rendered' % name


def test_bench_bounds_come_from_the_table():
    sys.path.insert(0, str(ROOT / 'bench'))
    from analysis import UNREADY_BOUND_S
    assert UNREADY_BOUND_S == {p: unready_bound_s(p) for p in PROFILE_NAMES}
    assert UNREADY_BOUND_S['default'] == 2 + (3 - 1) * 1 + 2  # inter + (fall-1) x fastinter + timeout
    assert UNREADY_BOUND_S['guide'] is None  # a tcp check never sees readiness
