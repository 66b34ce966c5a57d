# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan: every value the roles, playbooks, verify and bench need, computed
once from what the inventory says, and every rule checked before any host.

``build()`` takes each host's variables (as the inventory and ``-e`` give
them), the inventory's groups, the roles' defaults and argument specs, and
optionally gathered facts; it returns the per-load-balancer settings, the
endpoint, and every problem as a sentence naming host, variable and fix.
Pure and stdlib only: the filter plugin ``kubeha.control_plane.plan`` feeds it
on the controller, the unit tests feed it directly.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import ipaddress
import math

from ansible_collections.kubeha.control_plane.plugins.module_utils.profiles import (
    COLOCATED_FRONTEND_PORT, DEDICATED_FRONTEND_PORT, HAPROXY_BACKEND_NAME, OS_PATHS,
    PROFILE_NAMES, PROFILE_VARIABLES, REANNOUNCE_DELAY_S, auto_priority_delay_us, haproxy_seconds,
    profile_value, takeover_bound_s, wire_listen_s,
)
from ansible_collections.kubeha.control_plane.plugins.module_utils.vrrp_config import (
    global_problems, instance_hosts, instance_problems, parse_ip as _ip, parse_vip, script_problems,
)

PREFIXES = ('kubeha_', 'haproxy_', 'keepalived_', 'verify_')
PRIORITY_BASE_VAR = 'keepalived_priority_base'
LIBEXEC = '/usr/local/libexec/kubeha'
GUIDE_TEMPLATE = 'haproxy-guide.cfg.j2'
# The cluster of an inventory without kubeha_clusters (kubeadm's default clusterName).
DEFAULT_CLUSTER = 'kubernetes'

# Variables that were renamed: the old name is reported with the new one.
RENAMED = {
    'haproxy_lb_group': 'kubeha_lb_group',
    'keepalived_group': 'kubeha_lb_group',
    'verify_lb_group': 'kubeha_lb_group',
    'haproxy_backend_group': 'kubeha_cp_group',
    'verify_cp_group': 'kubeha_cp_group',
    'verify_client_group': 'kubeha_client_group',
}

# vrrp_config field -> the inventory variable that sets it.
FIELD_VARIABLES = {
    'name': 'keepalived_instance_name',
    'interface': 'keepalived_interface',
    'virtual_router_id': 'keepalived_vrid',
    'priority': 'keepalived_priority',
    'state': 'keepalived_preempt',
    'nopreempt': 'keepalived_preempt',
    'preempt_delay': 'keepalived_preempt_delay',
    'version': 'keepalived_vrrp_version',
    'advert_int': 'keepalived_advert_int',
    'authentication': 'keepalived_vrrp_version',
    'authentication.auth_type': 'keepalived_auth_pass',
    'authentication.auth_pass': 'keepalived_auth_pass',
    'virtual_ipaddresses': 'keepalived_vip',
    'unicast_peers': 'keepalived_unicast',
    'unicast_src_ip': 'kubeha_address',
    'track_scripts': 'keepalived_track_weight',
    'garp_master_refresh': 'keepalived_garp_master_refresh',
}
SCRIPT_FIELD_VARIABLES = {
    'interval': 'keepalived_track_interval',
    'timeout': 'keepalived_track_timeout',
    'fall': 'keepalived_track_fall',
    'rise': 'keepalived_track_rise',
    'weight': 'keepalived_track_weight',
}
# How to fix what a rule found, per variable, where the rule's own words do not say.
FIXES = {
    'keepalived_priority': 'or drop keepalived_priority to derive it from inventory order',
    'keepalived_vrrp_version': 'set keepalived_vrrp_version: 3 (or kubeha_profile: fast)',
}
HAPROXY_TIMES = ('haproxy_check_inter', 'haproxy_check_fastinter', 'haproxy_check_downinter',
                 'haproxy_check_timeout', 'haproxy_timeout_connect', 'haproxy_timeout_client',
                 'haproxy_timeout_server', 'haproxy_timeout_tunnel', 'haproxy_hard_stop_after')
_TRUE = ('true', 'yes', 'on', '1')
_FALSE = ('false', 'no', 'off', '0')


class Problems(object):
    """Sentences naming host, variable and fix; identical ones merged across hosts."""

    def __init__(self):
        self._order = []
        self._hosts = {}

    def add(self, host, text):
        if text not in self._hosts:
            self._order.append(text)
            self._hosts[text] = []
        if host and host not in self._hosts[text]:
            self._hosts[text].append(host)

    def lines(self):
        out = []
        for text in self._order:
            hosts = self._hosts[text]
            out.append('%s: %s' % (', '.join(hosts), text) if hosts else text)
        return out


# ------------------------------------------------------------------ types

def _coerce(value, spec):
    """(value in the spec's type, None) or (None, 'the allowed form')."""
    kind = spec.get('type', 'str')
    if kind == 'int':
        if isinstance(value, bool):
            return None, 'a whole number'
        if isinstance(value, int):
            return value, None
        if isinstance(value, float) and value == int(value):
            return int(value), None
        try:
            return int(str(value).strip()), None
        except ValueError:
            return None, 'a whole number'
    if kind == 'float':
        if isinstance(value, bool):
            return None, 'a number'
        try:
            return float(value), None
        except (TypeError, ValueError):
            return None, 'a number'
    if kind == 'bool':
        if isinstance(value, bool):
            return value, None
        text = str(value).strip().lower()
        if text in _TRUE:
            return True, None
        if text in _FALSE:
            return False, None
        return None, 'true or false'
    if kind == 'list':
        if isinstance(value, (list, tuple)):
            return list(value), None
        return None, 'a list'
    if kind == 'dict':
        if isinstance(value, dict):
            return value, None
        return None, 'a mapping'
    if kind in ('str', 'path'):
        if isinstance(value, (dict, list, tuple)):
            return None, 'a string'
        return ('%s' % value), None
    return value, None


def _check_type(host, name, value, spec, problems):
    coerced, allowed = _coerce(value, spec)
    if allowed:
        problems.add(host, '%s %r is not %s; e.g. %s: %s'
                     % (name, value, allowed, name, _example(spec)))
        return None
    choices = spec.get('choices')
    if name.endswith('_profile'):
        choices = list(PROFILE_NAMES)
    if choices is not None and coerced not in choices:
        hint = ''
        near = [c for c in choices if str(c).lower() == str(coerced).lower()]
        if near:
            hint = ' (did you mean %r?)' % near[0]
        problems.add(host, '%s %r is not one of %s%s'
                     % (name, coerced, ', '.join(repr(c) for c in choices), hint))
        return None
    if spec.get('type') == 'list' and spec.get('elements') == 'int':
        items = []
        for item in coerced:
            number, allowed = _coerce(item, {'type': 'int'})
            if allowed:
                problems.add(host, '%s has %r, which is not a whole number' % (name, item))
                return None
            items.append(number)
        coerced = items
    return coerced


def _example(spec):
    if 'default' in spec and spec['default'] not in (None, '', [], {}):
        return repr(spec['default']) if spec.get('type') == 'str' else spec['default']
    return {'int': 1, 'float': 1.0, 'bool': 'true', 'list': '[]', 'dict': '{}'}.get(
        spec.get('type', 'str'), '"..."')


# ------------------------------------------------------------ variables

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


def effective(host_vars, defaults, specs, host, problems):
    """Defaults, then the host's variables (type-checked), then the profile table."""
    eff = dict(defaults)
    for name, value in host_vars.items():
        if value is None or name not in specs:
            continue
        coerced = _check_type(host, name, value, specs[name], problems)
        if coerced is not None:
            eff[name] = coerced
    profile = eff.get('kubeha_profile') or 'default'
    for role in ('haproxy', 'keepalived'):
        role_profile = eff.get('%s_profile' % role) or profile
        eff['%s_profile' % role] = role_profile if role_profile in PROFILE_NAMES else 'default'
        for name in PROFILE_VARIABLES:
            if name.startswith(role + '_') and eff.get(name) is None:
                eff[name] = profile_value(eff['%s_profile' % role], name)
    return eff


# ------------------------------------------------------------ addresses

def node_address(host, host_vars):
    """The host's IP on the cluster network: kubeha_address, else an IP ansible_host."""
    explicit = host_vars.get('kubeha_address')
    if explicit:
        return str(explicit)
    candidate = host_vars.get('ansible_host') or host
    return str(candidate) if _ip(candidate) else ''


def interface_networks(facts):
    """{interface: [ip_interface, ...]} from gathered network facts."""
    out = {}
    for name in sorted((facts or {}).get('interfaces') or []):
        iface = facts.get(name.replace('-', '_')) or {}
        nets = []
        for entry in [iface.get('ipv4')] + list(iface.get('ipv4_secondaries') or []):
            if entry and entry.get('address') and entry.get('netmask'):
                nets.append(ipaddress.ip_interface(u'%s/%s' % (entry['address'], entry['netmask'])))
        for entry in iface.get('ipv6') or []:
            if entry.get('scope') == 'global' and entry.get('address'):
                nets.append(ipaddress.ip_interface(u'%s/%s' % (entry['address'], entry.get('prefix', 128))))
        out[name] = nets
    return out


def interface_for_address(address, facts):
    """Name of the interface whose subnet contains ``address`` ('' if none)."""
    ip = _ip(str(address).split('/', 1)[0])
    for name, nets in interface_networks(facts).items():
        if ip is not None and any(ip in net.network for net in nets):
            return name
    return ''


def vip_cidr(text):
    """'addr/prefix' for a VIP given with or without a prefix (a plain one is /32 or /128)."""
    vip = parse_vip(text)
    if vip is None:
        return ''
    if '/' in str(text):
        return vip.with_prefixlen
    return '%s/%d' % (vip.ip, vip.max_prefixlen)


def frontend_port(lbs, cps):
    return COLOCATED_FRONTEND_PORT if set(lbs) & set(cps) else DEDICATED_FRONTEND_PORT


def priorities(lbs, effs):
    """Explicit keepalived_priority wins; otherwise base - position in the group."""
    out = {}
    for index, host in enumerate(lbs):
        explicit = effs[host].get('keepalived_priority')
        out[host] = explicit if explicit is not None else int(effs[host][PRIORITY_BASE_VAR]) - index
    return out


# ---------------------------------------------------------------- rules

def _check_groups(settings, groups, problems):
    for key, what in (('kubeha_lb_group', 'haproxy and keepalived'),
                      ('kubeha_cp_group', 'kube-apiserver')):
        name = settings[key]
        if not groups.get(name):
            problems.add(None, 'group %r (%s) is missing or empty: add the hosts that run %s '
                               'to it, or set %s to the group that has them'
                         % (name, key, what, key))


def _check_addresses(hosts, raw, problems):
    seen = {}
    for host in hosts:
        addr = node_address(host, raw[host])
        given = raw[host].get('kubeha_address')
        if not addr:
            problems.add(host, 'no IP address: set kubeha_address to its address on the '
                               'cluster network (ansible_host %r is not an IP)'
                         % (raw[host].get('ansible_host') or host))
        elif _ip(addr) is None:
            problems.add(host, 'kubeha_address %r is not an IP address (a hostname is not '
                               'enough: keepalived and haproxy need the address)' % given)
        elif str(_ip(addr)) in seen:
            problems.add(host, 'kubeha_address %s is also the address of %s: each host needs '
                               'its own' % (addr, seen[str(_ip(addr))]))
        else:
            seen[str(_ip(addr))] = host
    return seen


def _check_agreement(lbs, effs, problems):
    """Settings every load balancer must share (set them once, in group_vars)."""
    for name in ('keepalived_vip', 'keepalived_vrid', 'keepalived_vrrp_version',
                 'keepalived_advert_int', 'keepalived_unicast', 'keepalived_preempt',
                 'keepalived_instance_name', 'haproxy_frontend_port', 'haproxy_backend_port'):
        values = {}
        for host in lbs:
            values.setdefault(str(effs[host].get(name)), []).append(host)
        if len(values) > 1:
            problems.add(None, 'the load balancers disagree on %s (%s): set it once, in '
                               'group_vars' % (name, '; '.join('%s on %s' % (v, ', '.join(h))
                                                               for v, h in values.items())))
    secrets = set(effs[h].get('keepalived_auth_pass') or '' for h in lbs)
    if len(secrets) > 1:
        problems.add(None, 'the load balancers disagree on keepalived_auth_pass (values not '
                           'shown): set it once, in group_vars or Ansible Vault')


def _check_vip(host, eff, addresses, address, problems):
    text = eff.get('keepalived_vip') or ''
    if not text:
        problems.add(host, 'keepalived_vip is not set: give the virtual IP, e.g. '
                           'keepalived_vip: "192.168.1.100/24"')
        return None
    vip = parse_vip(text)
    if vip is None:
        problems.add(host, 'keepalived_vip %r is not an IP address: use the '
                           '192.168.1.100/24 form' % text)
        return None
    if str(vip.ip) in addresses:
        problems.add(host, 'keepalived_vip %s is the address of host %s: choose a free '
                           'address in the load balancers\' subnet'
                     % (vip.ip, addresses[str(vip.ip)]))
    if '/' in str(text) and not eff.get('keepalived_allow_vip_outside_subnet'):
        net = vip.network
        if _ip(address) is not None and _ip(address) not in net:
            problems.add(host, 'keepalived_vip %s is outside this load balancer\'s subnet (%s '
                               'is not in %s): pick a VIP in the same subnet, or set '
                               'keepalived_allow_vip_outside_subnet: true if routing makes it '
                               'reachable' % (text, address, net))
    return vip


def _check_haproxy(host, eff, cps, problems):
    for name in ('haproxy_frontend_port', 'haproxy_backend_port', 'haproxy_monitor_port'):
        value = eff.get(name)
        if value is not None and not 1 <= int(value) <= 65535:
            problems.add(host, '%s %s is out of range: use 1-65535' % (name, value))
    front = eff.get('haproxy_frontend_port')
    if front is not None and host in cps and front == eff.get('haproxy_backend_port'):
        problems.add(host, 'is a load balancer and a control-plane node, so haproxy cannot '
                           'bind port %s next to kube-apiserver: set haproxy_frontend_port: '
                           '%d (the default for this topology) or bind the apiserver elsewhere '
                           'and set haproxy_backend_port' % (front, COLOCATED_FRONTEND_PORT))
    if front is not None and front == eff.get('haproxy_monitor_port'):
        problems.add(host, 'haproxy_monitor_port equals haproxy_frontend_port %s: give the '
                           'local monitor its own port' % front)
    for name in HAPROXY_TIMES:
        value = eff.get(name)
        if value is not None and haproxy_seconds(value) is None:
            problems.add(host, '%s %r is not a haproxy time: use a number and a unit, e.g. '
                               '500ms, 30s, 4h (a bare number is milliseconds)' % (name, value))
    for name in ('haproxy_check_fall', 'haproxy_check_rise', 'haproxy_maxconn',
                 'haproxy_observe_error_limit'):
        value = eff.get(name)
        if value is not None and int(value) < 1:
            problems.add(host, '%s %s must be at least 1' % (name, value))
    if eff.get('haproxy_retries') is not None and int(eff['haproxy_retries']) < 0:
        problems.add(host, 'haproxy_retries %s must be 0 or more' % eff['haproxy_retries'])


def _translate(host, field, problem, problems):
    """A vrrp_config finding, in the words of the inventory variable that caused it."""
    variable = FIELD_VARIABLES.get(field) or FIELD_VARIABLES.get(field.split('.')[0]) \
        or 'keepalived_' + field
    text = '%s %s' % (variable, problem)
    fix = FIXES.get(variable, '')
    if fix and fix not in text:
        text = '%s; %s' % (text, fix)
    problems.add(host, text)


def _check_vrrp_rules(host, instance, scripts, problems, gdefs=None):
    """The rules the vrrp_config module runs on the host, run here first."""
    for field, problem in global_problems(gdefs or {}):
        _translate(host, field, problem, problems)
    by_name = dict((s['name'], s) for s in scripts)
    for script in scripts:
        for field, problem in script_problems(script):
            variable = SCRIPT_FIELD_VARIABLES.get(field, 'keepalived_track_haproxy')
            problems.add(host, '%s %s' % (variable, problem))
    for field, problem in instance_problems(instance, by_name, instance_hosts(instance, [])):
        if field == 'virtual_ipaddresses' and 'is the address of a host' in problem:
            continue  # _check_vip names the host that has it
        _translate(host, field, problem, problems)


def _check_reserved(host, eff, problems):
    vrid = eff.get('keepalived_vrid')
    if vrid is not None and vrid in (eff.get('keepalived_reserved_vrids') or []):
        problems.add(host, 'keepalived_vrid %s is already used by another VRRP router on '
                           'this network (keepalived_reserved_vrids): pick a free VRID' % vrid)


def _check_priorities(lbs, prios, problems):
    seen = {}
    for host in lbs:
        prio = prios[host]
        if prio in seen:
            problems.add(host, 'keepalived_priority %s is also the priority of %s: give each '
                               'load balancer its own, or drop keepalived_priority to derive '
                               'them from inventory order' % (prio, seen[prio]))
        seen.setdefault(prio, host)


def _check_interface(host, eff, vip, address, facts, problems):
    """With gathered facts: the interface exists, and holds the VIP's subnet and the host's address."""
    nets = interface_networks(facts)
    name = eff.get('keepalived_interface') or ''
    if name:
        if name not in nets:
            problems.add(host, 'keepalived_interface %r does not exist on this host (it has %s): '
                               'set it to one of those, or leave it empty to use the one whose '
                               'subnet holds the VIP' % (name, ', '.join(sorted(nets)) or 'none'))
            return name
    elif vip is not None:
        name = interface_for_address(str(vip.ip), facts)
        if not name:
            problems.add(host, 'no interface has a subnet that contains keepalived_vip %s: '
                               'set keepalived_interface for this host (e.g. eno1), or pick a '
                               'VIP in the load balancers\' subnet' % vip.ip)
            return ''
    if vip is not None and '/' not in str(eff.get('keepalived_vip')) and \
            not eff.get('keepalived_allow_vip_outside_subnet') and nets.get(name):
        if not any(vip.ip in net.network for net in nets[name]):
            problems.add(host, 'keepalived_vip %s is outside the subnets of %s (%s): pick a VIP '
                               'there, or set keepalived_allow_vip_outside_subnet: true if '
                               'routing makes it reachable'
                         % (vip.ip, name, ', '.join(str(n.network) for n in nets[name])))
    all_addresses = set(str(n.ip) for ns in nets.values() for n in ns)
    if _ip(address) is not None and all_addresses and str(_ip(address)) not in all_addresses:
        problems.add(host, 'kubeha_address %s is not an address of this host (it has %s): '
                           'keepalived sends its adverts from it; set kubeha_address to one of '
                           'them' % (address, ', '.join(sorted(all_addresses))))
    return name


# --------------------------------------------------------------- build

def _scripts(eff, weight):
    if not eff.get('keepalived_track_haproxy'):
        return []
    common = dict(interval=float(eff['keepalived_track_interval']),
                  timeout=float(eff['keepalived_track_timeout']),
                  fall=int(eff['keepalived_track_fall']), rise=int(eff['keepalived_track_rise']))
    # chk_haproxy: haproxy can serve (monitor URI 200: an apiserver UP); failing
    #   lowers the priority, so with no apiserver UP anywhere the VIP stays put.
    # chk_haproxy_alive: haproxy answers at all; failing is FAULT (priority-0
    #   advert), so the peer takes over after its skew time.
    # The script's name is its last argument: it records each result under it.
    scripts = [dict(common, name='chk_haproxy', script=LIBEXEC + '/check-haproxy serving chk_haproxy',
                    weight=weight)]
    if eff.get('keepalived_track_haproxy_alive'):
        scripts.append(dict(common, name='chk_haproxy_alive',
                            script=LIBEXEC + '/check-haproxy alive chk_haproxy_alive', weight=0))
    return scripts


def peer_frontend_urls(peers, effs, raw, vips):
    """Where each peer's haproxy answers on an address of the peer's own: the serving
    check asks them, before it gives up the VIP, whether any of them can serve. A
    peer whose frontend listens on a VIP only is left out (no address to ask)."""
    urls = []
    for peer in peers:
        listen = str(effs[peer].get('haproxy_frontend_address') or '*')
        address = node_address(peer, raw[peer]) if listen in ('*', '::', '0.0.0.0') else listen
        if address and address not in vips:
            urls.append('https://%s/readyz' % _host_port(address, int(effs[peer]['haproxy_frontend_port'])))
    return urls


def _monitor_url(eff):
    return 'http://%s:%s%s' % (eff['haproxy_monitor_address'], eff['haproxy_monitor_port'],
                               eff['haproxy_monitor_uri'])


def _haproxy(eff, servers, front, os_family, dual_stack=False, metrics_bind=''):
    out = dict((name[len('haproxy_'):], value) for name, value in eff.items()
               if name.startswith('haproxy_'))
    port = int(eff.get('haproxy_backend_port') or 6443)
    servers = [dict(name=s['name'], address=s['address'], port=int(s.get('port') or port),
                    endpoint=_host_port(str(s['address']), int(s.get('port') or port)))
               for s in (eff.get('haproxy_backend_servers') or servers)]
    listen = str(eff.get('haproxy_frontend_address') or '*')
    if listen in ('*', '::', '0.0.0.0') and dual_stack:
        binds = [':::%d v4v6' % front]  # one socket for both families
    elif listen == '*':
        binds = ['*:%d' % front]
    else:
        binds = [_host_port(listen, front)]
    out.update(frontend_port=front, binds=binds, backend_servers=servers,
               backend=HAPROXY_BACKEND_NAME,
               socket=(OS_PATHS.get(os_family) or OS_PATHS['Debian'])['haproxy_socket'],
               monitor_url=_monitor_url(eff),
               metrics_bind=metrics_bind)  # '' when the exporter is off
    return out


def _metrics(host, eff, address, vips, problems):
    """Where this load balancer serves its metrics: kubeha_metrics_address ("node":
    its kubeha_address) with haproxy_metrics_port and keepalived_metrics_port.
    Never the VIP, never a wildcard (that would answer on the VIP too)."""
    text = str(eff.get('kubeha_metrics_address') or '127.0.0.1').strip()
    listen = address if text == 'node' else text
    ip = _ip(listen)
    fix = 'use 127.0.0.1 (the default), or "node" for this host\'s kubeha_address'
    if ip is None:
        problems.add(host, 'kubeha_metrics_address %r is not an IP address: %s' % (text, fix))
    elif ip.is_unspecified:
        problems.add(host, 'kubeha_metrics_address %s is a wildcard: the metrics would answer on '
                           'the VIP too; %s' % (text, fix))
    elif str(ip) in vips:
        problems.add(host, 'kubeha_metrics_address %s is the VIP: the metrics would follow the '
                           'holder, not this host; %s' % (ip, fix))
    ports = dict((name, eff.get(name)) for name in (
        'haproxy_metrics_port', 'keepalived_metrics_port', 'haproxy_frontend_port', 'haproxy_monitor_port'))
    names = list(ports)  # the metrics ports first: each clash is reported once
    for i, name in enumerate(names[:2]):
        value = ports[name]
        if value is None:
            continue
        if not 1 <= int(value) <= 65535:
            problems.add(host, '%s %s is out of range: use 1-65535' % (name, value))
        for other in names[i + 1:]:
            if ports[other] is not None and int(ports[other]) == int(value):
                problems.add(host, '%s equals %s (%s): give each its own port' % (name, other, value))
    out = dict(address=listen)
    for job, flag, port in (('haproxy', 'haproxy_prometheus_exporter', 'haproxy_metrics_port'),
                            ('vrrp', 'keepalived_metrics_exporter', 'keepalived_metrics_port')):
        on = bool(eff.get(flag)) and ports[port] is not None
        if job == 'haproxy' and eff.get('haproxy_template') == GUIDE_TEMPLATE:
            on = False  # the guide's configuration, for baselines: as the guide wrote it
        out[job] = _host_port(listen, int(ports[port])) if on else ''
    return out


def _check_vip6(host, eff, vip, addresses, address, problems):
    """The IPv6 VIP of a dual-stack endpoint, beside an IPv4 keepalived_vip."""
    text = eff.get('keepalived_vip_ipv6') or ''
    if not text:
        return None
    vip6 = parse_vip(text)
    if vip6 is None or vip6.version != 6:
        problems.add(host, 'keepalived_vip_ipv6 %r is not an IPv6 address: use the '
                           'fd00:10::100/64 form' % text)
        return None
    if vip is not None and vip.version == 6:
        problems.add(host, 'keepalived_vip_ipv6 %s is set beside an IPv6 keepalived_vip %s: '
                           'it is the IPv6 VIP of a dual-stack endpoint, whose keepalived_vip '
                           'is IPv4; drop one of them' % (text, vip))
        return None
    if str(vip6.ip) in addresses:
        problems.add(host, 'keepalived_vip_ipv6 %s is the address of host %s: choose a free '
                           'address' % (vip6.ip, addresses[str(vip6.ip)]))
    return vip6


def clusters_of(settings, groups, problems):
    """[(name, load balancers, control-plane nodes, clients)], checked.

    Without kubeha_clusters the inventory is one cluster (DEFAULT_CLUSTER).
    With it, each named group is a cluster: its members that are in the load
    balancer, control-plane and client groups. A load balancer or control-plane
    node belongs to exactly one cluster; a client in no cluster serves them all.
    """
    lb_all = list(groups.get(settings['kubeha_lb_group']) or [])
    cp_all = list(groups.get(settings['kubeha_cp_group']) or [])
    client_all = list(groups.get(settings['kubeha_client_group']) or [])
    names = [str(n) for n in settings.get('kubeha_clusters') or []]
    if not names:
        _check_groups(settings, groups, problems)
        return [(DEFAULT_CLUSTER, lb_all, cp_all, client_all)]
    out, owner, seen_names = [], {}, set()
    claimed_clients = set()
    for name in names:
        if name in seen_names:
            problems.add(None, 'kubeha_clusters names %r twice: list each cluster once' % name)
            continue
        seen_names.add(name)
        members = groups.get(name)
        if not members:
            problems.add(None, 'kubeha_clusters names group %r, which is missing or empty: '
                               'create it with the cluster\'s load balancers and control-plane '
                               'nodes (its group_vars hold the cluster\'s VIP, VRID and secret)'
                         % name)
            continue
        lbs = [h for h in lb_all if h in members]
        cps = [h for h in cp_all if h in members]
        clients = [h for h in client_all if h in members]
        claimed_clients.update(clients)
        for what, hosts, key in (('load balancer', lbs, 'kubeha_lb_group'),
                                 ('control-plane node', cps, 'kubeha_cp_group')):
            if not hosts:
                problems.add(None, 'cluster %r has no %s: put its hosts in both group %r and '
                                   'group %r (%s)' % (name, what, name, settings[key], key))
        for host in lbs + cps:
            if host in owner:
                problems.add(host, 'is in cluster %r and in cluster %r: a load balancer or '
                                   'control-plane node serves one cluster; remove it from group '
                                   '%r or %r' % (owner[host], name, owner[host], name))
            else:
                owner[host] = name
        out.append((name, lbs, cps, clients))
    for host in lb_all + cp_all:
        if host not in owner:
            problems.add(host, 'is in group %r but in none of the clusters kubeha_clusters '
                               'names (%s): add it to its cluster\'s group'
                         % (settings['kubeha_lb_group'] if host in lb_all else
                            settings['kubeha_cp_group'], ', '.join(names)))
    shared = [h for h in client_all if h not in claimed_clients]
    return [(name, lbs, cps, clients + shared) for name, lbs, cps, clients in out]


def _vrid_networks(endpoint, facts):
    """The networks a cluster's VRRP adverts are seen on, where they are known."""
    nets = set()
    for text in [endpoint['vip_cidr']]:
        if text and not text.endswith(('/32', '/128')):
            nets.add(parse_vip(text).network)
    for host in endpoint['load_balancers']:
        name = interface_for_address(endpoint['vip'], (facts or {}).get(host)) if endpoint['vip'] else ''
        for net in interface_networks((facts or {}).get(host)).get(name) or []:
            nets.add(net.network)
    return nets


def _check_fleet(endpoints, facts, problems):
    """Clusters in one inventory must not collide: VIPs, and VRIDs on one network."""
    names = list(endpoints)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            a, b = endpoints[first], endpoints[second]
            for vip in set(a['vips']) & set(b['vips']):
                problems.add(None, 'clusters %r and %r both use the VIP %s: give each '
                                   'cluster its own keepalived_vip (in its group_vars)'
                             % (first, second, vip))
            if a['vrid'] is None or a['vrid'] != b['vrid']:
                continue
            nets_a, nets_b = _vrid_networks(a, facts), _vrid_networks(b, facts)
            apart = nets_a and nets_b and not any(
                x.version == y.version and x.overlaps(y) for x in nets_a for y in nets_b)
            if not apart:
                where = ', '.join(sorted(str(n) for n in nets_a | nets_b)) or 'a network not known yet'
                problems.add(None, 'clusters %r and %r both use keepalived_vrid %s on the same '
                                   'network (%s): VRRP routers of one VRID on one segment fight '
                                   'over it; give each cluster its own keepalived_vrid'
                             % (first, second, a['vrid'], where))
    files = {}
    for name in names:
        path = endpoints[name]['kubeadm']['snippet_file']
        if path and path in files:
            problems.add(None, 'clusters %r and %r both write the kubeadm snippet to %s: set '
                               'kubeha_kubeadm_snippet_file in each cluster\'s group_vars'
                         % (files[path], name, path))
        files.setdefault(path, name)


def build(raw, groups, settings, defaults, specs, facts=None, unreadable=None):
    """The plan for every load balancer and every cluster's endpoint, with every problem.

    raw       {host: {variable: value}} as the inventory gives them
    groups    {group: [host, ...]}
    settings  kubeha_lb_group, kubeha_cp_group, kubeha_client_group,
              kubeha_clusters, kubeha_strict_variables (the play's values)
    defaults  {variable: value} the roles' defaults files
    specs     {variable: argument spec} every role's argument spec
    facts     {host: ansible_facts} when gathered (interfaces are then checked)
    unreadable {host: {variable: error}} variables whose template failed

    Returns errors, warnings, hosts (per load balancer, with its cluster),
    clusters (names, in order), endpoints (per cluster), member_of
    ({host: cluster} for load balancers and control-plane nodes) and endpoint
    (the first cluster's, for a single-cluster inventory).
    """
    problems, warnings = Problems(), Problems()
    clusters = clusters_of(settings, groups, problems)
    lbs_all = [h for cluster in clusters for h in cluster[1]]
    unreadable = unreadable or {}
    for host in sorted(unreadable, key=lambda h: (h not in lbs_all, h)):
        for name, error in sorted(unreadable[host].items()):
            if host in lbs_all or not name.startswith(('haproxy_', 'keepalived_')):
                problems.add(host, '%s cannot be read: %s; define what its template uses (a '
                                   'vault variable, say) for this host' % (name, error))
    everyone = []
    for cluster in clusters:
        for host in cluster[1] + cluster[2] + cluster[3]:
            if host not in everyone:
                everyone.append(host)
    for host in everyone:
        raw.setdefault(host, {})

    known = set(specs)
    for host in everyone:
        for name, suggestion in unknown_variables(raw[host], known):
            if name in RENAMED:
                text = '%s was renamed to %s: use %s' % (name, suggestion, suggestion)
            elif suggestion:
                text = '%s is not a variable of kubeha.control_plane (did you mean %s?)' % (
                    name, suggestion)
            else:
                text = '%s is not a variable of kubeha.control_plane' % name
            (problems if settings.get('kubeha_strict_variables') else warnings).add(host, text)

    # haproxy_ and keepalived_ settings matter on the load balancers only (a
    # group_vars/all typo is reported once per load balancer, not per node).
    lb_only = ('haproxy_', 'keepalived_')
    effs = dict((h, effective(raw[h] if h in lbs_all else dict(
        (k, v) for k, v in raw[h].items() if not k.startswith(lb_only)), defaults, specs, h, problems))
        for h in everyone)
    addresses = _check_addresses(everyone, raw, problems)

    plan_hosts, endpoints, member_of = {}, {}, {}
    for name, lbs, cps, clients in clusters:
        for host in lbs + cps:
            member_of.setdefault(host, name)
        hosts, endpoint = _build_cluster(name, lbs, cps, clients, raw, effs, addresses, facts,
                                         settings, unreadable, problems)
        plan_hosts.update(hosts)
        endpoints[name] = endpoint
    if len(endpoints) > 1:
        _check_fleet(endpoints, facts, problems)
    names = [cluster[0] for cluster in clusters]
    return dict(errors=problems.lines(), warnings=warnings.lines(), hosts=plan_hosts,
                clusters=names, endpoints=endpoints, member_of=member_of,
                endpoint=endpoints[names[0]] if names else _endpoint(
                    '', [], [], [], effs, {}, raw, {}))


def _build_cluster(name, lbs, cps, clients, raw, effs, addresses, facts, settings, unreadable,
                   problems):
    """One cluster's load balancers and endpoint (every per-cluster rule)."""
    front_default = frontend_port(lbs, cps)
    prios = priorities(lbs, effs) if lbs else {}
    _check_priorities(lbs, prios, problems)
    if lbs:
        _check_agreement(lbs, effs, problems)
    for host in lbs:
        if effs[host].get('haproxy_frontend_port') is None:
            effs[host]['haproxy_frontend_port'] = front_default

    servers = [dict(name=h, address=node_address(h, raw[h])) for h in cps]
    top = max(prios.values()) if prios else None
    plan_hosts = {}
    for host in lbs:
        eff = effs[host]
        address = node_address(host, raw[host])
        _check_haproxy(host, eff, cps, problems)
        _check_reserved(host, eff, problems)
        vip = _check_vip(host, eff, addresses, address, problems)
        vip6 = _check_vip6(host, eff, vip, addresses, address, problems)
        host_facts = (facts or {}).get(host)
        interface = eff.get('keepalived_interface') or ''
        if host_facts:
            interface = _check_interface(host, eff, vip, address, host_facts, problems)
            if vip6 is not None:
                _check_vip6_interface(host, eff, vip6, interface, host_facts, problems)
        preempt = bool(eff.get('keepalived_preempt'))
        first = prios[host] == top
        if int(eff.get('keepalived_track_overload_hold') or 0) < 0:
            problems.add(host, 'keepalived_track_overload_hold %s must be 0 (off) or more seconds; '
                               'e.g. keepalived_track_overload_hold: 60'
                         % eff['keepalived_track_overload_hold'])
        delay = int(eff.get('keepalived_preempt_delay') or 0)
        if delay and not preempt:
            problems.add(host, 'keepalived_preempt_delay is %d but keepalived_preempt is false: '
                               'keepalived refuses a preemption delay without preemption; set '
                               'keepalived_preempt_delay: 0, or keepalived_preempt: true' % delay)
        weight = int(eff['keepalived_track_weight']) if preempt else 0
        scripts = _scripts(eff, weight)
        peers = [h for h in lbs if h != host]
        peer_addresses = [node_address(p, raw[p]) for p in peers]
        if eff['keepalived_unicast'] and not peers:
            problems.add(host, 'keepalived_unicast is true but this is the only load balancer '
                               'of its cluster: unicast VRRP needs a peer; add another load '
                               'balancer to %s, or set keepalived_unicast: false'
                         % settings['kubeha_lb_group'])
        instance = dict(
            name=eff['keepalived_instance_name'],
            interface=interface or 'unresolved0',
            virtual_router_id=eff.get('keepalived_vrid'),
            priority=prios[host],
            # keepalived drops preempt_delay on a node that starts MASTER: with a
            # delay every node starts BACKUP and the election picks the highest.
            state='MASTER' if (preempt and first and not delay) else 'BACKUP',
            advert_int=float(eff['keepalived_advert_int']),
            version=int(eff['keepalived_vrrp_version']),
            virtual_ipaddresses=[vip_cidr(eff.get('keepalived_vip'))] if vip is not None else [],
            # The IPv6 VIP rides on the IPv4 instance (not in its adverts): one
            # instance, so the two VIPs always sit on the same holder.
            virtual_ipaddresses_excluded=([vip_cidr(eff.get('keepalived_vip_ipv6'))]
                                          if vip6 is not None else []),
            unicast_src_ip=address if eff['keepalived_unicast'] and peers else None,
            check_unicast_src=bool(eff['keepalived_unicast'] and peers and eff.get('keepalived_check_unicast_src')),
            unicast_peers=peer_addresses if eff['keepalived_unicast'] else [],
            peer_priorities=[prios[p] for p in peers],
            track_scripts=[dict(name=s['name']) for s in scripts],
            nopreempt=not preempt,
            preempt_delay=delay if (preempt and delay) else None,
            garp_master_refresh=int(eff.get('keepalived_garp_master_refresh') or 0),
            notify=None,  # state changes go through the FIFO (global_defs), in order
        )
        if instance['version'] == 2:
            secret = eff.get('keepalived_auth_pass') or ''
            if secret:
                instance['authentication'] = dict(auth_type='PASS', auth_pass=secret)
            elif 'keepalived_auth_pass' not in unreadable.get(host, {}):
                problems.add(host, 'keepalived_auth_pass is not set: give a 1-8 character '
                                   'secret (keep it in Ansible Vault); VRRPv2 needs it')
        global_defs = dict(router_id=eff.get('keepalived_router_id') or host.split('.')[0],
                           max_auto_priority=int(eff.get('keepalived_max_auto_priority') or 0))
        delay_us = auto_priority_delay_us(eff['keepalived_advert_int'])
        # keepalived's default is 1 s: said only when the adverts are quicker
        global_defs['min_auto_priority_delay'] = (delay_us if global_defs['max_auto_priority']
                                                  and delay_us < 1000000 else None)
        reannounce = bool(eff.get('keepalived_reannounce_after_split'))
        global_defs['vrrp_higher_prio_send_advert'] = reannounce or None
        global_defs['vrrp_garp_lower_prio_delay'] = REANNOUNCE_DELAY_S if reannounce else None
        if vip is not None:
            _check_vrrp_rules(host, instance, scripts, problems, global_defs)
        instance.pop('authentication', None)  # the plan holds no secret
        if not interface:
            instance['interface'] = ''
        advert = float(eff['keepalived_advert_int'])
        restart_delay = eff.get('keepalived_restart_delay')
        if restart_delay is None:
            restart_delay = int(math.ceil(3 * advert + 1.5))
        os_family = (host_facts or {}).get('os_family') or 'Debian'
        vip_ips = [str(v.ip) for v in (vip, vip6) if v is not None]
        metrics = _metrics(host, eff, address, vip_ips, problems)
        plan_hosts[host] = dict(
            cluster=name,
            address=address,
            router_id=global_defs['router_id'],
            priority=prios[host],
            vrrp=dict(
                instance=instance,
                scripts=scripts,
                vrrp_version=int(eff['keepalived_vrrp_version']),
                track_url=eff.get('keepalived_track_url') or _monitor_url(eff),
                track_timeout=float(eff.get('keepalived_track_timeout') or 1),
                # no apiserver UP here: give the VIP up unless every peer was asked and
                # none can serve either (all apiservers down: the VIP stays put)
                track_peer_urls=(peer_frontend_urls(peers, effs, raw, vip_ips)
                                 if scripts and eff.get('keepalived_track_ask_peers') else []),
                # a check that timed out (an overloaded host) keeps failing this long
                # after the checks pass again, so the VIP does not come back to flap
                track_overload_hold=int(eff.get('keepalived_track_overload_hold') or 0),
                restart_on_failure=bool(eff['keepalived_restart_on_failure']),
                restart_delay=int(restart_delay),
                max_auto_priority=global_defs['max_auto_priority'],
                min_auto_priority_delay=global_defs['min_auto_priority_delay'],
                higher_prio_send_advert=global_defs['vrrp_higher_prio_send_advert'],
                garp_lower_prio_delay=global_defs['vrrp_garp_lower_prio_delay'],
                check_vrid_on_wire=bool(eff.get('keepalived_check_vrid_on_wire')),
                # keepalived_vrrp_firewall: VRRP accepted only from these, over this family's iptables
                firewall=bool(eff.get('keepalived_vrrp_firewall')),
                peers=peer_addresses,
                family=6 if (vip is not None and vip.version == 6) else 4,
                profile=eff['keepalived_profile'],
                libexec=LIBEXEC,
                # the VRRP exporter's listen address ('' when off) and what it watches
                exporter=metrics['vrrp'],
                vips=vip_ips,
            ),
            metrics=metrics,
            haproxy=_haproxy(eff, servers, eff['haproxy_frontend_port'], os_family,
                             dual_stack=vip6 is not None or (vip is not None and vip.version == 6),
                             metrics_bind=metrics['haproxy']),
        )
    return plan_hosts, _endpoint(name, lbs, cps, clients, effs, prios, raw, plan_hosts)


def _check_vip6_interface(host, eff, vip6, interface, facts, problems):
    """With facts: a plain IPv6 VIP lies in an IPv6 subnet of the VRRP interface."""
    if '/' in str(eff.get('keepalived_vip_ipv6')) or eff.get('keepalived_allow_vip_outside_subnet'):
        return
    nets = [n for n in interface_networks(facts).get(interface) or [] if n.version == 6]
    if not any(vip6.ip in net.network for net in nets):
        problems.add(host, 'keepalived_vip_ipv6 %s is outside the IPv6 subnets of %s (%s): pick '
                           'a VIP there, or set keepalived_allow_vip_outside_subnet: true if '
                           'routing makes it reachable'
                     % (vip6.ip, interface or 'the VRRP interface',
                        ', '.join(str(n.network) for n in nets) or 'none'))


def _host_port(address, port):
    return ('[%s]:%s' if ':' in address else '%s:%s') % (address, port)


def _endpoint(name, lbs, cps, clients, effs, prios, raw, plan_hosts):
    first = effs[lbs[0]] if lbs else {}
    vip = parse_vip(first.get('keepalived_vip') or '') if lbs else None
    vip6 = parse_vip(first.get('keepalived_vip_ipv6') or '') if lbs else None
    if vip6 is not None and (vip6.version != 6 or (vip is not None and vip.version == 6)):
        vip6 = None
    port = first.get('haproxy_frontend_port') if lbs else None
    address = str(vip.ip) if vip is not None else ''
    vips = [v for v in (address, str(vip6.ip) if vip6 is not None else '') if v]
    host_port = _host_port(address, port)
    preempt = bool(first.get('keepalived_preempt', True))
    expected = max(prios, key=lambda h: (prios[h], -lbs.index(h))) if (prios and preempt) else ''
    by_priority = sorted(lbs, key=lambda h: (-prios[h], lbs.index(h)))
    return dict(
        name=name,
        vip=address,
        vip_cidr=vip_cidr(first.get('keepalived_vip') or '') if lbs else '',
        vips=vips,
        urls=['https://%s' % _host_port(v, port) for v in vips],
        vrid=first.get('keepalived_vrid') if lbs else None,
        port=port,
        address=host_port,
        url='https://%s' % host_port,
        load_balancers=lbs,
        control_plane=cps,
        clients=clients,
        members=[h for i, h in enumerate(lbs + cps + clients) if h not in (lbs + cps + clients)[:i]],
        probe_host=(clients + lbs + [''])[0],
        addresses=dict((h, node_address(h, raw[h])) for h in lbs + cps + clients),
        priorities=prios,
        by_priority=by_priority,
        preempt=preempt,
        expected_holder=expected,
        instance=first.get('keepalived_instance_name', 'VI_1'),
        state_dir=first.get('keepalived_state_dir', '/run/keepalived-kubeha'),
        backend=HAPROXY_BACKEND_NAME,
        backend_port=int(first.get('haproxy_backend_port') or 6443) if lbs else 6443,
        monitor_url=_monitor_url(first) if lbs else '',
        # {load balancer: {haproxy: 'address:port', vrrp: ...}} ('' when that exporter is off)
        metrics=dict((h, dict(haproxy=plan_hosts[h]['metrics']['haproxy'],
                              vrrp=plan_hosts[h]['metrics']['vrrp'])) for h in lbs if h in plan_hosts),
        profile=first.get('keepalived_profile', 'default') if lbs else 'default',
        haproxy_profile=first.get('haproxy_profile', 'default') if lbs else 'default',
        takeover_bound_s=takeover_bound_s(first['keepalived_advert_int']) if lbs else None,
        wire_listen_s=wire_listen_s(first['keepalived_advert_int']) if lbs else None,
        kubeadm=dict(control_plane_endpoint=host_port, cert_sans=vips,
                     init_command='kubeadm init --control-plane-endpoint "%s" --upload-certs'
                     % host_port,
                     snippet_file=str(first.get('kubeha_kubeadm_snippet_file') or '')),
    )


def view(plan, host):
    """The plan as ``host`` reads it: ``endpoint`` is its cluster's."""
    cluster = (plan.get('member_of') or {}).get(host)
    if cluster is None:
        # a client: the first cluster it serves
        cluster = next((n for n in plan['clusters'] if host in plan['endpoints'][n]['members']),
                       plan['clusters'][0] if plan.get('clusters') else None)
    out = dict(plan)
    if cluster is not None:
        out.update(cluster=cluster, endpoint=plan['endpoints'][cluster])
    return out


def rollout(plan, holders, pending=None):
    """The order and batch sizes in which to change the load balancers.

    ``holders`` lists the load balancers that hold their cluster's VIP now;
    ``pending``, when given, the ones with something to change (the others
    are left out). Within a cluster, the backups go first and the holder
    last, one load balancer at a time; the clusters go side by side. A
    cluster whose VIP nobody holds (a first converge) has nothing to protect:
    all its load balancers at once, pending or not.
    Returns (hosts in order, [batch size, ...]).
    """
    ranks = []
    for name in plan['clusters']:
        ep = plan['endpoints'][name]
        lbs = list(ep['load_balancers'])
        held = [h for h in lbs if h in holders]
        if not held:
            ranks.append([lbs])
            continue
        todo = [h for h in lbs if pending is None or h in pending]
        backups = [h for h in reversed(ep['by_priority']) if h not in held and h in todo]
        ranks.append([[h] for h in backups] + ([[h for h in held if h in todo]]))
    depth = max([len(r) for r in ranks] or [0])
    order, batches = [], []
    for level in range(depth):
        batch = [h for r in ranks if level < len(r) for h in r[level]]
        if batch:
            order += batch
            batches.append(len(batch))
    return order, batches
