"""What the roles write on a load balancer, computed on the controller from its
view of the plan: the roles' templates render as ansible's own templating
renders them, optional files and units follow the plan, and drift_args gives
the same files as digests, keepalived.conf's with its secret."""
import hashlib
import os

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.filter.core import to_nice_json
from ansible.template import Templar

from ansible_collections.kubeha.control_plane.plugins.filter.desired import (desired_state, drift_args, keepalived_conf,
                                                                             role_state)
from ansible_collections.kubeha.control_plane.plugins.plugin_utils import desired
from ansible_collections.kubeha.control_plane.plugins.plugin_utils.plan import endpoint

from .test_plan_fleet import build

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core before 2.19: every string is a template
    def trust_as_template(text):
        return text

EVERY_OPTION = {'keepalived_vrrp_firewall': True, 'keepalived_health_timer': True}


def view(host='a-lb1', **host_vars):
    plan = build(host_vars=dict((h, host_vars) for h in ('a-lb1', 'a-lb2')))
    assert plan['errors'] == []
    return endpoint.view(plan, host)


def ansible_render(role, name, context):
    """The template as ansible's Templar renders it (the template lookup's engine)."""
    with open(os.path.join(desired.COLLECTION, 'roles', role, 'templates', name)) as handle:
        text = trust_as_template(handle.read())
    return Templar(loader=DataLoader(), variables=context).template(
        text, preserve_trailing_newlines=True, escape_backslashes=False)


@pytest.mark.parametrize('host_vars', [{}, EVERY_OPTION, {'kubeha_profile': 'guide'}])
def test_the_templates_render_as_ansible_renders_them(host_vars, monkeypatch):
    seen = []
    render = desired.render
    monkeypatch.setattr(desired, 'render', lambda role, name, context: seen.append((role, name, context))
                        or render(role, name, context))
    v = view(**host_vars)
    desired.haproxy(v)
    desired.keepalived(v)
    assert seen, 'no template rendered'
    for role, name, context in seen:
        assert render(role, name, context) == ansible_render(role, name, context), name


def test_every_keepalived_file_is_wanted_with_every_option():
    state = desired.keepalived(view(**EVERY_OPTION))
    vrrp = view(**EVERY_OPTION)['host']['vrrp']
    assert all(f.get('state', 'present') == 'present' and f['content'] for f in state['files'])
    assert 'iptables' in state['packages'] and state['unwanted_units'] == []
    # the firewall before keepalived, restarted when its program or unit changed; keepalived reloaded
    assert [u['name'] for u in state['units']] == [vrrp['units']['firewall'], vrrp['os']['service'],
                                                   vrrp['units']['timer'], vrrp['units']['exporter']]
    assert state['units'][1] == {'name': vrrp['os']['service'], 'changed_state': 'reloaded',
                                 'changed_by': [vrrp['os']['config_path']]}
    with open(desired.EXPORTER_PROGRAM) as handle:
        assert next(f for f in state['files'] if f['path'].endswith('/vrrp-exporter'))['content'] == handle.read()


def test_optional_files_not_wanted_are_absent_and_their_units_stopped():
    v = view(keepalived_vrrp_firewall=False, keepalived_health_timer=False,
             keepalived_metrics_exporter=False)
    state = desired.keepalived(v)
    units = v['host']['vrrp']['units']
    absent = [f['path'] for f in state['files'] if f.get('state') == 'absent']
    assert '/etc/systemd/system/' + units['firewall'] in absent and '/etc/systemd/system/' + units['timer'] in absent
    assert all(f['content'] == '' for f in state['files'] if f.get('state') == 'absent')
    assert sorted(state['unwanted_units']) == sorted([units['timer'], units['firewall'], units['exporter']])
    assert [u['name'] for u in state['units']] == [v['host']['vrrp']['os']['service']]
    assert 'iptables' not in state['packages']


def test_the_fact_file_is_what_to_nice_json_writes():
    v = view()
    fact = next(f for f in desired.keepalived(v)['files'] if f['path'] == v['host']['vrrp']['fact_file'])
    assert fact['content'] == to_nice_json(v['host']['vrrp']['fact']) + '\n'
    assert '"priority": 101' in fact['content']


def test_drift_args_are_both_roles_as_digests_with_the_secret_in_keepalived_conf():
    v = view(keepalived_interface='eth0')  # as the facts complete it
    args = drift_args(v, 'secret1')
    ha, ka = role_state(v, 'haproxy'), role_state(v, 'keepalived')
    assert args['packages'] == ha['packages'] + ka['packages']
    assert [f['path'] for f in args['files']] == [f['path'] for f in ha['files'] + ka['files']] + [
        ka['conf_file']['path']]
    assert not any('content' in f for f in args['files'])
    assert args['files'][0]['sha256'] == hashlib.sha256(ha['config_file']['content'].encode()).hexdigest()
    assert ka['vrrp_version'] == 2
    conf = keepalived_conf(desired.keepalived_conf_params(ka, 'secret1'))
    assert 'auth_pass secret1' in conf
    assert args['files'][-1]['sha256'] == hashlib.sha256(conf.encode()).hexdigest()
    assert drift_args(v, 'secret2')['files'][-1]['sha256'] != args['files'][-1]['sha256']


def test_the_state_is_rendered_once_and_the_drift_check_reads_it(monkeypatch):
    """desired_state holds haproxy's and the announcer's role state; drift_args
    given it renders nothing again, and says what it would have computed."""
    v = view(keepalived_interface='eth0')
    state = desired_state(v)
    assert sorted(state) == ['haproxy', 'keepalived']
    assert state['keepalived'] == role_state(v, 'keepalived')
    want = drift_args(v, 'secret1')
    calls = []
    monkeypatch.setattr(desired, 'haproxy', lambda *a: calls.append(a))
    monkeypatch.setattr(desired, 'keepalived', lambda *a: calls.append(a))
    assert drift_args(v, 'secret1', None, state) == want
    assert calls == []
