# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a load balancer listens on, from its plan entry: each port the plan
binds (with the variable that sets it), and the units allowed to hold them.
Computes only; rules.check_listeners compares it with the host's sockets
(the listening_sockets module, read with the facts)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan import keepalived as K
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.addresses import WILDCARDS
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.profiles import OS, OS_DEFAULT

BGP_PORT = 179
BFD_PORTS = (3784, 3785)


def split(endpoint):
    """('address', port) of 'address:port' or '[address]:port'."""
    address, _sep, port = endpoint.rpartition(':')
    return address.strip('[]'), int(port)


def binds(entry):
    """[{variable, proto, address, port}]: every socket the load balancer's
    daemons bind ('*' for every address)."""
    haproxy, metrics = entry['haproxy'], entry['metrics']
    front = str(haproxy.get('frontend_address') or '*')
    out = [dict(variable='haproxy_frontend_port', proto='tcp', port=int(haproxy['frontend_port']),
                address='*' if front in WILDCARDS else front),
           dict(variable='haproxy_monitor_port', proto='tcp', port=int(haproxy['monitor_port']),
                address=str(haproxy['monitor_address']))]
    for job, variable in (('haproxy', 'haproxy_metrics_port'), ('vrrp', 'keepalived_metrics_port'),
                          ('bgp', 'bgp_metrics_port')):
        if metrics.get(job):
            address, port = split(metrics[job])
            out.append(dict(variable=variable, proto='tcp', address=address, port=port))
    bgp = entry.get('bgp')
    if bgp:
        out.append(dict(variable='kubeha_vip_mode: bgp (BGP, FRR\'s bgpd)', proto='tcp', address='*',
                        port=BGP_PORT))
        if bgp.get('bfd'):
            out += [dict(variable='bgp_bfd (BFD, FRR\'s bfdd)', proto='udp', address='*', port=port)
                    for port in BFD_PORTS]
        if bgp['handoff']['enabled']:
            out.append(dict(variable='bgp_handoff_port', proto='udp', address='*', port=bgp['handoff']['port']))
    return out


def ours(entry):
    """The units whose sockets are this collection's own on the load balancer,
    in either VIP mode (a mode switch finds the other one's still running)."""
    keepalived = (entry.get('vrrp') or {}).get('os') or OS[OS_DEFAULT]['keepalived']  # BGP mode: no vrrp block
    units = [entry['haproxy']['os']['service'], keepalived['service']] + list(K.UNITS.values())
    bgp = entry.get('bgp')
    if bgp:
        units += [bgp['os']['service'], bgp['gate']['unit'], bgp['exporter_unit']]
    return [u if '.' in u else u + '.service' for u in units]
