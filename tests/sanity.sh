#!/usr/bin/env bash
# ansible-test sanity on a copy laid out as ansible_collections/kubeha/control_plane
# (ansible-test insists on that path), using this venv's Python, no containers.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/kubeha/control_plane"
mkdir -p "$dest"
git -C "$root" ls-files -co --exclude-standard -z | (cd "$root" && xargs -0 cp --parents -t "$dest")
cd "$dest"
python="$(command -v python3)"
pyver="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
# Tests that need nothing beyond ansible-core and this venv.
tests=(action-plugin-docs ansible-doc changelog compile empty-init ignores import line-endings
       no-assert no-get-exception no-illegal-filenames no-smart-quotes runtime-metadata
       shebang symlinks use-compat-six validate-modules yamllint pep8 pylint)
# ansible-test bootstraps pip in its venvs with a get-pip script it downloads
# from a host this workplace cannot reach; it documents saving the script to
# its cache by hand. Ours does the same job with the stdlib's ensurepip and PyPI.
pip_version="$(python3 - <<'PY'
import pathlib, re, ansible_test
src = (pathlib.Path(ansible_test.__file__).parent / '_internal' / 'python_requirements.py').read_text()
match = re.search(r"\bpip='([0-9.]+)'", src)
print(match.group(1) if match else '')
PY
)"
if [ -n "$pip_version" ]; then
  cache=~/.ansible/test/cache/get_pip_${pip_version//./_}.py
  if [ ! -f "$cache" ]; then
    mkdir -p "$(dirname "$cache")"
    cat > "$cache" <<'PY'
"""Stand-in for get-pip.py (see tests/sanity.sh): ensurepip, then pip install argv."""
import subprocess
import sys
subprocess.check_call([sys.executable, '-m', 'ensurepip', '--upgrade', '--default-pip'])
args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
subprocess.check_call([sys.executable, '-m', 'pip', 'install'] + args)
PY
  fi
fi
args=()
for t in "${tests[@]}"; do args+=(--test "$t"); done
ansible-test sanity --color no --python "$pyver" --requirements "${args[@]}" plugins/ tests/unit/
echo "ansible-test sanity: ok"
