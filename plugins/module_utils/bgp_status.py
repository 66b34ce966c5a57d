# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a load balancer's BGP speaker says, from FRR's JSON (vtysh), parsed
without touching the host: its sessions, BFD, what it advertises to each
router. Used by kubeha.control_plane.bgp_speaker (verify, the drill, the
drain), and the BGP exporter: the bgp role installs this very file as the
program of kubeha-bgp-exporter.service (main()), which answers every scrape
with what FRR and the gate say then. Python standard library only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import time

PREFIX = 'kubeha_bgp_'
# name: (type, help)
METRICS = (
    ('frr_up', 'gauge', 'Whether FRR answered (vtysh) on this load balancer (1) or not (0).'),
    ('session_up', 'gauge', 'Whether the BGP session with the router is Established (1) or not (0).'),
    ('session_uptime_seconds', 'gauge', 'How long the BGP session with the router has been Established.'),
    ('session_drops_total', 'counter', 'Established sessions with the router that dropped since FRR started '
                                       '(a BFD session that goes down drops it too).'),
    ('bfd_up', 'gauge', 'Whether the BFD session with the router is up (1) or not (0); absent without BFD.'),
    ('prefix_advertised', 'gauge', 'Whether the VIP\'s host route is advertised to the router (1) or not (0).'),
    ('announced', 'gauge', 'Whether every VIP host route is advertised to an established router (1): '
                           'the routers can send clients here.'),
    ('gate_up', 'gauge', 'Whether the gate (kubeha-bgp-gate.service) runs: its state is fresh (1).'),
    ('gate_check_ok', 'gauge', 'Whether the gate\'s last serving check passed (1) or failed (0).'),
    ('gate_announcing', 'gauge', 'Whether the gate announces the VIP (its route for FRR is in place).'),
    ('gate_standby', 'gauge', 'Whether the gate announces the worse (prepended) path: active_passive\'s standby.'),
    ('gate_state_since_timestamp_seconds', 'gauge', 'When the gate last started or stopped announcing, or '
                                                    'changed its path (Unix time).'),
)


def _load(text, default):
    try:
        value = json.loads(text or '')
    except ValueError:
        return default
    return value if isinstance(value, type(default)) else default


def sessions(summary_json):
    """{peer address: {state, established, uptime_s, prefixes_sent, prefixes_received, drops}}
    from ``show bgp summary json`` (every address family merged)."""
    out = {}
    data = _load(summary_json, {})
    for family in data.values():
        if not isinstance(family, dict):
            continue
        for peer, entry in (family.get('peers') or {}).items():
            state = str(entry.get('state') or '')
            seen = out.setdefault(peer, dict(state=state, established=state == 'Established', uptime_s=0.0,
                                             prefixes_sent=0, prefixes_received=0, drops=0))
            seen['uptime_s'] = max(seen['uptime_s'], float(entry.get('peerUptimeMsec') or 0) / 1000.0)
            seen['drops'] = max(seen['drops'], int(entry.get('connectionsDropped') or 0))
            seen['prefixes_sent'] += int(entry.get('pfxSnt') or 0)
            seen['prefixes_received'] += int(entry.get('pfxRcd') or 0)
    return out


def bfd(peers_json):
    """{peer address: status ('up', 'down', 'init', ...)} from ``show bfd peers json``."""
    out = {}
    for entry in _load(peers_json, []):
        if isinstance(entry, dict) and entry.get('peer'):
            out[str(entry['peer'])] = str(entry.get('status') or '')
    return out


def advertised(routes_json):
    """The prefixes in ``show bgp ... neighbors X advertised-routes json``."""
    data = _load(routes_json, {})
    return sorted((data.get('advertisedRoutes') or {}).keys())


def announced(prefixes, adverts, states):
    """Every prefix is advertised to at least one established peer of its family."""
    for prefix in prefixes:
        six = ':' in prefix
        if not any(prefix in adverts.get(peer, []) for peer in adverts
                   if (':' in peer) == six and (states.get(peer) or {}).get('established')):
            return False
    return True


def withdrawn(prefixes, adverts):
    """No prefix is advertised to any peer."""
    return not any(prefix in routes for routes in adverts.values() for prefix in prefixes)


def _escape(value):
    return str(value).replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')


def _number(value):
    if isinstance(value, bool):
        return '1' if value else '0'
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


def render(frr_up, peers, prefixes, states, bfd_states, adverts, gate):
    """The exposition text.

    frr_up    whether vtysh answered
    peers     the routers' addresses, as the plan names them
    prefixes  the VIP's host routes
    states    sessions(); bfd_states: bfd(); adverts: {peer: [prefix, ...]}
    gate      {up, check_ok, announced, standby, since} (gate_state()); up False: not running
    """
    samples = dict((name, []) for name, _kind, _help in METRICS)

    def add(name, labels, value):
        text = ','.join('%s="%s"' % (k, _escape(v)) for k, v in labels)
        samples[name].append('%s%s%s %s' % (PREFIX, name, '{%s}' % text if text else '', _number(value)))

    add('frr_up', [], bool(frr_up))
    for peer in peers:
        state = states.get(peer) or {}
        add('session_up', [('peer', peer)], bool(state.get('established')))
        add('session_uptime_seconds', [('peer', peer)], float(state.get('uptime_s') or 0.0))
        add('session_drops_total', [('peer', peer)], int(state.get('drops') or 0))
        if bfd_states.get(peer):
            add('bfd_up', [('peer', peer)], bfd_states[peer] == 'up')
        for prefix in prefixes:
            add('prefix_advertised', [('peer', peer), ('prefix', prefix)], prefix in adverts.get(peer, []))
    add('announced', [], bool(prefixes) and announced(prefixes, adverts, states))
    add('gate_up', [], bool(gate.get('up')))
    if gate.get('up'):
        if gate.get('check_ok') is not None:
            add('gate_check_ok', [], bool(gate['check_ok']))
        add('gate_announcing', [], bool(gate.get('announced')))
        add('gate_standby', [], bool(gate.get('standby')))
        if gate.get('since') is not None:
            add('gate_state_since_timestamp_seconds', [], float(gate['since']))
    lines = []
    for name, kind, text in METRICS:
        if samples[name]:
            lines += ['# HELP %s%s %s' % (PREFIX, name, text), '# TYPE %s%s %s' % (PREFIX, name, kind)]
            lines += samples[name]
    return '\n'.join(lines) + '\n'


def gate_state(text, mtime, now, interval):
    """The gate's ``gate.json`` (``text``, written at ``mtime``) as render() reads it:
    ``up`` while the gate wrote it within three check intervals (at least 5 s) and
    did not write it on its way out (its last state has no check result)."""
    state = _load(text, {})
    fresh = mtime is not None and now - mtime <= max(3 * float(interval), 5.0)
    return dict(state, up=bool(state) and fresh and state.get('check_ok') is not None)


def collect(options, show=None, now=None):
    """Read everything render() needs from the host, now. ``show(command)``
    returns vtysh's output, or None when vtysh failed."""
    if show is None:
        def show(command):
            try:
                # the exporter daemon's own program, not a module: no AnsibleModule.run_command here
                proc = subprocess.run(['vtysh', '-c', command], stdout=subprocess.PIPE,  # pylint: disable=ansible-bad-function
                                      stderr=subprocess.PIPE, universal_newlines=True, timeout=5, check=False)
            except (OSError, subprocess.SubprocessError):
                return None
            return proc.stdout if proc.returncode == 0 else None
    summary = show('show bgp summary json')
    states = sessions(summary)
    bfd_states = bfd(show('show bfd peers json'))
    adverts = {}
    for peer in options['peers']:
        afi = 'ipv6' if ':' in peer else 'ipv4'
        adverts[peer] = [p for p in advertised(show('show bgp %s unicast neighbors %s advertised-routes json'
                                                    % (afi, peer))) if p in options['prefixes']]
    path = os.path.join(options['state_dir'], 'gate.json')
    try:
        with open(path) as handle:
            text, mtime = handle.read(), os.stat(path).st_mtime
    except (IOError, OSError):
        text, mtime = None, None
    gate = gate_state(text, mtime, time.time() if now is None else now, options['interval'])
    return render(summary is not None, options['peers'], options['prefixes'], states, bfd_states, adverts, gate)


def main(argv=None):
    """The exporter: GET /metrics answers with collect() (exporter_http, the
    file shipped beside this program)."""
    import argparse

    parser = argparse.ArgumentParser(description='kubeha BGP metrics for Prometheus')
    parser.add_argument('--listen', required=True, help='ADDRESS:PORT, never the VIP')
    parser.add_argument('--state-dir', required=True, help="the gate's state directory")
    parser.add_argument('--interval', type=float, required=True, help="the gate's check interval (s)")
    parser.add_argument('--peer', action='append', default=[])
    parser.add_argument('--prefix', action='append', default=[])
    args = parser.parse_args(argv)
    options = dict(state_dir=args.state_dir, interval=args.interval, peers=args.peer, prefixes=args.prefix)
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
