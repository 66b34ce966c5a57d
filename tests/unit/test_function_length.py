"""No function of plugins/ or bench/ is longer than 60 lines (issue 36): a longer
one is split where its parts have names of their own."""

import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIMIT = 60


def functions():
    for top in ('plugins', 'bench'):
        for directory, _dirs, files in os.walk(os.path.join(ROOT, top)):
            for name in sorted(files):
                if name.endswith('.py'):
                    path = os.path.join(directory, name)
                    with open(path) as handle:
                        tree = ast.parse(handle.read(), path)
                    for node in ast.walk(tree):
                        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                            yield os.path.relpath(path, ROOT), node


def test_the_walk_finds_the_plan_and_the_bench():
    found = set(path for path, _node in functions())
    assert 'plugins/plugin_utils/plan/build.py' in found and 'bench/run.py' in found


@pytest.mark.parametrize('top', ['plugins', 'bench'])
def test_no_function_is_longer_than_60_lines(top):
    long_ones = ['%s:%d %s (%d lines)' % (path, node.lineno, node.name, node.end_lineno - node.lineno + 1)
                 for path, node in functions() if path.startswith(top + '/')
                 and node.end_lineno - node.lineno + 1 > LIMIT]
    assert long_ones == []
