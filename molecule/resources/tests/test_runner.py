"""Against the running lab (default scenario): the collection as AWX and
Automation Controller run it. ansible-runner, their engine, runs the
collection's site playbook from the built and installed tarball, in a private
data directory laid out as AWX lays out a job (project/, inventory/, env/).
On the converged lab it changes nothing, and every task it runs comes from
the installed tarball, none from this checkout."""
import glob
import json
import os
import shutil
import subprocess

import pytest
import yaml

from conftest import ROOT, T

pytestmark = pytest.mark.skipif(os.environ.get('KUBEHA_SCENARIO') != 'default',
                                reason='runs against inventory/lab (default scenario)')
INSTALLED_SUFFIX = os.path.join('ansible_collections', 'kubeha', 'control_plane')


def clean_env(**extra):
    """This process's environment without what points Ansible at the checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(('ANSIBLE_', 'MOLECULE_'))}
    env.update(extra)
    return env


@pytest.fixture(scope='module')
def collections(tmp_path_factory):
    work = tmp_path_factory.mktemp('runner')
    subprocess.run(['ansible-galaxy', 'collection', 'build', '--force', '--output-path', str(work), ROOT],
                   check=True, capture_output=True, env=clean_env())
    tarball, = glob.glob(str(work / 'kubeha-control_plane-*.tar.gz'))
    path = work / 'collections'
    subprocess.run(['ansible-galaxy', 'collection', 'install', '--offline', '--force', '-p', str(path), tarball],
                   check=True, capture_output=True, env=clean_env(ANSIBLE_COLLECTIONS_PATH=str(path)))
    return path


def test_site_through_ansible_runner(collections, tmp_path):
    job = tmp_path / 'job'
    project = job / 'project'
    project.mkdir(parents=True)
    # What a user's AWX project holds: a playbook that imports the collection's.
    (project / 'site.yml').write_text('---\n- name: The HA Kubernetes API endpoint\n'
                                      '  ansible.builtin.import_playbook: kubeha.control_plane.site\n')
    shutil.copytree(os.path.join(ROOT, 'inventory', 'lab'), job / 'inventory')
    (job / 'env').mkdir()
    (job / 'env' / 'envvars').write_text(yaml.safe_dump({'ANSIBLE_COLLECTIONS_PATH': str(collections)}))
    # A job's controller is throwaway: no kubeadm snippet file on it.
    (job / 'env' / 'extravars').write_text(yaml.safe_dump({'kubeha_kubeadm_snippet_file': ''}))

    result = subprocess.run(['ansible-runner', 'run', str(job), '-p', 'site.yml', '--ident', 'check'],
                            capture_output=True, text=True, timeout=900, env=clean_env())
    artifacts = job / 'artifacts' / 'check'
    tail = result.stdout[-4000:] + result.stderr[-2000:]
    assert (artifacts / 'status').read_text() == 'successful', tail
    assert (artifacts / 'rc').read_text() == '0', tail

    events = [json.loads(open(path).read()) for path in glob.glob(str(artifacts / 'job_events' / '*.json'))]
    stats, = [e['event_data'] for e in events if e['event'] == 'playbook_on_stats']
    assert not stats['failures'] and not stats['dark'], stats
    assert set(T['lbs']) <= set(stats['ok']), stats
    assert not any(stats['changed'].values()), 'a converged lab changed through ansible-runner: %s' % stats['changed']

    paths = {e['event_data']['task_path'].rsplit(':', 1)[0] for e in events
             if e['event'] == 'runner_on_ok' and e['event_data'].get('task_path')}
    ours = [p for p in paths if INSTALLED_SUFFIX in p]
    assert ours, paths
    assert all(p.startswith(str(collections)) for p in ours), sorted(ours)
    assert not [p for p in paths if p.startswith(ROOT + os.sep)], sorted(paths)
