"""Plan => valid configuration, as a property.

Hypothesis generates inventories (one cluster or a fleet, IPv4, IPv6 or dual
stack, every profile, co-located or not, odd but legal values at the bounds,
and some that are not). For each, the plan is built as a playbook builds it
(with the load balancers' facts):

- an inventory the plan refuses names a variable in every problem;
- an inventory it accepts renders, for every load balancer, a haproxy.cfg (the
  role's own template) and a keepalived.conf (the vrrp_config module's
  renderer, with the secret the role adds) that ``haproxy -c`` and
  ``keepalived -t`` accept, on Debian 12 and on Debian 13, each in a container
  of the lab's image with the distribution's packages. The daemons' checks run
  once, batched, after every inventory was planned.

The example inventories users copy (inventory/example/*) are planned the same
way (by Ansible, with their dummy vault), completed with facts made from their
addresses, and their haproxy.cfg, keepalived.conf and frr.conf (BGP) join the
batch: ``vtysh --dryrun`` checks frr.conf.

Examples are derandomized (the same inventories on every run); failures found
are kept as explicit @example cases.
"""
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile

import jinja2
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from ansible_collections.kubeha.control_plane.plugins.module_utils.vrrp_config import render, without_scripts
from ansible_collections.kubeha.control_plane.plugins.plugin_utils import desired
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan import build as P
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.endpoint import view
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.facts import with_facts
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan.inputs import role_defaults, role_specs

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
EXAMPLES = int(os.environ.get('KUBEHA_PROPERTY_EXAMPLES', 200))
SUITES = os.environ.get('KUBEHA_PROPERTY_SUITES', 'bookworm trixie').split()
DEFAULTS, SPECS = role_defaults(), role_specs()
SETTINGS = {'kubeha_lb_group': 'loadbalancers', 'kubeha_cp_group': 'control_plane',
            'kubeha_client_group': 'clients', 'kubeha_strict_variables': False}
# a problem names what to change: a variable of the collection (or ansible_host),
# or for membership, the inventory group
NAMES_A_VARIABLE = re.compile(r"\b(kubeha|keepalived|haproxy|verify|monitoring)_\w+|\bansible_host\b|group '")
HAPROXY_TEMPLATE = jinja2.Environment(keep_trailing_newline=True, trim_blocks=True).from_string(
    open(os.path.join(ROOT, 'roles', 'haproxy', 'templates', 'haproxy.cfg.j2')).read())

RENDERED = {}  # name -> {file name: content, '_inventory': what made it}
REFUSED = []


def cluster(index):
    """One cluster's inventory values (a strategy)."""
    return st.fixed_dictionaries({
        'lbs': st.integers(1, 4),
        'cps': st.integers(0, 3),  # 0: co-located (the load balancers are the control planes)
        'family': st.sampled_from(['ipv4', 'ipv6', 'dual']),
        'vars': st.fixed_dictionaries({}, optional={
            'kubeha_profile': st.sampled_from(['guide', 'default', 'fast']),
            'keepalived_vrid': st.integers(1, 255),
            'kubeha_vip_host': st.sampled_from([100, 2, 254, 11, 0, 255]),
            'kubeha_vip_prefix': st.sampled_from([True, False]),
            'keepalived_unicast': st.booleans(),
            'keepalived_vrrp_version': st.sampled_from([2, 3]),
            'keepalived_advert_int': st.sampled_from([1, 3, 0.5, 0.1, 0.02, 40]),
            'keepalived_auth_pass': st.text('abcXYZ019-_!', min_size=1, max_size=10),
            'keepalived_preempt': st.booleans(),
            'keepalived_preempt_delay': st.sampled_from([0, 1, 30]),
            'keepalived_track_haproxy': st.booleans(),
            'keepalived_track_fall': st.integers(1, 5),
            'keepalived_track_rise': st.integers(1, 5),
            'keepalived_health_timer': st.booleans(),
            'keepalived_garp_master_refresh': st.sampled_from([0, 1, 60]),
            'haproxy_frontend_port': st.sampled_from([6443, 8443, 1, 65535, 443]),
            'haproxy_backend_port': st.sampled_from([6443, 1, 65535]),
            'haproxy_maxconn': st.sampled_from([1, 100, 4000, 20000]),
            'haproxy_timeout_client': st.sampled_from(['1s', '4h', '500ms', '1d']),
            'haproxy_timeout_server': st.sampled_from(['1s', '4h', '90s']),
            'haproxy_check_fall': st.integers(1, 5),
            'haproxy_check_rise': st.integers(1, 5),
            'haproxy_health_check': st.sampled_from(['https', 'tcp']),
            'haproxy_balance': st.sampled_from(['roundrobin', 'leastconn', 'source']),
            'haproxy_frontend_address': st.sampled_from(['*', '::', 'node']),
            'kubeha_metrics_address': st.sampled_from(['127.0.0.1', 'node']),
        }),
    })


INVENTORIES = st.lists(st.integers(0, 2).flatmap(cluster), min_size=1, max_size=3)


def addresses(index, family, number):
    """(IPv4, IPv6) of host ``number`` in cluster ``index``'s subnet."""
    v4 = '10.%d.0.%d' % (60 + index, number)
    v6 = 'fd00:%d::%d' % (60 + index, number)
    return (v4 if family != 'ipv6' else None), (v6 if family != 'ipv4' else None)


def inventory(clusters):
    """(raw hostvars, groups, settings, facts) of the generated clusters."""
    raw, groups, facts = {}, {'loadbalancers': [], 'control_plane': [], 'clients': []}, {}
    fleet = len(clusters) > 1
    for index, c in enumerate(clusters):
        name = 'c%d' % index
        given = dict(c['vars'])
        host = given.pop('kubeha_vip_host', 100)
        prefix = given.pop('kubeha_vip_prefix', True)
        v4, v6 = addresses(index, c['family'], host)
        vip, vip6 = (v4, v6) if c['family'] == 'dual' else ((v4 or v6), None)
        given['kubeha_vip'] = vip + (('/24' if ':' not in vip else '/64') if prefix else '')
        if vip6:
            given['kubeha_vip_ipv6'] = vip6 + ('/64' if prefix else '')
        if c['family'] != 'ipv4' and 'keepalived_vrrp_version' not in given:
            given['keepalived_vrrp_version'] = 3
        given.setdefault('keepalived_auth_pass', 'secret%d' % index)
        if given.get('haproxy_frontend_address') == 'node':
            given.pop('haproxy_frontend_address')
        lbs = ['%s-lb%d' % (name, n + 1) for n in range(c['lbs'])]
        cps = lbs if c['cps'] == 0 else ['%s-cp%d' % (name, n + 1) for n in range(c['cps'])]
        for number, host_name in enumerate(lbs + [h for h in cps if h not in lbs], start=11):
            a4, a6 = addresses(index, c['family'], number)
            raw[host_name] = dict(given, kubeha_address=a4 or a6)
        groups['loadbalancers'] += lbs
        groups['control_plane'] += [h for h in cps if h not in groups['control_plane']]
        if fleet:
            groups[name] = lbs + [h for h in cps if h not in lbs]
        for lb in lbs:
            a4, a6 = addresses(index, c['family'], 11 + lbs.index(lb))
            eth0 = {}
            if a4:
                eth0['ipv4'] = {'address': a4, 'netmask': '255.255.255.0'}
            if a6:
                eth0['ipv6'] = [{'address': a6, 'prefix': '64', 'scope': 'global'}]
            facts[lb] = {'interfaces': ['lo', 'eth0'], 'eth0': eth0, 'os_family': 'Debian',
                         'effective_user_id': 0, 'user_id': 'root',
                         'gateways': [g for g in addresses(index, c['family'], 1) if g]}
    settings_ = dict(SETTINGS, kubeha_clusters=['c%d' % i for i in range(len(clusters))] if fleet else [])
    return raw, groups, settings_, facts


def keepalived_conf(vrrp, secret):
    """keepalived.conf as the keepalived role has vrrp_config write it."""
    auth = {'authentication': {'auth_type': 'PASS', 'auth_pass': secret}} if vrrp['vrrp_version'] == 2 else {}
    config = dict(host_addresses=vrrp['host_addresses'], global_defs=vrrp['global_defs'],
                  scripts=vrrp['scripts'], instances=[dict(vrrp['instance'], **auth)])
    return render(config), render(without_scripts(config))


def haproxy_cfg(settings_):
    os_ = settings_['os']
    return HAPROXY_TEMPLATE.render(ansible_managed='Ansible managed', __haproxy_plan=settings_,
                                   __haproxy_chroot=os_['chroot'], __haproxy_user=os_['user'],
                                   __haproxy_group=os_['group'])


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(INVENTORIES)
# kept from the runs that found something: a fleet with a co-located cluster was
# refused, each host "in cluster 'c0' and in cluster 'c0'" (clusters.py counted it twice)
@example([{'lbs': 1, 'cps': 0, 'family': 'ipv4', 'vars': {}}, {'lbs': 1, 'cps': 0, 'family': 'ipv4', 'vars': {}}])
@example([{'lbs': 1, 'cps': 0, 'family': 'ipv4', 'vars': {}}])
@example([{'lbs': 4, 'cps': 3, 'family': 'dual', 'vars': {'kubeha_profile': 'fast', 'keepalived_unicast': False}}])
def test_every_inventory_is_refused_by_name_or_renders(clusters):
    raw, groups, settings_, facts = inventory(clusters)
    plan = P.build(raw, groups, settings_, DEFAULTS, SPECS, facts=facts)
    if plan['errors']:
        unnamed = [e for e in plan['errors'] if not NAMES_A_VARIABLE.search(e)]
        assert unnamed == [], (unnamed, json.dumps(clusters))
        REFUSED.append(plan['errors'])
        return
    for lb in groups['loadbalancers']:
        entry = plan['hosts'][lb]
        conf, bare = keepalived_conf(entry['vrrp'], raw[lb]['keepalived_auth_pass'])
        key = 'i%d-%s' % (len(RENDERED), lb)
        RENDERED[key] = {'haproxy.cfg': haproxy_cfg(entry['haproxy']), 'keepalived.conf': conf,
                         'keepalived.bare.conf': bare, '_inventory': json.dumps(clusters)}


EXAMPLE_DIR = os.path.join(ROOT, 'inventory', 'example')


def example_facts(entry):
    """Network facts of a real load balancer of the example: its address on
    keepalived_interface (or eth0) in a /24 (/64), a VIP's family beside it."""
    vrrp = entry['vrrp'] or {'instance': {}, 'vips': []}  # BGP mode has no vrrp block (nor a VIP on a segment)
    name = vrrp['instance'].get('interface') or 'eth0'
    iface = {}
    for address in [entry['address']] + [v for v in vrrp['vips'] if ':' in v and ':' not in entry['address']]:
        own = address if address == entry['address'] else address.rsplit(':', 1)[0] + ':9'
        if ':' in own:
            iface['ipv6'] = [{'address': own, 'prefix': '64', 'scope': 'global'}]
        else:
            iface['ipv4'] = {'address': own, 'netmask': '255.255.255.0'}
    return {'interfaces': ['lo', name], name.replace('-', '_'): iface, 'os_family': 'Debian',
            'effective_user_id': 0, 'user_id': 'root', 'gateways': []}


@pytest.mark.parametrize('name', sorted(n for n in os.listdir(EXAMPLE_DIR) if os.path.isdir(os.path.join(EXAMPLE_DIR, n))))
def test_the_example_inventories_render(name, tmp_path):
    """Each example inventory, planned by Ansible with its dummy vault, renders for
    every load balancer (a placeholder for each secret: the plan keeps none)."""
    sys.path.insert(0, os.path.join(ROOT, 'lab'))
    from topology import ansible_env  # pylint: disable=import-outside-toplevel
    out = tmp_path / 'plan.json'
    done = subprocess.run(['ansible-playbook', '-i', os.path.join(EXAMPLE_DIR, name), 'tests/plan_dump.yml',
                           '--vault-password-file', os.path.join(EXAMPLE_DIR, 'dummy-vault-password'),
                           '-e', 'ansible_connection=local', '-e', 'plan_out=%s' % out],
                          cwd=ROOT, env=ansible_env(ANSIBLE_NOCOLOR='1'), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    planned = json.loads(out.read_text())
    plan = with_facts(planned, dict((lb, example_facts(e)) for lb, e in planned['hosts'].items()))
    assert plan['errors'] == [], plan['errors']
    for lb in plan['hosts']:
        host = view(plan, lb)
        files = {'haproxy.cfg': desired.haproxy(host)['files'][0]['content'], '_inventory': name}
        if host['host']['vip_mode'] == 'bgp':
            peers = [dict(address=p['address'], password='example-secret') for p in host['host']['bgp']['peers']]
            frr = [f for f in desired.bgp(host, peers=peers)['files'] if f['path'].endswith('/frr.conf')]
            files['frr.conf'] = frr[0]['content']
        else:
            # keepalived -t looks for the interface: the checker's is eth0 (the example's eno1 is not there)
            vrrp = dict(host['host']['vrrp'], instance=dict(host['host']['vrrp']['instance'], interface='eth0'))
            files['keepalived.conf'], files['keepalived.bare.conf'] = keepalived_conf(vrrp, 'dummy12')
        RENDERED['example-%s-%s' % (name, lb)] = files


def _docker(*args, **kwargs):
    return subprocess.run(['docker'] + list(args), capture_output=True, text=True, check=False, **kwargs)


@pytest.fixture(scope='module', params=SUITES)
def checker(request):
    """A container of the lab's image for that Debian release, with its haproxy and keepalived."""
    suite = request.param
    if _docker('image', 'inspect', 'kubeha-lab:%s' % suite).returncode != 0:
        subprocess.run(['bash', os.path.join(ROOT, 'lab', 'scripts', 'build-image.sh'), suite], check=True)
    name = 'kubeha-property-%s' % suite
    _docker('rm', '-f', name)
    started = _docker('run', '-d', '--name', name, 'kubeha-lab:%s' % suite, 'sleep', 'infinity')
    assert started.returncode == 0, started.stderr
    try:
        installed = _docker('exec', name, 'sh', '-c',
                            'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq '
                            '--no-install-recommends haproxy keepalived frr >/dev/null', timeout=600)
        assert installed.returncode == 0, installed.stderr[-2000:]
        yield name
    finally:
        _docker('rm', '-f', name)


CHECK_ALL = r'''
set -u
cd /tmp/rendered
# the files keepalived.conf refers to, as the keepalived role installs them
id keepalived_script >/dev/null 2>&1 || useradd -r -s /usr/sbin/nologin keepalived_script
mkdir -p /usr/local/libexec/kubeha /run/haproxy
for s in check-haproxy vrrp-notify; do printf '#!/bin/sh\nexit 0\n' > /usr/local/libexec/kubeha/$s; done
chmod 0755 /usr/local/libexec/kubeha/*
version=$(keepalived -v 2>&1 | sed -n 's/^Keepalived v\([0-9.]*\).*/\1/p')
for d in */; do
  d=${d%/}
  haproxy -c -f "$d/haproxy.cfg" >"$d/haproxy.out" 2>&1 || echo "haproxy $d"
  # keepalived 2.2.7 kills its own -t when the file has scripts (vrrp_config then tests it without)
  if [ "$version" = 2.2.7 ]; then conf="$d/keepalived.bare.conf"; else conf="$d/keepalived.conf"; fi
  if [ -f "$d/keepalived.conf" ]; then
    keepalived -t -f "$conf" >"$d/keepalived.out" 2>&1 || echo "keepalived $d"
  fi
  if [ -f "$d/frr.conf" ]; then
    vtysh --dryrun --inputfile "$d/frr.conf" >"$d/frr.out" 2>&1 || echo "frr $d"
  fi
done
'''


def test_the_daemons_accept_every_rendered_configuration(checker):
    """Batched: every haproxy.cfg and keepalived.conf the accepted inventories rendered."""
    assert len(RENDERED) >= EXAMPLES // 4, 'too few inventories accepted to judge: %d' % len(RENDERED)
    with tempfile.TemporaryDirectory() as work:
        bundle = os.path.join(work, 'rendered.tar')
        with tarfile.open(bundle, 'w') as tar:
            for key, files in RENDERED.items():
                for name, text in ((n, t) for n, t in files.items() if not n.startswith('_')):
                    path = os.path.join(work, key, name)
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    with open(path, 'w') as handle:
                        handle.write(text)
                    tar.add(path, arcname=os.path.join('rendered', key, name))
        assert _docker('cp', bundle, '%s:/tmp/rendered.tar' % checker).returncode == 0
    out = _docker('exec', checker, 'sh', '-c', 'cd /tmp && rm -rf rendered && tar xf rendered.tar && ' + CHECK_ALL,
                  timeout=1800)
    assert out.returncode == 0, out.stderr[-2000:]
    failures = out.stdout.split()
    rejected = []
    for daemon, key in zip(failures[::2], failures[1::2]):
        said = _docker('exec', checker, 'cat', '/tmp/rendered/%s/%s.out' % (key, daemon)).stdout
        rejected.append((daemon, key, said.strip()[-600:], RENDERED[key]['_inventory']))
    assert rejected == [], rejected[:3]


def test_refused_inventories_were_met_too():
    """The generator reaches both sides of the check (else the property says little)."""
    assert REFUSED, 'no generated inventory was refused'
    assert RENDERED, 'no generated inventory was accepted'
