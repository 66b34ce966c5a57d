"""The playbooks and role tasks read the announcer interface (issue 36): at most
two lines compare the VIP mode with 'vrrp' or 'bgp', none names keepalived's or
FRR's units to decide what to do, and no command line built by Jinja starts,
stops or removes anything (the units module does, with check mode and diff)."""
import os
import re

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODE_COMPARED = re.compile(r"""[!=]=\s*['"](vrrp|bgp)['"]|['"](vrrp|bgp)['"]\s*[!=]=|['"](vrrp|bgp)['"] if """)
UNIT_DECIDES = re.compile(r"""services\.(keepalived|frr)\b|\[\s*['"](keepalived|frr)['"]\s*\]""")
ACTS = re.compile(r'\b(systemctl\s+(start|stop|restart|kill|disable|enable)|rm\s|mv\s|kill\s)')
COMMANDS = ('ansible.builtin.shell', 'ansible.builtin.command', 'shell', 'command')


def task_files():
    for top in ('playbooks', 'roles', 'site.yml'):
        path = os.path.join(ROOT, top)
        if path.endswith('.yml'):
            yield path
            continue
        for directory, _dirs, files in os.walk(path):
            if os.sep + 'roles' + os.sep in directory + os.sep and not directory.endswith(os.sep + 'tasks'):
                continue
            for name in sorted(files):
                if name.endswith('.yml'):
                    yield os.path.join(directory, name)


def lines(pattern):
    out = []
    for path in task_files():
        with open(path) as handle:
            for number, line in enumerate(handle, 1):
                code = line.split(' #')[0]
                if pattern.search(code) and not code.lstrip().startswith('#'):
                    out.append('%s:%d' % (os.path.relpath(path, ROOT), number))
    return out


def tasks(node):
    if isinstance(node, list):
        for item in node:
            yield from tasks(item)
    elif isinstance(node, dict):
        yield node
        for key in ('block', 'rescue', 'always', 'tasks', 'pre_tasks', 'post_tasks', 'handlers'):
            yield from tasks(node.get(key) or [])


def test_the_walk_reads_the_playbooks_and_the_role_tasks():
    found = [os.path.relpath(p, ROOT) for p in task_files()]
    assert 'playbooks/site.yml' in found and 'roles/bgp/tasks/drain.yml' in found


def test_at_most_two_lines_compare_the_mode():
    assert len(lines(MODE_COMPARED)) <= 2, lines(MODE_COMPARED)


def test_no_unit_of_keepalived_or_frr_decides():
    assert lines(UNIT_DECIDES) == []


def test_no_command_line_built_by_jinja_starts_stops_or_removes():
    found = []
    for path in task_files():
        with open(path) as handle:
            for task in tasks(yaml.safe_load(handle) or []):
                for module in COMMANDS:
                    text = task.get(module)
                    if isinstance(text, dict):
                        text = text.get('cmd') or ''
                    if isinstance(text, str) and '{{' in text and ACTS.search(text):
                        found.append('%s: %s' % (os.path.relpath(path, ROOT), task.get('name')))
    assert found == []
