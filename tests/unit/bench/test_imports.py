"""bench/ has no import cycle (issue 36): the suites import the lab's side
channel, the analysis and the page writers, and none of them imports a
suite back, at the top of a module or inside a function."""
import ast
import os

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
                     'bench')
MODULES = sorted(name[:-3] for name in os.listdir(BENCH) if name.endswith('.py'))


def imports(name):
    """The bench modules ``name`` imports, wherever in the file."""
    with open(os.path.join(BENCH, name + '.py')) as handle:
        tree = ast.parse(handle.read())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name.split('.')[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module.split('.')[0])
    return sorted(out & set(MODULES))


def cycles(graph):
    """Every cycle of the graph, each as the path that closes it."""
    found = []

    def walk(node, path):
        for nxt in graph.get(node, []):
            if nxt in path:
                found.append(path[path.index(nxt):] + [nxt])
            elif nxt not in done:
                walk(nxt, path + [nxt])
        done.add(node)

    done = set()
    for start in sorted(graph):
        walk(start, [start])
    return found


def test_cycles_are_found():
    assert cycles({'a': ['b'], 'b': ['a']}) == [['a', 'b', 'a']]
    assert cycles({'a': ['b'], 'b': ['c'], 'c': []}) == []


def test_bench_has_no_import_cycle():
    graph = dict((name, imports(name)) for name in MODULES)
    assert 'lab' in graph['chaos'] and 'run' in graph['bgp']  # the walk sees the imports
    assert cycles(graph) == []
