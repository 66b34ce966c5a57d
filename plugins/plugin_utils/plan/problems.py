# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan's one list of problems: sentences naming host, variable and fix."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class Problems(object):
    """Sentences naming host, variable and fix; identical ones merged across hosts."""

    def __init__(self):
        self._order = []
        self._hosts = {}

    def add(self, host, text):
        if text not in self._hosts:
            self._order.append(text)
            self._hosts[text] = []
        if host and host not in self._hosts[text]:
            self._hosts[text].append(host)

    def lines(self):
        out = []
        for text in self._order:
            hosts = self._hosts[text]
            out.append('%s: %s' % (', '.join(hosts), text) if hosts else text)
        return out
