# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the haproxy and keepalived roles want on a load balancer, computed on
the controller from the host's view of the plan (plan/endpoint.py view).

One call per host and role gives the packages, the user, the directories, the
files with their content, the units and the services. The roles write exactly
that; site.yml's drift check reads the same, with each content replaced by its
SHA-256 (``digests``). The roles' templates (roles/<role>/templates/) are
rendered here with Jinja2, as ansible's template lookup renders them
(trim_blocks, the trailing newline kept), but without the lookup's copy of
every variable of the host: that copy made the desired state the largest part
of a re-run's controller CPU (about 0.3 CPU-seconds per load balancer).
Only the secret is not here: keepalived.conf's digest takes it as an argument.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os

from jinja2 import Environment, FileSystemLoader, StrictUndefined

# plugins/plugin_utils/desired.py -> the collection's root
COLLECTION = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The VRRP exporter's program is this module_utils file itself (unit-tested there).
EXPORTER_PROGRAM = os.path.join(COLLECTION, 'plugins', 'module_utils', 'vrrp_metrics.py')
# So are the BGP gate's and the BGP exporter's.
GATE_PROGRAM = os.path.join(COLLECTION, 'plugins', 'module_utils', 'bgp_gate.py')
BGP_EXPORTER_PROGRAM = os.path.join(COLLECTION, 'plugins', 'module_utils', 'bgp_status.py')
# Both exporters' HTTP server, shipped beside them (they import it from there).
EXPORTER_HTTP = os.path.join(COLLECTION, 'plugins', 'module_utils', 'exporter_http.py')
EXPORTER_HTTP_NAME = 'exporter_http.py'  # its name in libexec (module_utils exporter_http.FILE_NAME)
_DROPPED = ('content', 'validate', 'backup')
_ENVIRONMENTS = {}


def render(role, template, context):
    """roles/<role>/templates/<template> rendered with ``context``; an undefined name fails."""
    env = _ENVIRONMENTS.get(role)
    if env is None:
        env = _ENVIRONMENTS[role] = Environment(
            loader=FileSystemLoader(os.path.join(COLLECTION, 'roles', role, 'templates')),
            trim_blocks=True, keep_trailing_newline=True, undefined=StrictUndefined)
    return env.get_template(template).render(context)


def _read(path):
    with open(path) as handle:
        return handle.read()


def digests(files):
    """Each entry without its content (and write options), with sha256 of the content."""
    out = []
    for entry in files or []:
        item = dict((k, v) for k, v in entry.items() if k not in _DROPPED)
        if entry.get('state', 'present') != 'absent':
            item['sha256'] = hashlib.sha256(('%s' % (entry.get('content') or '')).encode('utf-8')).hexdigest()
        out.append(item)
    return out


def haproxy(view, managed='Ansible managed'):
    """The haproxy role's wanted state: packages, the config file (with content), the service.
    ``managed`` is what the template's ``ansible_managed`` header says."""
    plan = view['host']['haproxy']
    os_ = plan['os']
    context = {'__haproxy_plan': plan, '__haproxy_chroot': os_['chroot'], '__haproxy_user': os_['user'],
               '__haproxy_group': os_['group'], 'ansible_managed': managed}
    config = {'path': os_['config_path'], 'content': render('haproxy', plan['template'], context),
              'owner': 'root', 'group': os_['group'], 'mode': '0640'}
    return {'packages': list(os_['packages']), 'service': os_['service'], 'config_file': config,
            'files': [config], 'services': [{'name': os_['service']}]}


def _optional(wanted, path, mode, render_content):
    """A file present with its content when wanted, else absent."""
    return {'path': path, 'state': 'present' if wanted else 'absent', 'owner': 'root', 'group': 'root',
            'mode': mode, 'content': render_content() if wanted else ''}


def _wanted(plan):
    """{optional part: wanted}: the periodic HA check's timer, the VRRP firewall, the exporter."""
    return {'timer': bool(plan['health_timer']), 'firewall': bool(plan['firewall']),
            'exporter': bool(plan['exporter'])}


def _keepalived_files(plan, context):
    """The scripts, the tmpfiles.d entry, the priority fact and the optional files (absent when not wanted)."""
    libexec, units, wanted = plan['libexec'], plan['units'], _wanted(plan)
    dropin = '/etc/systemd/system/%s.service.d' % plan['os']['service']

    def template(name):
        return lambda: render('keepalived', name, context)

    def script(name):
        return {'path': '%s/%s' % (libexec, name), 'owner': 'root', 'group': 'root', 'mode': '0755',
                'content': render('keepalived', name + '.j2', context)}

    return [
        script('check-haproxy'),
        script('vrrp-notify'),
        {'path': '/etc/tmpfiles.d/kubeha-keepalived.conf', 'owner': 'root', 'group': 'root', 'mode': '0644',
         'content': render('keepalived', 'tmpfiles.conf.j2', context)},
        # The priority this host runs with, read back with the facts (setup's
        # local subset): a load balancer keeps it when others join, leave or are
        # reordered. As ansible's to_nice_json writes it.
        {'path': plan['fact_file'], 'owner': 'root', 'group': 'root', 'mode': '0644',
         'content': json.dumps(plan['fact'], indent=4, sort_keys=True, separators=(',', ': ')) + '\n'},
        _optional(plan['restart_on_failure'], dropin + '/kubeha-restart.conf', '0644',
                  template('kubeha-restart.conf.j2')),
        _optional(wanted['timer'], libexec + '/ha-healthcheck', '0755', template('ha-healthcheck.j2')),
        _optional(wanted['timer'], '/etc/systemd/system/kubeha-healthcheck.service', '0644',
                  template('kubeha-healthcheck.service.j2')),
        _optional(wanted['timer'], '/etc/systemd/system/' + units['timer'], '0644',
                  template('kubeha-healthcheck.timer.j2')),
        _optional(wanted['firewall'], libexec + '/vrrp-firewall', '0755', template('vrrp-firewall.j2')),
        _optional(wanted['firewall'], '/etc/systemd/system/' + units['firewall'], '0644',
                  template('kubeha-vrrp-firewall.service.j2')),
        _optional(wanted['exporter'], libexec + '/vrrp-exporter', '0755', lambda: _read(EXPORTER_PROGRAM)),
        _optional(wanted['exporter'], libexec + '/' + EXPORTER_HTTP_NAME, '0644', lambda: _read(EXPORTER_HTTP)),
        _optional(wanted['exporter'], '/etc/systemd/system/' + units['exporter'], '0644',
                  template('kubeha-vrrp-exporter.service.j2')),
    ]


def _keepalived_units(plan):
    """The units the role starts and enables, in order, after keepalived.conf and
    its files (vrrp_config's units): each brought to its changed_state when one
    of its changed_by files changed in that call."""
    libexec, units, wanted, service = plan['libexec'], plan['units'], _wanted(plan), plan['os']['service']

    def restarted_by_its_files(key, program, *more):
        unit = units[key]
        return [{'name': unit, 'changed_state': 'restarted',
                 'changed_by': [libexec + '/' + program, '/etc/systemd/system/' + unit]
                 + [libexec + '/' + m for m in more]}] if wanted[key] else []

    return (restarted_by_its_files('firewall', 'vrrp-firewall')
            + [{'name': service, 'changed_state': 'reloaded', 'changed_by': [plan['os']['config_path']]}]
            + ([{'name': units['timer']}] if wanted['timer'] else [])
            + restarted_by_its_files('exporter', 'vrrp-exporter', EXPORTER_HTTP_NAME))


def keepalived(view, managed='Ansible managed'):
    """The keepalived role's wanted state except keepalived.conf's secret: packages,
    the script user, directories, files (with content), units, services, and
    keepalived.conf's parameters (conf_params; keepalived_conf_params adds the secret).
    ``managed`` is what the templates' ``ansible_managed`` header says."""
    plan = view['host']['vrrp']
    os_, units, wanted = plan['os'], plan['units'], _wanted(plan)
    context = {'__keepalived_plan': plan, '__kubeha_plan': view, '__keepalived_libexec': plan['libexec'],
               '__keepalived_service': os_['service'], '__keepalived_pidfile': os_['pidfile'],
               'ansible_managed': managed}
    optional = ('timer', 'firewall', 'exporter')
    return {
        'packages': list(os_['packages']) + (['iptables'] if wanted['firewall'] else []),
        'users': [plan['script_user']],
        # The script directory is root-owned (enable_script_security); the state
        # directory is the notify script's (recreated at boot by tmpfiles.d).
        'directories': [
            {'path': plan['libexec'], 'owner': 'root', 'group': 'root', 'mode': '0755'},
            {'path': plan['state_dir'], 'owner': plan['script_user'], 'group': plan['script_user'], 'mode': '0755'},
            {'path': '/etc/systemd/system/%s.service.d' % os_['service'], 'owner': 'root', 'group': 'root',
             'mode': '0755'},
            {'path': plan['fact_dir'], 'owner': 'root', 'group': 'root', 'mode': '0755'},
        ],
        'files': _keepalived_files(plan, context),
        'units': _keepalived_units(plan),
        'services': [{'name': os_['service']}] + [{'name': units[k]} for k in optional if wanted[k]],
        # the optional units no longer wanted: stopped before their files are removed
        'unwanted_units': [units[k] for k in optional if not wanted[k]],
        'service': os_['service'],
        'conf_file': {'path': os_['config_path'], 'owner': 'root', 'group': 'root', 'mode': '0640'},
        'vrrp_version': plan['vrrp_version'],
        'conf_params': {'dest': os_['config_path'], 'host_addresses': plan['host_addresses'],
                        'global_defs': plan['global_defs'], 'scripts': plan['scripts'],
                        'instances': [plan['instance']]},
    }


def keepalived_conf_params(state, auth_pass):
    """keepalived.conf's parameters (``keepalived``'s conf_params) with the
    secret: VRRPv2's PASS authentication; VRRPv3 has none."""
    params = dict(state['conf_params'])
    if state['vrrp_version'] == 2:
        params['instances'] = [dict(i, authentication={'auth_type': 'PASS', 'auth_pass': auth_pass})
                               for i in params['instances']]
    return params


def _gate_config(view, plan):
    """The BGP gate's settings file (JSON): its check, timers, prefixes and peers."""
    gate, libexec = plan['gate'], plan['libexec']
    return {'check': [libexec + '/check-haproxy', 'serving', 'bgp_gate'],
            'check_timeout': plan['check']['track_timeout'], 'interval': gate['interval'],
            'fall': gate['fall'], 'rise': gate['rise'], 'mode': plan['mode'], 'prefixes': plan['prefixes'],
            'peers': [p['address'] for p in plan['peers']], 'community': plan['community'],
            'haproxy_pidfile': view['host']['haproxy'].get('os', {}).get('pidfile', ''),
            'metric_normal': gate['metric_normal'],
            'metric_standby': gate['metric_standby'], 'state_dir': plan['state_dir']}


def _bgp_files(view, plan, context, exporter_files):
    """The bgp role's files: the serving check, the gate (program, settings,
    unit), FRR's daemons and frr.conf (checked with vtysh --dryrun), and the
    exporter's (``exporter_files``: program, unit, the shared HTTP server)."""
    os_, gate, libexec = plan['os'], plan['gate'], plan['libexec']
    exporter = bool(plan['exporter'])

    def frr_file(path, template):
        return {'path': path, 'owner': os_['user'], 'group': os_['group'], 'mode': '0640',
                'content': render('bgp', template, context)}

    return [
        {'path': libexec + '/check-haproxy', 'owner': 'root', 'group': 'root', 'mode': '0755',
         'content': render('keepalived', 'check-haproxy.j2', context)},
        {'path': gate['program'], 'owner': 'root', 'group': 'root', 'mode': '0755', 'content': _read(GATE_PROGRAM)},
        {'path': gate['config'], 'owner': 'root', 'group': 'root', 'mode': '0644',
         'content': json.dumps(_gate_config(view, plan), indent=2, sort_keys=True) + '\n'},
        frr_file(os_['daemons_path'], 'daemons.j2'),
        dict(frr_file(os_['config_path'], 'frr.conf.j2'), validate='vtysh --dryrun --inputfile %s'),
        {'path': '/etc/systemd/system/' + gate['unit'], 'owner': 'root', 'group': 'root', 'mode': '0644',
         'content': render('bgp', 'kubeha-bgp-gate.service.j2', context)},
        _optional(exporter, exporter_files[0], '0755', lambda: _read(BGP_EXPORTER_PROGRAM)),
        _optional(exporter, exporter_files[2], '0644', lambda: _read(EXPORTER_HTTP)),
        _optional(exporter, exporter_files[1], '0644',
                  lambda: render('bgp', 'kubeha-bgp-exporter.service.j2', context)),
    ]


def bgp(view, managed='Ansible managed', peers=None):
    """The bgp role's wanted state (kubeha_vip_mode: bgp): FRR's packages, files
    and units, the gate and the serving check it runs. ``peers``: bgp_peers as
    the inventory gives them, for their passwords (frr.conf holds them: it is
    never world-readable); the plan keeps none."""
    plan = view['host']['bgp']
    os_, gate, libexec = plan['os'], plan['gate'], plan['libexec']
    passwords = dict((str(p.get('address')), str(p.get('password'))) for p in peers or []
                     if isinstance(p, dict) and p.get('password'))
    context = {'__bgp_plan': plan, '__bgp_hostname': view['host'].get('router_id') or 'kubeha',
               '__bgp_passwords': passwords, '__bgp_config_file': gate['config'], 'ansible_managed': managed,
               # the serving check is the keepalived track script's own (its template reads these)
               '__keepalived_plan': plan['check']}
    unit_path = '/etc/systemd/system/' + gate['unit']
    exporter = bool(plan['exporter'])
    exporter_files = [libexec + '/bgp-exporter', '/etc/systemd/system/' + plan['exporter_unit'],
                      libexec + '/' + EXPORTER_HTTP_NAME]
    return {
        'packages': list(os_['packages']),
        'users': [],
        'directories': [{'path': libexec, 'owner': 'root', 'group': 'root', 'mode': '0755'},
                        {'path': os.path.dirname(gate['config']), 'owner': 'root', 'group': 'root', 'mode': '0755'}],
        'files': _bgp_files(view, plan, context, exporter_files),
        # FRR restarted for new daemons (a reload starts none), reloaded for a new
        # frr.conf (sessions stay up); then the gate, restarted for its program,
        # settings or unit (a restart withdraws until the checks rise again).
        'units': [{'name': os_['service'], 'changed_state': 'restarted', 'changed_by': [os_['daemons_path']]},
                  {'name': os_['service'], 'changed_state': 'reloaded', 'changed_by': [os_['config_path']]},
                  {'name': gate['unit'], 'changed_state': 'restarted',
                   'changed_by': [gate['program'], gate['config'], unit_path]}]
        + ([{'name': plan['exporter_unit'], 'changed_state': 'restarted', 'changed_by': exporter_files}]
           if exporter else []),
        'services': [{'name': os_['service']}, {'name': gate['unit']}]
        + ([{'name': plan['exporter_unit']}] if exporter else []),
        # bgp_metrics_exporter turned off: stopped before its files are removed
        'unwanted_units': [] if exporter else [plan['exporter_unit']],
        'service': gate['unit'],
        'secret': bool(passwords),
    }
