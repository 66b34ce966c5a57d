# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What does not belong on a load balancer, and its removal (stdlib only).

The plan names what must not be there (plan/announcer.py ``leftovers``): the
other VIP mode's units, files, routes and VIP addresses, the hand-off's device
and chains outside a planned change. ``find`` looks for each, with the
commands ``run`` runs (``run(argv) -> (rc, out, err)``); ``remove`` takes away
what ``find`` found, units first (a stopped announcer announces nothing
while the rest goes). ``misplaced`` compares the sockets an exporter holds
with where the plan wants it. Each finding is {kind, name, detail}.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json
import os

from ansible_collections.kubeha.control_plane.plugins.module_utils.sockets import read_text

KINDS = ('unit', 'route', 'address', 'chain', 'device', 'file')
TOOLS = {4: 'iptables', 6: 'ip6tables'}


def runner(module):
    """run(argv) -> (rc, out, err) with the module; a tool not installed answers rc 127
    (no iptables: nothing of its chains can be there)."""
    def run(argv):
        path = module.get_bin_path(argv[0])
        if path is None:
            return 127, '', '%s not found' % argv[0]
        return module.run_command([path] + list(argv[1:]))
    return run


def _ip(text):
    try:
        return ipaddress.ip_address(u'%s' % str(text).split('/', maxsplit=1)[0])
    except ValueError:
        return None


def _family(ip):
    return ['-6'] if ip.version == 6 else ['-4']


def unit_states(text):
    """{unit: (ActiveState, UnitFileState)} from ``systemctl show -p Id,ActiveState,UnitFileState``."""
    out = {}
    for block in text.strip().split('\n\n'):
        fields = dict(line.split('=', 1) for line in block.splitlines() if '=' in line)
        if fields.get('Id'):
            out[fields['Id']] = (fields.get('ActiveState', ''), fields.get('UnitFileState', ''))
    return out


def find_units(run, units, configured=()):
    """The units that are active or enabled: ``units`` always, ``configured``
    ({unit, path, marker}) where their configuration file has the marker (the
    configuration this collection wrote: FRR's, keepalived's)."""
    names = list(units) + [c['unit'] for c in configured if c['marker'] in read_text(c['path'])]
    if not names:
        return []
    rc, text, _err = run(['systemctl', 'show', '-p', 'Id,ActiveState,UnitFileState'] + names)
    states = unit_states(text) if rc == 0 else {}
    out = []
    for name in names:
        active, enabled = states.get(name if '.' in name else name + '.service', ('', ''))
        found = [word for word, yes in (('active', active in ('active', 'activating', 'reloading')),
                                        ('enabled', enabled in ('enabled', 'enabled-runtime'))) if yes]
        if found:
            out.append(dict(kind='unit', name=name, detail=' and '.join(found)))
    return out


def _gate_route(route, metrics):
    """A route the BGP gate adds: a blackhole with one of its ``metrics``, or a
    local route on lo in table local (both proto static)."""
    if not metrics:
        return False
    if route.get('type') == 'blackhole':
        return int(route.get('metric') or 0) in metrics
    return route.get('type') == 'local' and route.get('dev') == 'lo' and route.get('table') == 'local'


def static_routes(run, prefixes, metrics=()):
    """[{kind: route, name: prefix, detail, table, type}] of the kernel routes with
    proto static to one of ``prefixes``, or (``metrics``) that the BGP gate adds
    to any prefix (a VIP changed with the mode)."""
    out = []
    wanted = [_ip(p) for p in prefixes if _ip(p) is not None]
    families = sorted(set(ip.version for ip in wanted) | (set((4, 6)) if metrics else set()))
    for family in families:
        rc, text, _err = run(['ip', '-j', '-%d' % family, 'route', 'show', 'table', 'all', 'proto', 'static'])
        for route in json.loads(text or '[]') if rc == 0 else []:
            dst = str(route.get('dst') or '')
            ip = _ip(dst)
            if ip is None or dst in ('default',) or not (ip in wanted and '/' not in dst or _gate_route(route, metrics)):
                continue
            table, kind = str(route.get('table') or 'main'), str(route.get('type') or 'unicast')
            out.append(dict(kind='route', name='%s/%d' % (ip, ip.max_prefixlen) if '/' not in dst else dst,
                            table=table, type=kind, detail='%s route in table %s' % (kind, table)))
    return out


def held_addresses(run, addresses):
    out = []
    wanted = dict((_ip(a), a) for a in addresses if _ip(a) is not None)
    if not wanted:
        return out
    rc, text, _err = run(['ip', '-j', 'addr', 'show'])
    for link in json.loads(text or '[]') if rc == 0 else []:
        for entry in link.get('addr_info') or []:
            ip = _ip(entry.get('local'))
            if ip in wanted:
                out.append(dict(kind='address', name=wanted[ip], device=link.get('ifname'),
                                prefixlen=entry.get('prefixlen'), detail='on %s' % link.get('ifname')))
    return out


def find_chains(run, chains):
    out = []
    for family in (4, 6) if chains else ():
        rc, text, _err = run([TOOLS[family], '-w', '5', '-t', 'mangle', '-S'])
        declared = set(line.split()[1] for line in text.splitlines() if line.startswith('-N ')) if rc == 0 else set()
        out += [dict(kind='chain', name=chain, family=family, detail='%s -t mangle' % TOOLS[family])
                for chain in chains if chain in declared]
    return out


def find(run, spec, exists=os.path.exists):
    """Every finding of ``spec`` (units, configured_units, routes, route_metrics,
    addresses, chains, devices, files)."""
    found = find_units(run, spec.get('units') or [], spec.get('configured_units') or [])
    found += static_routes(run, spec.get('routes') or [], spec.get('route_metrics') or [])
    found += held_addresses(run, spec.get('addresses') or [])
    found += find_chains(run, spec.get('chains') or [])
    found += [dict(kind='device', name=d, detail='link') for d in spec.get('devices') or []
              if run(['ip', 'link', 'show', 'dev', d])[0] == 0]
    found += [dict(kind='file', name=p, detail='file') for p in spec.get('files') or [] if exists(p)]
    return found


def jumps(listing, chain):
    """The rules of an ``iptables -S`` listing that jump to ``chain``, as -D arguments."""
    out = []
    for line in listing.splitlines():
        words = line.split()
        if len(words) > 2 and words[0] == '-A' and '-j' in words and words[words.index('-j') + 1] == chain:
            out.append(['-D'] + words[1:])
    return out


def removal(finding, listing=''):
    """The commands that take a finding away, in order (``listing``: the mangle
    table's ``iptables -S``, for a chain's jumps)."""
    kind, name = finding['kind'], finding['name']
    if kind == 'unit':
        return [['systemctl', 'disable', '--now', '--quiet', name]]
    if kind == 'route':
        ip = _ip(name)
        dev = ['dev', 'lo'] if finding.get('type') == 'local' else []
        return [['ip'] + _family(ip) + ['route', 'del', finding.get('type') or 'unicast', name] + dev
                + ['table', finding.get('table') or 'main', 'proto', 'static']]
    if kind == 'address':
        return [['ip', 'addr', 'del', '%s/%s' % (_ip(name), finding.get('prefixlen') or 32), 'dev', finding['device']]]
    if kind == 'chain':
        tool = [TOOLS[finding['family']], '-w', '5', '-t', 'mangle']
        return [tool + args for args in jumps(listing, name)] + [tool + ['-F', name], tool + ['-X', name]]
    if kind == 'device':
        return [['ip', 'link', 'del', name]]
    return []  # files: removed by the caller (os.remove)


def order(found):
    """Units first (the announcer stops before its routes go), files last."""
    return sorted(found, key=lambda f: KINDS.index(f['kind']))


def misplaced(sockets, listeners):
    """The exporters (``listeners``: [{unit, address, port}]) that listen anywhere
    else than the plan says, from the host's listening sockets."""
    out = []
    for want in listeners:
        held = [s for s in sockets if s.get('unit') == want['unit'] and s.get('proto', 'tcp') == 'tcp']
        wrong = [s for s in held if int(s['port']) != int(want['port']) or _ip(s['address']) != _ip(want['address'])]
        for sock in wrong:
            out.append(dict(kind='listener', name=want['unit'], detail='listens on %s:%s, not %s:%s' % (
                sock['address'], sock['port'], want['address'], want['port'])))
    return out
