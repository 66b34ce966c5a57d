"""What does not belong on a load balancer: found from the commands' output,
removed in order (module_utils/leftovers.py), with a stand-in for the commands."""
import json

from ansible_collections.kubeha.control_plane.plugins.module_utils import leftovers as L

SHOW = '''Id=kubeha-bgp-gate.service
ActiveState=active
UnitFileState=enabled

Id=kubeha-bgp-exporter.service
ActiveState=inactive
UnitFileState=

Id=frr.service
ActiveState=inactive
UnitFileState=enabled
'''
ROUTES4 = json.dumps([
    {'type': 'blackhole', 'dst': '10.9.100.10', 'protocol': 'static', 'metric': 100, 'flags': []},
    {'type': 'local', 'dst': '10.9.100.10', 'table': 'local', 'dev': 'lo', 'protocol': 'static', 'flags': []},
    {'type': 'blackhole', 'dst': '10.9.100.11', 'protocol': 'static', 'flags': []}])
ADDRS = json.dumps([{'ifname': 'eth0', 'addr_info': [
    {'family': 'inet', 'local': '10.213.0.11', 'prefixlen': 24},
    {'family': 'inet', 'local': '10.213.0.100', 'prefixlen': 24}]}])
MANGLE = '''-P PREROUTING ACCEPT
-N KUBEHA-HANDOFF
-N KUBEHA-HANDOFF-OUT
-A PREROUTING -p tcp -m tcp --dport 6443 -j KUBEHA-HANDOFF
-A KUBEHA-HANDOFF -j KUBEHA-HANDOFF-OUT
'''


class Host(object):
    def __init__(self, frr_conf='route-map KUBEHA-ANNOUNCE permit 10'):
        self.calls, self.frr_conf = [], frr_conf

    def run(self, argv):
        self.calls.append(argv)
        if argv[:2] == ['systemctl', 'show']:
            return 0, SHOW, ''
        if argv[:2] == ['ip', '-j'] and 'route' in argv:
            return 0, ROUTES4 if '-4' in argv else '[]', ''
        if argv[:4] == ['ip', '-j', 'addr', 'show']:
            return 0, ADDRS, ''
        if argv[0] == 'iptables' and argv[-1] == '-S':
            return 0, MANGLE, ''
        if argv[0] == 'ip6tables' and argv[-1] == '-S':
            return 0, '-P PREROUTING ACCEPT\n', ''
        if argv[:3] == ['ip', 'link', 'show']:
            return (0 if argv[-1] == 'kubeha-handoff' else 1), '', ''
        return 0, '', ''


SPEC = dict(units=['kubeha-bgp-gate.service', 'kubeha-bgp-exporter.service'],
            configured_units=[dict(unit='frr.service', path='/etc/frr/frr.conf', marker='KUBEHA-ANNOUNCE')],
            routes=['10.9.100.10/32'], addresses=['10.213.0.100'], devices=['kubeha-handoff', 'other0'],
            chains=['KUBEHA-HANDOFF', 'KUBEHA-HANDOFF-OUT'], files=['/usr/local/libexec/kubeha/bgp-gate', '/nope'])


def find(host):
    return L.find(host.run, SPEC, exists=lambda p: p != '/nope')


def test_everything_that_does_not_belong_is_found(monkeypatch):
    monkeypatch.setattr(L, 'read_text', lambda path: 'route-map KUBEHA-ANNOUNCE permit 10')
    found = [(f['kind'], f['name'], f['detail']) for f in find(Host())]
    assert found == [
        ('unit', 'kubeha-bgp-gate.service', 'active and enabled'),
        ('unit', 'frr.service', 'enabled'),  # the exporter is neither
        ('route', '10.9.100.10/32', 'blackhole route in table main'),
        ('route', '10.9.100.10/32', 'local route in table local'),  # not .11: another prefix
        ('address', '10.213.0.100', 'on eth0'),
        ('chain', 'KUBEHA-HANDOFF', 'iptables -t mangle'),
        ('chain', 'KUBEHA-HANDOFF-OUT', 'iptables -t mangle'),
        ('device', 'kubeha-handoff', 'link'),
        ('file', '/usr/local/libexec/kubeha/bgp-gate', 'file')]


def test_a_daemon_configured_by_someone_else_is_left_alone(monkeypatch):
    monkeypatch.setattr(L, 'read_text', lambda path: 'router bgp 65000\n')  # the user's own FRR
    host = Host()
    names = [f['name'] for f in find(host) if f['kind'] == 'unit']
    assert names == ['kubeha-bgp-gate.service']
    assert host.calls[0][-2:] == ['kubeha-bgp-gate.service', 'kubeha-bgp-exporter.service']


def test_removal_stops_the_announcer_first_and_unhooks_chains(monkeypatch):
    monkeypatch.setattr(L, 'read_text', lambda path: 'KUBEHA-ANNOUNCE')
    found = L.order(find(Host()))
    assert [f['kind'] for f in found][:2] == ['unit', 'unit'] and found[-1]['kind'] == 'file'
    commands = [L.removal(f, MANGLE) for f in found]
    assert commands[0] == [['systemctl', 'disable', '--now', '--quiet', 'kubeha-bgp-gate.service']]
    assert commands[2] == [['ip', '-4', 'route', 'del', 'blackhole', '10.9.100.10/32', 'table', 'main',
                            'proto', 'static']]
    assert commands[3] == [['ip', '-4', 'route', 'del', 'local', '10.9.100.10/32', 'dev', 'lo', 'table', 'local',
                            'proto', 'static']]
    assert commands[4] == [['ip', 'addr', 'del', '10.213.0.100/24', 'dev', 'eth0']]
    tool = ['iptables', '-w', '5', '-t', 'mangle']
    assert commands[5] == [tool + ['-D', 'PREROUTING', '-p', 'tcp', '-m', 'tcp', '--dport', '6443', '-j',
                                   'KUBEHA-HANDOFF'], tool + ['-F', 'KUBEHA-HANDOFF'], tool + ['-X', 'KUBEHA-HANDOFF']]
    assert commands[7] == [['ip', 'link', 'del', 'kubeha-handoff']]


def test_an_exporter_elsewhere_is_misplaced():
    sockets = [dict(proto='tcp', address='10.213.0.11', port=9650, unit='kubeha-vrrp-exporter.service'),
               dict(proto='tcp', address='127.0.0.1', port=9650, unit='kubeha-vrrp-exporter.service'),
               dict(proto='tcp', address='0.0.0.0', port=22, unit='ssh.service')]
    want = [dict(unit='kubeha-vrrp-exporter.service', address='127.0.0.1', port=9650)]
    assert L.misplaced(sockets, want) == [dict(kind='listener', name='kubeha-vrrp-exporter.service',
                                               detail='listens on 10.213.0.11:9650, not 127.0.0.1:9650')]
    assert L.misplaced(sockets[1:], want) == []


def test_the_gates_routes_are_found_by_their_metric_whatever_the_prefix():
    """A switch to VRRP usually changes the VIP too: the gate's routes to the old one count."""
    found = L.static_routes(Host().run, [], [100, 200])
    assert [(f['name'], f['type'], f['table']) for f in found] == [
        ('10.9.100.10/32', 'blackhole', 'main'), ('10.9.100.10/32', 'local', 'local')]  # .11 has no gate metric
    assert L.static_routes(Host().run, ['10.9.100.99/32']) == []
