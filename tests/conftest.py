"""Make this checkout importable as ansible_collections.kubeha.control_plane."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / '.build' / 'pytest-collections'
LINK = BASE / 'ansible_collections' / 'kubeha' / 'control_plane'
if not LINK.exists():
    LINK.parent.mkdir(parents=True, exist_ok=True)
    LINK.symlink_to(ROOT)
if str(BASE) not in sys.path:
    sys.path.insert(0, str(BASE))
