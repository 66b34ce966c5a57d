#!/usr/bin/env bash
# Cut a release, or rehearse one (the default, what `make test` runs).
#
#   tests/release.sh            rehearse on a copy of the tracked tree: nothing here changes
#   tests/release.sh --in-place write the release into this checkout (make release)
#
# VERSION=x.y.z picks the version; without it, galaxy.yml's version without
# its -dev suffix. Steps: set the version in galaxy.yml, antsibull-changelog
# lint and release (CHANGELOG.rst from changelogs/fragments), rstcheck the
# page, build the tarball, check it with galaxy-importer offline (ansible-doc
# and ansible-lint over the built collection, as Galaxy does) and with
# ansible-builder introspect (the runtime requirements an execution
# environment gets), and render the execution environment's build context.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
in_place=false
[ "${1:-}" = "--in-place" ] && in_place=true
importer="${IMPORTER_PYTHON:-$root/.venv-importer/bin/python}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

current="$(sed -n 's/^version: *//p' "$root/galaxy.yml")"
version="${VERSION:-${current%-dev}}"
if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "VERSION must be x.y.z (got '$version')" >&2; exit 1
fi

if $in_place; then
  if [ -n "$(git -C "$root" status --porcelain)" ]; then
    echo "the checkout has uncommitted changes: commit or stash them before a release" >&2; exit 1
  fi
  tree="$root"
  out="$root/dist"
else
  # antsibull-changelog finds the collection's plugins through ansible-doc,
  # which needs the ansible_collections/<namespace>/<name> layout.
  tree="$work/ansible_collections/kubeha/control_plane"
  mkdir -p "$tree"
  git -C "$root" ls-files -co --exclude-standard -z | (cd "$root" && xargs -0 cp --parents -t "$tree")
  out="$work/dist"
fi
mkdir -p "$out"
cd "$tree"

sed -i "s/^version: .*/version: $version/" galaxy.yml
antsibull-changelog lint
if $in_place; then collections="$root/.build/collections"; else collections="$work"; fi
ANSIBLE_COLLECTIONS_PATH="$collections" antsibull-changelog release --version "$version"
rstcheck --report-level warning CHANGELOG.rst
if grep -nE '\b[CIMBUVO]\(' CHANGELOG.rst; then
  echo "CHANGELOG.rst shows Ansible markup literally: fragments are reStructuredText (\`\`code\`\`)" >&2; exit 1
fi
grep -q "^v$version\$" CHANGELOG.rst
grep -q "^Release Summary" CHANGELOG.rst || { echo "no release_summary fragment for $version" >&2; exit 1; }

ansible-galaxy collection build --force --output-path "$out" >/dev/null
tarball="$out/kubeha-control_plane-$version.tar.gz"
echo "built $tarball ($(du -h "$tarball" | cut -f1))"

# galaxy-importer, offline: no container for ansible-test (make test runs
# ansible-test sanity over the same shipped tree: tests/sanity.sh).
(cd "$work" && env -u ANSIBLE_CONFIG -u ANSIBLE_COLLECTIONS_PATH \
   GALAXY_IMPORTER_RUN_ANSIBLE_TEST=false GALAXY_IMPORTER_REQUIRE_V1_OR_GREATER=false \
   GALAXY_IMPORTER_OFFLINE_ANSIBLE_LINT=true \
   "$importer" -m galaxy_importer.main --print-result "$tarball" >"$work/importer.log" 2>&1) || {
  cat "$work/importer.log"; echo "galaxy-importer failed" >&2; exit 1; }
if [ -n "${IMPORTER_LOG:-}" ]; then cp "$work/importer.log" "$IMPORTER_LOG"; fi
if grep -E '^(ERROR|WARNING)|"level": "(ERROR|WARNING)"' "$work/importer.log"; then
  echo "galaxy-importer reported the lines above" >&2; exit 1
fi
grep -q 'kubeha.control_plane.plan' "$work/importer.log"  # ansible-doc saw the filters
echo "galaxy-importer: no errors or warnings"

# What ansible-builder would put in an execution environment for us: the
# runtime requirements only (meta/execution-environment.yml), never the
# development pins.
ANSIBLE_COLLECTIONS_PATH="$work/collections" \
  ansible-galaxy collection install --offline --force -p "$work/collections" "$tarball" >/dev/null
ansible-builder introspect --sanitize "$work/collections" >"$work/introspect.txt"
if grep -qiE 'molecule|matplotlib|pytest|ansible-lint|requirements-dev' "$work/introspect.txt"; then
  cat "$work/introspect.txt"; echo "ansible-builder introspect lists development packages" >&2; exit 1
fi
echo "ansible-builder introspect: $(grep -c 'from collection kubeha.control_plane' "$work/introspect.txt" || true) requirement(s) from kubeha.control_plane"

# The execution environment's build context, rendered offline from the tarball
# just built (no image is built here: the base image comes from a registry this
# lab cannot reach): the tarball is in the context, the requirements name it,
# and no Galaxy server is asked for the collection.
mkdir -p "$work/ee"
cp "$root/ee/execution-environment.yml" "$root/ee/requirements.yml" "$work/ee/"
cp "$tarball" "$work/ee/kubeha-control_plane.tar.gz"
(cd "$work/ee" && ansible-builder create --file execution-environment.yml --context "$work/ee/context" \
   --output-filename Containerfile >/dev/null)
grep -q 'ansible-galaxy' "$work/ee/context/Containerfile"
grep -q 'COPY _build/collections/ /tmp/kubeha-collections/' "$work/ee/context/Containerfile"
cmp "$tarball" "$work/ee/context/_build/collections/kubeha-control_plane.tar.gz"
grep -q '/tmp/kubeha-collections/kubeha-control_plane.tar.gz' "$work/ee/context/_build/requirements.yml"
if grep -qE '^\s*(server|source):' "$work/ee/context/_build/requirements.yml"; then
  echo "the execution environment's requirements name a Galaxy server" >&2; exit 1
fi
echo "execution environment: build context rendered from the tarball"

if $in_place; then
  echo "release $version written: review, then git add -A && git commit -m 'Release $version' && git tag $version"
  echo "and set galaxy.yml's version to the next x.y.z-dev"
else
  echo "release rehearsal for $version: ok"
fi
