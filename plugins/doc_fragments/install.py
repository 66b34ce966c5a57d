# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The users, directories and files a module installs in one call (config_files, and
    vrrp_config for what keepalived.conf refers to); module_utils.installer implements them."""

    DOCUMENTATION = r'''
options:
  users:
    description:
      - System users to create when they do not exist (C(useradd --system), no home
        directory), before any directory or file is set, so O(files[].owner) may name them.
        An existing user is left as it is, except for its login shell.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: User name.
        type: str
        required: true
      shell:
        description: Login shell.
        type: path
        default: /usr/sbin/nologin
  directories:
    description: Directories to create (with their parents) and set.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path.
        type: path
        required: true
      owner:
        description: Owner name; unset keeps it.
        type: str
      group:
        description: Group name; unset keeps it.
        type: str
      mode:
        description: Octal mode, for example V(0755).
        type: str
  files:
    description: Files to write or remove, in this order.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path; its directory must exist (list it in O(directories)).
        type: path
        required: true
      state:
        description: V(present) writes O(files[].content); V(absent) removes the file.
        type: str
        choices: [present, absent]
        default: present
      content:
        description: The whole content of the file.
        type: str
        default: ''
      owner:
        description: Owner name; unset keeps it (root for a new file).
        type: str
      group:
        description: Group name; unset keeps it.
        type: str
      mode:
        description: Octal mode, for example V(0640). Unset keeps it (V(0600) for a new file).
        type: str
      validate:
        description:
          - Command run on the new content before it replaces the file; V(%s) is the
            path of the temporary file. A non-zero exit leaves the old file in place and
            fails the task with the command's output.
        type: str
      backup:
        description:
          - Keep a timestamped copy of the previous file when the content changes,
            created mode V(0600).
          - Only the newest O(backups_kept) copies of the file are kept (older ones,
            also those made before by Ansible's own C(backup), are removed), each V(0600).
        type: bool
        default: false
  keep_originals:
    description:
      - Before any file is written, copy each O(keep_originals[].path) that exists, lacks
        O(keep_originals[].marker) and has no copy yet, to O(keep_originals[].copy_to).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The file that may have been written by something else.
        type: path
        required: true
      copy_to:
        description: Where its first foreign version is kept.
        type: path
        required: true
      marker:
        description: Text that the files this collection writes contain.
        type: str
        default: kubeha.control_plane
      mode:
        description: Mode of the copy.
        type: str
        default: '0600'
'''
