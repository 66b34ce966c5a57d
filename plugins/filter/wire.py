# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the wire check heard, judged on the controller.

vrid_taken  wire_result | kubeha.control_plane.vrid_taken(host, interface, vrid, ours)
            sentences refusing a VRID another router already speaks
vip_taken   wire_result | kubeha.control_plane.vip_taken(host, endpoint, hostvars)
            sentences refusing a VIP another host already answers for
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubeha.control_plane.plugins.module_utils.wire import taken_vip_problems, taken_vrid_problems


def vrid_taken(wire_result, host, interface, vrid, ours):
    return taken_vrid_problems(host, interface, vrid, (wire_result or {}).get('speakers') or [], ours or [])


VIP_VARIABLES = ('kubeha_vip', 'kubeha_vip_ipv6')  # the endpoint's vips, in this order


def _macs(facts):
    """Every MAC address of a host's gathered interfaces."""
    out = []
    for name in (facts or {}).get('interfaces') or []:
        mac = ((facts or {}).get(name.replace('-', '_')) or {}).get('macaddress')
        if mac:
            out.append(mac)
    return out


def vip_taken(wire_result, host, endpoint, hostvars):
    """wire_check's ARP and neighbour answers for ``endpoint``'s VIPs, judged against
    the MACs of its load balancers (from their gathered facts)."""
    ours = []
    for lb in endpoint['load_balancers']:
        try:
            ours += _macs(hostvars[lb]['ansible_facts'])
        except KeyError:
            continue
    variables = dict(zip(endpoint['vips'], VIP_VARIABLES))
    return taken_vip_problems(host, (wire_result or {}).get('interface') or '', (wire_result or {}).get('arp') or {},
                              variables, ours)


class FilterModule(object):
    def filters(self):
        return {'vrid_taken': vrid_taken, 'vip_taken': vip_taken}
