# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""No string can write a line: every string the inventory gives is checked
here against what the file it reaches allows, before any host changes.

``FORMS`` names, for every string variable of the roles' argument specs (and
every string inside bgp_peers and haproxy_backend_servers), the form it must
have. A form is the set of characters the place it is written to takes
unquoted: haproxy.cfg splits words on white space and starts a comment at
``#``; FRR takes a password and a description as the rest of the line;
check-haproxy single-quotes the track URL; systemd units take one value per
line. ``CHECKED`` names the variables another rule already refuses unless they
are one of their values (an IP address, a haproxy time, a choice, a name
vrrp_config checks): they get the control-character rule only.

Like rules.py, ``check_strings`` only checks; it computes nothing the plan keeps.
The property test (tests/property/test_plan_strings.py) feeds every variable
here newlines, quotes, braces, ``#`` and overlong values, and asserts each is
refused or renders the same lines as a plain value.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# The longest value a one-line setting takes (haproxy's own line limit is 2048).
LONGEST = 1024
# FRR: a TCP MD5 key is at most 80 bytes (TCP_MD5SIG_MAXKEYLEN), a description 80 characters.
FRR_PASSWORD_MAX = 80
FRR_DESCRIPTION_MAX = 80

_CONTROL = re.compile(r'[\x00-\x1f\x7f]')
_UNIT_SUFFIXES = r'(service|target|socket|timer|path|mount)'
_UNIT = r'[A-Za-z0-9:_.@%-]+\.' + _UNIT_SUFFIXES
_LABEL = r'[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?'

# form: (pattern a value must match whole, what it takes in the words of a refusal, longest)
PATTERNS = {
    'token': (r'[A-Za-z0-9._:@/\[\]%+=,~*-]+',
              'letters, digits and ._:@/[]%+=,~*- only (no spaces, quotes, "#" or braces)', LONGEST),
    'path': (r'/[A-Za-z0-9._/+@%=,~-]*',
             'an absolute path of letters, digits and ._/+@%=,~- (no spaces, quotes or "#")', LONGEST),
    'uri': (r'/[A-Za-z0-9._~!$&()*+,;=:@%/?-]*',
            'a path that starts with "/", without spaces, quotes, "#" or braces', LONGEST),
    'url': (r'https?://[A-Za-z0-9._~!$&()*+,;=:@%/?\[\]-]+',
            'an http:// or https:// URL without spaces, quotes, "#" or braces', LONGEST),
    'name': (r'[A-Za-z0-9._:-]+', 'letters, digits and ._:- only', 64),
    'user': (r'[a-z_][a-z0-9_-]*', 'a user name: a lower-case letter or "_", then lower-case letters, '
                                   'digits, "_" or "-"', 32),
    'unit': (r'%s( %s)*' % (_UNIT, _UNIT),
             'systemd unit names separated by spaces (e.g. alert@%n.service)', LONGEST),
    'timespan': (r'[0-9]+(\.[0-9]+)? ?[a-z]*( [0-9]+(\.[0-9]+)? ?[a-z]*)*',
                 'a systemd time span, e.g. 30s or 1min 30s', 64),
    'hostname': (r'%s(\.%s)*' % (_LABEL, _LABEL),
                 'a host name: labels of letters, digits and "-", separated by dots', 253),
    # FRR: the rest of the line, words joined by one space
    'frr_password': (r'[\x21-\x7e]+', 'printable ASCII characters without spaces', FRR_PASSWORD_MAX),
    'frr_text': (r'[\x21-\x7e]+( [\x21-\x7e]+)*', 'printable ASCII words separated by one space',
                 FRR_DESCRIPTION_MAX),
    # read on the controller or passed to a module as an argument: never a line of a file
    'argument': (r'[^\x00-\x1f\x7f]*', 'no control characters', 4096),
}

# Every string variable of the roles' argument specs and the form it must have
# (tests/unit/plugins/plugin_utils/test_plan_host_checks.py keeps this whole).
FORMS = {
    'haproxy_health_check_path': 'uri',
    'haproxy_health_check_ca_file': 'path',
    'haproxy_health_check_client_cert': 'path',
    'haproxy_monitor_uri': 'uri',
    'haproxy_log_target': 'token',
    'keepalived_script_user': 'user',
    'keepalived_track_url': 'url',
    'keepalived_health_timer_interval': 'timespan',
    'keepalived_health_timer_on_failure': 'unit',
    'kubeha_hostname': 'hostname',
    'kubeha_ca_file': 'argument',
    'kubeha_kubeadm_snippet_file': 'argument',
    'kubeha_lb_group': 'argument',
    'kubeha_cp_group': 'argument',
    'kubeha_client_group': 'argument',
    'kubeha_monitoring_group': 'argument',
    'kubeha_clusters': 'argument',
    'verify_paths': 'argument',
    'verify_ca_file': 'argument',
    'verify_client_cert': 'argument',
    'verify_client_key': 'argument',
    'verify_kubeconfig': 'argument',
    'verify_kubectl_kubeconfig': 'argument',
}
# The strings inside the list-of-mappings variables: (variable, key) -> form.
NESTED = {
    ('bgp_peers', 'password'): 'frr_password',
    ('bgp_peers', 'name'): 'frr_text',
    ('haproxy_backend_servers', 'name'): 'name',
    ('haproxy_backend_servers', 'address'): 'token',
}
# Refused by another rule unless they are one of their values (only the
# control-character rule here): IP addresses, haproxy times, choices, and the
# names and secret vrrp_config checks (rules.check_vrrp_rules).
CHECKED = (
    'kubeha_address', 'kubeha_metrics_address', 'haproxy_frontend_address', 'haproxy_monitor_address',
    'kubeha_vip', 'kubeha_vip_ipv6', 'bgp_router_id',
    'haproxy_check_inter', 'haproxy_check_fastinter', 'haproxy_check_downinter', 'haproxy_check_timeout',
    'haproxy_timeout_connect', 'haproxy_timeout_client', 'haproxy_timeout_server', 'haproxy_timeout_tunnel',
    'haproxy_hard_stop_after',
    'kubeha_profile', 'haproxy_profile', 'keepalived_profile', 'bgp_profile', 'kubeha_vip_mode', 'bgp_mode',
    'kubeha_lb_state', 'haproxy_balance', 'haproxy_health_check', 'haproxy_observe_on_error',
    'verify_from_controller', 'verify_kubectl',
    'keepalived_instance_name', 'keepalived_interface', 'keepalived_router_id', 'keepalived_auth_pass',
    'keepalived_state_dir',
)
_COMPILED = dict((form, re.compile(r'\A(?:%s)\Z' % pattern)) for form, (pattern, _w, _l) in PATTERNS.items())


def problem(form, value, secret=False):
    """Why ``value`` is not of ``form`` (a sentence without the variable's name),
    or ''. A ``secret`` is never quoted."""
    _pattern, takes, longest = PATTERNS[form]
    control = _CONTROL.search(value)
    if control:
        return 'has a control character%s: a newline would start a line of its own; use %s' % (
            '' if secret else ' (%r)' % control.group(0), takes)
    if len(value) > longest:
        return 'has %d characters: use at most %d' % (len(value), longest)
    if not _COMPILED[form].match(value):
        return '%s not of the form it is written in: use %s' % ('is' if secret else '%r is' % value, takes)
    return ''


def _strings(value):
    """The strings of a value: itself, or the strings of a list."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [item for item in value if isinstance(item, str)]
    return []


def check_strings(host, eff, problems):
    """Every string variable of ``eff`` (a host's effective settings) against
    its form; a variable another rule checks, against control characters."""
    for name in sorted(eff):
        form = FORMS.get(name)
        if form is None and name not in CHECKED:
            continue
        for text in _strings(eff[name]):
            if not text:  # unset: the rules that need it say so
                continue
            if form is None:
                why = problem('argument', text) if _CONTROL.search(text) else ''
            else:
                why = problem(form, text, secret=name == 'keepalived_auth_pass')
            if why:
                problems.add(host, '%s %s' % (name, why))
    for (name, key), form in sorted(NESTED.items()):
        for index, entry in enumerate(eff.get(name) or []):
            if isinstance(entry, dict) and entry.get(key) not in (None, ''):
                why = problem(form, str(entry[key]), secret=key == 'password')
                if why:
                    problems.add(host, '%s[%d] %s %s' % (name, index, key, why))
