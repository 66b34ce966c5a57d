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
if tar -tzf "$tarball" | grep -E '(^|/)(\.venv|\.build|__pycache__)/' ; then
  echo "the tarball contains build or venv files" >&2; exit 1
fi

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
for filter in plan node_address endpoint_report; do
  ansible-doc -t filter "kubeha.control_plane.$filter" >/dev/null
done
ansible-playbook -i localhost, -c local "$root/tests/integration/installed_collection.yml" \
  -e "scratch=$work" -e "installed=$installed" -e "ansible_python_interpreter=$(command -v python3)"
echo "collection build/install: ok"
