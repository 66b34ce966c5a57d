"""One plan per run: the plan filter has one caller in what ships (the kubeha
role's plan.yml), and no flag switches planning on or off. The molecule
default scenario counts the task in a real run of site.yml."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[4]
SHIPPED = [p for d in ('roles', 'playbooks') for p in (ROOT / d).rglob('*.yml')] + [ROOT / 'site.yml']


def callers(pattern):
    return sorted(str(p.relative_to(ROOT)) for p in SHIPPED if re.search(pattern, p.read_text()))


def test_the_plan_filter_has_one_caller():
    assert callers(r'kubeha\.control_plane\.plan\(') == ['roles/kubeha/tasks/plan.yml']


def test_the_plan_is_completed_with_facts_in_one_place():
    assert callers(r'kubeha\.control_plane\.plan_with_facts\(') == ['roles/kubeha/tasks/facts.yml']


def test_no_flag_switches_planning():
    assert callers(r'__kubeha_planned|kubeha_plan_facts|kubeha_plan_inputs|with_facts=') == []


def test_the_whole_plan_is_a_fact_of_localhost_only():
    """Computed and completed as localhost's fact (delegate_facts), never as a
    run_once fact of every host: on ansible-core 2.21 that hands every host one
    shared object, through which the facts gathered later leak from host to host
    (ansible/ansible#87148; the plan then saw lb1's addresses on lb2)."""
    import yaml
    for name in ('plan.yml', 'facts.yml'):
        tasks = yaml.safe_load((ROOT / 'roles' / 'kubeha' / 'tasks' / name).read_text())
        setting = [t for t in tasks if '__kubeha_fleet' in (t.get('ansible.builtin.set_fact') or {})]
        assert setting and all(t.get('delegate_to') == 'localhost' and t.get('delegate_facts') for t in setting)
