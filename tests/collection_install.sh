#!/usr/bin/env bash
# Build the collection tarball, install it offline into a scratch path, and use
# the installed copy (not this checkout) by FQCN.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$root"
ansible-galaxy collection build --force --output-path "$work" >/dev/null
tarball=$(ls "$work"/kubeha-control_plane-*.tar.gz)
echo "built $(basename "$tarball") ($(du -h "$tarball" | cut -f1))"
# The collection, not the workshop (galaxy.yml build_ignore).
contents="$(tar -tzf "$tarball")"
if grep -E '(^|/)(\.venv[^/]*|\.build|__pycache__|\.pytest_cache)/|^(lab|bench|molecule|ee|dist|tests/integration|inventory/lab|inventory/fleet)/|^(Makefile|ansible\.cfg|requirements-[a-z]+\.txt|site\.yml)$' <<<"$contents"; then
  echo "the tarball contains the files above: they belong to the repository, not the collection" >&2; exit 1
fi
for shipped in LICENSE README.md meta/runtime.yml meta/execution-environment.yml inventory/example/minimal/hosts.yml inventory/example/bgp/hosts.yml inventory/example/fleet/hosts.yml; do
  grep -qx "$shipped" <<<"$contents" || { echo "the tarball lacks $shipped" >&2; exit 1; }
done

ANSIBLE_COLLECTIONS_PATH="$work/collections" \
  ansible-galaxy collection install --offline --force -p "$work/collections" "$tarball" >/dev/null
installed="$work/collections/ansible_collections/kubeha/control_plane"
test -f "$installed/MANIFEST.json"

# From a directory with no ansible.cfg, seeing only the installed copy.
cd "$work"
export ANSIBLE_COLLECTIONS_PATH="$work/collections" ANSIBLE_CONFIG="$work/ansible.cfg"
printf "[defaults]\n" > "$work/ansible.cfg"
ansible-doc kubeha.control_plane.vrrp_config >/dev/null
ansible-doc -t role kubeha.control_plane.haproxy >/dev/null
ansible-doc -t role kubeha.control_plane.keepalived >/dev/null
# Every filter the plugins define has documentation (ansible-doc fails
# without it, and galaxy-importer reports that as an error).
filters=$(cd "$installed" && PYTHONPATH="$work/collections" python3 - <<'PY'
import importlib.util, pathlib
for path in sorted(pathlib.Path('plugins/filter').glob('*.py')):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    print('\n'.join(sorted(module.FilterModule().filters())))
PY
)
test -n "$filters"
for filter in $filters; do
  ansible-doc -t filter "kubeha.control_plane.$filter" >/dev/null
done
echo "ansible-doc: $(echo $filters | wc -w) filters documented"
ansible-playbook -i localhost, -c local "$root/tests/integration/installed_collection.yml" \
  -e "scratch=$work" -e "installed=$installed" -e "ansible_python_interpreter=$(command -v python3)"
echo "collection build/install: ok"
