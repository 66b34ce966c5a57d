# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The profile table and the per-OS paths: the one home of both.

A profile (kubeha_profile, or haproxy_profile / keepalived_profile for one
role) gives the defaults of the variables named in it; a variable set in the
inventory still wins.  The roles' defaults files leave these variables out,
their argument specs say "from the profile", and a unit test keeps the docs,
the templates and the bench bounds in step with this table.

    default  the guide's timings with its flaws fixed: VRRPv2 unicast, adverts
             every 1 s (takeover after a crash < 4 s), https /readyz checks
    fast     sub-second takeover: VRRPv3 adverts every 0.1 s, quicker checks;
             VRRPv3 has no authentication
    guide    the guide's configuration verbatim, for baselines only
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

PROFILE_NAMES = ('default', 'fast', 'guide')

PROFILES = {
    'default': {
        'keepalived_vrrp_version': 2,
        'keepalived_advert_int': 1.0,
        'keepalived_unicast': True,
        'keepalived_track_haproxy': True,
        'keepalived_track_interval': 1.0,
        'keepalived_track_timeout': 1.0,
        'keepalived_track_fall': 2,
        'keepalived_track_rise': 2,
        'keepalived_restart_on_failure': True,
        'keepalived_garp_master_refresh': 60,
        'keepalived_reannounce_after_split': True,
        'keepalived_max_auto_priority': 50,
        'haproxy_template': 'haproxy.cfg.j2',
        'haproxy_health_check': 'https',
        'haproxy_check_inter': '2s',
        'haproxy_check_fastinter': '1s',
        'haproxy_check_downinter': '2s',
        'haproxy_check_fall': 3,
        'haproxy_check_rise': 2,
        'haproxy_check_timeout': '2s',
        'haproxy_shutdown_sessions_on_down': False,
        'haproxy_observe_on_error': 'mark-down',
        'haproxy_timeout_connect': '1s',
        'haproxy_timeout_client': '4h',
        'haproxy_timeout_server': '4h',
        'haproxy_maxconn': 20000,
        # BGP mode (kubeha_vip_mode: bgp): BFD's timers, and the gate that
        # announces the VIP while the local haproxy can serve
        'bgp_bfd_interval_ms': 300,
        'bgp_bfd_multiplier': 3,
        'bgp_gate_interval': 1.0,
        'bgp_gate_fall': 2,
        'bgp_gate_rise': 2,
    },
    'fast': {
        'keepalived_vrrp_version': 3,
        'keepalived_advert_int': 0.1,
        'keepalived_unicast': True,
        'keepalived_track_haproxy': True,
        'keepalived_track_interval': 1.0,
        'keepalived_track_timeout': 1.0,
        'keepalived_track_fall': 1,
        'keepalived_track_rise': 2,
        'keepalived_restart_on_failure': True,
        'keepalived_garp_master_refresh': 60,
        'keepalived_reannounce_after_split': True,
        'keepalived_max_auto_priority': 50,
        'haproxy_template': 'haproxy.cfg.j2',
        'haproxy_health_check': 'https',
        'haproxy_check_inter': '1s',
        'haproxy_check_fastinter': '250ms',
        'haproxy_check_downinter': '500ms',
        'haproxy_check_fall': 2,
        'haproxy_check_rise': 2,
        'haproxy_check_timeout': '500ms',
        'haproxy_shutdown_sessions_on_down': False,
        'haproxy_observe_on_error': 'mark-down',
        'haproxy_timeout_connect': '500ms',
        'haproxy_timeout_client': '4h',
        'haproxy_timeout_server': '4h',
        'haproxy_maxconn': 20000,
        'bgp_bfd_interval_ms': 100,
        'bgp_bfd_multiplier': 3,
        'bgp_gate_interval': 0.5,
        'bgp_gate_fall': 1,
        'bgp_gate_rise': 2,
    },
    # Only what the guide's files say; every value here is rendered by
    # haproxy-guide.cfg.j2 or keepalived's config (a unit test checks it).
    'guide': {
        'keepalived_vrrp_version': 2,
        'keepalived_advert_int': 1.0,
        'keepalived_unicast': False,
        'keepalived_track_haproxy': False,
        'keepalived_restart_on_failure': False,
        'keepalived_garp_master_refresh': 0,
        'keepalived_reannounce_after_split': False,
        'keepalived_max_auto_priority': 0,
        'haproxy_template': 'haproxy-guide.cfg.j2',
        'haproxy_health_check': 'tcp',
        'haproxy_check_inter': '2s',
        'haproxy_check_fall': 3,
        'haproxy_check_rise': 2,
        'haproxy_check_timeout': '5s',
        'haproxy_timeout_connect': '5s',
        'haproxy_timeout_client': '30s',
        'haproxy_timeout_server': '30s',
        'haproxy_maxconn': 2000,
    },
}

# keepalived_reannounce_after_split: the holder's second announcement after it
# heard another MASTER (vrrp_garp_lower_prio_delay; keepalived's default is 5 s).
REANNOUNCE_DELAY_S = 1

# Every variable a profile may set (the keys of the default profile).
PROFILE_VARIABLES = tuple(sorted(PROFILES['default']))

# What differs by OS family (ansible_facts.os_family): packages, units, paths.
# The one home of these values (the roles have no vars/<OS>.yml). Only Debian
# is tested (12 bookworm in make test), so only Debian is here: the plan refuses a
# load balancer of another family, naming it. A new family is a new entry,
# tested in the lab first.
OS_DEFAULT = 'Debian'
OS = {
    'Debian': {
        'haproxy': {'packages': ['haproxy'], 'service': 'haproxy', 'config_path': '/etc/haproxy/haproxy.cfg',
                    'user': 'haproxy', 'group': 'haproxy', 'chroot': '/var/lib/haproxy',
                    'socket': '/run/haproxy/admin.sock', 'pidfile': '/run/haproxy.pid'},
        'keepalived': {'packages': ['keepalived', 'curl'], 'service': 'keepalived',
                       'config_path': '/etc/keepalived/keepalived.conf', 'pidfile': '/run/keepalived.pid'},
        'bgp': {'packages': ['frr', 'frr-pythontools', 'curl', 'iptables'], 'service': 'frr', 'config_path': '/etc/frr/frr.conf',
                'daemons_path': '/etc/frr/daemons', 'user': 'frr', 'group': 'frr'},
    },
}

# The frontend port: kubeadm's HA guide puts haproxy on 8443 when it shares a
# host with an apiserver (which holds 6443), else 6443.
DEDICATED_FRONTEND_PORT = 6443
COLOCATED_FRONTEND_PORT = 8443
HAPROXY_BACKEND_NAME = 'kube-apiservers'

_DURATION = re.compile(r'^(\d+)(us|ms|s|m|h|d)?$')
_UNIT_S = {'us': 1e-6, 'ms': 1e-3, 's': 1.0, 'm': 60.0, 'h': 3600.0, 'd': 86400.0}


def profile_value(profile, variable):
    """The profile's default for ``variable`` (the default profile's if it says nothing)."""
    table = PROFILES.get(profile) or PROFILES['default']
    if variable in table:
        return table[variable]
    return PROFILES['default'][variable]


def haproxy_seconds(text):
    """Seconds in a haproxy time ("500ms", "2s", "4h"; a bare number is ms), or None."""
    match = _DURATION.match(str(text).strip())
    if not match:
        return None
    return int(match.group(1)) * _UNIT_S[match.group(2) or 'ms']


def unready_bound_s(profile):
    """Longest time haproxy may still route to an apiserver after /readyz turns 500.

    The check that first sees it starts up to ``inter`` later and takes up to
    ``timeout``; then ``fall - 1`` more checks at ``fastinter``.  None for a
    tcp check, which never sees readiness.
    """
    if profile_value(profile, 'haproxy_health_check') != 'https':
        return None
    inter = haproxy_seconds(profile_value(profile, 'haproxy_check_inter'))
    fastinter = haproxy_seconds(profile_value(profile, 'haproxy_check_fastinter'))
    timeout = haproxy_seconds(profile_value(profile, 'haproxy_check_timeout'))
    fall = int(profile_value(profile, 'haproxy_check_fall'))
    return inter + (fall - 1) * fastinter + timeout


def skew_s(advert_int, priority):
    """A VRRP backup's skew time: (256 - priority) / 256 adverts."""
    return (256 - int(priority)) / 256.0 * float(advert_int)


def vip_move_bounds_s(profile, backup_priority):
    """When the backup holds the VIP after each kind of fault on the holder, by the protocol:
    keepalived stops (priority-0 advert, then the skew), the holder dies (3 missed
    adverts + skew), its haproxy dies (track script fails `fall` times, FAULT,
    then the skew; None without a track script)."""
    advert = float(profile_value(profile, 'keepalived_advert_int'))
    skew = skew_s(advert, backup_priority)
    tracked = profile_value(profile, 'keepalived_track_haproxy')
    return {
        'keepalived_stop': skew,
        'holder_container_kill': 3 * advert + skew,
        'haproxy_kill': (int(profile_value(profile, 'keepalived_track_fall'))
                         * float(profile_value(profile, 'keepalived_track_interval')) + skew)
        if tracked else None,
    }


def takeover_bound_s(advert_int):
    """At most how long a backup waits for a dead holder: its master-down interval,
    3 missed adverts plus its skew time ((256 - priority) / 256 adverts, < 1)."""
    return 4 * float(advert_int)


def auto_priority_delay_us(advert_int):
    """After how long a late VRRP process raises itself to real-time priority
    (keepalived's min_auto_priority_delay, in microseconds): one advert interval,
    and keepalived's own 1 s default for intervals of 1 s or more. At 0.1 s
    adverts keepalived's default would react only after ten adverts were late,
    long after a backup took over (3 missed adverts + skew)."""
    return int(round(min(float(advert_int), 1.0) * 1000000))


def wire_listen_s(advert_int):
    """How long the wire check listens for VRRP speakers: three advert intervals
    of ours, and never under 3 s, so a foreign router on the common 1 s
    interval is heard at least twice."""
    return max(3 * float(advert_int), 3.0)
