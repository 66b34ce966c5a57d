"""The wire filters: what wire_check heard, judged on the controller."""
from ansible_collections.kubeha.control_plane.plugins.filter.wire import vip_taken


def test_the_vip_filter_reads_the_load_balancers_macs_from_their_facts():
    endpoint = {'load_balancers': ['lb1', 'lb2'], 'vips': ['10.0.0.100', 'fd00::100']}
    hostvars = {'lb1': {'ansible_facts': {'interfaces': ['lo', 'eth0'], 'eth0': {'macaddress': '02:00:00:00:00:01'}}},
                'lb2': {'ansible_facts': {'interfaces': ['eth-0'], 'eth_0': {'macaddress': '02:00:00:00:00:02'}}}}
    wire = {'interface': 'eth0', 'arp': {'10.0.0.100': ['02:00:00:00:00:02'], 'fd00::100': ['02:00:00:00:00:99']}}
    assert vip_taken(wire, 'lb1', endpoint, hostvars) == [
        "lb1: kubeha_vip_ipv6 fd00::100 is already answered for on eth0 by 02:00:00:00:00:99, which is not "
        "one of this cluster's load balancers: another host has this address, and taking it would cut that host "
        "off. Choose a free address for kubeha_vip_ipv6, or free this one first"]
