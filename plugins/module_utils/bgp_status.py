# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a load balancer's BGP speaker says, from FRR's JSON (vtysh), parsed
without touching the host: its sessions, BFD, what it advertises to each
router. Used by kubeha.control_plane.bgp_speaker (verify, the drill, the
drain) and the gate's metrics. Python standard library only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json


def _load(text, default):
    try:
        value = json.loads(text or '')
    except ValueError:
        return default
    return value if isinstance(value, type(default)) else default


def sessions(summary_json):
    """{peer address: {state, established, uptime_s, prefixes_sent, prefixes_received}}
    from ``show bgp summary json`` (every address family merged)."""
    out = {}
    data = _load(summary_json, {})
    for family in data.values():
        if not isinstance(family, dict):
            continue
        for peer, entry in (family.get('peers') or {}).items():
            state = str(entry.get('state') or '')
            seen = out.setdefault(peer, dict(state=state, established=state == 'Established', uptime_s=0.0,
                                             prefixes_sent=0, prefixes_received=0))
            seen['uptime_s'] = max(seen['uptime_s'], float(entry.get('peerUptimeMsec') or 0) / 1000.0)
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
