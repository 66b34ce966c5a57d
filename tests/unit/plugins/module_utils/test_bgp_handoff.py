"""The hand-off between load balancers as commands (module_utils/bgp_handoff.py)."""
from ansible_collections.kubeha.control_plane.plugins.module_utils import bgp_handoff as H

PEER = dict(name='lb2', address='10.0.2.12', mac='02:6b:68:00:00:02', inner4='169.254.77.2', inner6='fe80::6b68:2')
HANDOFF = dict(name='lb1', address='10.0.1.11', mac='02:6b:68:00:00:01', inner4='169.254.77.1', inner6='fe80::6b68:1',
               device='kubeha-handoff', vni=6443, port=4799, chain='KUBEHA-HANDOFF', linger_s=5,
               frontend_port=6443, vips=['10.0.100.10'], peers=[PEER])


def test_the_device_ends_here_and_knows_each_peer_by_mac():
    commands = [' '.join(c) for c in H.device_commands(HANDOFF, 1500)]
    assert commands[0] == ('ip link add kubeha-handoff type vxlan id 6443 dstport 4799 local 10.0.1.11 '
                           'nolearning')
    assert 'ip link set kubeha-handoff alias kubeha handoff %s' % H.digest(HANDOFF) in commands
    assert 'bridge fdb append 02:6b:68:00:00:02 dev kubeha-handoff dst 10.0.2.12' in commands
    assert ('ip neigh replace 169.254.77.2 lladdr 02:6b:68:00:00:02 dev kubeha-handoff nud permanent'
            in commands)
    assert not any(' -6 ' in c for c in commands)  # no IPv6 VIP, no IPv6 inner address
    dual = dict(HANDOFF, vips=['10.0.100.10', 'fd00::10'])
    assert 'ip -6 addr add fe80::6b68:1/64 dev kubeha-handoff nodad' in [' '.join(c) for c in
                                                                         H.device_commands(dual, 1500)]


def test_only_packets_that_open_nothing_and_no_socket_holds_are_handed_off():
    rules = [' '.join(r) for r in H.chain_rules(HANDOFF, 4)]
    assert rules[1:] == [
        '-A KUBEHA-HANDOFF -i kubeha-handoff -p tcp -m socket -j RETURN',  # handed here, held here
        '-A KUBEHA-HANDOFF -i kubeha-handoff -p tcp -j DROP',  # handed here, held elsewhere
        '-A KUBEHA-HANDOFF -d 10.0.100.10 -p tcp --dport 6443 ! --syn -j KUBEHA-HANDOFF-OUT',
        '-A KUBEHA-HANDOFF-OUT -m socket -m conntrack --ctstate ESTABLISHED -j RETURN',  # held here
        '-A KUBEHA-HANDOFF-OUT -j TEE --gateway 169.254.77.2 --oif kubeha-handoff',
        # a TIME-WAIT of an older connection with the same ports: the peer and this host get it
        '-A KUBEHA-HANDOFF-OUT -m socket -j RETURN',
        '-A KUBEHA-HANDOFF-OUT -j DROP']  # held nowhere here
    six = [' '.join(r) for r in H.chain_rules(dict(HANDOFF, vips=['10.0.100.10', 'fd00::10']), 6)]
    assert '-A KUBEHA-HANDOFF -d fd00::10 -p tcp --dport 6443 ! --syn -j KUBEHA-HANDOFF-OUT' in six
    assert '-A KUBEHA-HANDOFF-OUT -j TEE --gateway fe80::6b68:2 --oif kubeha-handoff' in six
    assert not any('10.0.100.10' in r for r in six)


def test_what_was_built_is_known_by_its_digest():
    alias = 'kubeha handoff ' + H.digest(HANDOFF)
    sending = '-A KUBEHA-HANDOFF -m comment --comment "kubeha handoff %s"\n' % H.digest(HANDOFF, True)
    assert H.built(alias, sending, HANDOFF) == (True, True)
    assert H.built(alias, sending, HANDOFF, sending=False) == (True, False)  # it still sends
    moved = dict(HANDOFF, peers=[dict(PEER, address='10.0.3.13')])
    assert H.built(alias, sending, moved) == (False, False)
    assert H.built(None, None, HANDOFF) == (False, False)


def test_receiving_only_keeps_the_receive_rules_and_drops_the_sending_ones():
    sending, receiving = H.chain_rules(HANDOFF, 4), H.chain_rules(HANDOFF, 4, sending=False)
    assert receiving[1:3] == sending[1:3]  # what arrives is still taken or dropped
    assert not any('KUBEHA-HANDOFF-OUT' in r[-1] and r[1] == 'KUBEHA-HANDOFF' for r in receiving)
    assert receiving[0] != sending[0]  # the comment says which


def test_the_copies_are_counted_from_the_tee_rule():
    listing = ('Chain KUBEHA-HANDOFF-OUT (1 references)\n'
               '    pkts      bytes target     prot opt in     out     source               destination\n'
               '      12      994 RETURN     0    --  *      *       0.0.0.0/0            0.0.0.0/0            socket\n'
               '      10      742 TEE        0    --  *      *       0.0.0.0/0            0.0.0.0/0            '
               'TEE gw:169.254.77.2\n'
               '      10      742 DROP       0    --  *      *       0.0.0.0/0            0.0.0.0/0\n')
    assert H.copied(listing) == 10 and H.copied('') == 0
