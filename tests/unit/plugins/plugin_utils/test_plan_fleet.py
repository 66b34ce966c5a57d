"""Several clusters in one inventory, dual-stack VIPs and the rollout order."""
import copy

import pytest

from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.inputs import role_defaults, role_specs
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan import build as P, endpoint, rollout
from ansible_collections.kubeha.control_plane.plugins.module_utils import vrrp_config

SETTINGS = {'kubeha_lb_group': 'loadbalancers', 'kubeha_cp_group': 'control_plane',
            'kubeha_client_group': 'clients', 'kubeha_strict_variables': False,
            'kubeha_clusters': ['alpha', 'beta']}
GROUPS = {'loadbalancers': ['a-lb1', 'a-lb2', 'b-lb1', 'b-lb2'],
          'control_plane': ['a-cp1', 'b-cp1', 'b-cp2'],
          'clients': ['tester'],
          'alpha': ['a-lb1', 'a-lb2', 'a-cp1'],
          'beta': ['b-lb1', 'b-lb2', 'b-cp1', 'b-cp2']}
CLUSTER_VARS = {'alpha': {'kubeha_vip': '10.1.0.100/24', 'keepalived_vrid': 51},
                'beta': {'kubeha_vip': '10.2.0.100/24', 'keepalived_vrid': 52}}
ADDRESSES = {'a-lb1': '10.1.0.11', 'a-lb2': '10.1.0.12', 'a-cp1': '10.1.0.21',
             'b-lb1': '10.2.0.11', 'b-lb2': '10.2.0.12', 'b-cp1': '10.2.0.21',
             'b-cp2': '10.2.0.22', 'tester': '10.9.0.2'}


def build(cluster_vars=None, groups=None, host_vars=None, settings=None, facts=None):
    groups = copy.deepcopy(groups or GROUPS)
    cluster_vars = copy.deepcopy(cluster_vars or CLUSTER_VARS)
    raw = {}
    for host, address in ADDRESSES.items():
        raw[host] = {'kubeha_address': address, 'keepalived_auth_pass': 'secret1'}
        for name, values in cluster_vars.items():
            if host in groups.get(name, []):
                raw[host].update(values)
    for host, values in (host_vars or {}).items():
        raw.setdefault(host, {}).update(values)
    return P.build(raw, groups, dict(SETTINGS, **(settings or {})), role_defaults(),
                   role_specs(), facts=facts)


def test_two_clusters_are_planned_apart():
    plan = build()
    assert plan['errors'] == []
    assert plan['clusters'] == ['alpha', 'beta']
    alpha, beta = plan['endpoints']['alpha'], plan['endpoints']['beta']
    assert (alpha['vip'], beta['vip']) == ('10.1.0.100', '10.2.0.100')
    assert alpha['load_balancers'] == ['a-lb1', 'a-lb2'] and beta['control_plane'] == ['b-cp1', 'b-cp2']
    # priorities count within each cluster; backends are the cluster's own apiservers
    assert alpha['priorities'] == {'a-lb1': 101, 'a-lb2': 100}
    assert beta['expected_holder'] == 'b-lb1'
    assert [s['address'] for s in plan['hosts']['b-lb2']['haproxy']['backend_servers']] == [
        '10.2.0.21', '10.2.0.22']
    assert plan['hosts']['a-lb2']['vrrp']['instance']['unicast_peers'] == ['10.1.0.11']
    assert plan['member_of'] == {'a-lb1': 'alpha', 'a-lb2': 'alpha', 'a-cp1': 'alpha',
                                 'b-lb1': 'beta', 'b-lb2': 'beta', 'b-cp1': 'beta', 'b-cp2': 'beta'}
    # a client in no cluster's group serves every cluster
    assert alpha['clients'] == beta['clients'] == ['tester']


def test_each_host_reads_its_own_cluster():
    plan = build()
    assert endpoint.view(plan, 'b-cp2')['endpoint']['vip'] == '10.2.0.100'
    assert endpoint.view(plan, 'a-lb1')['cluster'] == 'alpha'
    assert endpoint.view(plan, 'tester')['endpoint']['name'] == 'alpha'


@pytest.mark.parametrize('cluster_vars, groups, message', [
    ({'alpha': {'kubeha_vip': '10.1.0.100/24', 'keepalived_vrid': 51},
      'beta': {'kubeha_vip': '10.1.0.100/24', 'keepalived_vrid': 52,
               'keepalived_allow_vip_outside_subnet': True}}, None,
     "clusters 'alpha' and 'beta' both use the VIP 10.1.0.100"),
    ({'alpha': {'kubeha_vip': '10.1.0.100/16', 'keepalived_vrid': 51},
      'beta': {'kubeha_vip': '10.1.0.200/16', 'keepalived_vrid': 51,
               'keepalived_allow_vip_outside_subnet': True}}, None,
     "clusters 'alpha' and 'beta' both use keepalived_vrid 51 on the same network (10.1.0.0/16)"),
    ({'alpha': {'kubeha_vip': '10.1.0.100', 'keepalived_vrid': 51},
      'beta': {'kubeha_vip': '10.2.0.100', 'keepalived_vrid': 51}}, None,
     "clusters 'alpha' and 'beta' both use keepalived_vrid 51 on the same network "
     "(a network not known yet)"),
    (None, dict(GROUPS, beta=GROUPS['beta'] + ['a-cp1']),
     "a-cp1: is in cluster 'alpha' and in cluster 'beta'"),
    (None, dict(GROUPS, beta=['b-lb1', 'b-lb2']),
     "cluster 'beta' has no control-plane node"),
    (None, dict(GROUPS, beta=['b-lb1', 'b-cp1', 'b-cp2']),
     "b-lb2: is in group 'loadbalancers' but in none of the clusters kubeha_clusters names "
     "(alpha, beta)"),
    (None, dict((k, v) for k, v in GROUPS.items() if k != 'beta'),
     "kubeha_clusters names group 'beta', which is missing or empty"),
    ({'alpha': dict(CLUSTER_VARS['alpha'], kubeha_kubeadm_snippet_file='kubeadm.yml'),
      'beta': dict(CLUSTER_VARS['beta'], kubeha_kubeadm_snippet_file='kubeadm.yml')}, None,
     "clusters 'alpha' and 'beta' both write the kubeadm snippet to kubeadm.yml"),
])
def test_clusters_that_collide_are_refused_naming_both(cluster_vars, groups, message):
    errors = build(cluster_vars=cluster_vars, groups=groups)['errors']
    assert any(message in e for e in errors), errors


def test_one_vrid_on_two_networks_is_fine():
    vars_ = {'alpha': dict(CLUSTER_VARS['alpha'], keepalived_vrid=51),
             'beta': dict(CLUSTER_VARS['beta'], keepalived_vrid=51)}
    assert build(cluster_vars=vars_)['errors'] == []


def test_settings_of_one_cluster_do_not_have_to_agree_with_another():
    vars_ = {'alpha': dict(CLUSTER_VARS['alpha'], kubeha_profile='fast'),
             'beta': CLUSTER_VARS['beta']}
    plan = build(cluster_vars=vars_)
    assert plan['errors'] == []
    assert plan['endpoints']['alpha']['profile'] == 'fast'
    assert plan['endpoints']['beta']['profile'] == 'default'


def test_without_kubeha_clusters_the_inventory_is_one_cluster():
    plan = build(settings={'kubeha_clusters': []},
                 cluster_vars={'alpha': CLUSTER_VARS['alpha'], 'beta': CLUSTER_VARS['alpha']})
    assert plan['clusters'] == ['kubernetes']
    assert plan['endpoint']['load_balancers'] == GROUPS['loadbalancers']


# ------------------------------------------------------------ dual-stack

DUAL = {'alpha': dict(CLUSTER_VARS['alpha'], kubeha_vip_ipv6='fd00:1::100/64'),
        'beta': CLUSTER_VARS['beta']}


def test_a_dual_stack_endpoint_has_both_vips_on_one_instance():
    plan = build(cluster_vars=DUAL)
    assert plan['errors'] == []
    ep = plan['endpoints']['alpha']
    assert ep['vips'] == ['10.1.0.100', 'fd00:1::100']
    assert ep['urls'] == ['https://10.1.0.100:6443', 'https://[fd00:1::100]:6443']
    assert ep['kubeadm']['cert_sans'] == ['10.1.0.100', 'fd00:1::100']
    inst = plan['hosts']['a-lb1']['vrrp']['instance']
    assert inst['virtual_ipaddresses'] == ['10.1.0.100/24']
    assert inst['virtual_ipaddresses_excluded'] == ['fd00:1::100/64']
    assert plan['hosts']['a-lb1']['haproxy']['binds'] == [':::6443 v4v6']
    assert plan['hosts']['b-lb1']['haproxy']['binds'] == ['*:6443']
    text = vrrp_config.render({'instances': [dict(inst, interface='eth0', virtual_router_id=51)]})
    assert 'virtual_ipaddress_excluded {\n        fd00:1::100/64 dev eth0\n    }' in text


@pytest.mark.parametrize('vip6, vip, message', [
    ('10.1.0.101/24', '10.1.0.100/24', "kubeha_vip_ipv6 '10.1.0.101/24' is not an IPv6 address"),
    ('fd00:1::100/64', 'fd00:1::99/64', 'is set beside an IPv6 kubeha_vip'),
])
def test_bad_ipv6_vips_are_refused(vip6, vip, message):
    vars_ = {'alpha': dict(CLUSTER_VARS['alpha'], kubeha_vip=vip, kubeha_vip_ipv6=vip6,
                           keepalived_vrrp_version=3),
             'beta': CLUSTER_VARS['beta']}
    errors = build(cluster_vars=vars_)['errors']
    assert any(message in e for e in errors), errors


def test_the_same_ipv6_vip_in_two_clusters_is_refused():
    vars_ = {'alpha': dict(CLUSTER_VARS['alpha'], kubeha_vip_ipv6='fd00:1::100/64'),
             'beta': dict(CLUSTER_VARS['beta'], kubeha_vip_ipv6='fd00:1::100/64')}
    errors = build(cluster_vars=vars_)['errors']
    assert any("both use the VIP fd00:1::100" in e for e in errors), errors


def test_a_plain_ipv6_vip_outside_the_interface_subnets_is_refused():
    facts = {}
    for host in ('a-lb1', 'a-lb2'):
        facts[host] = {'interfaces': ['eth0'], 'os_family': 'Debian',
                       'eth0': {'ipv4': {'address': ADDRESSES[host], 'netmask': '255.255.255.0'},
                                'ipv6': [{'address': 'fd00:1::%s' % host[-1], 'prefix': '64',
                                          'scope': 'global'}]}}
    good = {'alpha': dict(CLUSTER_VARS['alpha'], kubeha_vip_ipv6='fd00:1::100'),
            'beta': CLUSTER_VARS['beta']}
    assert build(cluster_vars=good, facts=facts)['errors'] == []
    bad = {'alpha': dict(CLUSTER_VARS['alpha'], kubeha_vip_ipv6='fd00:2::100'),
           'beta': CLUSTER_VARS['beta']}
    errors = build(cluster_vars=bad, facts=facts)['errors']
    assert any('kubeha_vip_ipv6 fd00:2::100 is outside the IPv6 subnets of eth0 '
               '(fd00:1::/64)' in e for e in errors), errors


def test_an_ipv6_only_endpoint_balances_ipv6_apiservers():
    v6 = dict((h, 'fd00:1::%d' % i) for i, h in enumerate(sorted(ADDRESSES), start=10))
    host_vars = dict((h, {'kubeha_address': a}) for h, a in v6.items())
    vars_ = {'alpha': {'kubeha_vip': 'fd00:1::100/64', 'keepalived_vrid': 51,
                       'keepalived_vrrp_version': 3},
             'beta': {'kubeha_vip': 'fd00:1::200/64', 'keepalived_vrid': 52,
                      'keepalived_vrrp_version': 3}}
    plan = build(cluster_vars=vars_, host_vars=host_vars)
    assert plan['errors'] == []
    lb = plan['hosts']['a-lb1']['haproxy']
    assert lb['binds'] == [':::6443 v4v6']
    assert [s['endpoint'] for s in lb['backend_servers']] == ['[%s]:6443' % v6['a-cp1']]
    assert plan['endpoints']['alpha']['url'] == 'https://[fd00:1::100]:6443'


# ------------------------------------------------------------ rollout

def test_a_first_converge_changes_every_load_balancer_at_once():
    order, batches = rollout.rollout(build(), holders=[])
    assert sorted(order) == sorted(GROUPS['loadbalancers']) and batches == [4]


def test_backups_first_holders_last_clusters_side_by_side():
    order, batches = rollout.rollout(build(), holders=['a-lb1', 'b-lb2'])
    assert batches == [2, 2]
    assert set(order[:2]) == {'a-lb2', 'b-lb1'} and set(order[2:]) == {'a-lb1', 'b-lb2'}


def test_never_two_load_balancers_of_one_cluster_in_a_batch():
    groups = dict(GROUPS, loadbalancers=GROUPS['loadbalancers'] + ['a-lb3'],
                  alpha=GROUPS['alpha'] + ['a-lb3'])
    ADDRESSES['a-lb3'] = '10.1.0.13'
    try:
        plan = build(groups=groups)
        order, batches = rollout.rollout(plan, holders=['a-lb1'])
    finally:
        del ADDRESSES['a-lb3']
    assert plan['errors'] == []
    # alpha: a-lb3, a-lb2 (backups, lowest priority first), then the holder a-lb1;
    # beta has no holder: both at once, in the first batch
    assert batches == [3, 1, 1]
    assert order[3:] == ['a-lb2', 'a-lb1'] and set(order[:3]) == {'a-lb3', 'b-lb1', 'b-lb2'}
    # a cluster with a holder never has two load balancers in one batch
    starts = [sum(batches[:i]) for i in range(len(batches))]
    for start, size in zip(starts, batches):
        assert len([h for h in order[start:start + size] if h.startswith('a-')]) == 1


def drift(converged=(), held=()):
    return dict((h, {'converged': h in converged, 'held_vips': ['x'] if h in held else []})
                for h in GROUPS['loadbalancers'])


def test_site_rolls_only_what_differs():
    """a-lb2 differs (a backup of alpha, whose holder is a-lb1); beta is converged:
    the three idle hosts are left out of the rollout (they run no task)."""
    out = rollout.from_drift(build(), drift(converged=['a-lb1', 'b-lb1', 'b-lb2'], held=['a-lb1', 'b-lb2']))
    assert (out['order'], out['batches']) == (['a-lb2'], [1])
    assert not any(s['drain'] or s['rejoin'] for s in out['steps'].values())  # VRRP: the holder reloads in place


def test_site_rolls_the_holder_last_and_check_mode_shows_every_host():
    held = ['a-lb1', 'b-lb2']
    out = rollout.from_drift(build(), drift(held=held))
    assert out['batches'] == [2, 2] and set(out['order'][2:]) == set(held)
    checked = rollout.from_drift(build(), drift(converged=GROUPS['loadbalancers'], held=held), check_mode=True)
    assert checked['batches'] == [2, 2] and set(checked['order']) == set(GROUPS['loadbalancers'])


def test_a_converged_fleet_rolls_nothing():
    out = rollout.from_drift(build(), drift(converged=GROUPS['loadbalancers'], held=['a-lb1', 'b-lb1']))
    assert (out['order'], out['batches']) == ([], [])
    assert rollout.holders(drift(held=['b-lb1'])) == ['b-lb1']
    # an announcer's serving.yml: the hosts that can carry the traffic
    assert rollout.holders({'a': {'ready': False}, 'b': {'ready': True}, 'c': None}, 'ready') == ['b']


def test_a_joining_load_balancer_starts_last_once_the_holder_knows_it():
    """a-lb3 was added (its keepalived is not running): were it started before the
    holder lists it as a unicast peer, it would hear no adverts and take the VIP.
    Regression: it went first, as the lowest-priority backup."""
    groups = dict(GROUPS, loadbalancers=GROUPS['loadbalancers'] + ['a-lb3'],
                  alpha=GROUPS['alpha'] + ['a-lb3'])
    ADDRESSES['a-lb3'] = '10.1.0.13'
    try:
        plan = build(groups=groups)
    finally:
        del ADDRESSES['a-lb3']
    results = dict((h, {'converged': h.startswith('b-'), 'held_vips': ['x'] if h in ('a-lb1', 'b-lb1') else [],
                        'inactive_services': ['keepalived'] if h == 'a-lb3' else []})
                   for h in groups['loadbalancers'])
    out = rollout.from_drift(plan, results)
    assert (out['order'], out['batches']) == (['a-lb2', 'a-lb1', 'a-lb3'], [1, 1, 1])
    # several joining hosts start together, after the holder (beta, held by
    # nobody, goes at once in the first batch)
    order, batches = rollout.rollout(plan, ['a-lb1'], joining=['a-lb2', 'a-lb3'])
    assert set(order[:3]) == {'a-lb1', 'b-lb1', 'b-lb2'} and order[3:] == ['a-lb2', 'a-lb3'] and batches == [3, 2]


def test_each_cluster_is_checked_by_its_first_load_balancer_in_the_play():
    """post_check.yml's leaders: with --limit, the first of a cluster's load balancers left."""
    plan = build()
    assert rollout.leaders(plan, GROUPS['loadbalancers']) == {'a-lb1': ['a-lb1', 'a-lb2'],
                                                              'b-lb1': ['b-lb1', 'b-lb2']}
    assert rollout.leaders(plan, ['b-lb2', 'a-lb2']) == {'a-lb2': ['a-lb2'], 'b-lb2': ['b-lb2']}
    assert rollout.leaders(plan, ['a-cp1']) == {}


def test_only_the_hosts_that_set_their_hostname_are_in_that_group():
    """site.yml's hostname play runs on kubeha_set_hostname: no task at all on the others."""
    plan = build(host_vars={'a-lb1': {'kubeha_set_hostname': True}, 'b-cp1': {'kubeha_set_hostname': True},
                            'tester': {'kubeha_set_hostname': True}})
    named = sorted(h for h, groups in plan['groups'].items() if 'kubeha_set_hostname' in groups)
    assert named == ['a-lb1', 'b-cp1']  # a client's hostname is not ours to set
    assert not any('kubeha_set_hostname' in g for g in build()['groups'].values())
