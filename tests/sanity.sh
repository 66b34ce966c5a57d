#!/usr/bin/env bash
# ansible-test sanity over what we ship: the collection tarball, built and
# installed as ansible_collections/kubeha/control_plane (ansible-test insists
# on that path). Every test ansible-test has, over the whole tree: no target
# narrowing, no ignore file. This venv's Python, no containers.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
ansible-galaxy collection build --force --output-path "$work" "$root" >/dev/null
ANSIBLE_COLLECTIONS_PATH="$work" \
  ansible-galaxy collection install --offline --force -p "$work" "$work"/kubeha-control_plane-*.tar.gz >/dev/null
dest="$work/ansible_collections/kubeha/control_plane"
cd "$dest"
if [ -e tests/sanity ]; then
  echo "the tarball ships tests/sanity/ (ignore files): justify each entry or fix the code" >&2
  ls -R tests/sanity >&2; exit 1
fi
python="$(command -v python3)"
pyver="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
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
# SANITY_SKIP: tests this run leaves out, each said with its reason by the caller
# (tests/matrix.sh); empty for make test's own run.
skip=()
for test in ${SANITY_SKIP:-}; do skip+=(--skip-test "$test"); echo "ansible-test sanity: $test left out (SANITY_SKIP)"; done
ansible-test sanity --color no --python "$pyver" --requirements "${skip[@]}"
echo "ansible-test sanity over the shipped tree: ok"
