# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What haproxy gets on one load balancer (every haproxy_ setting, the binds,
the backend servers, the stats socket), and where the load balancer serves
its metrics. Computes only; rules.py checks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.addresses import WILDCARDS, host_port
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.profiles import (
    COLOCATED_FRONTEND_PORT, DEDICATED_FRONTEND_PORT, HAPROXY_BACKEND_NAME, OS, OS_DEFAULT,
)

GUIDE_TEMPLATE = 'haproxy-guide.cfg.j2'


def frontend_port(lbs, cps):
    """6443, or 8443 where a load balancer is also a control-plane node."""
    return COLOCATED_FRONTEND_PORT if set(lbs) & set(cps) else DEDICATED_FRONTEND_PORT


def monitor_url(eff):
    return 'http://%s:%s%s' % (eff['haproxy_monitor_address'], eff['haproxy_monitor_port'],
                               eff['haproxy_monitor_uri'])


def metrics_address(eff, address):
    """kubeha_metrics_address ("node": the host's kubeha_address)."""
    text = str(eff.get('kubeha_metrics_address') or '127.0.0.1').strip()
    return address if text == 'node' else text


def metrics(eff, listen):
    """{address, haproxy, vrrp, bgp}: where each exporter listens ('' when it is off):
    the VRRP exporter's in VRRP mode, the BGP exporter's in BGP mode (kubeha_vip_mode)."""
    out = dict(address=listen)
    routed = eff.get('kubeha_vip_mode') == 'bgp'
    for job, flag, port in (('haproxy', 'haproxy_prometheus_exporter', 'haproxy_metrics_port'),
                            ('vrrp', 'keepalived_metrics_exporter', 'keepalived_metrics_port'),
                            ('bgp', 'bgp_metrics_exporter', 'bgp_metrics_port')):
        on = bool(eff.get(flag)) and eff.get(port) is not None and (job != 'vrrp' or not routed) and (
            job != 'bgp' or routed)
        if job == 'haproxy' and eff.get('haproxy_template') == GUIDE_TEMPLATE:
            on = False  # the guide's configuration, for baselines: as the guide wrote it
        out[job] = host_port(listen, int(eff[port])) if on else ''
    return out


def on_os(settings, family):
    """haproxy's settings with the OS family's packages, unit and paths (``os``) and
    its stats socket (``socket``, which the playbooks read): one place for both."""
    os_settings = OS[family]['haproxy']
    return dict(settings, os=os_settings, socket=os_settings['socket'])


# Inputs that are files already on the load balancers: (variable, what it holds).
# facts.with_facts refuses one that is missing there, before any host changes.
HOST_FILES = (('haproxy_health_check_ca_file', 'the CA certificate (PEM) of the apiservers'),
              ('haproxy_health_check_client_cert', 'the PEM with the client certificate and its key'))


def host_files(eff):
    """The files this load balancer must already have, as [{variable, path, holds}]."""
    return [dict(variable=name, path=str(eff[name]), holds=holds) for name, holds in HOST_FILES if eff.get(name)]


def haproxy(eff, servers, dual_stack, metrics_bind):
    """Every haproxy_ setting (without the prefix), and what the template needs besides:
    the binds, the servers, the OS's packages, unit and paths (``os``; Debian's
    until facts.with_facts knows the host's) and its stats socket."""
    out = dict((name[len('haproxy_'):], value) for name, value in eff.items()
               if name.startswith('haproxy_'))
    front = eff['haproxy_frontend_port']
    port = int(eff.get('haproxy_backend_port') or 6443)
    servers = [dict(name=s.get('name'), address=s.get('address'), port=int(s.get('port') or port),
                    endpoint=host_port(str(s.get('address')), int(s.get('port') or port)))
               for s in (eff.get('haproxy_backend_servers') or servers)
               if isinstance(s, dict) and str(s.get('port') or port).isdigit()]  # rules.check_backend_servers
    listen = str(eff.get('haproxy_frontend_address') or '*')
    if listen in WILDCARDS and dual_stack:
        binds = [':::%d v4v6' % front]  # one socket for both families
    elif listen == '*':
        binds = ['*:%d' % front]
    else:
        binds = [host_port(listen, front)]
    out.update(frontend_port=front, binds=binds, backend_servers=servers,
               backend=HAPROXY_BACKEND_NAME,
               monitor_url=monitor_url(eff),
               metrics_bind=metrics_bind,  # '' when the exporter is off
               host_files=host_files(eff))
    return on_os(out, OS_DEFAULT)
