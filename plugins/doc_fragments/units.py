# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The units a module that writes files brings up in the same call (config_files, vrrp_config)."""

    DOCUMENTATION = r'''
options:
  units:
    description:
      - systemd units brought up in this order, in the same call, after every file was written
        (and accepted by its check), as M(kubeha.control_plane.units) does. A file rejected by its
        check fails the call first, and the running services keep the old files.
      - Each unit is enabled (its links only, C(systemctl enable --no-reload)), then started if
        it is not running, or brought to O(units[].state). The first unit that fails stops the
        rest, with its C(systemctl status).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Unit name, for example V(haproxy) or V(keepalived.service).
        type: str
        required: true
      state:
        description:
          - V(started) starts it if it is not running; V(restarted) restarts it; V(reloaded) reloads
            it if it is running (and starts it if not).
        type: str
        choices: [started, restarted, reloaded]
        default: started
      changed_state:
        description:
          - The state instead of O(units[].state) when this call changed a file, for a service
            that reads them, for example V(reloaded) so haproxy reads its new configuration.
        type: str
        choices: [started, restarted, reloaded]
      changed_by:
        description:
          - The files (paths of this call) whose change brings the unit to
            O(units[].changed_state); unset, any file this call changed.
        type: list
        elements: path
      enabled:
        description: Enable it (start at boot). A static or generated unit counts as enabled.
        type: bool
        default: true
  daemon_reload:
    description:
      - Run C(systemctl daemon-reload) before the units are brought up (not in check mode).
      - It runs anyway when this call changed a unit file or drop-in (a path under C(/systemd/system/)).
    type: bool
    default: false
'''
