# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the wire check heard, judged on the controller.

vrid_taken  wire_result | kubeha.control_plane.vrid_taken(host, interface, vrid, ours)
            sentences refusing a VRID another router already speaks
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubeha.control_plane.plugins.module_utils.wire import taken_vrid_problems


def vrid_taken(wire_result, host, interface, vrid, ours):
    return taken_vrid_problems(host, interface, vrid, (wire_result or {}).get('speakers') or [], ours or [])


class FilterModule(object):
    def filters(self):
        return {'vrid_taken': vrid_taken}
