"""make alerts: the verdict of each case, and the page's generated table (no lab needed)."""
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / 'bench'))
import alerts  # noqa: E402
import report_observability  # noqa: E402


def expected(firing=20.0, received=20.5, resolved=3.0):
    return [dict(alert='KubehaVIPSplitBrain', labels={}, firing_after_s=firing, received_after_s=received,
                 resolved_after_recovery_s=resolved)]


@pytest.mark.parametrize('name, exp, seen, met, unexplained', [
    ('split_brain', expected(), {'KubehaVIPSplitBrain'}, True, []),
    ('split_brain', expected(firing=None, received=None), set(), False, []),      # never fired
    ('split_brain', expected(received=None), {'KubehaVIPSplitBrain'}, False, []),  # Alertmanager never got it
    ('split_brain', expected(resolved=None), {'KubehaVIPSplitBrain'}, False, []),  # never resolved
    ('split_brain', expected(), {'KubehaVIPSplitBrain', 'KubehaVIPNoHolder'}, False, ['KubehaVIPNoHolder']),
    ('split_brain', expected(), {'KubehaVIPSplitBrain', 'KubehaVIPFlapping'}, True, []),
    ('haproxy_stopped', expected(), {'KubehaVRRPFault'}, True, []),
    ('split_brain', expected(), {'KubehaVRRPFault'}, False, ['KubehaVRRPFault']),
])
def test_judge(name, exp, seen, met, unexplained):
    verdict = alerts.judge(name, exp, seen)
    assert verdict['met'] is met and verdict['unexplained'] == unexplained


def test_table_says_never_and_not_met():
    rows = report_observability.table([dict(case='no_holder', expected=expected(firing=None, received=None, resolved=None),
                              other_alerts=['KubehaKeepalivedDown'], met=False)]).splitlines()
    assert rows[2] == ('| no holder | KubehaVIPSplitBrain | never | never | never | KubehaKeepalivedDown '
                       '| **not met** |')
