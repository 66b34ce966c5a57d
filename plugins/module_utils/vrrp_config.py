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


def parse_ip(value):
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


# Every rule below reports (field, problem): the field's path inside the
# module's parameters and a sentence that reads after the field's name.  The
# module prints "instances[0] (VI_1).advert_int 0.5: ..."; the inventory check
# (plugins/plugin_utils/plan/rules.py) maps the field to the inventory variable that set it
# and prints "lb1: keepalived_advert_int 0.5: ...".  One rule set, two voices.

def script_problems(script):
    """Problems of one vrrp_script, as (field, problem) pairs."""
    out = []
    if not NAME_RE.match(script.get('name') or ''):
        out.append(('name', '%r: use 1-64 letters, digits, "_", "." or "-"' % script.get('name')))
    if not (script.get('script') or '').strip():
        out.append(('script', 'is empty: give the command keepalived runs'))
    elif '"' in script['script']:
        out.append(('script', 'must not contain a double quote'))
    for key, low in (('interval', 0.01), ('timeout', 0.01), ('fall', 1), ('rise', 1)):
        value = script.get(key)
        if value is not None and float(value) < low:
            out.append((key, '%s: it must be at least %s' % (value, low)))
    interval = script.get('interval')
    if interval is not None and float(interval) >= 0.01 and not _is_whole(interval):
        out.append(('interval', '%s: keepalived before 2.3 reads whole seconds only '
                                '(use 1 or more)' % interval))
    weight = script.get('weight') or 0
    if not -253 <= weight <= 253:
        out.append(('weight', '%s: keepalived accepts -253..253' % weight))
    return out


def _address_problems(inst, vips, version, host_addresses):
    out = []
    if not vips:
        out.append(('virtual_ipaddresses', 'is empty: give at least one VIP'))
    families = set()
    for vip_text in vips:
        vip = parse_vip(vip_text)
        if vip is None:
            out.append(('virtual_ipaddresses', '%r is not an IP address (use the '
                                               '192.168.1.100/24 form)' % vip_text))
            continue
        families.add(vip.version)
        if vip.version == 6 and version != 3:
            out.append(('version', '%s: the IPv6 VIP %s needs VRRP version 3 (VRRPv2 is '
                                   'IPv4 only)' % (version, vip_text)))
        if vip.ip in host_addresses:
            out.append(('virtual_ipaddresses', '%s is the address of a host in the group; '
                                               'choose a free address' % vip.ip))
    if len(families) > 1:
        out.append(('virtual_ipaddresses', 'mixes IPv4 and IPv6; use one instance per '
                                           'address family (or put the other family in '
                                           'virtual_ipaddresses_excluded)'))
    for vip_text in inst.get('virtual_ipaddresses_excluded') or []:
        vip = parse_vip(vip_text)
        if vip is None:
            out.append(('virtual_ipaddresses_excluded', '%r is not an IP address (use the '
                                                        'fd00::100/64 form)' % vip_text))
        elif vip.ip in host_addresses:
            out.append(('virtual_ipaddresses_excluded', '%s is the address of a host in the '
                                                        'group; choose a free address' % vip.ip))
    src = inst.get('unicast_src_ip')
    peers = inst.get('unicast_peers') or []
    if peers or src:
        if not peers:
            out.append(('unicast_peers', 'is empty: unicast needs at least one peer'))
        if src and parse_ip(src) is None:
            out.append(('unicast_src_ip', '%r is not an IP address' % src))
        seen = set()
        for peer in peers:
            addr = parse_ip(peer)
            if addr is None:
                out.append(('unicast_peers', '%r is not an IP address' % peer))
                continue
            if src and addr == parse_ip(src):
                out.append(('unicast_peers', 'contains this host\'s own address %s; list '
                                             'only the other load balancers' % peer))
            if addr in seen:
                out.append(('unicast_peers', 'lists %s twice' % peer))
            seen.add(addr)
            if families and addr.version not in families:
                out.append(('unicast_peers', '%s is not in the VIP\'s address family' % peer))
    return out


def tracking_problems(inst, scripts_by_name):
    """Problems of the track scripts' weights: unknown scripts, weights out of range,
    and a weight too small for a failing MASTER to fall below its peers."""
    out = []
    weights = effective_weights(inst, scripts_by_name)
    for name in weights:
        if name not in scripts_by_name:
            out.append(('track_scripts', '%r is not defined in scripts' % name))
    peer_priorities = inst.get('peer_priorities') or []
    priority = inst.get('priority')
    for name, weight in sorted(weights.items()):
        if weight == 0:
            continue  # a failing script puts the instance in FAULT: always releases the VIP
        if not -253 <= weight <= 253:
            out.append(('track_scripts', 'weight %s of %r is outside -253..253' % (weight, name)))
        if inst.get('nopreempt'):
            out.append(('track_scripts', '%r has weight %s but nopreempt is set; a failing '
                                         'MASTER keeps the VIP because BACKUPs never preempt '
                                         'it. Use weight 0 (FAULT on failure) with nopreempt'
                        % (name, weight)))
            continue
        if peer_priorities and priority is not None:
            lowest = min(peer_priorities)
            if priority - abs(weight) >= lowest:
                out.append(('track_scripts', 'weight %s of %r: when it fails, priority %d '
                                             'drops only to %d, not below the lowest peer '
                                             'priority %d, so a failing MASTER keeps the VIP; '
                                             'use a weight below %d, or 0'
                            % (weight, name, priority, priority - abs(weight), lowest,
                               -(priority - lowest))))
    return out


def instance_problems(inst, scripts_by_name, host_addresses):
    """Problems of one vrrp_instance, as (field, problem) pairs."""
    out = []
    if not NAME_RE.match(inst.get('name') or ''):
        out.append(('name', '%r: use 1-64 letters, digits, "_", "." or "-"' % inst.get('name')))
    if not IFNAME_RE.match(inst.get('interface') or ''):
        out.append(('interface', '%r is not a valid interface name (1-15 letters, digits '
                                 'or "_.:@-", no spaces)' % inst.get('interface')))
    vrid = inst.get('virtual_router_id')
    if vrid is None or not 1 <= vrid <= 255:
        out.append(('virtual_router_id', '%s is out of range: use 1-255' % vrid))
    priority = inst.get('priority')
    if priority is None or not 1 <= priority <= 254:
        out.append(('priority', '%s is out of range: use 1-254 (255 is reserved for the '
                                'address owner)' % priority))
    state = inst.get('state') or 'BACKUP'
    if state not in ('MASTER', 'BACKUP'):
        out.append(('state', '%r: use MASTER or BACKUP' % state))
    if inst.get('nopreempt') and state != 'BACKUP':
        out.append(('nopreempt', 'needs state BACKUP on every node (keepalived ignores it '
                                 'on a MASTER)'))
    if inst.get('preempt_delay') and state != 'BACKUP':
        out.append(('preempt_delay', 'needs state BACKUP'))
    version = inst.get('version') or 2
    if version not in (2, 3):
        out.append(('version', '%s: use 2 or 3' % version))
    advert = inst.get('advert_int')
    if advert is None:
        advert = 1
    if version == 2 and (float(advert) < 1 or not _is_whole(advert)):
        out.append(('advert_int', '%s: VRRPv2 needs whole seconds >= 1; sub-second adverts '
                                  'need VRRP version 3' % _format_number(advert)))
    elif not 0.01 <= float(advert) <= 255:
        out.append(('advert_int', '%s: use 0.01-255 seconds' % _format_number(advert)))
    auth = inst.get('authentication')
    if auth:
        if version == 3:
            out.append(('authentication', 'is set but VRRPv3 has no authentication; drop it '
                                          'or use version 2'))
        if auth.get('auth_type', 'PASS') not in ('PASS', 'AH'):
            out.append(('authentication.auth_type', 'use PASS or AH'))
        secret = auth.get('auth_pass') or ''
        if not 1 <= len(secret) <= AUTH_PASS_MAX:
            out.append(('authentication.auth_pass',
                        'has %d characters: use 1-%d (keepalived silently truncates longer '
                        'ones)' % (len(secret), AUTH_PASS_MAX)))
        elif not re.match(r'^[!-~]+$', secret) or '"' in secret:
            out.append(('authentication.auth_pass', 'must be printable ASCII without '
                                                    'spaces or double quotes'))
    out.extend(_address_problems(inst, inst.get('virtual_ipaddresses') or [], version,
                                 host_addresses))
    out.extend(tracking_problems(inst, scripts_by_name))
    delay = inst.get('preempt_delay')
    if delay is not None and not 0 <= delay <= 1000:
        out.append(('preempt_delay', '%s: use 0-1000 seconds' % delay))
    notify = inst.get('notify')
    if notify and ('"' in notify or not notify.startswith('/')):
        out.append(('notify', 'give an absolute path without quotes'))
    return out


def instance_hosts(inst, host_addresses):
    """The addresses a VIP of ``inst`` must not be: the group's and its peers'."""
    hosts = set(a for a in (parse_ip(h) for h in host_addresses or []) if a)
    for addr in [inst.get('unicast_src_ip')] + list(inst.get('unicast_peers') or []):
        if parse_ip(addr):
            hosts.add(parse_ip(addr))
    return hosts


def global_problems(gdefs):
    """[(field, problem)] for the global_defs block."""
    out = []
    router_id = gdefs.get('router_id')
    if router_id is not None and not NAME_RE.match(router_id):
        out.append(('router_id', '%r: use letters, digits, "_", "." or "-"' % router_id))
    for key in ('vrrp_notify_fifo', 'vrrp_notify_fifo_script'):
        path = gdefs.get(key)
        if path and ('"' in path or ' ' in path or not path.startswith('/')):
            out.append((key, '%r: give an absolute path without quotes or spaces' % path))
    if gdefs.get('vrrp_notify_fifo_script') and not gdefs.get('vrrp_notify_fifo'):
        out.append(('vrrp_notify_fifo_script', 'needs vrrp_notify_fifo (the FIFO it reads)'))
    rt_priority = gdefs.get('max_auto_priority')
    if rt_priority is not None and not 0 <= rt_priority <= 99:
        out.append(('max_auto_priority', '%s is out of range: use 1-99 (real-time priorities), '
                                         'or 0 to leave scheduling alone' % rt_priority))
    delay = gdefs.get('min_auto_priority_delay')
    if delay is not None:
        if not 1 <= delay <= 10000000:
            out.append(('min_auto_priority_delay', '%s is out of range: use 1-10000000 microseconds' % delay))
        elif not rt_priority:
            out.append(('min_auto_priority_delay', 'needs max_auto_priority (the priority it raises to)'))
    garp_delay = gdefs.get('vrrp_garp_lower_prio_delay')
    if garp_delay is not None and not 0 <= garp_delay <= 3600:
        out.append(('vrrp_garp_lower_prio_delay', '%s is out of range: use 0-3600 seconds' % garp_delay))
    return out


def validate(config):
    """Return a list of human-readable problems; empty means the config is sound."""
    errors = ['global_defs.%s %s' % (field, problem)
              for field, problem in global_problems(config.get('global_defs') or {})]
    scripts = config.get('scripts') or []
    scripts_by_name = {}
    for index, script in enumerate(scripts):
        errors.extend('scripts[%d].%s %s' % (index, field, problem)
                      for field, problem in script_problems(script))
        if script.get('name') in scripts_by_name:
            errors.append('scripts[%d].name %r is defined twice' % (index, script['name']))
        scripts_by_name[script.get('name')] = script
    instances = config.get('instances') or []
    if not instances:
        errors.append('instances: give at least one VRRP instance')
    names, vrids = set(), {}
    for index, inst in enumerate(instances):
        where = 'instances[%d] (%s)' % (index, inst.get('name'))
        hosts = instance_hosts(inst, config.get('host_addresses'))
        errors.extend('%s.%s %s' % (where, field, problem)
                      for field, problem in instance_problems(inst, scripts_by_name, hosts))
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
                                   enable_script_security=False, script_user=None,
                                   vrrp_notify_fifo_script=None)
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
    fifo_script = (config.get('global_defs') or {}).get('vrrp_notify_fifo_script')
    if fifo_script:
        paths.add(fifo_script)
    return sorted(paths)


def mask_secrets(text):
    """Any keepalived.conf text with every auth_pass value replaced (for diffs)."""
    return AUTH_PASS_LINE.sub(r'\g<1>' + MASK, text or '')


def render(config, mask_secrets=False):
    """Render keepalived.conf text.  Call validate() first.

    With ``mask_secrets`` the auth_pass is replaced, for output shown to people.
    """
    out = [HEADER]
    out.extend(_render_global_defs(config.get('global_defs') or {}))
    for script in sorted(config.get('scripts') or [], key=lambda s: s['name']):
        out.extend(_render_script(script))
    for inst in config.get('instances') or []:
        out.extend(_render_instance(inst, mask_secrets))
    return ''.join(out)


def _render_global_defs(gdefs):
    out = ['\nglobal_defs {\n']
    if gdefs.get('router_id'):
        out.append('    router_id %s\n' % gdefs['router_id'])
    if gdefs.get('enable_script_security', True):
        out.append('    enable_script_security\n')
    if gdefs.get('script_user'):
        out.append('    script_user %s\n' % gdefs['script_user'])
    if gdefs.get('vrrp_garp_master_refresh'):
        out.append('    vrrp_garp_master_refresh %d\n' % gdefs['vrrp_garp_master_refresh'])
    if gdefs.get('vrrp_notify_fifo'):
        # state changes in the order they happen (notify scripts run concurrently and can finish
        # out of order); the FIFO belongs to the script user, who reads it
        owner = ' %s' % gdefs['script_user'] if gdefs.get('script_user') else ''
        out.append('    vrrp_notify_fifo %s%s\n' % (gdefs['vrrp_notify_fifo'], owner))
        if gdefs.get('vrrp_notify_fifo_script'):
            out.append('    vrrp_notify_fifo_script %s\n' % gdefs['vrrp_notify_fifo_script'])
        out.append('    fifo_write_vrrp_states_on_reload\n')
    if gdefs.get('max_auto_priority'):
        # a VRRP process that misses its schedule raises itself to real-time priority
        out.append('    max_auto_priority %d\n' % gdefs['max_auto_priority'])
        if gdefs.get('min_auto_priority_delay'):
            out.append('    min_auto_priority_delay %d\n' % gdefs['min_auto_priority_delay'])
    if gdefs.get('vrrp_higher_prio_send_advert'):
        # a MASTER that hears a better one advertises once more before it steps back, so
        # the better one (vrrp_garp_lower_prio_*) announces the VIP after it
        out.append('    vrrp_higher_prio_send_advert true\n')
    if gdefs.get('vrrp_garp_lower_prio_delay') is not None:
        out.append('    vrrp_garp_lower_prio_delay %d\n' % gdefs['vrrp_garp_lower_prio_delay'])
    out.append('}\n')
    return out


def _render_script(script):
    out = ['\nvrrp_script %s {\n' % script['name'], '    script "%s"\n' % script['script']]
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
    return out


def _render_instance(inst, mask_secrets):
    out = ['\nvrrp_instance %s {\n' % inst['name'],
           '    state %s\n' % (inst.get('state') or 'BACKUP'),
           '    interface %s\n' % inst['interface'],
           '    virtual_router_id %d\n' % inst['virtual_router_id'],
           '    priority %d\n' % inst['priority']]
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
    out.extend(_render_addresses(inst))
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
    return out


def _render_addresses(inst):
    """The unicast peers and the VIPs of one instance."""
    out = []
    if inst.get('unicast_peers'):
        if inst.get('unicast_src_ip'):
            out.append('    unicast_src_ip %s\n' % inst['unicast_src_ip'])
        if inst.get('check_unicast_src'):
            # adverts from an address that is not a listed peer are ignored
            out.append('    check_unicast_src\n')
        out.append('    unicast_peer {\n')
        for peer in sorted(inst['unicast_peers'], key=lambda p: ipaddress.ip_address(u'%s' % p)):
            out.append('        %s\n' % peer)
        out.append('    }\n')
    out.append('    virtual_ipaddress {\n')
    for vip in inst['virtual_ipaddresses']:
        out.append('        %s\n' % _render_vip(vip, inst['interface']))
    out.append('    }\n')
    excluded = inst.get('virtual_ipaddresses_excluded') or []
    if excluded:
        # not carried in the adverts (which speak one family): the holder adds them too
        out.append('    virtual_ipaddress_excluded {\n')
        for vip in excluded:
            out.append('        %s\n' % _render_vip(vip, inst['interface']))
        out.append('    }\n')
    return out


def _instance_options():
    """A vrrp_instance's options (argument_spec's instances)."""
    track = dict(name=dict(type='str', required=True), weight=dict(type='int'))
    auth = dict(
        auth_type=dict(type='str', choices=['PASS', 'AH'], default='PASS'),
        auth_pass=dict(type='str', required=True, no_log=True),
    )
    return dict(
        name=dict(type='str', required=True),
        interface=dict(type='str', required=True),
        virtual_router_id=dict(type='int', required=True),
        priority=dict(type='int', required=True),
        state=dict(type='str', choices=['MASTER', 'BACKUP'], default='BACKUP'),
        advert_int=dict(type='float', default=1),
        version=dict(type='int', choices=[2, 3], default=2),
        virtual_ipaddresses=dict(type='list', elements='str', required=True),
        virtual_ipaddresses_excluded=dict(type='list', elements='str', default=[]),
        authentication=dict(type='dict', options=auth),
        unicast_src_ip=dict(type='str'),
        check_unicast_src=dict(type='bool', default=False),
        unicast_peers=dict(type='list', elements='str', default=[]),
        peer_priorities=dict(type='list', elements='int', default=[]),
        track_scripts=dict(type='list', elements='dict', options=track, default=[]),
        nopreempt=dict(type='bool', default=False),
        preempt_delay=dict(type='int'),
        garp_master_delay=dict(type='int'),
        garp_master_refresh=dict(type='int'),
        notify=dict(type='path'),
    )


def argument_spec():
    """The vrrp_config module's options (kept in step with its DOCUMENTATION,
    which ansible-test sanity compares); the keepalived_conf filter normalises
    its input with it too, so both render the same text."""
    instance = _instance_options()
    script = dict(
        name=dict(type='str', required=True),
        script=dict(type='str', required=True),
        interval=dict(type='float', default=1),
        timeout=dict(type='float'),
        fall=dict(type='int', default=2),
        rise=dict(type='int', default=2),
        weight=dict(type='int', default=0),
        user=dict(type='str'),
    )
    gdefs = dict(
        router_id=dict(type='str'),
        enable_script_security=dict(type='bool', default=True),
        script_user=dict(type='str'),
        vrrp_garp_master_refresh=dict(type='int'),
        max_auto_priority=dict(type='int'),
        min_auto_priority_delay=dict(type='int'),
        vrrp_higher_prio_send_advert=dict(type='bool'),
        vrrp_garp_lower_prio_delay=dict(type='int'),
        vrrp_notify_fifo=dict(type='path'),
        vrrp_notify_fifo_script=dict(type='path'),
    )
    return dict(
        dest=dict(type='path', default='/etc/keepalived/keepalived.conf'),
        backup=dict(type='bool', default=False),
        backups_kept=dict(type='int', default=3),
        validate=dict(type='bool', default=True),
        host_addresses=dict(type='list', elements='str', default=[]),
        global_defs=dict(type='dict', options=gdefs, default={}),
        scripts=dict(type='list', elements='dict', options=script, default=[]),
        instances=dict(type='list', elements='dict', options=instance, required=True),
    )
