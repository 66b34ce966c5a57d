"""No string writes a line, as a property.

For every string variable of the roles' argument specs, and every string
inside bgp_peers and haproxy_backend_servers, Hypothesis draws values that
try to write into a file: newlines and other control characters, quotes,
braces, ``#`` and ``!``, white space, shell and haproxy syntax, overlong
values, each around a plain value of that variable. Each is either refused
by the plan, naming the variable, or rendered inert: every file the roles
write (haproxy.cfg, keepalived.conf, frr.conf, scripts, units, settings) has
the same lines as with the plain value, the value standing where the plain
one stood, and no comment character in a file that has no quoting.

Pure Python (the plan and the roles' renderers, plugins/plugin_utils/desired.py):
no container. Examples are derandomized.
"""
import copy
import os

from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.kubeha.control_plane.plugins.filter.desired import keepalived_conf
from ansible_collections.kubeha.control_plane.plugins.plugin_utils import desired
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan import build as P, syntax as S
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.endpoint import view
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.inputs import role_defaults, role_specs

EXAMPLES = int(os.environ.get('KUBEHA_PROPERTY_EXAMPLES', 200)) * 2
DEFAULTS, SPECS = role_defaults(), role_specs()
SETTINGS = {'kubeha_lb_group': 'loadbalancers', 'kubeha_cp_group': 'control_plane',
            'kubeha_client_group': 'clients', 'kubeha_strict_variables': False}
ADDRESSES = {'lb1': '192.168.1.9', 'lb2': '192.168.1.10', 'cp1': '192.168.1.1', 'cp3': '192.168.1.3'}
SECONDARY = '192.168.1.209'  # lb1's second address: a frontend address it has
VRRP = {'kubeha_vip': '192.168.1.100', 'keepalived_auth_pass': 'secret', 'keepalived_health_timer': True}
BGP = {'kubeha_vip_mode': 'bgp', 'kubeha_vip': '10.9.100.10', 'bgp_asn': 65101,
       'bgp_peers': [{'address': '192.168.1.1', 'asn': 65000, 'password': 'kubehaplainpw',
                      'name': 'kubehaplainname'}]}
# A plain value of each variable (unique in the rendered files, so that where it
# stands can be seen), and the mode it is written in.
PLAIN = {
    'haproxy_frontend_address': SECONDARY,
    'haproxy_health_check_path': '/kubehaplain',
    'haproxy_health_check_ca_file': '/etc/kubehaplain/ca.pem',
    'haproxy_health_check_client_cert': '/etc/kubehaplain/client.pem',
    'haproxy_monitor_address': '127.0.0.9',
    'haproxy_monitor_uri': '/kubehaplain',
    'haproxy_log_target': '/dev/kubehaplain',
    'keepalived_script_user': 'kubehaplain',
    'keepalived_track_url': 'http://127.0.0.1:8404/kubehaplain',
    'keepalived_health_timer_interval': '37s',
    'keepalived_health_timer_on_failure': 'kubehaplain.service',
    'keepalived_instance_name': 'kubehaplain',
    'keepalived_interface': 'eno1',
    'keepalived_router_id': 'kubehaplain',
    'keepalived_auth_pass': 'kubehapl',
    'keepalived_state_dir': '/run/kubehaplain',
    'kubeha_vip': '192.168.1.100',
    'kubeha_vip_ipv6': 'fd00:9::100',
    'kubeha_address': '192.168.1.9',
    'kubeha_metrics_address': 'node',
    'bgp_router_id': '192.168.1.9',
    ('bgp_peers', 'password'): 'kubehaplainpw',
    ('bgp_peers', 'name'): 'kubehaplainname',
    ('haproxy_backend_servers', 'name'): 'kubehaplain',
    ('haproxy_backend_servers', 'address'): '192.168.1.201',
}
BGP_VARIABLES = ('bgp_router_id', 'bgp_mode', 'bgp_profile', ('bgp_peers', 'password'), ('bgp_peers', 'name'))
# the characters that start a comment where a value stands unquoted
COMMENTS = {'/etc/haproxy/haproxy.cfg': '#', '/etc/keepalived/keepalived.conf': '#!'}


def plain(name):
    """The plain value of a variable: PLAIN's, a haproxy time, its first choice, or a word of its own."""
    if name in PLAIN:
        return PLAIN[name]
    if name.startswith(('haproxy_check_', 'haproxy_timeout_', 'haproxy_hard_stop')):
        return '7s'
    if SPECS.get(name, {}).get('choices'):
        return [c for c in SPECS[name]['choices'] if c][0]
    if name.endswith('_profile'):
        return 'default'
    default = DEFAULTS.get(name)
    if isinstance(default, list):
        default = default[0] if default else ''
    return '/kubehaplain' if str(default).startswith('/') else 'kubehaplain'


VARIABLES = sorted(list(S.FORMS) + list(S.CHECKED), key=str) + sorted(S.NESTED)
FRAGMENTS = ['\n', '\r', '\t', '\x00', '\x1b', ' ', '  ', '"', "'", '`', '\\', '{', '}', '#', '!', ';', '$(id)',
             '\n    server evil 10.0.0.1:6443', '\n neighbor 10.213.0.22 remote-as 64999',
             '\nExecStartPre=/bin/sh -c id', "' ; id ; '", ' # comment', '}\nvrrp_script x {', '%{+Q}o']
NASTY = st.one_of(
    st.sampled_from(FRAGMENTS),
    st.lists(st.sampled_from(FRAGMENTS + ['x', 'a b']), min_size=1, max_size=4).map(''.join),
    st.text(alphabet='\n\r\t "\'{}#!;$`\\\x00x', min_size=1, max_size=6),
    st.sampled_from([81, 254, 1025, 2100]).map(lambda n: 'x' * n),  # overlong
)


def inventory(name, value):
    """(raw, groups, facts) with ``name`` (or (variable, key)) set to ``value`` on every load balancer."""
    key = None
    if isinstance(name, tuple):
        name, key = name
    routed = name in BGP_VARIABLES or (name, key) in BGP_VARIABLES or name.startswith('bgp_')
    given = copy.deepcopy(BGP if routed else VRRP)
    if key is None:
        given[name] = [value] if SPECS[name].get('type') == 'list' else value
    elif name == 'bgp_peers':
        given['bgp_peers'][0][key] = value
    else:
        server = {'name': 'kubehaplain', 'address': '192.168.1.201'}
        server[key] = value
        given[name] = [server]
    groups = {'loadbalancers': ['lb1', 'lb2'], 'control_plane': ['cp1', 'cp3']}
    raw = dict((h, dict(copy.deepcopy(given), kubeha_address=ADDRESSES[h])) for g in groups.values() for h in g)
    if name in ('kubeha_address',):
        raw['lb1'][name] = value
        for host in ('lb2', 'cp1', 'cp3'):
            raw[host][name] = ADDRESSES[host]
    if name == 'haproxy_frontend_address':
        for host in ('lb2', 'cp1', 'cp3'):
            raw[host].pop(name)
    facts = {}
    for host in groups['loadbalancers']:
        facts[host] = {'interfaces': ['lo', 'eno1'], 'os_family': 'Debian', 'gateways': [], 'effective_user_id': 0,
                       'lo': {'ipv4': {'address': '127.0.0.1', 'netmask': '255.0.0.0'}},
                       'eno1': {'ipv4': {'address': ADDRESSES[host], 'netmask': '255.255.255.0'},
                                'ipv6': [{'address': 'fd00:9::%d' % (9 + len(facts)), 'prefix': '64',
                                          'scope': 'global'}]}}
    facts['lb1']['eno1']['ipv4_secondaries'] = [{'address': SECONDARY, 'netmask': '255.255.255.0'}]
    return raw, groups, facts


def rendered(name, value):
    """(the plan's errors, {path: content} of every file the roles write on lb1)."""
    raw, groups, facts = inventory(name, value)
    if name == 'kubeha_vip_ipv6':
        for host in raw:
            raw[host]['keepalived_vrrp_version'] = 3
    plan = P.build(raw, groups, SETTINGS, DEFAULTS, SPECS, facts=facts)
    if plan['errors']:
        return plan['errors'], {}
    host_view = view(plan, 'lb1')
    files = desired.haproxy(host_view)['files']
    if host_view['host']['vip_mode'] == 'bgp':
        files += desired.bgp(host_view, peers=raw['lb1']['bgp_peers'])['files']
    else:
        state = desired.keepalived(host_view)
        files += state['files'] + [dict(path=state['conf_params']['dest'], content=keepalived_conf(
            desired.keepalived_conf_params(state, raw['lb1']['keepalived_auth_pass'])))]
    return [], dict((f['path'], f.get('content') or '') for f in files)


def named(name, errors):
    words = name if isinstance(name, str) else '%s[0] %s' % name
    return any(words in error for error in errors)


PLAIN_FILES = {}


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(VARIABLES), NASTY, st.booleans())
def test_no_string_writes_a_line(name, nasty, before):
    base = plain(name)
    value = nasty + base if before else base + nasty
    if name not in PLAIN_FILES:
        errors, PLAIN_FILES[name] = rendered(name, base)
        assert errors == [], (name, base, errors)
    errors, files = rendered(name, value)
    if errors:
        assert named(name, errors), (name, value, errors)
        return
    for path, text in PLAIN_FILES[name].items():
        assert files[path] == text.replace(base, value), (name, value, path)
        if files[path] != text:
            assert not set(COMMENTS.get(path, '')) & set(value), (name, value, path)
