#!/usr/bin/env bash
# The collection's documentation site, built offline as Ansible collections
# publish theirs (make docs; make test runs it): antsibull-docs lints the
# plugin and role docs (lint-collection-docs), writes their pages, the
# narrative pages (README.md, docs/*.md, the role READMEs) join them as they
# are laid out in the repository (their relative links keep working), Sphinx
# builds the site with warnings as errors, and tests/docs_site.py opens it in
# headless Chromium and follows every link. The site: .build/docsite/html.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/.build/docsite
export ANSIBLE_COLLECTIONS_PATH=$ROOT/.build/collections
COLLECTION=$ANSIBLE_COLLECTIONS_PATH/ansible_collections/kubeha/control_plane

(cd "$COLLECTION" && antsibull-docs lint-collection-docs --plugin-docs .)

rm -rf "$OUT"
mkdir -p "$OUT/rst"
chmod og-w "$OUT/rst"  # antsibull-docs wants the directory writable by itself only
antsibull-docs --config-file "$ROOT/docs/site/antsibull-docs.cfg" collection \
    --cleanup everything --use-current --dest-dir "$OUT/rst" kubeha.control_plane
cp "$ROOT/docs/site/index.rst" "$OUT/rst/index.rst"
cp "$ROOT/README.md" "$OUT/rst/"
mkdir -p "$OUT/rst/docs"
cp -r "$ROOT"/docs/*.md "$ROOT/docs/img" "$OUT/rst/docs/"
for readme in "$ROOT"/roles/*/README.md; do
    role=$(basename "$(dirname "$readme")")
    mkdir -p "$OUT/rst/roles/$role"
    cp "$readme" "$OUT/rst/roles/$role/"
done

sphinx-build -q -b html -W --keep-going -c "$ROOT/docs/site" "$OUT/rst" "$OUT/html"
python3 "$ROOT/tests/docs_site.py" "$OUT/html"
