# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kubeha.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan: every value the roles, playbooks, verify and bench need, computed
once from what the inventory says, and every rule checked before any host.

``build()`` takes each host's variables (as the inventory and ``-e`` give
them), the inventory's groups and the roles' defaults and argument specs; it
returns the per-load-balancer settings, every cluster's endpoint, and every
problem as a sentence naming host, variable and fix. It needs no facts, so
it runs before any host is contacted. ``facts.with_facts()`` then completes
that plan with what the load balancers' gathered facts tell (the VRRP
interface, the OS) and runs the rules that read them: the plan is computed
once, and completed once. The filter plugin ``kubeha.control_plane.plan``
feeds them on the controller; the unit tests feed them directly.

    inputs.py      the one way in: variables, facts, defaults, specs, types
    syntax.py      every string against the form of the file it is written to
    rules.py       the checks (they compute nothing the plan keeps)
    clusters.py    which hosts make each cluster; the rules between clusters
    keepalived.py  keepalived.conf's parameters, as vrrp_config takes them
    haproxy.py     haproxy's settings and the metrics addresses
    endpoint.py    each cluster's endpoint, and one host's view of the plan
    announcer.py   what puts a load balancer in the VIP's path, and what must not be there
    listeners.py   the ports a load balancer binds
    facts.py       the plan completed with the gathered facts
    rollout.py     the order of a rolling change
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubeha.control_plane.plugins.module_utils.vrrp_config import parse_ip
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan import (
    bgp as B, haproxy as H, keepalived as K, rules as R, rules_bgp as RB, syntax as S,
)
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.addresses import node_address
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.clusters import check_fleet, clusters_of
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.endpoint import endpoint
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.announcer import announcer, leftovers, listeners
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.facts import with_facts
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.inputs import effective
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.problems import Problems
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.profiles import OS, OS_DEFAULT

LB_ONLY = ('haproxy_', 'keepalived_', 'bgp_')
FACT_RULE_INPUTS = ('keepalived_interface', 'kubeha_vip', 'kubeha_vip_ipv6',
                    'keepalived_allow_vip_outside_subnet',
                    # the priority a running load balancer keeps (keepalived.priorities)
                    'keepalived_priority', 'keepalived_priority_base', 'keepalived_vrid')
# keepalived role settings the plan hands to the role as they are (checked by their spec)
KEEPALIVED_AS_IS = ('script_user', 'state_dir', 'config_backup', 'config_backups_kept',
                    'health_timer', 'health_timer_interval', 'health_timer_on_failure')


class _Inventory(object):
    """What every cluster's builder reads: variables, settings, problems."""

    def __init__(self, raw, effs, settings, unreadable, problems, defaults):
        self.raw, self.effs, self.defaults = raw, effs, defaults
        self.settings, self.unreadable, self.problems = settings, unreadable, problems
        self.addresses = {}  # {ip: the first host that has it}
        for host in effs:
            ip = parse_ip(node_address(host, raw[host]))
            if ip is not None:
                self.addresses.setdefault(str(ip), host)

    def address(self, host):
        return node_address(host, self.raw[host])


def build(raw, groups, settings, defaults, specs, facts=None, unreadable=None):
    """The plan for every load balancer and every cluster's endpoint, with every problem.

    raw       {host: {variable: value}} as the inventory gives them
    groups    {group: [host, ...]}
    settings  kubeha_lb_group, kubeha_cp_group, kubeha_client_group,
              kubeha_clusters, kubeha_strict_variables (the play's values)
    defaults  {variable: value} the roles' defaults files
    specs     {variable: argument spec} every role's argument spec
    facts     {host: network facts} when gathered: the plan is then completed
              with them (facts.with_facts), as a playbook does once it has them
    unreadable {host: {variable: error}} variables whose template failed

    Returns errors, warnings, hosts (per load balancer, with its cluster),
    retired (per load balancer with kubeha_lb_state: absent: what site.yml
    stops there), clusters (names, in order), endpoints (per cluster), member_of
    ({host: cluster} for load balancers and control-plane nodes), groups
    ({host: the groups that name it by what it does, and by cluster}) and
    endpoint (the first cluster's, for a single-cluster inventory).
    """
    problems, warnings = Problems(), Problems()
    clusters = clusters_of(settings, groups, problems)
    unreadable = unreadable or {}
    R.check_unreadable(unreadable, [h for cluster in clusters for h in cluster[1]], problems)
    everyone, effs = _effective(clusters, raw, defaults, specs, settings, problems, warnings)
    inventory = _Inventory(raw, effs, settings, unreadable, problems, defaults)
    clusters, retiring = _retiring(clusters, effs, problems)

    plan_hosts, endpoints, member_of = {}, {}, {}
    for name, lbs, cps, clients in clusters:
        for host in lbs + cps:
            member_of.setdefault(host, name)
        hosts, endpoints[name] = _cluster(name, (lbs, cps, clients), inventory)
        plan_hosts.update(hosts)
    if len(endpoints) > 1:
        check_fleet(endpoints, None, problems)
    names = [cluster[0] for cluster in clusters]
    retired = dict((host, K.retired(name, inventory.address(host), endpoints[name]['vips'], OS[OS_DEFAULT],
                                    endpoints[name]['mode']))
                   for host, name in retiring.items())
    plan = dict(errors=problems.lines(), warnings=warnings.lines(), hosts=plan_hosts, retired=retired,
                clusters=names, endpoints=endpoints, member_of=member_of,
                groups=groups_of(clusters, retired, [h for h in everyone if effs[h].get('kubeha_set_hostname')],
                                 [h for h in plan_hosts if plan_hosts[h]['vip_mode'] == 'bgp']),
                endpoint=endpoints[names[0]] if names else endpoint('', ([], [], []), effs, {}, raw, {}))
    return with_facts(plan, facts) if facts else plan


def _effective(clusters, raw, defaults, specs, settings, problems, warnings):
    """Every host of the clusters, in order, and its effective variables (the
    inventory's over the roles' defaults, typed by the specs), each checked:
    known names, addresses, the form of every string."""
    lbs_all = [h for cluster in clusters for h in cluster[1]]
    everyone = []
    for cluster in clusters:
        for host in cluster[1] + cluster[2] + cluster[3]:
            if host not in everyone:
                everyone.append(host)
    for host in everyone:
        raw.setdefault(host, {})
    R.check_known(everyone, raw, set(specs), settings.get('kubeha_strict_variables'), problems, warnings)
    # haproxy_ and keepalived_ settings matter on the load balancers only (a
    # group_vars/all typo is reported once per load balancer, not per node).
    effs = dict((h, effective(raw[h] if h in lbs_all else dict(
        (k, v) for k, v in raw[h].items() if not k.startswith(LB_ONLY)), defaults, specs, h, problems))
        for h in everyone)
    R.check_addresses(everyone, raw, problems)
    for host in everyone:
        S.check_strings(host, effs[host], problems)
    return everyone, effs


def _retiring(clusters, effs, problems):
    """The clusters without the load balancers whose kubeha_lb_state is absent,
    and {retired load balancer: its cluster}. A cluster keeps at least one."""
    out, retired = [], {}
    for name, lbs, cps, clients in clusters:
        gone = [h for h in lbs if effs[h].get('kubeha_lb_state') == 'absent']
        if lbs and len(gone) == len(lbs):
            problems.add(None, 'every load balancer of cluster %r has kubeha_lb_state: absent: '
                               'keep at least one present (retire the others first), or remove '
                               'the cluster from the inventory' % name)
        retired.update((h, name) for h in gone)
        out.append((name, [h for h in lbs if h not in gone], cps, clients))
    return out, retired


def groups_of(clusters, retired=None, renamed=(), routed=()):
    """{host: [group, ...]}: kubeha_loadbalancers, kubeha_control_plane and
    kubeha_clients by what the host does, kubeha_cluster_<name> by cluster;
    kubeha_retired for the load balancers with kubeha_lb_state: absent;
    kubeha_set_hostname for the load balancers and control-plane nodes among
    ``renamed`` (kubeha_set_hostname: true); kubeha_all_serve for the load balancers
    among ``routed`` (kubeha_vip_mode: bgp: every one serves)."""
    out = dict((host, ['kubeha_retired']) for host in retired or {})
    for name, lbs, cps, clients in clusters:
        for host in lbs + cps + clients:
            entry = out.setdefault(host, [])
            for group, members in (('kubeha_loadbalancers', lbs), ('kubeha_control_plane', cps),
                                   ('kubeha_clients', clients), ('kubeha_cluster_' + name, [host]),
                                   ('kubeha_set_hostname', [h for h in lbs + cps if h in renamed]),
                                   ('kubeha_all_serve', [h for h in lbs if h in routed])):
                if host in members and group not in entry:
                    entry.append(group)
    return out


def _cluster(name, members, inventory):
    """One cluster's load balancers and endpoint (every per-cluster rule)."""
    lbs, cps = members[0], members[1]
    effs, problems = inventory.effs, inventory.problems
    prios = K.priorities(lbs, effs) if lbs else {}
    R.check_priorities(lbs, prios, problems)
    if lbs:
        R.check_agreement(lbs, effs, problems)
    for host in lbs:
        if effs[host].get('haproxy_frontend_port') is None:
            effs[host]['haproxy_frontend_port'] = H.frontend_port(lbs, cps)
    plan_hosts = dict((host, _load_balancer(host, name, members, prios, inventory)) for host in lbs)
    return plan_hosts, endpoint(name, members, effs, prios, inventory.raw, plan_hosts)


def _load_balancer(host, cluster, members, prios, inventory):
    """One load balancer's settings (every per-host rule checked on the way)."""
    lbs, cps = members[0], members[1]
    eff, problems = inventory.effs[host], inventory.problems
    address = inventory.address(host)
    vip, vip6 = K.vips(eff)
    peers = [h for h in lbs if h != host]
    routed = B.mode(eff) == 'bgp'
    RB.check_mode_settings(host, eff, inventory.raw[host], inventory.defaults, problems)
    R.check_haproxy(host, eff, cps, problems)
    R.check_reserved(host, eff, problems)
    R.check_vip(host, eff, inventory.addresses, address, problems, routed)
    R.check_vip6(host, eff, vip, inventory.addresses, problems)
    if not routed:
        R.check_vrrp_settings(host, eff, peers, inventory.settings['kubeha_lb_group'],
                              inventory.unreadable.get(host, {}), problems)
    vip_ips = [str(v.ip) for v in (vip, vip6) if v is not None]
    # the serving check (keepalived's track script, or the BGP gate's check)
    check = _serving_check(eff, peers, inventory, vip_ips, routed)
    vrrp = bgp = None
    if not routed:  # BGP mode has no vrrp block
        vrrp = _vrrp_host(host, eff, (vip, vip6), check, dict(
            address=address, priority=prios[host], top=max(prios.values()),
            peers=[inventory.address(p) for p in peers], peer_priorities=[prios[p] for p in peers]),
            [inventory.address(h) for h in lbs], problems)
    listen = H.metrics_address(eff, address)
    R.check_metrics(host, eff, listen, vip_ips, problems)
    metrics = H.metrics(eff, listen)
    if routed:
        bgp = B.host(eff, address, vip_ips, check)
        bgp['exporter'] = metrics['bgp']  # the BGP exporter's listen address ('' when off)
        bgp['handoff'] = B.handoff(eff, host, [(h, inventory.address(h)) for h in lbs], vip_ips)
        RB.check_bgp(host, eff, bgp, problems)
        RB.check_peers_are_routers(host, bgp, dict((inventory.address(h), h) for h in lbs), problems)
    else:
        vrrp['exporter'] = metrics['vrrp']  # the VRRP exporter's listen address ('' when off)
    return dict(
        cluster=cluster, address=address, router_id=K.router_id(host, eff),
        priority=prios[host], vrrp=vrrp, metrics=metrics, vip_mode='bgp' if routed else 'vrrp', bgp=bgp,
        announcer=announcer(OS[OS_DEFAULT]['haproxy'], vrrp, bgp),
        # what must not be here (the other mode's, a hand-off left on), and where the exporter listens
        leftovers=leftovers(OS[OS_DEFAULT], vip_ips, routed), exporters=listeners(metrics, routed),
        # what the rules that read the facts need of the inventory (facts.with_facts)
        given=dict((name, eff.get(name)) for name in FACT_RULE_INPUTS),
        haproxy=H.haproxy(eff, [dict(name=h, address=inventory.address(h)) for h in cps],
                          dual_stack=vip6 is not None or (vip is not None and vip.version == 6),
                          metrics_bind=metrics['haproxy']))


def _serving_check(eff, peers, inventory, vip_ips, routed):
    """The check that says whether this load balancer can serve, in either mode
    (keepalived's track script, the BGP gate's): the local haproxy's monitor URL,
    its timeout, the peers' frontends it asks before it fails, and how long a
    check that timed out keeps failing."""
    ask = eff.get('keepalived_track_ask_peers') and (routed or eff.get('keepalived_track_haproxy'))
    return dict(
        track_url=eff.get('keepalived_track_url') or H.monitor_url(eff),
        track_timeout=float(eff.get('keepalived_track_timeout') or 1),
        # a check that timed out (an overloaded host) keeps failing this long
        # after the checks pass again, so the VIP does not come back to flap
        track_overload_hold=int(eff.get('keepalived_track_overload_hold') or 0),
        track_peer_urls=K.peer_frontend_urls(peers, inventory.effs, inventory.raw, vip_ips) if ask else [])


def _vrrp_host(host, eff, vips, check, peering, host_addresses, problems):
    """VRRP mode: what the keepalived role reads (_vrrp), its rules checked."""
    vip, _vip6 = vips
    vrrp = _vrrp(host, eff, vips, eff.get('keepalived_interface') or '', peering)
    vrrp.update(check, host_addresses=host_addresses)
    if vip is not None:
        secret = ({'authentication': dict(auth_type='PASS', auth_pass=eff['keepalived_auth_pass'])}
                  if vrrp['vrrp_version'] == 2 and eff.get('keepalived_auth_pass') else {})
        R.check_vrrp_rules(host, dict(vrrp, instances=[vrrp['instance']]), secret, problems)
    vrrp['fact'] = K.fact(eff, peering['priority'])  # what the keepalived role records (K.FACT_FILE)
    vrrp.update(fact_file=K.FACT_FILE, fact_dir=K.FACT_DIR, units=dict(K.UNITS))
    return vrrp


def _vrrp(host, eff, vips, interface, peering):
    """What the keepalived role reads: vrrp_config's parameters (global_defs,
    scripts, the instance; host_addresses and the secret are added by the
    caller and the role) and what its scripts and units need."""
    vip, vip6 = vips
    preempt = bool(eff.get('keepalived_preempt'))
    track = K.scripts(eff, int(eff['keepalived_track_weight']) if preempt else 0)
    out = dict(
        global_defs=K.global_defs(host, eff),
        scripts=track,
        instance=K.instance(eff, interface, vip, vip6, peering, track),
        vrrp_version=int(eff['keepalived_vrrp_version']),
        restart_on_failure=bool(eff['keepalived_restart_on_failure']),
        restart_delay=K.restart_delay(eff),
        check_vrid_on_wire=bool(eff.get('keepalived_check_vrid_on_wire')),
        # keepalived_vrrp_firewall: VRRP accepted only from these, over this family's iptables
        firewall=bool(eff.get('keepalived_vrrp_firewall')),
        peers=list(peering['peers']),
        family=6 if (vip is not None and vip.version == 6) else 4,
        profile=eff['keepalived_profile'],
        libexec=K.LIBEXEC,
        os=OS[OS_DEFAULT]['keepalived'],  # Debian's until facts.with_facts knows the host's
        vips=[str(v.ip) for v in (vip, vip6) if v is not None],
    )
    out.update((name, eff.get('keepalived_' + name)) for name in KEEPALIVED_AS_IS)
    return out
