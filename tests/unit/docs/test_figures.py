"""One source for every figure: a page that quotes a measured figure marks it
(`6.8 s<!--fig:converge.lab.rerun_s-->`), and the number before each marker must
be bench/figures.py's figure of that name, from the bench's results, rounded as
the page rounds it. This fails when a page and the results disagree."""
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / 'bench'))
import figures as F  # noqa: E402  pylint: disable=wrong-import-position

MARKED = re.compile(r'(\d+(?:\.\d+)?)\s*(?:ms|s|x|×|%)?\s*<!--fig:([\w.\-]+)-->')
PAGES = sorted([ROOT / 'README.md'] + list((ROOT / 'docs').glob('*.md')) + list((ROOT / 'roles').glob('*/README.md')))


def disagreements(text, known):
    """(quoted, name, expected) for each marked figure that is not the results' one."""
    out = []
    for number, name in MARKED.findall(text):
        if name not in known:
            out.append((number, name, 'no such figure'))
            continue
        decimals = len(number.split('.')[1]) if '.' in number else 0
        want = '%.*f' % (decimals, round(float(known[name]) + 1e-9, decimals))
        if number != want:
            out.append((number, name, want))
    return out


def test_a_quote_that_disagrees_with_the_results_is_found():
    known = {'converge.lab.rerun_s': 6.8, 'vrrp.x.default.outage_s.median': 1.7997}
    assert disagreements('re-run 6.8 s<!--fig:converge.lab.rerun_s-->', known) == []
    assert disagreements('median 1.80 s<!--fig:vrrp.x.default.outage_s.median-->', known) == []
    assert disagreements('re-run 6.4 s<!--fig:converge.lab.rerun_s-->', known) == [
        ('6.4', 'converge.lab.rerun_s', '6.8')]
    assert disagreements('7<!--fig:nothing.by.that.name-->', known) == [('7', 'nothing.by.that.name', 'no such figure')]


def test_the_results_give_the_figures_the_pages_quote():
    known = F.figures()
    assert known['converge.lab.rerun_s'] > 0 and 'vrrp.haproxy_kill.default.outage_s.median' in known


@pytest.mark.parametrize('page', PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_quoted_figure_is_the_results_one(page):
    assert disagreements(page.read_text(), F.figures()) == []


def test_the_pages_that_quote_measured_figures_mark_them():
    """The pages whose figures disagreed before (issue 37) quote through markers."""
    marked = dict((p.name, len(MARKED.findall(p.read_text()))) for p in PAGES)
    for name, least in (('performance_notes.md', 8), ('health_check_haproxy.md', 3), ('bgp.md', 10)):
        assert marked[name] >= least, (name, marked[name])
