# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bringing systemd units up in order, in the module call that wrote their files (units,
config_files, vrrp_config): enable, then start, restart or reload, stopping at the first
failure with its status; and, for the units module, taking one down (stopped, or its
processes killed) with the time just before, as the failover drill measures from it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

# The suboptions of a unit, as the modules' argument specs list them.
UNIT_OPTIONS = dict(
    name=dict(type='str', required=True),
    state=dict(type='str', choices=['started', 'restarted', 'reloaded'], default='started'),
    changed_state=dict(type='str', choices=['started', 'restarted', 'reloaded']),
    changed_by=dict(type='list', elements='path'),
    enabled=dict(type='bool', default=True),
)


def unit_files_changed(paths):
    """Whether systemd must reload its units before they start: a unit file or drop-in changed."""
    return any('/systemd/system/' in path for path in paths)


NOTHING_DONE = dict(changed_units=[], started=[], restarted=[], reloaded=[], enabled=[])


def bring_up(module, specs, daemon_reload=False, changed_paths=(), context=None):
    """What Units.bring_up_all did with specs, or NOTHING_DONE (systemctl not even looked
    for) when no unit and no daemon-reload was asked: a module that wrote files brings up
    the services that read them in the same call."""
    if not specs and not daemon_reload:
        return dict((key, []) for key in NOTHING_DONE)
    return Units(module, context).bring_up_all(specs, daemon_reload, changed_paths)


# `systemctl is-enabled` answers that need no `enable` (nothing to link, or linked elsewhere)
ENABLED_ENOUGH = ('enabled', 'enabled-runtime', 'static', 'indirect', 'generated', 'alias', 'linked',
                  'linked-runtime', 'transient')


class Units(object):
    """context: more keys for a failure's result (what the same call wrote before)."""

    def __init__(self, module, context=None):
        self.module = module
        self.systemctl = module.get_bin_path('systemctl', required=True)
        self.result = dict((key, []) for key in NOTHING_DONE)
        self.context = context or {}
        self.linked = False  # a unit was enabled with --no-reload: reload once at the end
        self.times = {}  # {unit: the epoch time just before its action}

    def act(self, action, name, *args):
        """systemctl ACTION [ARGS] NAME (not in check mode), noting the time just before."""
        if self.module.check_mode:
            return
        self.times[name] = time.time()
        rc, out, err = self.run(action, *(list(args) + [name]))
        if rc != 0:
            self.fail(name, action, rc, out, err)

    def failed(self, **kwargs):
        self.module.fail_json(**dict(self.context, **dict(self.result, **kwargs)))

    def run(self, *args):
        return self.module.run_command([self.systemctl] + list(args))

    def fail(self, name, action, rc, out, err):
        status = self.run('status', '--no-pager', '--lines', '20', name)
        self.failed(msg='systemctl %s %s failed (rc %d); the units after it were left as they were'
                        % (action, name, rc), stdout=out, stderr=err, status=status[1])

    def _changed(self, name, kind):
        self.result[kind].append(name)
        if name not in self.result['changed_units']:
            self.result['changed_units'].append(name)

    def bring_down(self, spec):
        """``stopped``: stop it if it runs; ``killed``: SIGKILL its processes (systemd's
        Restart= may bring it back, as after a crash). Its enablement is left as it is."""
        name = spec['name']
        if self.run('is-active', '--quiet', name)[0] != 0:
            return
        if spec['state'] == 'killed':
            self.act('kill', name, '--signal=KILL')
        else:
            self.act('stop', name)
        self._changed(name, spec['state'])

    def bring_up(self, spec):
        name = spec['name']
        if spec['state'] in ('stopped', 'killed'):
            return self.bring_down(spec)
        if spec['enabled']:  # first, so a unit that fails to start is still enabled (and a masked one named)
            rc, out, err = self.run('is-enabled', name)
            state = out.strip().splitlines()[0] if out.strip() else ''
            if state == 'masked' or state == 'masked-runtime':
                self.failed(msg='%s is masked: unmask it (systemctl unmask %s) to let it start at boot'
                                % (name, name))
            if state not in ENABLED_ENOUGH:
                if not self.module.check_mode:
                    # only the links: each plain `enable` would reload systemd (about 0.1 s each);
                    # the unit is started explicitly below, and boot reads the links afresh
                    rc, out, err = self.run('enable', '--no-reload', name)
                    if rc != 0:
                        self.fail(name, 'enable', rc, out, err)
                    self.linked = True
                self._changed(name, 'enabled')
        active = self.run('is-active', '--quiet', name)[0] == 0
        if spec['state'] != 'started' or not active:
            action = {'restarted': 'restart', 'reloaded': 'reload'}[spec['state']] if active else 'start'
            self.act(action, name)
            self._changed(name, {'start': 'started', 'restart': 'restarted', 'reload': 'reloaded'}[action])
        return None

    def bring_up_all(self, specs, daemon_reload=False, changed_paths=()):
        """Every unit of specs in order, after a daemon-reload when asked or when a unit file of
        changed_paths (what the same call changed) was written; a unit's changed_state, when
        given, replaces its state when a path of its changed_by (by default, any) changed."""
        if (daemon_reload or unit_files_changed(changed_paths)) and not self.module.check_mode:
            rc, out, err = self.run('daemon-reload')
            if rc != 0:
                self.failed(msg='systemctl daemon-reload failed (rc %d); no unit was touched' % rc,
                            stdout=out, stderr=err)
        try:
            for spec in specs:
                watched = spec.get('changed_by')
                changed = bool(changed_paths) if watched is None else bool(set(watched) & set(changed_paths))
                wanted = spec.get('changed_state') if changed and spec.get('changed_state') else spec['state']
                self.bring_up(dict(spec, state=wanted))
        finally:
            # One reload after the links, also when a unit failed: systemd 257 (Debian
            # 13) otherwise finds its unit directories newer than its last load, and
            # every later systemctl call warns that units changed on disk.
            if self.linked:
                self.run('daemon-reload')
        return self.result
