"""Running from a checkout does not weaken SSH: the repository root's
ansible.cfg, as `ansible-config dump --only-changed` shows it, sets no
host-key, key-file or inventory setting; the lab's are in lab/ansible.cfg."""
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def dump(config):
    env = dict(os.environ)
    env.pop('ANSIBLE_CONFIG', None)
    if config:
        env['ANSIBLE_CONFIG'] = str(config)
    out = subprocess.run(['ansible-config', 'dump', '--only-changed', '-t', 'all'], cwd=str(ROOT), env=env,
                         capture_output=True, text=True, check=True)
    return out.stdout


def test_the_root_config_checks_host_keys_and_names_no_key_or_inventory():
    root = dump(None)
    assert str(ROOT / 'ansible.cfg') in root  # the root file is the one read
    for word in ('StrictHostKeyChecking', 'UserKnownHostsFile', 'PRIVATE_KEY_FILE', 'HOST_KEY_CHECKING',
                 'DEFAULT_HOST_LIST', 'lab_ed25519', 'inventory/lab'):
        assert word not in root, word


def test_the_lab_config_has_the_labs_settings():
    lab = dump(ROOT / 'lab' / 'ansible.cfg')
    assert 'StrictHostKeyChecking=no' in lab and 'lab_ed25519' in lab
    assert str(ROOT / 'inventory' / 'lab') in lab and str(ROOT / '.build' / 'collections') in lab
