# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inventory maths for kubeha.control_plane, run on the controller.

node_address, node_addresses, vrrp_priorities, interface_for_address,
frontend_port and inventory_errors (the pre-flight check of the whole
inventory, one message per problem, each naming the variable, the host and
the fix).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

try:
    import netaddr
    HAS_NETADDR = True
except ImportError:  # pragma: no cover - reported at call time
    HAS_NETADDR = False

PRIORITY_BASE = 101  # the guide: first load balancer 101, the next 100, ...
COLOCATED_FRONTEND_PORT = 8443  # as in kubeadm's HA guide
DEDICATED_FRONTEND_PORT = 6443


def _need_netaddr():
    if not HAS_NETADDR:
        raise AnsibleFilterError('kubeha.control_plane filters need the python "netaddr" '
                                 'package on the controller: pip install netaddr')


def _is_ip(value):
    _need_netaddr()
    try:
        netaddr.IPAddress(str(value))
        return True
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return False


def _get(hostvars, host, key, default=None):
    try:
        value = hostvars[host][key]
    except KeyError:
        return default
    return default if value is None else value


def node_address(host, hostvars):
    """The host's IP on the cluster network: kubeha_address, else an IP ansible_host."""
    explicit = _get(hostvars, host, 'kubeha_address')
    if explicit:
        return str(explicit)
    candidate = _get(hostvars, host, 'ansible_host', host)
    return str(candidate) if _is_ip(candidate) else ''


def node_addresses(hosts, hostvars):
    return [node_address(h, hostvars) for h in hosts]


def vrrp_priorities(hosts, hostvars, base=PRIORITY_BASE):
    """Explicit keepalived_priority wins; otherwise base - position in the group."""
    result = {}
    for index, host in enumerate(hosts):
        explicit = _get(hostvars, host, 'keepalived_priority')
        result[host] = int(explicit) if explicit not in (None, '') else int(base) - index
    return result


def interface_for_address(address, facts):
    """Name of the interface whose IPv4/IPv6 subnet contains ``address`` ('' if none)."""
    _need_netaddr()
    ip = netaddr.IPAddress(str(address).split('/', maxsplit=1)[0])
    for name in sorted(facts.get('interfaces') or []):
        iface = facts.get(name.replace('-', '_')) or {}
        nets = []
        for entry in [iface.get('ipv4')] + list(iface.get('ipv4_secondaries') or []):
            if entry and entry.get('address') and entry.get('netmask'):
                nets.append('%s/%s' % (entry['address'], entry['netmask']))
        for entry in iface.get('ipv6') or []:
            if entry.get('scope') == 'global':
                nets.append('%s/%s' % (entry['address'], entry['prefix']))
        for net in nets:
            if ip in netaddr.IPNetwork(net).cidr:
                return name
    return ''


def frontend_port(groups, lb_group='loadbalancers', cp_group='control_plane'):
    """8443 when a load balancer is also a control-plane node, else 6443."""
    colocated = set(groups.get(lb_group) or []) & set(groups.get(cp_group) or [])
    return COLOCATED_FRONTEND_PORT if colocated else DEDICATED_FRONTEND_PORT


def _port_ok(value):
    try:
        return 1 <= int(value) <= 65535
    except (TypeError, ValueError):
        return False


def _check_groups(groups, lb_group, cp_group, errors):
    for group, what in ((lb_group, 'haproxy and keepalived'), (cp_group, 'kube-apiserver')):
        if not groups.get(group):
            errors.append('group %r is missing or empty: add the hosts that run %s to it '
                          'in the inventory' % (group, what))


def _check_addresses(hosts, hostvars, errors):
    seen = {}
    for host in hosts:
        addr = node_address(host, hostvars)
        if not addr:
            errors.append('%s: no IP address; set kubeha_address to its address on the '
                          'cluster network (ansible_host %r is not an IP)'
                          % (host, _get(hostvars, host, 'ansible_host', host)))
        elif not _is_ip(addr):
            errors.append('%s: kubeha_address %r is not an IP address' % (host, addr))
        elif addr in seen:
            errors.append('%s: kubeha_address %s is also the address of %s; each host '
                          'needs its own' % (host, addr, seen[addr]))
        else:
            seen[addr] = host
    return seen


def _check_vip(lbs, hostvars, addresses, errors):
    vip_text = None
    for host in lbs:
        ka = _get(hostvars, host, '__keepalived_preflight', {})
        vip = ka.get('vip')
        if not vip:
            errors.append('%s: keepalived_vip is not set; give the virtual IP, e.g. '
                          '"192.168.1.100/24"' % host)
            continue
        if vip_text is not None and vip != vip_text:
            errors.append('%s: keepalived_vip %s differs from %s on the other load '
                          'balancers; set it once in group_vars' % (host, vip, vip_text))
            continue
        vip_text = vip
        try:
            vip_net = netaddr.IPNetwork(str(vip))
        except (netaddr.AddrFormatError, ValueError, TypeError):
            errors.append('%s: keepalived_vip %r is not an IP address (use '
                          '192.168.1.100/24 form)' % (host, vip))
            continue
        if str(vip_net.ip) in addresses:
            errors.append('%s: keepalived_vip %s is the address of host %s; choose a free '
                          'address in the load balancers\' subnet'
                          % (host, vip_net.ip, addresses[str(vip_net.ip)]))
        explicit_prefix = '/' in str(vip) or ka.get('vip_prefix')
        if explicit_prefix and not ka.get('allow_outside_subnet'):
            prefix = ka.get('vip_prefix') or vip_net.prefixlen
            net = netaddr.IPNetwork('%s/%s' % (vip_net.ip, prefix))
            addr = node_address(host, hostvars)
            if _is_ip(addr) and netaddr.IPAddress(addr) not in net:
                errors.append('%s: keepalived_vip %s is outside this load balancer\'s '
                              'subnet (%s is not in %s); pick a VIP in the same subnet, or '
                              'set keepalived_allow_vip_outside_subnet: true if routing '
                              'makes it reachable' % (host, vip, addr, net.cidr))
        if vip_net.version == 6 and int(ka.get('vrrp_version') or 2) != 3:
            errors.append('%s: keepalived_vip %s is IPv6; set keepalived_vrrp_version: 3'
                          % (host, vip))


def _check_vrrp(lbs, hostvars, errors):
    priorities = {}
    for host in lbs:
        ka = _get(hostvars, host, '__keepalived_preflight', {})
        vrid = ka.get('vrid')
        try:
            vrid_ok = 1 <= int(vrid) <= 255
        except (TypeError, ValueError):
            vrid_ok = False
        if not vrid_ok:
            errors.append('%s: keepalived_vrid %r is out of range; use 1-255, the same on '
                          'every load balancer' % (host, vrid))
        elif int(vrid) in [int(v) for v in ka.get('reserved_vrids') or []]:
            errors.append('%s: keepalived_vrid %s is already used by another VRRP router on '
                          'this network (keepalived_reserved_vrids); pick a free VRID'
                          % (host, vrid))
        version = int(ka.get('vrrp_version') or 2)
        length = int(ka.get('auth_pass_length') or 0)
        if version == 2 and not length:
            errors.append('%s: keepalived_auth_pass is not set; give a 1-8 character '
                          'secret (keep it in Ansible Vault)' % host)
        elif version == 2 and length > 8:
            errors.append('%s: keepalived_auth_pass has %d characters; keepalived uses at '
                          'most 8 and silently drops the rest: shorten it' % (host, length))
        prio = ka.get('priority')
        try:
            prio = int(prio)
        except (TypeError, ValueError):
            errors.append('%s: keepalived_priority %r is not a number' % (host, prio))
            continue
        if not 1 <= prio <= 254:
            errors.append('%s: keepalived_priority %s is out of range; use 1-254' % (host, prio))
        if prio in priorities:
            errors.append('%s: keepalived_priority %s is also the priority of %s; give each '
                          'load balancer its own (or drop keepalived_priority to derive them '
                          'from inventory order)' % (host, prio, priorities[prio]))
        priorities[prio] = host
    vrids = set(str(_get(hostvars, h, '__keepalived_preflight', {}).get('vrid')) for h in lbs)
    if len(vrids) > 1:
        errors.append('load balancers disagree on keepalived_vrid (%s); set it once in '
                      'group_vars' % ', '.join(sorted(vrids)))


def _check_ports(lbs, cps, hostvars, errors):
    fronts = set()
    for host in lbs:
        hp = _get(hostvars, host, '__haproxy_preflight', {})
        for key in ('frontend_port', 'backend_port', 'monitor_port'):
            if not _port_ok(hp.get(key)):
                errors.append('%s: haproxy_%s %r is out of range; use 1-65535'
                              % (host, key, hp.get(key)))
        fronts.add(str(hp.get('frontend_port')))
        if host in cps and _port_ok(hp.get('frontend_port')) and \
                int(hp.get('frontend_port')) == int(hp.get('backend_port') or 0):
            errors.append('%s: is a load balancer and a control-plane node, so haproxy '
                          'cannot bind port %s next to kube-apiserver; set '
                          'haproxy_frontend_port: 8443 (the default for this topology) or '
                          'bind the apiserver elsewhere and set haproxy_backend_port'
                          % (host, hp.get('frontend_port')))
        if _port_ok(hp.get('frontend_port')) and hp.get('frontend_port') == hp.get('monitor_port'):
            errors.append('%s: haproxy_monitor_port equals haproxy_frontend_port %s; give '
                          'the local monitor its own port' % (host, hp.get('frontend_port')))
    if len(fronts) > 1:
        errors.append('load balancers disagree on haproxy_frontend_port (%s); the VIP '
                      'endpoint needs one port: set it once in group_vars'
                      % ', '.join(sorted(fronts)))


def inventory_errors(hostvars, groups, lb_group='loadbalancers', cp_group='control_plane'):
    """Every problem in the inventory, as sentences naming host, variable and fix."""
    _need_netaddr()
    errors = []
    _check_groups(groups, lb_group, cp_group, errors)
    lbs = list(groups.get(lb_group) or [])
    cps = list(groups.get(cp_group) or [])
    hosts = lbs + [h for h in cps if h not in lbs]
    addresses = _check_addresses(hosts, hostvars, errors)
    if lbs:
        _check_vip(lbs, hostvars, addresses, errors)
        _check_vrrp(lbs, hostvars, errors)
        _check_ports(lbs, cps, hostvars, errors)
    return errors


class FilterModule(object):
    def filters(self):
        return {
            'node_address': node_address,
            'node_addresses': node_addresses,
            'vrrp_priorities': vrrp_priorities,
            'interface_for_address': interface_for_address,
            'frontend_port': frontend_port,
            'inventory_errors': inventory_errors,
        }
