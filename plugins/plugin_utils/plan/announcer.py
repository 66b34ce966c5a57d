# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What puts a load balancer in the VIP's path and takes it out (``announcer``),
and what must not be on it (``leftovers``): the other VIP mode's units, files,
routes and addresses, and the hand-off outside a planned change. site.yml
retires the leftovers before the roles run (module leftovers, remove: true),
the drift check counts them as a difference, and verify reports them.
Computes only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan import bgp as B
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan import keepalived as K
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.listeners import split

UNIT_DIR = '/etc/systemd/system'
# Text only this collection's configuration of the daemon has: FRR's route-map,
# keepalived.conf's header. A daemon configured by someone else is left alone.
FRR_MARKER = 'route-map KUBEHA-ANNOUNCE'
KEEPALIVED_MARKER = 'kubeha.control_plane.vrrp_config'  # in vrrp_config's HEADER


# The role that is each mode's announcer. Its task files are the interface the
# playbooks call (docs/README.md, "A new VIP mode"): main.yml (converge),
# serving.yml (does it serve: __kubeha_serving), drain.yml and rejoin.yml (out
# of the path and back, on the load balancer changed), drill.yml (break and
# restore one of its services, on every load balancer of the cluster).
ROLES = {'vrrp': 'kubeha.control_plane.keepalived', 'bgp': 'kubeha.control_plane.bgp'}


def announcer(haproxy_os, vrrp, bgp):
    """What the playbooks ask of this load balancer's VIP mode, so that none of
    them tests the mode's name: ``mode`` and ``role`` (the role's task files are
    the interface), ``unit`` (keepalived, whose stop hands the VIP over at
    priority 0, or the BGP gate, whose stop withdraws the route at once),
    ``packages`` (haproxy's and the announcer's: maintenance's upgrade),
    ``services`` (verify reads them running), ``serves`` (``one`` load balancer
    of the cluster at a time, or ``every`` one), ``on_segment`` (the VIP is an
    address on a shared segment: the ARP and VRID checks apply), ``reads`` (the
    role's serving.yml reads more than vip_holder does: verify includes it),
    ``drain_paths`` (a change of one of these interrupts serving: a rolling
    change drains first; with ``serves: every`` only) and ``drill`` (the
    announcer's own service the drill stops, and the step's name). The plan
    has it with the default OS's packages, and with the host's once the facts
    are in."""
    if bgp is not None:
        unit, packages = bgp['gate']['unit'], bgp['os']['packages']
        out = dict(mode='bgp', serves='every', on_segment=False, reads=True,
                   services=['haproxy', unit], drain_paths=list(bgp['drain_paths']),
                   drill=dict(step='frr', service=bgp['os']['service']))
    else:
        unit, packages = vrrp['os']['service'], vrrp['os']['packages']
        out = dict(mode='vrrp', serves='one', on_segment=True, reads=False,
                   services=[unit, 'haproxy'], drain_paths=[],
                   drill=dict(step='keepalived', service=unit))
    out.update(role=ROLES[out['mode']], unit=unit,
               packages=list(haproxy_os['packages']) + [p for p in packages if p not in haproxy_os['packages']])
    return out


def _bgp_own():
    """The BGP mode's units and files (FRR's own files stay: FRR is stopped)."""
    return dict(units=[B.GATE_UNIT, B.EXPORTER_UNIT],
                files=[B.GATE_PROGRAM, B.GATE_CONFIG, '%s/%s' % (UNIT_DIR, B.GATE_UNIT),
                       '%s/bgp-exporter' % K.LIBEXEC, '%s/%s' % (UNIT_DIR, B.EXPORTER_UNIT)])


def _vrrp_own(os_keepalived):
    """The VRRP mode's units and files (check-haproxy is the BGP gate's check too)."""
    units = [K.UNITS['exporter'], K.UNITS['timer'], 'kubeha-healthcheck.service', K.UNITS['firewall']]
    programs = ('vrrp-notify', 'ha-healthcheck', 'vrrp-firewall', 'vrrp-exporter')
    files = ['%s/%s' % (K.LIBEXEC, name) for name in programs] + ['%s/%s' % (UNIT_DIR, u) for u in units]
    files += ['%s/%s.service.d/kubeha-restart.conf' % (UNIT_DIR, os_keepalived['service']),
              '/etc/tmpfiles.d/kubeha-keepalived.conf', K.FACT_FILE, os_keepalived['config_path']]
    return dict(units=units, files=files)


def leftovers(os_settings, vips, routed):
    """What must not be on a load balancer of this mode (``routed``: BGP), as the
    leftovers module takes it: the other mode's units (FRR and keepalived only
    where their configuration is this collection's), files, the BGP gate's
    routes (VRRP mode: to the VIPs, and by their metrics to any prefix, a VIP
    that changed with the mode) or the VIPs as addresses (BGP mode), and the
    hand-off's device and chains (outside a planned change)."""
    prefixes = B.prefixes(vips)
    if routed:
        other = _vrrp_own(os_settings['keepalived'])
        configured = [dict(unit=os_settings['keepalived']['service'], marker=KEEPALIVED_MARKER,
                           path=os_settings['keepalived']['config_path'])]
        routes, addresses = [], list(vips)
    else:
        other = _bgp_own()
        configured = [dict(unit=os_settings['bgp']['service'], marker=FRR_MARKER,
                           path=os_settings['bgp']['config_path'])]
        routes, addresses = prefixes, []
    return dict(units=other['units'], configured_units=configured, files=other['files'], routes=routes,
                route_metrics=[] if routed else [B.METRIC_NORMAL, B.METRIC_STANDBY],
                addresses=addresses, devices=[B.HANDOFF_DEVICE],
                chains=[B.HANDOFF_CHAIN, B.HANDOFF_CHAIN + '-OUT'])


def listeners(metrics, routed):
    """Where the announcer's exporter listens ([] when it is off): verify reports one elsewhere."""
    endpoint = metrics['bgp' if routed else 'vrrp']
    if not endpoint:
        return []
    address, port = split(endpoint)
    return [dict(unit=B.EXPORTER_UNIT if routed else K.UNITS['exporter'], address=address, port=port)]
