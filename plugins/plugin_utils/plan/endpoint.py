# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A cluster's endpoint as everyone reads it (VIPs, port, members, priorities,
the expected holder, the kubeadm snippet), and the plan as one host reads it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.addresses import (
    host_port, node_address, vip_cidr,
)
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.haproxy import monitor_url
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.keepalived import vips as vips_of
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.profiles import (
    HAPROXY_BACKEND_NAME, takeover_bound_s, wire_listen_s,
)


def endpoint(name, members, effs, prios, raw, plan_hosts):
    """``members``: (load balancers, control-plane nodes, clients)."""
    lbs, cps, clients = members
    first = effs[lbs[0]] if lbs else {}
    vip, vip6 = vips_of(first)
    port = first.get('haproxy_frontend_port') if lbs else None
    address = str(vip.ip) if vip is not None else ''
    ips = [v for v in (address, str(vip6.ip) if vip6 is not None else '') if v]
    where = host_port(address, port)
    preempt = bool(first.get('keepalived_preempt', True))
    everyone = lbs + cps + clients
    return dict(
        name=name,
        # vrrp: one holder at a time; bgp: every load balancer that can serve announces the VIP
        mode='bgp' if first.get('kubeha_vip_mode') == 'bgp' else 'vrrp',
        serves='every' if first.get('kubeha_vip_mode') == 'bgp' else 'one',  # as the hosts' announcer says
        vip=address,
        vip_cidr=vip_cidr(first.get('kubeha_vip') or '') if lbs else '',
        vips=ips,
        urls=['https://%s' % host_port(v, port) for v in ips],
        vrid=first.get('keepalived_vrid') if lbs else None,
        port=port,
        address=where,
        url='https://%s' % where,
        load_balancers=lbs,
        control_plane=cps,
        clients=clients,
        members=[h for i, h in enumerate(everyone) if h not in everyone[:i]],
        probe_host=(clients + lbs + [''])[0],
        addresses=dict((h, node_address(h, raw[h])) for h in everyone),
        priorities=prios,
        preempt=preempt,
        instance=first.get('keepalived_instance_name', 'VI_1'),
        state_dir=first.get('keepalived_state_dir', '/run/keepalived-kubeha'),
        backend=HAPROXY_BACKEND_NAME,
        backend_port=int(first.get('haproxy_backend_port') or 6443) if lbs else 6443,
        monitor_url=monitor_url(first) if lbs else '',
        # {load balancer: {haproxy: 'address:port', vrrp: ...}} ('' when that exporter is off)
        metrics=dict((h, dict((job, plan_hosts[h]['metrics'][job]) for job in ('haproxy', 'vrrp', 'bgp')))
                     for h in lbs if h in plan_hosts),
        profile=first.get('keepalived_profile', 'default') if lbs else 'default',
        haproxy_profile=first.get('haproxy_profile', 'default') if lbs else 'default',
        takeover_bound_s=takeover_bound_s(first['keepalived_advert_int']) if lbs else None,
        wire_listen_s=wire_listen_s(first['keepalived_advert_int']) if lbs else None,
        kubeadm=dict(control_plane_endpoint=where, cert_sans=ips,
                     init_command='kubeadm init --control-plane-endpoint "%s" --upload-certs' % where,
                     snippet_file=str(first.get('kubeha_kubeadm_snippet_file') or '')),
        **ranking(lbs, prios, preempt)
    )


def ranking(lbs, prios, preempt):
    """by_priority (highest first; inventory order between equals) and, with
    preempt, the expected_holder (the first of them; '' without preempt)."""
    order = sorted(lbs, key=lambda h: (-prios[h], lbs.index(h)))
    return dict(by_priority=order, expected_holder=order[0] if (order and preempt) else '')


def view(plan, host):
    """The plan as ``host`` reads it: its ``cluster``, that cluster's ``endpoint``,
    and its own load balancer settings (``host``; for a load balancer with
    kubeha_lb_state: absent, its retirement; empty for other hosts). Small on
    purpose: every host holds its view, so it does not grow with the fleet."""
    retired = (plan.get('retired') or {}).get(host)
    cluster = (plan.get('member_of') or {}).get(host) or (retired or {}).get('cluster')
    if cluster is None:
        # a client: the first cluster it serves
        cluster = next((n for n in plan['clusters'] if host in plan['endpoints'][n]['members']),
                       plan['clusters'][0] if plan.get('clusters') else None)
    return dict(cluster=cluster, endpoint=plan['endpoints'][cluster] if cluster is not None else plan['endpoint'],
                host=(plan.get('hosts') or {}).get(host) or retired or {})
