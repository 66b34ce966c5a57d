# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic behind the vrrp_config module: validate and render keepalived.conf.

Nothing here touches the system, so every rule is unit tested.  The input is
the module's parameters after Ansible's type checks: ``global_defs`` (dict),
``scripts`` (list of dicts) and ``instances`` (list of dicts).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

AUTH_PASS_MAX = 8  # keepalived silently truncates longer PASS secrets
IFNAME_RE = re.compile(r'^[A-Za-z0-9_.:@-]{1,15}$')
NAME_RE = re.compile(r'^[A-Za-z0-9_.-]{1,64}$')
MASK = '********'
AUTH_PASS_LINE = re.compile(r'^(\s*auth_pass\s+)\S.*$', re.M)
HEADER = ('# Managed by Ansible (kubeha.control_plane.vrrp_config). '
          'Local changes are overwritten.\n')


def _ip(value):
    """Return an ip_address for ``value`` or None when it does not parse."""
    try:
        return ipaddress.ip_address(u'%s' % value)
    except ValueError:
        return None


def parse_vip(value):
    """Return an ip_interface for a VIP given as ``addr`` or ``addr/prefix``."""
    try:
        return ipaddress.ip_interface(u'%s' % value)
    except ValueError:
        return None


def _is_whole(number):
    return float(number) == int(float(number))


def _format_number(number):
    number = float(number)
    if number == int(number):
        return '%d' % int(number)
    return ('%.2f' % number).rstrip('0')


def effective_weights(instance, scripts_by_name):
    """Map each tracked script name to the weight in force for ``instance``."""
    weights = {}
    for track in instance.get('track_scripts') or []:
        name = track['name']
        weight = track.get('weight')
        if weight is None and name in scripts_by_name:
            weight = scripts_by_name[name].get('weight') or 0
        weights[name] = weight or 0
    return weights


def _validate_script(index, script, errors):
    where = 'scripts[%d]' % index
    if not NAME_RE.match(script.get('name') or ''):
        errors.append('%s.name %r: use 1-64 letters, digits, "_", "." or "-"'
                      % (where, script.get('name')))
    if not (script.get('script') or '').strip():
        errors.append('%s.script: give the command keepalived runs' % where)
    elif '"' in script['script']:
        errors.append('%s.script: must not contain a double quote' % where)
    for key, low in (('interval', 0.01), ('timeout', 0.01), ('fall', 1), ('rise', 1)):
        value = script.get(key)
        if value is not None and float(value) < low:
            errors.append('%s.%s is %s: it must be at least %s' % (where, key, value, low))
    interval = script.get('interval')
    if interval is not None and float(interval) >= 0.01 and not _is_whole(interval):
        errors.append('%s.interval is %s: keepalived before 2.3 reads whole seconds only '
                      '(use 1 or more)' % (where, interval))
    weight = script.get('weight') or 0
    if not -253 <= weight <= 253:
        errors.append('%s.weight is %s: keepalived accepts -253..253' % (where, weight))


def _validate_addresses(where, inst, vips, version, host_addresses, errors):
    if not vips:
        errors.append('%s.virtual_ipaddresses: give at least one VIP' % where)
    families = set()
    for vip_text in vips:
        vip = parse_vip(vip_text)
        if vip is None:
            errors.append('%s.virtual_ipaddresses: %r is not an IP address '
                          '(use 192.168.1.100/24 form)' % (where, vip_text))
            continue
        families.add(vip.version)
        if vip.version == 6 and version != 3:
            errors.append('%s: IPv6 VIP %s needs version 3 (VRRPv2 is IPv4 only)'
                          % (where, vip_text))
        if vip.ip in host_addresses:
            errors.append('%s: VIP %s is the address of a host in the group; '
                          'choose a free address' % (where, vip.ip))
    if len(families) > 1:
        errors.append('%s.virtual_ipaddresses mixes IPv4 and IPv6; use one '
                      'instance per address family' % where)
    src = inst.get('unicast_src_ip')
    peers = inst.get('unicast_peers') or []
    if peers or src:
        if not peers:
            errors.append('%s.unicast_peers: unicast needs at least one peer' % where)
        if src and _ip(src) is None:
            errors.append('%s.unicast_src_ip %r is not an IP address' % (where, src))
        seen = set()
        for peer in peers:
            addr = _ip(peer)
            if addr is None:
                errors.append('%s.unicast_peers: %r is not an IP address' % (where, peer))
                continue
            if src and addr == _ip(src):
                errors.append('%s.unicast_peers contains this host\'s own address '
                              '%s; list only the other load balancers' % (where, peer))
            if addr in seen:
                errors.append('%s.unicast_peers lists %s twice' % (where, peer))
            seen.add(addr)
            if families and addr.version not in families:
                errors.append('%s.unicast_peers: %s is not in the VIP\'s address '
                              'family' % (where, peer))


def _validate_tracking(where, inst, scripts_by_name, errors):
    weights = effective_weights(inst, scripts_by_name)
    for name in weights:
        if name not in scripts_by_name:
            errors.append('%s.track_scripts: %r is not defined in scripts' % (where, name))
    peer_priorities = inst.get('peer_priorities') or []
    priority = inst.get('priority')
    for name, weight in sorted(weights.items()):
        if weight == 0:
            continue  # a failing script puts the instance in FAULT: always releases the VIP
        if not -253 <= weight <= 253:
            errors.append('%s.track_scripts: weight %s of %r is outside -253..253'
                          % (where, weight, name))
        if inst.get('nopreempt'):
            errors.append(
                '%s.track_scripts: %r has weight %s but nopreempt is set; a failing '
                'MASTER keeps the VIP because BACKUPs never preempt it. Use weight 0 '
                '(FAULT on failure) with nopreempt' % (where, name, weight))
            continue
        if peer_priorities and priority is not None:
            lowest = min(peer_priorities)
            if priority - abs(weight) >= lowest:
                errors.append(
                    '%s.track_scripts: when %r fails, priority %d drops only to %d, not '
                    'below the lowest peer priority %d, so a failing MASTER keeps the '
                    'VIP; use a weight below %d, or 0'
                    % (where, name, priority, priority - abs(weight), lowest,
                       -(priority - lowest)))


def validate_instance(index, inst, scripts_by_name, host_addresses):
    errors = []
    where = 'instances[%d] (%s)' % (index, inst.get('name'))
    if not NAME_RE.match(inst.get('name') or ''):
        errors.append('%s.name: use 1-64 letters, digits, "_", "." or "-"' % where)
    if not IFNAME_RE.match(inst.get('interface') or ''):
        errors.append('%s.interface %r is not a valid interface name'
                      % (where, inst.get('interface')))
    vrid = inst.get('virtual_router_id')
    if vrid is None or not 1 <= vrid <= 255:
        errors.append('%s.virtual_router_id is %s: use 1-255' % (where, vrid))
    priority = inst.get('priority')
    if priority is None or not 1 <= priority <= 254:
        errors.append('%s.priority is %s: use 1-254 (255 is reserved for the '
                      'address owner)' % (where, priority))
    state = inst.get('state') or 'BACKUP'
    if state not in ('MASTER', 'BACKUP'):
        errors.append('%s.state is %r: use MASTER or BACKUP' % (where, state))
    if inst.get('nopreempt') and state != 'BACKUP':
        errors.append('%s: nopreempt needs state BACKUP on every node '
                      '(keepalived ignores it on a MASTER)' % where)
    if inst.get('preempt_delay') and state != 'BACKUP':
        errors.append('%s: preempt_delay needs state BACKUP' % where)
    version = inst.get('version') or 2
    if version not in (2, 3):
        errors.append('%s.version is %s: use 2 or 3' % (where, version))
    advert = inst.get('advert_int')
    if advert is None:
        advert = 1
    if version == 2 and (float(advert) < 1 or not _is_whole(advert)):
        errors.append('%s.advert_int is %s: VRRPv2 needs whole seconds >= 1; '
                      'sub-second adverts need version 3' % (where, advert))
    if not 0.01 <= float(advert) <= 255:
        errors.append('%s.advert_int is %s: use 0.01-255 seconds' % (where, advert))
    auth = inst.get('authentication')
    if auth:
        if version == 3:
            errors.append('%s.authentication: VRRPv3 has no authentication; '
                          'drop it or use version 2' % where)
        if auth.get('auth_type', 'PASS') not in ('PASS', 'AH'):
            errors.append('%s.authentication.auth_type: use PASS or AH' % where)
        secret = auth.get('auth_pass') or ''
        if not 1 <= len(secret) <= AUTH_PASS_MAX:
            errors.append(
                '%s.authentication.auth_pass has %d characters: use 1-%d '
                '(keepalived silently truncates longer ones)'
                % (where, len(secret), AUTH_PASS_MAX))
        elif not re.match(r'^[!-~]+$', secret) or '"' in secret:
            errors.append('%s.authentication.auth_pass: use printable ASCII '
                          'without spaces or quotes' % where)
    _validate_addresses(where, inst, inst.get('virtual_ipaddresses') or [],
                        version, host_addresses, errors)
    _validate_tracking(where, inst, scripts_by_name, errors)
    delay = inst.get('preempt_delay')
    if delay is not None and not 0 <= delay <= 1000:
        errors.append('%s.preempt_delay is %s: use 0-1000 seconds' % (where, delay))
    notify = inst.get('notify')
    if notify and ('"' in notify or not notify.startswith('/')):
        errors.append('%s.notify: give an absolute path without quotes' % where)
    return errors


def validate(config):
    """Return a list of human-readable problems; empty means the config is sound."""
    errors = []
    gdefs = config.get('global_defs') or {}
    router_id = gdefs.get('router_id')
    if router_id is not None and not NAME_RE.match(router_id):
        errors.append('global_defs.router_id %r: use letters, digits, "_", "." or "-"'
                      % router_id)
    scripts = config.get('scripts') or []
    scripts_by_name = {}
    for index, script in enumerate(scripts):
        _validate_script(index, script, errors)
        if script.get('name') in scripts_by_name:
            errors.append('scripts[%d].name %r is defined twice' % (index, script['name']))
        scripts_by_name[script.get('name')] = script
    host_addresses = set(a for a in (_ip(h) for h in config.get('host_addresses') or []) if a)
    instances = config.get('instances') or []
    if not instances:
        errors.append('instances: give at least one VRRP instance')
    names, vrids = set(), {}
    for index, inst in enumerate(instances):
        inst_hosts = set(host_addresses)
        for addr in [inst.get('unicast_src_ip')] + list(inst.get('unicast_peers') or []):
            if _ip(addr):
                inst_hosts.add(_ip(addr))
        errors.extend(validate_instance(index, inst, scripts_by_name, inst_hosts))
        if inst.get('name') in names:
            errors.append('instances[%d].name %r is used twice' % (index, inst.get('name')))
        names.add(inst.get('name'))
        family = 6 if any((parse_vip(v) or parse_vip('0.0.0.0')).version == 6
                          for v in inst.get('virtual_ipaddresses') or []) else 4
        key = (inst.get('interface'), inst.get('virtual_router_id'), family)
        if key in vrids:
            errors.append('instances[%d]: virtual_router_id %s is already used by %r on '
                          '%s; each instance on an interface needs its own VRID'
                          % (index, key[1], vrids[key], key[0]))
        vrids[key] = inst.get('name')
    return errors


def _render_vip(vip_text, interface):
    vip = parse_vip(vip_text)
    return '%s dev %s' % (vip.with_prefixlen, interface)


def without_scripts(config):
    """The same config minus track and notify scripts.

    keepalived 2.2.7's config test (-t) kills itself while it checks scripts
    (fixed in 2.2.8); this variant lets -t check everything else.
    """
    stripped = dict(config)
    stripped['scripts'] = []
    stripped['global_defs'] = dict(config.get('global_defs') or {},
                                   enable_script_security=False, script_user=None)
    stripped['instances'] = [dict(inst, track_scripts=[], notify=None)
                             for inst in config.get('instances') or []]
    return stripped


def script_paths(config):
    """Executables keepalived will run: first word of each script, and notify paths."""
    paths = set()
    for script in config.get('scripts') or []:
        words = (script.get('script') or '').split()
        if words and words[0].startswith('/'):
            paths.add(words[0])
    for inst in config.get('instances') or []:
        if inst.get('notify'):
            paths.add(inst['notify'])
    return sorted(paths)


def mask_secrets(text):
    """Any keepalived.conf text with every auth_pass value replaced (for diffs)."""
    return AUTH_PASS_LINE.sub(r'\g<1>' + MASK, text or '')


def render(config, mask_secrets=False):
    """Render keepalived.conf text.  Call validate() first.

    With ``mask_secrets`` the auth_pass is replaced, for output shown to people.
    """
    out = [HEADER, '\nglobal_defs {\n']
    gdefs = config.get('global_defs') or {}
    if gdefs.get('router_id'):
        out.append('    router_id %s\n' % gdefs['router_id'])
    if gdefs.get('enable_script_security', True):
        out.append('    enable_script_security\n')
    if gdefs.get('script_user'):
        out.append('    script_user %s\n' % gdefs['script_user'])
    if gdefs.get('vrrp_garp_master_refresh'):
        out.append('    vrrp_garp_master_refresh %d\n' % gdefs['vrrp_garp_master_refresh'])
    out.append('}\n')

    for script in sorted(config.get('scripts') or [], key=lambda s: s['name']):
        out.append('\nvrrp_script %s {\n' % script['name'])
        out.append('    script "%s"\n' % script['script'])
        for key in ('interval', 'timeout'):
            if script.get(key) is not None:
                out.append('    %s %s\n' % (key, _format_number(script[key])))
        for key in ('fall', 'rise'):
            if script.get(key) is not None:
                out.append('    %s %d\n' % (key, script[key]))
        out.append('    weight %d\n' % (script.get('weight') or 0))
        if script.get('user'):
            out.append('    user %s\n' % script['user'])
        out.append('}\n')

    for inst in config.get('instances') or []:
        out.append('\nvrrp_instance %s {\n' % inst['name'])
        out.append('    state %s\n' % (inst.get('state') or 'BACKUP'))
        out.append('    interface %s\n' % inst['interface'])
        out.append('    virtual_router_id %d\n' % inst['virtual_router_id'])
        out.append('    priority %d\n' % inst['priority'])
        advert = inst.get('advert_int')
        out.append('    advert_int %s\n' % _format_number(1 if advert is None else advert))
        if (inst.get('version') or 2) == 3:
            out.append('    version 3\n')
        if inst.get('nopreempt'):
            out.append('    nopreempt\n')
        if inst.get('preempt_delay'):
            out.append('    preempt_delay %d\n' % inst['preempt_delay'])
        for key in ('garp_master_delay', 'garp_master_refresh'):
            if inst.get(key):
                out.append('    %s %d\n' % (key, inst[key]))
        auth = inst.get('authentication')
        if auth:
            out.append('    authentication {\n')
            out.append('        auth_type %s\n' % auth.get('auth_type', 'PASS'))
            out.append('        auth_pass %s\n' % (MASK if mask_secrets else auth['auth_pass']))
            out.append('    }\n')
        if inst.get('unicast_peers'):
            if inst.get('unicast_src_ip'):
                out.append('    unicast_src_ip %s\n' % inst['unicast_src_ip'])
            out.append('    unicast_peer {\n')
            for peer in sorted(inst['unicast_peers'], key=lambda p: ipaddress.ip_address(u'%s' % p)):
                out.append('        %s\n' % peer)
            out.append('    }\n')
        out.append('    virtual_ipaddress {\n')
        for vip in inst['virtual_ipaddresses']:
            out.append('        %s\n' % _render_vip(vip, inst['interface']))
        out.append('    }\n')
        tracks = inst.get('track_scripts') or []
        if tracks:
            out.append('    track_script {\n')
            for track in sorted(tracks, key=lambda t: t['name']):
                if track.get('weight') is None:
                    out.append('        %s\n' % track['name'])
                else:
                    out.append('        %s weight %d\n' % (track['name'], track['weight']))
            out.append('    }\n')
        if inst.get('notify'):
            out.append('    notify "%s"\n' % inst['notify'])
        out.append('}\n')
    return ''.join(out)
