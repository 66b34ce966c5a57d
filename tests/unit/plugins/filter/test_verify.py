import copy

import pytest

from ansible_collections.kubeha.control_plane.plugins.filter.verify import endpoint_report

CPS = ['cp1', 'cp2', 'cp3']
SETTINGS = {'vip': '10.213.0.100', 'preempt': True, 'control_plane': CPS}


def lb(host, priority, holds, state, **kw):
    entry = dict(host=host, priority=priority, holds=holds, vrrp_state=state, announcer=True,
                 haproxy=True, backends_up=list(CPS), backends_down=[])
    entry.update(kw)
    return entry


HEALTHY = [lb('lb1', 101, True, 'MASTER'), lb('lb2', 100, False, 'BACKUP')]


def report(lbs, **settings):
    return endpoint_report(copy.deepcopy(lbs), dict(SETTINGS, **settings))


def test_healthy_pair_has_no_violations():
    result = report(HEALTHY)
    assert result['violations'] == []
    assert result['holders'] == ['lb1'] and result['expected_holder'] == 'lb1'


def test_table_has_one_row_per_load_balancer():
    table = report(HEALTHY)['table']
    assert table[0].split()[:3] == ['host', 'role', 'VRRP']
    assert table[1].startswith('lb1') and 'MASTER' in table[1] and '3/3' in table[1]
    assert len(table) == 4 and table[-1] == 'phase: healthy (3/3 apiservers ready)'


@pytest.mark.parametrize('lbs, message', [
    ([lb('lb1', 101, False, 'STOP', announcer=False), lb('lb2', 100, False, 'STOP', announcer=False)],
     'no holder: no load balancer holds VIP 10.213.0.100'),
    ([lb('lb1', 101, True, 'MASTER'), lb('lb2', 100, True, 'MASTER')],
     'split brain: VIP 10.213.0.100 is held by lb1 and lb2'),
    ([lb('lb1', 101, True, 'MASTER'), lb('lb2', 100, True, 'MASTER')],
     'VRRP states disagree: lb1, lb2 all say MASTER'),
    ([lb('lb1', 101, False, 'BACKUP'), lb('lb2', 100, True, 'MASTER')],
     'lb2 holds VIP 10.213.0.100, but lb1 has the highest priority and is healthy'),
    ([lb('lb1', 101, False, 'FAULT'), lb('lb2', 100, True, 'MASTER')],
     'lb1: VRRP instance is in FAULT'),
    ([lb('lb1', 101, True, 'MASTER', haproxy=False), lb('lb2', 100, False, 'BACKUP')],
     'lb1 holds VIP 10.213.0.100 but its haproxy is not running'),
    ([lb('lb1', 101, True, 'MASTER', backends_up=['cp1', 'cp3'], backends_down=['cp2']),
      lb('lb2', 100, False, 'BACKUP')], 'lb1: haproxy has backend cp2 out of rotation'),
    ([lb('lb1', 101, True, 'MASTER', backends_up=['cp1', 'cp2']), lb('lb2', 100, False, 'BACKUP')],
     'lb1: control-plane node cp3 is not a haproxy backend'),
    ([lb('lb1', 101, True, None), lb('lb2', 100, False, 'BACKUP')],
     'lb1: no VRRP state recorded'),
    ([lb('lb1', 101, False, 'MASTER'), lb('lb2', 100, True, 'BACKUP')],
     'lb1: VRRP state is MASTER but it does not hold the VIP'),
])
def test_each_violation_is_named(lbs, message):
    violations = report(lbs)['violations']
    assert any(message in v for v in violations), violations


def test_a_lower_priority_holder_is_right_when_the_higher_one_is_unhealthy():
    lbs = [lb('lb1', 101, False, 'BACKUP', haproxy=False), lb('lb2', 100, True, 'MASTER')]
    result = report(lbs)
    assert result['expected_holder'] == 'lb2'
    assert result['violations'] == ['lb1: haproxy is not running']


def test_nopreempt_accepts_any_single_healthy_holder_and_says_so():
    lbs = [lb('lb1', 101, False, 'BACKUP'), lb('lb2', 100, True, 'MASTER')]
    result = report(lbs, preempt=False)
    assert result['violations'] == []
    assert result['notes'] == ['nopreempt: VIP 10.213.0.100 stays on lb2 until it fails']


def answer(ok=True, kind='ok', message='fine'):
    return {'results': [{'ok': ok, 'kind': kind, 'message': message}]}


def api(ready=tuple(CPS), via_vip=None, kubectl=None, **kw):
    out = {'url': 'https://10.213.0.100:6443', 'probe_host': 'client',
           'via_vip': via_vip or answer(),
           'direct': dict((h, answer() if h in ready else answer(False, 'refused', 'refused there'))
                          for h in CPS), 'kubectl': kubectl}
    out.update(kw)
    return out


BOOTSTRAP_LBS = [lb('lb1', 101, True, 'MASTER', backends_up=[], backends_down=list(CPS)),
                 lb('lb2', 100, False, 'BACKUP', backends_up=[], backends_down=list(CPS))]
CLOSED = answer(False, 'closed', 'accepted the connection and closed it before TLS')


def test_bootstrapping_fails_unless_allowed():
    result = report(BOOTSTRAP_LBS, api=api(ready=[], via_vip=CLOSED))
    assert result['phase'] == 'bootstrapping' and result['ready'] == []
    assert result['violations'][0].startswith('phase bootstrapping: 0 of 3 apiservers ready')
    assert 'verify_min_ready_apiservers: 0' in result['violations'][0]
    allowed = report(BOOTSTRAP_LBS, api=api(ready=[], via_vip=CLOSED), min_ready=0)
    assert allowed['violations'] == [], allowed['violations']
    assert any('no apiserver behind https://10.213.0.100:6443 yet' in n for n in allowed['notes'])
    assert allowed['table'][-1] == 'phase: bootstrapping (0/3 apiservers ready)'


def test_bootstrapping_still_needs_haproxy_on_the_vip():
    """Allowed or not, a VIP that refuses connections is not 'before kubeadm init'."""
    refused = answer(False, 'refused', 'connection refused: nothing listens there')
    result = report(BOOTSTRAP_LBS, api=api(ready=[], via_vip=refused), min_ready=0)
    assert any('via the VIP from client: connection refused' in v for v in result['violations'])


def test_degraded_names_the_missing_apiservers():
    lbs = [lb('lb1', 101, True, 'MASTER', backends_up=['cp1', 'cp2'], backends_down=['cp3']),
           lb('lb2', 100, False, 'BACKUP', backends_up=['cp1', 'cp2'], backends_down=['cp3'])]
    result = report(lbs, api=api(ready=['cp1', 'cp2']))
    assert result['phase'] == 'degraded'
    assert 'phase degraded: 2 of 3 apiservers ready (cp3 not)' in result['violations'][0]
    assert 'cp3 does not answer directly: refused there' in result['violations']
    allowed = report(lbs, api=api(ready=['cp1', 'cp2']), min_ready=2)
    assert allowed['violations'] == [] and allowed['phase'] == 'degraded'
    assert any(n.startswith('cp3 is not ready (allowed in phase degraded)') for n in allowed['notes'])


def test_kubectl_is_judged_when_it_ran():
    good = report(HEALTHY, api=api(kubectl={'rc': 0, 'stdout': 'ok'}))
    assert good['violations'] == [] and any(n.startswith('kubectl get --raw /readyz') for n in good['notes'])
    bad = report(HEALTHY, api=api(kubectl={'rc': 1, 'stdout': '', 'stderr': 'Unable to connect'}))
    assert any('kubectl get --raw /readyz through https://10.213.0.100:6443: Unable to connect' in v
               for v in bad['violations'])
    skipped = report(HEALTHY, api=api(kubectl={'skipped': True}))
    assert skipped['violations'] == []
    absent = report(HEALTHY, api=api(kubectl={'rc': 100, 'stdout': ''}))
    assert absent['violations'] == ['kubectl is not installed on client (verify_kubectl: always)']


def test_kubeconfig_pointing_elsewhere():
    result = report(HEALTHY, api=api(kubeconfigs={'cp1': 'https://10.213.0.21:6443'},
                                     kubeconfig_path='/etc/kubernetes/admin.conf'))
    assert result['violations'] == ['cp1: /etc/kubernetes/admin.conf points at https://10.213.0.21:6443, '
                                    'not the HA endpoint https://10.213.0.100:6443 (kubeadm '
                                    'controlPlaneEndpoint)']


MAC1, MAC2, ROGUE_MAC = '02:42:0a:d5:00:0b', '02:42:0a:d5:00:0c', '02:42:0a:d5:00:32'


def wired(lb1_speakers=(), lb2_speakers=(), lb1_arp=(), lb2_arp=(MAC1,), holder='lb1'):
    """The healthy pair with what each one's wire check heard (lb2 hears lb1's adverts)."""
    ours = [dict(source='10.213.0.11', vrid=51, priority=101, version=2)]
    return [lb('lb1', 101, holder == 'lb1', 'MASTER' if holder == 'lb1' else 'BACKUP', address='10.213.0.11',
               wire=dict(mac=MAC1, speakers=list(lb1_speakers), arp={'10.213.0.100': list(lb1_arp)})),
            lb('lb2', 100, holder == 'lb2', 'BACKUP' if holder == 'lb1' else 'MASTER', address='10.213.0.12',
               wire=dict(mac=MAC2, speakers=ours + list(lb2_speakers), arp={'10.213.0.100': list(lb2_arp)}))]


ROGUE = dict(source='10.213.0.50', vrid=51, priority=254, version=2)


def test_a_quiet_segment_passes_the_wire_check():
    assert report(wired(), vrid=51)['violations'] == []


def test_a_stranger_on_our_vrid_is_named_with_who_heard_it():
    violations = report(wired([ROGUE], [ROGUE]), vrid=51)['violations']
    assert len(violations) == 1, violations
    assert 'speaks VRRP for its VRID 51: 10.213.0.50 (priority 254, VRRPv2, heard by lb1, lb2)' in violations[0]
    assert 'keepalived_vrid' in violations[0]


def test_a_speaker_on_another_vrid_is_not_ours_to_judge():
    other = dict(ROGUE, vrid=60)
    assert report(wired([other]), vrid=51)['violations'] == []


def test_a_second_mac_answering_for_the_vip_is_named():
    violations = report(wired(lb2_arp=(MAC1, ROGUE_MAC)), vrid=51)['violations']
    assert violations == ['10.213.0.100 is answered for (ARP) by %s, which is not the holder (lb1): two hosts '
                          'claim the VIP and some clients reach the wrong one. Find the host with that MAC '
                          'and remove the address from it' % ROGUE_MAC]


def test_a_second_mac_answering_for_an_ipv6_vip_is_named_by_neighbour_discovery():
    lbs = wired()
    lbs[1]['wire']['arp']['fd00:213::100'] = [MAC1, ROGUE_MAC]
    violations = report(lbs, vrid=51)['violations']
    assert violations == ['fd00:213::100 is answered for (neighbour discovery) by %s, which is not the holder '
                          '(lb1): two hosts claim the VIP and some clients reach the wrong one. Find the host '
                          'with that MAC and remove the address from it' % ROGUE_MAC]


def test_a_wire_check_that_could_not_run_is_a_note():
    lbs = wired()
    lbs[0]['wire'] = dict(failed=True, msg='cannot listen: Operation not permitted')
    result = report(lbs, vrid=51)
    assert result['violations'] == []
    assert 'lb1: the wire check did not run: cannot listen: Operation not permitted' in result['notes']
