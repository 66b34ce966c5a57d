# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Values handed to a filter by the templar, as plain Python data (controller side)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def plain(value):
    """Tagged or lazy values from the templar as plain dicts, lists, strings and numbers.

    A filter that copies or validates what it was given (an argument spec
    validation deep-copies its parameters) does so in microseconds on plain
    data; on the templar's lazy, tagged containers the same copy rebuilds and
    re-tags every value (the keepalived_conf filter's copy was the largest
    single cost of a re-run on the controller).
    """
    if isinstance(value, dict):
        return dict((str(k), plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return u'%s' % value
