"""Against the running lab (default scenario): the short form of make chaos.
Four of its faults, with the probe running, judged by the same promises as the
full suite (bench/chaos.py): the backup crashes (nothing fails, the VIP stays);
VRRP is cut both ways between the load balancers (verify names the split
brain; one holder again soon after the heal, then quiet); a keepalived.conf
that keepalived -t rejects (the old one stays, nothing left behind); a package
install failing on the first load balancer of a rollout (it stops there, the
holder untouched). Runs once per
scenario (the first verify)."""
import os
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.skipif(os.environ.get('KUBEHA_SCENARIO') != 'default',
                                reason='runs against inventory/lab (default scenario)')
MARK = (os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'chaos-tested')
        if os.environ.get('MOLECULE_EPHEMERAL_DIRECTORY') else None)
sys.path.insert(0, os.path.join(ROOT, 'bench'))


@pytest.fixture(scope='module')
def chaos():
    if MARK and os.path.exists(MARK):
        pytest.skip('ran in this scenario\'s first verify')
    import chaos as suite  # bench/chaos.py, after the skip: it reads the lab's inventory
    yield suite
    if MARK:
        open(MARK, 'w').close()


@pytest.mark.parametrize('case', ['backup_crash', 'partition', 'keepalived_config_rejected',
                                  'package_install_fails'])
def test_a_fault_keeps_its_promise(chaos, case):
    result = chaos.run_case(case, 'default', 50)
    assert result['requests'] > 100, result
    assert result['met'], '%s: %s (failed %d, moves %s, notes %s)' % (
        case, result['promise'], result['failed'], result['moves'], result['notes'])
