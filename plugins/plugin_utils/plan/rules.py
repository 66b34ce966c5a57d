# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan's rules: each ``check_*`` function only checks, adding a sentence
naming host, variable and fix to ``problems``; it computes nothing the plan
keeps. The values they check are computed elsewhere in this package."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubeha.control_plane.plugins.module_utils.vrrp_config import (
    global_problems, instance_hosts, instance_problems, parse_ip, parse_vip, script_problems,
    tracking_problems,
)
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.addresses import (
    WILDCARDS, interface_networks, node_address,
)
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.inputs import RENAMED, unknown_variables
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.profiles import (
    COLOCATED_FRONTEND_PORT, OS, haproxy_seconds,
)

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
    'virtual_ipaddresses': 'kubeha_vip',
    'unicast_peers': 'keepalived_unicast',
    'unicast_src_ip': 'kubeha_address',
    'track_scripts': 'keepalived_track_weight',
    'garp_master_refresh': 'keepalived_garp_master_refresh',
    'script_user': 'keepalived_script_user',
    'vrrp_notify_fifo': 'keepalived_state_dir',
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
AGREED = ('kubeha_vip_mode', 'bgp_mode', 'kubeha_vip', 'keepalived_vrid', 'keepalived_vrrp_version', 'keepalived_advert_int',
          'keepalived_unicast', 'keepalived_preempt', 'keepalived_instance_name',
          'haproxy_frontend_port', 'haproxy_backend_port')


# ------------------------------------------------------------- the inventory

def check_groups(settings, groups, problems):
    for key, what in (('kubeha_lb_group', 'haproxy and keepalived'),
                      ('kubeha_cp_group', 'kube-apiserver')):
        name = settings[key]
        if not groups.get(name):
            problems.add(None, 'group %r (%s) is missing or empty: add the hosts that run %s '
                               'to it, or set %s to the group that has them'
                         % (name, key, what, key))


def check_unreadable(unreadable, lbs, problems):
    """Variables whose template failed: on a load balancer all of them, elsewhere
    those that matter there (not haproxy_ and keepalived_)."""
    for host in sorted(unreadable, key=lambda h: (h not in lbs, h)):
        for name, error in sorted(unreadable[host].items()):
            if host in lbs or not name.startswith(('haproxy_', 'keepalived_')):
                problems.add(host, '%s cannot be read: %s; define what its template uses (a '
                                   'vault variable, say) for this host' % (name, error))


def check_known(hosts, raw, known, strict, problems, warnings):
    """Prefixed variables no role knows: warnings, or problems when strict. A
    renamed variable is always a problem (the old name would be ignored)."""
    for host in hosts:
        for name, suggestion in unknown_variables(raw[host], known):
            if name in RENAMED:
                problems.add(host, '%s was renamed to %s: use %s' % (name, suggestion, suggestion))
                continue
            if suggestion:
                text = '%s is not a variable of kubeha.control_plane (did you mean %s?)' % (
                    name, suggestion)
            else:
                text = '%s is not a variable of kubeha.control_plane' % name
            (problems if strict else warnings).add(host, text)


def check_addresses(hosts, raw, problems):
    """Every host has an IP address of its own."""
    seen = {}
    for host in hosts:
        addr = node_address(host, raw[host])
        if not addr:
            problems.add(host, 'no IP address: set kubeha_address to its address on the '
                               'cluster network (ansible_host %r is not an IP)'
                         % (raw[host].get('ansible_host') or host))
        elif parse_ip(addr) is None:
            problems.add(host, 'kubeha_address %r is not an IP address (a hostname is not '
                               'enough: keepalived and haproxy need the address)'
                         % raw[host].get('kubeha_address'))
        elif str(parse_ip(addr)) in seen:
            problems.add(host, 'kubeha_address %s is also the address of %s: each host needs '
                               'its own' % (addr, seen[str(parse_ip(addr))]))
        else:
            seen[str(parse_ip(addr))] = host


# ------------------------------------------------------------ one cluster

def check_agreement(lbs, effs, problems):
    """Settings every load balancer must share (set them once, in group_vars)."""
    for name in AGREED:
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


def check_priorities(lbs, prios, problems):
    seen = {}
    for host in lbs:
        prio = prios[host]
        if prio in seen:
            problems.add(host, 'keepalived_priority %s is also the priority of %s: give each '
                               'load balancer its own, or drop keepalived_priority to derive '
                               'them from inventory order' % (prio, seen[prio]))
        seen.setdefault(prio, host)


# ------------------------------------------------------ one load balancer

def check_haproxy(host, eff, cps, problems):
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
    for name, wildcard in (('haproxy_frontend_address', True), ('haproxy_monitor_address', False)):
        text = str(eff.get(name) or '')
        if text and not (wildcard and text in WILDCARDS) and parse_ip(text) is None:
            problems.add(host, '%s %r is not an IP address%s: give one of this host\'s addresses%s'
                         % (name, text, ' or "*"' if wildcard else '',
                            ', or "*" (the default) for every address' if wildcard else ''))
    check_backend_servers(host, eff.get('haproxy_backend_servers') or [], problems)


SERVER_KEYS = ('name', 'address', 'port')


def check_backend_servers(host, servers, problems):
    """haproxy_backend_servers: mappings with a name and an address, and a port in range."""
    for index, entry in enumerate(servers):
        where = 'haproxy_backend_servers[%d]' % index
        if not isinstance(entry, dict):
            problems.add(host, '%s %r is not a mapping: give {name: cp1, address: 192.0.2.1}' % (where, entry))
            continue
        unknown = sorted(set(entry) - set(SERVER_KEYS))
        if unknown:
            problems.add(host, '%s has %s, which a server does not take (it takes %s)'
                         % (where, ', '.join(unknown), ', '.join(SERVER_KEYS)))
        for key in ('name', 'address'):
            if entry.get(key) in (None, ''):
                problems.add(host, '%s has no %s: give {name: cp1, address: 192.0.2.1}' % (where, key))
        port = entry.get('port')
        if port is not None and (isinstance(port, bool) or not str(port).isdigit() or not 1 <= int(port) <= 65535):
            problems.add(host, '%s port %r is not a port: use 1-65535' % (where, port))


def check_reserved(host, eff, problems):
    vrid = eff.get('keepalived_vrid')
    if vrid is not None and vrid in (eff.get('keepalived_reserved_vrids') or []):
        problems.add(host, 'keepalived_vrid %s is already used by another VRRP router on '
                           'this network (keepalived_reserved_vrids): pick a free VRID' % vrid)


def vip_class(ip, network=None):
    """Why ``ip`` cannot be a VIP by its class, or by its place in ``network``
    (the subnet it is given with, or the one it lies in on the host); None when
    it can."""
    if ip.is_unspecified:
        return 'is the unspecified address'
    if ip.is_loopback:
        return 'is a loopback address'
    if ip.is_multicast:
        return 'is a multicast address'
    if ip.is_link_local:
        return 'is a link-local address, which no router forwards to the clients'
    if network is not None and network.num_addresses > 2:  # a /31 or /32 has no such addresses
        if ip == network.network_address:
            return 'is the network address of %s' % network
        if ip.version == 4 and ip == network.broadcast_address:
            return 'is the broadcast address of %s' % network
    return None


def _check_vip_class(host, name, ip, network, problems):
    why = vip_class(ip, network)
    if why:
        problems.add(host, '%s %s %s: choose a free host address in the load balancers\' subnet'
                     % (name, ip, why))
    return why


def check_vip_on_host(host, eff, vip, vip6, interface, facts, problems):
    """With facts: a VIP given without a prefix is no network or broadcast
    address of the subnet it lies in on the VRRP interface, and no VIP is the
    default gateway of the load balancer (taking the router's address would cut
    the whole subnet off)."""
    nets = interface_networks(facts).get(interface) or []
    gateways = set(facts.get('gateways') or [])
    for name, ip in (('kubeha_vip', vip), ('kubeha_vip_ipv6', vip6)):
        if ip is None:
            continue
        if str(ip.ip) in gateways:
            problems.add(host, '%s %s is the default gateway of this host (the router of its subnet): '
                               'taking it would cut every host on the subnet off; choose a free '
                               'address in the load balancers\' subnet' % (name, ip.ip))
        elif '/' not in str(eff.get(name)):
            for net in nets:
                if ip.ip in net.network and _check_vip_class(host, name, ip.ip, net.network, problems):
                    break


def check_host_files(host, declared, seen, problems):
    """With facts: the files the inventory names on the load balancer (``declared``,
    from haproxy.host_files) are there, as ``seen`` ({path: stat}) says."""
    for entry in declared:
        stat = seen.get(entry['path'])
        if stat is None:
            continue  # not looked at
        if not stat.get('exists'):
            why = 'does not exist on this load balancer'
        elif not stat.get('isreg'):
            why = 'is not a regular file on this load balancer'
        elif not stat.get('size'):
            why = 'is empty on this load balancer'
        else:
            continue
        problems.add(host, '%s %s %s: put %s there before running site.yml, or leave %s empty'
                     % (entry['variable'], entry['path'], why, entry['holds'], entry['variable']))


def check_vip(host, eff, addresses, address, problems, routed=False):
    """kubeha_vip: set, an address, nobody's, in this load balancer's subnet
    (``routed``, BGP mode: outside it; rules_bgp checks the subnets with facts)."""
    text = eff.get('kubeha_vip') or ''
    if not text:
        problems.add(host, 'kubeha_vip is not set: give the virtual IP, e.g. '
                           'kubeha_vip: "192.168.1.100/24"')
        return
    vip = parse_vip(text)
    if vip is None:
        problems.add(host, 'kubeha_vip %r is not an IP address: use the '
                           '192.168.1.100/24 form' % text)
        return
    if _check_vip_class(host, 'kubeha_vip', vip.ip, vip.network if '/' in str(text) else None, problems):
        return
    if str(vip.ip) in addresses:
        problems.add(host, 'kubeha_vip %s is the address of host %s: choose a free '
                           'address in the load balancers\' subnet'
                     % (vip.ip, addresses[str(vip.ip)]))
    if '/' in str(text) and not routed and not eff.get('keepalived_allow_vip_outside_subnet'):
        net = vip.network
        if parse_ip(address) is not None and parse_ip(address) not in net:
            problems.add(host, 'kubeha_vip %s is outside this load balancer\'s subnet (%s '
                               'is not in %s): pick a VIP in the same subnet, or set '
                               'keepalived_allow_vip_outside_subnet: true if routing makes it '
                               'reachable' % (text, address, net))


def check_vip6(host, eff, vip, addresses, problems):
    """kubeha_vip_ipv6: an IPv6 address beside an IPv4 kubeha_vip, nobody's."""
    text = eff.get('kubeha_vip_ipv6') or ''
    if not text:
        return
    vip6 = parse_vip(text)
    if vip6 is None or vip6.version != 6:
        problems.add(host, 'kubeha_vip_ipv6 %r is not an IPv6 address: use the '
                           'fd00:10::100/64 form' % text)
    elif _check_vip_class(host, 'kubeha_vip_ipv6', vip6.ip, vip6.network if '/' in str(text) else None,
                          problems):
        return
    elif vip is not None and vip.version == 6:
        problems.add(host, 'kubeha_vip_ipv6 %s is set beside an IPv6 kubeha_vip %s: '
                           'it is the IPv6 VIP of a dual-stack endpoint, whose kubeha_vip '
                           'is IPv4; drop one of them' % (text, vip))
    elif str(vip6.ip) in addresses:
        problems.add(host, 'kubeha_vip_ipv6 %s is the address of host %s: choose a free '
                           'address' % (vip6.ip, addresses[str(vip6.ip)]))


def check_interface(host, eff, vip, interface, address, facts, problems):
    """With gathered facts: the VRRP interface exists, and holds the VIP's subnet
    and the host's address."""
    nets = interface_networks(facts)
    if eff.get('keepalived_interface') and interface not in nets:
        problems.add(host, 'keepalived_interface %r does not exist on this host (it has %s): '
                           'set it to one of those, or leave it empty to use the one whose '
                           'subnet holds the VIP' % (interface, ', '.join(sorted(nets)) or 'none'))
        return
    if not interface and vip is not None:
        problems.add(host, 'no interface has a subnet that contains kubeha_vip %s: '
                           'set keepalived_interface for this host (e.g. eno1), or pick a '
                           'VIP in the load balancers\' subnet' % vip.ip)
        return
    if vip is not None and '/' not in str(eff.get('kubeha_vip')) and \
            not eff.get('keepalived_allow_vip_outside_subnet') and nets.get(interface):
        if not any(vip.ip in net.network for net in nets[interface]):
            problems.add(host, 'kubeha_vip %s is outside the subnets of %s (%s): pick a VIP '
                               'there, or set keepalived_allow_vip_outside_subnet: true if '
                               'routing makes it reachable'
                         % (vip.ip, interface, ', '.join(str(n.network) for n in nets[interface])))
    all_addresses = set(str(n.ip) for ns in nets.values() for n in ns)
    if parse_ip(address) is not None and all_addresses and str(parse_ip(address)) not in all_addresses:
        problems.add(host, 'kubeha_address %s is not an address of this host (it has %s): '
                           'keepalived sends its adverts from it; set kubeha_address to one of '
                           'them' % (address, ', '.join(sorted(all_addresses))))


def check_os_family(host, family, problems):
    """With facts: the host's OS family is one the roles are tested on."""
    if family not in OS:
        problems.add(host, 'runs %s, an OS family kubeha.control_plane is not tested on (tested: %s, '
                           'as Debian 12 and 13): use a load balancer that runs one of those'
                     % (family, ', '.join(sorted(OS))))


def check_root(host, facts, problems):
    """With facts: the run acts on the load balancer as root. Its packages,
    files under /etc, units and raw VRRP sockets all need it; without become a
    run would otherwise fail at its first change with a raw permission error."""
    uid = facts.get('effective_user_id')
    if uid is None or int(uid) == 0:
        return
    problems.add(host, 'reached as %s (uid %s) without become, but the load balancers need root '
                       '(packages, /etc, units, VRRP sockets): run ansible-playbook with -b (--become), or '
                       'set ansible_become: true for the load balancers in the inventory; add '
                       '--ask-become-pass (-K) if sudo asks for a password'
                 % (facts.get('user_id') or 'a user', uid))


def check_vip6_interface(host, eff, vip6, interface, facts, problems):
    """With facts: a plain IPv6 VIP lies in an IPv6 subnet of the VRRP interface."""
    if '/' in str(eff.get('kubeha_vip_ipv6')) or eff.get('keepalived_allow_vip_outside_subnet'):
        return
    nets = [n for n in interface_networks(facts).get(interface) or [] if n.version == 6]
    if not any(vip6.ip in net.network for net in nets):
        problems.add(host, 'kubeha_vip_ipv6 %s is outside the IPv6 subnets of %s (%s): pick '
                           'a VIP there, or set keepalived_allow_vip_outside_subnet: true if '
                           'routing makes it reachable'
                     % (vip6.ip, interface or 'the VRRP interface',
                        ', '.join(str(n.network) for n in nets) or 'none'))


def check_vrrp_settings(host, eff, peers, lb_group, unreadable, problems):
    """The keepalived settings whose rules are not vrrp_config's own."""
    if int(eff.get('keepalived_track_overload_hold') or 0) < 0:
        problems.add(host, 'keepalived_track_overload_hold %s must be 0 (off) or more seconds; '
                           'e.g. keepalived_track_overload_hold: 60'
                     % eff['keepalived_track_overload_hold'])
    delay = int(eff.get('keepalived_preempt_delay') or 0)
    if delay and not eff.get('keepalived_preempt'):
        problems.add(host, 'keepalived_preempt_delay is %d but keepalived_preempt is false: '
                           'keepalived refuses a preemption delay without preemption; set '
                           'keepalived_preempt_delay: 0, or keepalived_preempt: true' % delay)
    if eff['keepalived_unicast'] and not peers:
        problems.add(host, 'keepalived_unicast is true but this is the only load balancer '
                           'of its cluster: unicast VRRP needs a peer; add another load '
                           'balancer to %s, or set keepalived_unicast: false' % lb_group)
    if int(eff['keepalived_vrrp_version']) == 2 and not eff.get('keepalived_auth_pass') \
            and 'keepalived_auth_pass' not in unreadable:
        problems.add(host, 'keepalived_auth_pass is not set: give a 1-8 character '
                           'secret (keep it in Ansible Vault); VRRPv2 needs it')


def _translate(host, field, problem, problems):
    """A vrrp_config finding, in the words of the inventory variable that caused it."""
    variable = FIELD_VARIABLES.get(field) or FIELD_VARIABLES.get(field.split('.')[0]) \
        or 'keepalived_' + field
    text = '%s %s' % (variable, problem)
    fix = FIXES.get(variable, '')
    if fix and fix not in text:
        text = '%s; %s' % (text, fix)
    problems.add(host, text)


def check_vrrp_rules(host, conf, secret, problems):
    """The rules the vrrp_config module runs on the host, run here first on
    exactly the parameters the role hands it (``secret``: the instance's
    authentication, which the plan does not keep)."""
    for field, problem in global_problems(conf['global_defs']):
        _translate(host, field, problem, problems)
    scripts = conf['scripts']
    by_name = dict((s['name'], s) for s in scripts)
    for script in scripts:
        for field, problem in script_problems(script):
            problems.add(host, '%s %s' % (SCRIPT_FIELD_VARIABLES.get(field, 'keepalived_track_haproxy'), problem))
    for instance in conf['instances']:
        # an interface not known yet (no facts) is the facts' check, not this one
        instance = dict(instance, interface=instance['interface'] or 'unresolved0', **secret)
        for field, problem in instance_problems(instance, by_name, instance_hosts(instance, [])):
            if field == 'virtual_ipaddresses' and 'is the address of a host' in problem:
                continue  # check_vip names the host that has it
            _translate(host, field, problem, problems)


def check_tracking(host, vrrp, problems):
    """The track scripts' rules again, for priorities set after the facts (the
    running ones kept): a failing check must still let a peer take the VIP."""
    by_name = dict((s['name'], s) for s in vrrp['scripts'])
    for field, problem in tracking_problems(vrrp['instance'], by_name):
        _translate(host, field, problem, problems)


def check_metrics(host, eff, listen, vips, problems):
    """kubeha_metrics_address is an address of this host (never a wildcard or the
    VIP), and the metrics ports are in range and clash with no other port."""
    text = str(eff.get('kubeha_metrics_address') or '127.0.0.1').strip()
    ip = parse_ip(listen)
    fix = 'use 127.0.0.1 (the default), or "node" for this host\'s kubeha_address'
    if ip is None:
        problems.add(host, 'kubeha_metrics_address %r is not an IP address: %s' % (text, fix))
    elif ip.is_unspecified:
        problems.add(host, 'kubeha_metrics_address %s is a wildcard: the metrics would answer on '
                           'the VIP too; %s' % (text, fix))
    elif str(ip) in vips:
        problems.add(host, 'kubeha_metrics_address %s is the VIP: the metrics would follow the '
                           'holder, not this host; %s' % (ip, fix))
    # the announcer's exporter: the VRRP exporter's port in VRRP mode, the BGP exporter's in BGP mode
    announcer = 'bgp_metrics_port' if eff.get('kubeha_vip_mode') == 'bgp' else 'keepalived_metrics_port'
    ports = dict((name, eff.get(name)) for name in (
        'haproxy_metrics_port', announcer, 'haproxy_frontend_port', 'haproxy_monitor_port'))
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


# ------------------------------------------------- against the host's facts

def _holds(listener, address):
    """A socket listening on ``listener`` takes a bind to ``address`` (same port)."""
    if address == '*' or listener in WILDCARD_ADDRESSES:
        return True
    mine, theirs = parse_ip(address), parse_ip(listener)
    return mine is not None and theirs is not None and mine == theirs


WILDCARD_ADDRESSES = ('0.0.0.0', '::', '*', '')


def check_listeners(host, binds, ours, sockets, problems):
    """With the host's listening sockets: no port the plan binds (``binds``,
    listeners.binds) is held by a process outside ``ours`` (the collection's
    own units). A socket no process is seen to hold is a kernel tunnel's (the
    hand-off's own VXLAN port)."""
    for bind in binds:
        for sock in sockets:
            if sock['proto'] != bind['proto'] or int(sock['port']) != int(bind['port']) \
                    or not _holds(str(sock['address']), bind['address']):
                continue
            if sock.get('unit') in ours or not sock.get('pid'):
                continue
            who = '%s (pid %s%s)' % (sock.get('process') or 'a process', sock['pid'],
                                     ', %s' % sock['unit'] if sock.get('unit') else '')
            settable = ' ' not in bind['variable']  # BGP's and BFD's ports are the protocols' own
            problems.add(host, '%s: %s port %s is already held by %s on %s: %sstop that service first'
                         % (bind['variable'], bind['proto'].upper(), bind['port'], who, sock['address'],
                            'choose another port for %s, or ' % bind['variable'] if settable else ''))
            break


def host_ips(facts):
    """Every address of the host (its interfaces', any scope), as text."""
    out = set()
    for name in (facts or {}).get('interfaces') or []:
        iface = facts.get(name.replace('-', '_')) or {}
        for entry in [iface.get('ipv4')] + list(iface.get('ipv4_secondaries') or []) + list(iface.get('ipv6') or []):
            ip = parse_ip(str((entry or {}).get('address') or ''))
            if ip is not None:
                out.add(str(ip))
    return out


def check_addresses_on_host(host, entry, facts, problems):
    """With facts: the addresses the load balancer binds are its own (or a
    wildcard, or loopback): kubeha_metrics_address, haproxy_frontend_address,
    haproxy_monitor_address."""
    own = host_ips(facts)
    if not own:
        return
    haproxy = entry['haproxy']
    for name, address, fix in (
            ('kubeha_metrics_address', entry['metrics']['address'],
             'use 127.0.0.1 (the default), or "node" for this host\'s kubeha_address'),
            ('haproxy_frontend_address', str(haproxy.get('frontend_address') or '*'),
             'use "*" (the default: haproxy answers on the VIP wherever it is)'),
            ('haproxy_monitor_address', str(haproxy.get('monitor_address') or ''),
             'use 127.0.0.1 (the default)')):
        ip = parse_ip(address)
        if address in WILDCARD_ADDRESSES or ip is None or ip.is_loopback or str(ip) in own:
            continue
        problems.add(host, '%s %s is not an address of this host (it has %s): nothing could reach what '
                           'listens there; %s' % (name, address, ', '.join(sorted(own)), fix))
