#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: config_files
short_description: Install a set of configuration files and directories in one call
version_added: 1.0.0
description:
  - Brings several files and directories to the wanted content, owner, group and mode in
    one module call, where a role would otherwise spend one round trip per file. The
    roles render the content on the controller (the C(template) lookup) and pass it here.
  - Each changed file is written to a temporary file in the same directory, created
    C(0600) and given its final owner and mode before it holds any content reader could
    see, checked with O(files[].validate) when given, and then renamed over the old one;
    a rejected file never replaces the current one, and a file holding a secret is never
    world-readable, not even for an instant.
  - O(keep_originals) keeps, once, a copy of a file that some other tool wrote (it lacks
    the marker), before this collection replaces it.
  - O(users) creates the system users the files belong to or the scripts run as, first, in
    the same call; O(units) brings up the services that read the files, last.
author:
  - kubeha maintainers (@kubeha)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - kubeha.control_plane.install
  - kubeha.control_plane.units
attributes:
  check_mode:
    support: full
    details: Validation commands are not run in check mode; O(units) says what it would do.
  diff_mode:
    support: full
  platform:
    support: full
    platforms: posix
options:
  backups_kept:
    description: How many timestamped copies of each file with O(files[].backup=true) to keep.
    type: int
    default: 3
'''

EXAMPLES = r'''
- name: The haproxy configuration, checked before it replaces the old one
  kubeha.control_plane.config_files:
    keep_originals:
      - path: /etc/haproxy/haproxy.cfg
        copy_to: /etc/haproxy/haproxy.cfg.kubeha-orig
    files:
      - path: /etc/haproxy/haproxy.cfg
        content: "{{ lookup('ansible.builtin.template', 'haproxy.cfg.j2') }}"
        owner: root
        group: haproxy
        mode: "0640"
        validate: haproxy -c -f %s
        backup: true
    units:  # started, or reloaded for the new file (established connections finish)
      - {name: haproxy, changed_state: reloaded}

- name: The user that runs the scripts, the scripts and a unit in one round trip
  kubeha.control_plane.config_files:
    users:
      - {name: keepalived_script}
    directories:
      - {path: /usr/local/libexec/kubeha, owner: root, group: root, mode: "0755"}
    files:
      - {path: /usr/local/libexec/kubeha/check, content: "#!/bin/sh\nexit 0\n", mode: "0755"}
      - {path: /etc/systemd/system/old.timer, state: absent}
  register: installed
'''

RETURN = r'''
changed_users:
  description: The users that were (or, in check mode, would be) created, or given their shell.
  returned: always
  type: list
  elements: str
  sample: [keepalived_script]
changed_paths:
  description: The directories and files that were (or, in check mode, would be) changed.
  returned: always
  type: list
  elements: str
  sample: [/etc/haproxy/haproxy.cfg]
backups:
  description: Timestamped copies kept, by file.
  returned: always
  type: dict
  sample: {/etc/haproxy/haproxy.cfg: /etc/haproxy/haproxy.cfg.1234.2026-11-24@10:00:00~}
units:
  description: What O(units) did (or would do), as M(kubeha.control_plane.units) returns it.
  returned: always
  type: dict
  sample: {changed_units: [haproxy], started: [], restarted: [], reloaded: [haproxy], enabled: []}
originals_kept:
  description: The foreign files copied by O(keep_originals), by file.
  returned: always
  type: dict
  sample: {/etc/haproxy/haproxy.cfg: /etc/haproxy/haproxy.cfg.kubeha-orig}
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubeha.control_plane.plugins.module_utils.installer import INSTALL_OPTIONS, Installer
from ansible_collections.kubeha.control_plane.plugins.module_utils.systemd_units import UNIT_OPTIONS, bring_up


def main():
    spec = dict(INSTALL_OPTIONS)
    spec.update(backups_kept=dict(type='int', default=3),
                units=dict(type='list', elements='dict', default=[], options=UNIT_OPTIONS),
                daemon_reload=dict(type='bool', default=False))
    module = AnsibleModule(
        argument_spec=spec,
        supports_check_mode=True,
    )
    installer = Installer(module).install()
    units = bring_up(module, module.params['units'], module.params['daemon_reload'], installer.changed_paths,
                     context=dict(changed_paths=installer.changed_paths))
    result = dict(changed=bool(installer.changed_paths or installer.changed_users or units['changed_units']),
                  changed_users=installer.changed_users, changed_paths=installer.changed_paths, units=units,
                  backups=installer.backups, originals_kept=installer.kept)
    if module._diff:
        result['diff'] = installer.diffs
    module.exit_json(**result)


if __name__ == '__main__':
    main()
