# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keepalived's VRRP state in Prometheus' text format: the exporter each load
balancer runs (kubeha-vrrp-exporter.service, role kubeha.control_plane.keepalived).

The keepalived role installs this very file as the exporter's program, so
the logic tested here is the logic that runs. Python standard library only.
Every scrape reads, fresh:

- the VRRP state keepalived last reported (the notify FIFO script writes
  ``NAME.state`` "STATE PRIORITY EPOCH" in the state directory, and counts
  each entry into a state in ``NAME.STATE.count``);
- whether keepalived runs (its pid file and /proc): a keepalived that is not
  running holds no state, whatever it last reported, so the state is STOP;
- whether each VIP is on one of this host's interfaces (``ip -o addr``);
- each track script's last result (the script writes ``SCRIPT.track``
  "EXIT-STATUS EPOCH" on each run).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import subprocess

STATES = ('MASTER', 'BACKUP', 'FAULT', 'STOP')
PREFIX = 'kubeha_vrrp_'
# name: (type, help)
METRICS = (
    ('keepalived_up', 'gauge', 'Whether keepalived runs on this load balancer (1) or not (0).'),
    ('state', 'gauge', 'The VRRP state of the instance: 1 for the current one. STOP while '
                       'keepalived does not run; UNKNOWN before keepalived reported any.'),
    ('priority', 'gauge', 'The priority keepalived last reported for the instance.'),
    ('state_since_timestamp_seconds', 'gauge', 'When the instance entered its current state (Unix time).'),
    ('transitions_total', 'counter', 'Entries into each VRRP state since boot (MASTER: the VIP moved here).'),
    ('vip_held', 'gauge', 'Whether the VIP is on an interface of this host (1) or not (0).'),
    ('track_script_ok', 'gauge', 'Whether the track script\'s last run succeeded (1) or failed (0).'),
    ('track_script_last_run_timestamp_seconds', 'gauge', 'When the track script last ran (Unix time).'),
)


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def parse_state(text):
    """``NAME.state`` ("STATE PRIORITY EPOCH") as (state, priority, since); Nones if unreadable."""
    fields = (text or '').split()
    state = fields[0] if fields and fields[0] in STATES else None
    try:
        priority = int(fields[1])
    except (IndexError, ValueError):
        priority = None
    try:
        since = float(fields[2])
    except (IndexError, ValueError):
        since = None
    return state, priority, since


def parse_count(text):
    try:
        return max(0, int((text or '').split()[0]))
    except (IndexError, ValueError):
        return 0


def parse_track(text):
    """``SCRIPT.track`` ("EXIT-STATUS EPOCH") as (ok, at), or None when unreadable."""
    fields = (text or '').split()
    try:
        return int(fields[0]) == 0, float(fields[1])
    except (IndexError, ValueError):
        return None


def parse_addresses(text):
    """The addresses of ``ip -o addr show`` output, as ipaddress objects."""
    out = set()
    for line in (text or '').splitlines():
        fields = line.split()
        for i, field in enumerate(fields[:-1]):
            if field in ('inet', 'inet6'):
                try:
                    out.add(ipaddress.ip_interface(fields[i + 1]).ip)
                except ValueError:
                    pass
    return out


def pid_running(pid_text, proc_root='/proc', name='keepalived'):
    """Whether the pid in ``pid_text`` is a running process called ``name``."""
    try:
        pid = int((pid_text or '').split()[0])
    except (IndexError, ValueError):
        return False
    comm = _read(os.path.join(proc_root, str(pid), 'comm'))
    return comm is not None and comm.strip() == name


def _escape(value):
    return str(value).replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')


def _sample(name, labels, value):
    text = ','.join('%s="%s"' % (k, _escape(v)) for k, v in labels)
    return '%s%s%s %s' % (PREFIX, name, '{%s}' % text if text else '', _number(value))


def _number(value):
    if isinstance(value, bool):
        return '1' if value else '0'
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


def render(instance, running, state, priority, since, counts, vips, held, tracks):
    """The exposition text.

    instance  the VRRP instance name
    running   whether keepalived runs
    state     its last reported state (None: none yet)
    priority, since   from the same report (None: unknown)
    counts    {state: entries}
    vips      [address text, ...]; held: the set of addresses on this host
    tracks    {script: (ok, at) or None}
    """
    current = state if running else 'STOP'
    if current is None:
        current = 'UNKNOWN'
    label = ('vrrp_instance', instance)
    samples = dict((name, []) for name, _kind, _help in METRICS)
    samples['keepalived_up'].append(_sample('keepalived_up', [], bool(running)))
    for name in STATES + ('UNKNOWN',):
        samples['state'].append(_sample('state', [label, ('state', name)], name == current))
    if priority is not None:
        samples['priority'].append(_sample('priority', [label], priority))
    if since is not None:
        samples['state_since_timestamp_seconds'].append(
            _sample('state_since_timestamp_seconds', [label], since))
    for name in STATES:
        samples['transitions_total'].append(
            _sample('transitions_total', [label, ('state', name)], int(counts.get(name, 0))))
    for vip in vips:
        samples['vip_held'].append(_sample('vip_held', [label, ('vip', vip)],
                                           ipaddress.ip_address(vip) in held))
    for script in sorted(tracks):
        result = tracks[script]
        if result is None:
            continue
        samples['track_script_ok'].append(_sample('track_script_ok', [('script', script)], result[0]))
        samples['track_script_last_run_timestamp_seconds'].append(
            _sample('track_script_last_run_timestamp_seconds', [('script', script)], result[1]))
    lines = []
    for name, kind, text in METRICS:
        if samples[name]:
            lines += ['# HELP %s%s %s' % (PREFIX, name, text), '# TYPE %s%s %s' % (PREFIX, name, kind)]
            lines += samples[name]
    return '\n'.join(lines) + '\n'


def collect(options, ip_output=None):
    """Read everything render() needs from the host, now."""
    state_dir = options['state_dir']
    instance = options['instance']
    state, priority, since = parse_state(_read(os.path.join(state_dir, instance + '.state')))
    counts = dict((s, parse_count(_read(os.path.join(state_dir, '%s.%s.count' % (instance, s)))))
                  for s in STATES)
    if ip_output is None:
        try:
            # the exporter daemon's own program, not a module: no AnsibleModule.run_command here
            ip_output = subprocess.run(  # pylint: disable=ansible-bad-function
                ['ip', '-o', 'addr', 'show'], capture_output=True, text=True, timeout=5, check=False).stdout
        except (OSError, subprocess.SubprocessError):
            ip_output = ''
    tracks = dict((s, parse_track(_read(os.path.join(state_dir, s + '.track'))))
                  for s in options.get('scripts') or [])
    return render(instance, pid_running(_read(options['pidfile'])), state, priority, since, counts,
                  options.get('vips') or [], parse_addresses(ip_output), tracks)


def main(argv=None):
    """The exporter: GET /metrics answers with collect() (exporter_http, the
    file shipped beside this program)."""
    import argparse

    parser = argparse.ArgumentParser(description='kubeha VRRP metrics for Prometheus')
    parser.add_argument('--listen', required=True, help='ADDRESS:PORT, never the VIP')
    parser.add_argument('--state-dir', required=True)
    parser.add_argument('--instance', required=True)
    parser.add_argument('--vip', action='append', default=[])
    parser.add_argument('--script', action='append', default=[])
    parser.add_argument('--pidfile', default='/run/keepalived.pid')
    args = parser.parse_args(argv)
    options = dict(state_dir=args.state_dir, instance=args.instance, vips=args.vip,
                   scripts=args.script, pidfile=args.pidfile)
    _exporter_http().serve(args.listen, lambda: collect(options))


def _exporter_http():
    """The shared server: on the host, the file beside this program (its
    directory is first on the import path); else the collection's (tests)."""
    import sys
    sys.dont_write_bytecode = True  # no __pycache__ beside the programs
    try:
        import exporter_http  # pylint: disable=import-error
    except ImportError:
        from ansible_collections.kubeha.control_plane.plugins.module_utils import exporter_http
    return exporter_http


if __name__ == '__main__':
    main()
