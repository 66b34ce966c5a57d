# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the plan is built from, and its one way in: each host's variables as the
inventory (and -e, and set_fact) give them, the load balancers' gathered
network facts, and the roles' own defaults and argument specs, read from this
collection's files (one home for each default).

``effective()`` gives a host's settings: the roles' defaults, then its
variables, each checked against its role's argument spec by Ansible's own
validator (the one that checks a role's arguments when it starts), then the
profile table for what is still unset.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import os

import yaml
from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plain_data import plain
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.keepalived import FACT_NAME as KEEPALIVED_FACT
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.profiles import (
    PROFILE_NAMES, PROFILE_VARIABLES, profile_value,
)

PREFIXES = ('kubeha_', 'haproxy_', 'keepalived_', 'bgp_', 'verify_')
ROLES = ('kubeha', 'haproxy', 'keepalived', 'bgp', 'verify')
COLLECTION = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

# Variables that were renamed: the old name is reported with the new one.
RENAMED = {
    'keepalived_vip': 'kubeha_vip',
    'keepalived_vip_ipv6': 'kubeha_vip_ipv6',
    'haproxy_lb_group': 'kubeha_lb_group',
    'keepalived_group': 'kubeha_lb_group',
    'verify_lb_group': 'kubeha_lb_group',
    'haproxy_backend_group': 'kubeha_cp_group',
    'verify_cp_group': 'kubeha_cp_group',
    'verify_client_group': 'kubeha_client_group',
}

# What each type accepts, in the words of a refusal; and the shapes Ansible's
# validator would convert but the inventory should not get away with (a list
# where one value is wanted, a comma-separated string for a list, a boolean
# for a number).
_ALLOWED = {'int': 'a whole number', 'float': 'a number', 'bool': 'true or false',
            'list': 'a list', 'dict': 'a mapping', 'str': 'a string'}
_SHAPES = {'int': lambda v: not isinstance(v, (bool, list, tuple, dict)),
           'float': lambda v: not isinstance(v, (bool, list, tuple, dict)),
           'bool': lambda v: not isinstance(v, (list, tuple, dict)),
           'list': lambda v: isinstance(v, (list, tuple)),
           'dict': lambda v: isinstance(v, dict),
           'str': lambda v: not isinstance(v, (list, tuple, dict))}
_CACHE = {}


def _load(role, relative):
    path = os.path.join(COLLECTION, 'roles', role, relative)
    if path not in _CACHE:
        try:
            with open(path) as handle:
                _CACHE[path] = yaml.safe_load(handle) or {}
        except (IOError, OSError) as exc:
            raise AnsibleFilterError('kubeha.control_plane: cannot read %s: %s' % (path, exc))
    return _CACHE[path]


def role_defaults():
    """Every role's defaults/main.yml, merged (their names do not overlap)."""
    merged = {}
    for role in ROLES:
        merged.update(_load(role, 'defaults/main.yml'))
    return merged


def role_specs():
    """Every role's argument spec options, merged."""
    merged = {}
    for role in ROLES:
        merged.update(_load(role, 'meta/argument_specs.yml')['argument_specs']['main']['options'])
    return merged


def host_variables(hostvars, host, unreadable=None):
    """What the inventory (and -e, and set_fact) says of ``host``: its prefixed
    variables and ansible_host, as plain data; where the kubeha role collected
    them (``__kubeha_inputs``, with the play's and the roles' variables), those.

    A variable whose template fails (an undefined vault variable, say) is left
    out and named in ``unreadable`` ({variable: error}).
    """
    try:
        hvars = hostvars[host]
    except KeyError:
        return {}
    try:  # what the role's plan task collected with the play's and roles' variables
        inputs = hvars['__kubeha_inputs']
    except Exception:  # pylint: disable=broad-except
        inputs = None
    if isinstance(inputs, dict) and inputs:
        return plain(inputs)
    out = {}
    # ansible's hostvars render templates as they are read; ansible-inventory's
    # data (a plain dict, as lab/topology.py reads it) holds them as written.
    rendered = not isinstance(hvars, dict)
    for name in list(hvars.keys()):
        if name.startswith(PREFIXES) or name == 'ansible_host':
            try:
                value = plain(hvars[name])
                missing = undefined_in(value, hvars) if rendered else []
                if missing:
                    raise ValueError("'%s' is undefined" % missing[0])
                out[name] = value
            except Exception as exc:  # pylint: disable=broad-except
                if unreadable is not None:
                    unreadable[name] = str(getattr(exc, 'message', exc)).split('\n', maxsplit=1)[0]
    return out


def undefined_in(value, hvars):
    """The variables a template still in ``value`` uses and the host lacks.
    ansible-core before 2.19 hands an unrenderable hostvars template back as its
    text ("{{ vault_x }}") instead of failing; 2.19 and later fail, as this says."""
    if not isinstance(value, str) or not ('{{' in value or '{%' in value):
        return []
    import jinja2.meta  # pylint: disable=import-outside-toplevel
    try:
        names = jinja2.meta.find_undeclared_variables(jinja2.Environment().parse(value))
    except jinja2.TemplateSyntaxError:
        return []
    return sorted(n for n in names if n not in hvars)


def network_facts(hostvars, host):
    """The gathered facts the plan reads of ``host`` (its interfaces and their
    addresses, its default gateways, its OS family, the user the run acts as,
    what facts.yml saw of the files the inventory names there, and its
    keepalived fact: the priority it runs with), or None when none were
    gathered. A play that gathered only the local facts gets the keepalived
    fact alone."""
    try:
        facts = hostvars[host]['ansible_facts']
    except KeyError:
        return None
    if not facts:
        return None
    keepalived = (facts.get('ansible_local') or {}).get(KEEPALIVED_FACT) or None
    if not facts.get('interfaces'):
        return plain(dict(keepalived=keepalived)) if keepalived else None
    names = list(facts['interfaces'])
    subset = dict((n.replace('-', '_'), facts.get(n.replace('-', '_')) or {}) for n in names)
    looked = hostvars[host].get('__kubeha_host_files') or {}
    files = dict((r['item']['path'], dict((k, r['stat'].get(k)) for k in ('exists', 'isreg', 'size')))
                 for r in looked.get('results') or [] if isinstance(r.get('stat'), dict))
    sockets = (hostvars[host].get('__kubeha_sockets') or {}).get('listening')
    subset.update(interfaces=names, os_family=facts.get('os_family'), user_id=facts.get('user_id'), files=files,
                  sockets=sockets,
                  effective_user_id=facts.get('effective_user_id'), keepalived=keepalived,
                  gateways=[gateway for gateway in ((facts.get('default_ipv4') or {}).get('gateway'),
                                                    (facts.get('default_ipv6') or {}).get('gateway')) if gateway])
    return plain(subset)


def unknown_variables(host_vars, known):
    """[(name, suggestion or '')] for prefixed variables no role or playbook knows."""
    out = []
    for name in sorted(host_vars):
        if not name.startswith(PREFIXES) or name in known:
            continue
        if name in RENAMED:
            out.append((name, RENAMED[name]))
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
        out.append((name, close[0] if close else ''))
    return out


def _validator_spec(name, spec, choices=True):
    """The parts of a role's argument spec that say what a value may be. A path
    stays as given: it is a path on the host, not on the controller."""
    kind = spec.get('type', 'str')
    out = dict(type='str' if kind == 'path' else kind)
    if spec.get('elements'):
        out['elements'] = spec['elements']
    if choices and name.endswith('_profile'):
        out['choices'] = list(PROFILE_NAMES)
    elif choices and spec.get('choices') is not None:
        out['choices'] = spec['choices']
    return out


def _shape_ok(kind, value):
    return _SHAPES.get(kind, lambda v: True)(value)


def _accepts(spec, value):
    return not ArgumentSpecValidator({'v': spec}).validate({'v': value}).error_messages


def _example(spec):
    if 'default' in spec and spec['default'] not in (None, '', [], {}):
        return repr(spec['default']) if spec.get('type') == 'str' else spec['default']
    return {'int': 1, 'float': 1.0, 'bool': 'true', 'list': '[]', 'dict': '{}'}.get(
        spec.get('type', 'str'), '"..."')


def _refusal(name, value, spec):
    """Why the spec refuses ``value`` for ``name``, and what it takes."""
    vspec, bare = _validator_spec(name, spec), _validator_spec(name, spec, choices=False)
    kind, elements = vspec['type'], vspec.get('elements')
    if not _shape_ok(kind, value) or not elements and not _accepts(bare, value):
        return '%s %r is not %s; e.g. %s: %s' % (name, value, _ALLOWED.get(kind, kind), name, _example(spec))
    if not _accepts(bare, value):
        bad = [item for item in value if not _accepts({'type': elements}, item)]
        return '%s has %r, which is not %s' % (name, bad[0], _ALLOWED.get(elements, elements))
    coerced = ArgumentSpecValidator({name: bare}).validate({name: value}).validated_parameters[name]
    choices = vspec['choices']
    near = [c for c in choices if str(c).lower() == str(coerced).lower()]
    hint = ' (did you mean %r?)' % near[0] if near else ''
    return '%s %r is not one of %s%s' % (name, coerced, ', '.join(repr(c) for c in choices), hint)


def typed(host, host_vars, specs, problems):
    """{name: value in its spec's type} for the variables a role's spec knows
    (Ansible's validator converts and checks them, all in one call); each one its
    spec refuses is a problem of ``host`` and left out."""
    given = dict((name, value) for name, value in host_vars.items()
                 if value is not None and name in specs)
    vspecs = dict((name, _validator_spec(name, specs[name])) for name in given)
    result = ArgumentSpecValidator(vspecs).validate(given)
    refused = set(name for name, value in given.items() if not _shape_ok(vspecs[name]['type'], value))
    if result.error_messages:  # which ones: each alone
        refused.update(name for name, value in given.items() if not _accepts(vspecs[name], value))
    out = {}
    for name, value in given.items():
        if name in refused:
            problems.add(host, _refusal(name, value, specs[name]))
        else:
            out[name] = result.validated_parameters[name]
    return out


def effective(host_vars, defaults, specs, host, problems):
    """Defaults, then the host's variables (checked against the specs), then the profile table."""
    eff = dict(defaults)
    eff.update(typed(host, host_vars, specs, problems))
    profile = eff.get('kubeha_profile') or 'default'
    for role in ('haproxy', 'keepalived', 'bgp'):
        role_profile = eff.get('%s_profile' % role) or profile
        eff['%s_profile' % role] = role_profile if role_profile in PROFILE_NAMES else 'default'
        for name in PROFILE_VARIABLES:
            if name.startswith(role + '_') and eff.get(name) is None:
                eff[name] = profile_value(eff['%s_profile' % role], name)
    return eff
