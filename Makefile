# kubeha.control_plane: the two commands are `make lab` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/lab/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.build/collections
export ANSIBLE_FORCE_COLOR ?= 0
export PY_COLORS ?= 0
LINK := .build/collections/ansible_collections/kubeha/control_plane
SCENARIOS ?= $(notdir $(patsubst %/molecule.yml,%,$(wildcard molecule/*/molecule.yml)))
LAB := -i inventory/lab

.PHONY: docs help deps venv link docker image lab lab-up lab-converge lab-verify lab-failover \
        lab-report lab-down test unit lint rules sanity collection release-check release importer property molecule matrix bench chaos \
        alerts clean

help:
	@echo "make lab       bring the Docker lab up, converge site.yml, verify, run the failover drill"
	@echo "make lab-down  remove the lab"
	@echo "make test      unit tests, lint, alert rules, docs site, sanity, collection build/install, release rehearsal, molecule scenarios"
	@echo "make docs      build the documentation site into .build/docsite/html and check it in headless Chromium"
	@echo "make release   write the release (changelog, version) and build the checked tarball into dist/"

# ---------------------------------------------------------------- dependencies
$(VENV)/.installed: requirements-dev.txt
	python3 -m venv $(VENV) || { apt-get update -qq && apt-get install -y -qq python3-venv && python3 -m venv $(VENV); }
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

# galaxy-importer pins versions the development venv does not share.
.venv-importer/.installed: requirements-importer.txt
	python3 -m venv .venv-importer
	.venv-importer/bin/pip install -q --disable-pip-version-check -r requirements-importer.txt
	touch $@

importer: .venv-importer/.installed

$(LINK):
	mkdir -p $(dir $@)
	ln -sfn $(CURDIR) $@

link: $(LINK)

docker:
	bash lab/scripts/ensure-docker.sh

image: docker
	bash lab/scripts/build-image.sh

deps: venv link image

# ------------------------------------------------------------------------ lab
lab: lab-up lab-converge lab-verify lab-failover lab-report

# molecule remembers creating the lab: if its containers were removed by hand,
# forget that first, or create would skip them and prepare fail.
lab-up: deps
	docker inspect lb1 >/dev/null 2>&1 || molecule destroy -s default >/dev/null
	molecule create -s default
	molecule prepare -s default --force

lab-converge: deps
	ansible-playbook $(LAB) site.yml

lab-verify: deps
	ansible-playbook $(LAB) playbooks/verify.yml

lab-failover: deps
	ansible-playbook $(LAB) playbooks/failover_drill.yml -e drill_confirm=true

lab-report: deps
	@bash lab/scripts/report.sh

lab-down: venv link
	molecule destroy -s default

# ---------------------------------------------------------------------- tests
test: unit lint rules docs sanity collection release-check property molecule matrix

unit: venv link
	pytest -q tests/unit tests/integration

lint: venv link
	yamllint --strict .
	ansible-lint --profile production --offline

# The alert rules: the PrometheusRule twin regenerated, promtool check + test
# (promtool unpacked from Debian's prometheus package, nothing installed).
rules: venv
	python lab/scripts/prometheusrule.py
	git diff --exit-code roles/monitoring/files/kubeha-prometheusrule.yaml || \
	  { echo "kubeha-prometheusrule.yaml was stale: commit the regenerated file" >&2; exit 1; }
	PROMTOOL=$$(bash lab/scripts/ensure-promtool.sh); \
	  $$PROMTOOL check rules roles/monitoring/files/kubeha.rules.yml && \
	  cd tests/prometheus && $$PROMTOOL test rules kubeha.rules.test.yml

sanity: venv link
	bash tests/sanity.sh

# The documentation site (antsibull-docs + Sphinx, offline), its lint, and a
# headless Chromium (Debian's) that opens it and follows every link:
# .build/docsite/html (tests/docs_site.sh).
docs: venv link
	command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; }
	bash tests/docs_site.sh

collection: venv link
	bash tests/collection_install.sh

# A release rehearsed on a copy (changelog, tarball, galaxy-importer, ansible-builder).
release-check: venv link importer
	bash tests/release.sh

# The release itself, written into this checkout: VERSION=x.y.z make release
# (default: galaxy.yml's version without -dev). See docs/releasing.md.
release: venv link importer
	bash tests/release.sh --in-place

# Plan => valid configuration: generated inventories planned, and what the plan
# accepts checked by haproxy -c and keepalived -t on Debian 12 and 13 (containers
# of the lab's image). KUBEHA_PROPERTY_EXAMPLES=200 by default.
property: deps
	pytest -q -p no:cacheprovider tests/property

# The ansible-core matrix beside the pinned version: the claimed floor on Debian 12
# and the newest (2.22's release candidate) on Debian 13, its controller in a
# Debian 13 container, each in its own venv (tests/matrix.sh).
MATRIX ?= floor newest
matrix: deps
	bash tests/matrix.sh $(MATRIX)

molecule: deps
	set -e; for s in $(SCENARIOS); do echo "=== molecule test -s $$s"; molecule test -s $$s; done

# Measures failover as clients see it (lab must be up: make lab). BENCH_N=5,
# BENCH_N_HEAVY=5, BENCH_PROFILES=guide,default,fast, BENCH_CASES=... to narrow.
# Then BGP mode in the bgp scenario's lab (bench/bgp.py creates it if needed;
# BENCH_BGP_CASES=... to narrow, BENCH_BGP=0 to skip; molecule destroy -s bgp
# removes it).
bench: deps
	@docker inspect lb1 >/dev/null 2>&1 || $(MAKE) lab-up lab-converge
	python bench/run.py
	[ "$(BENCH_BGP)" = 0 ] || python bench/bgp.py
	python bench/report_performance.py

# Faults a pair meets in production, judged against stated promises (lab must
# be up: make lab); writes docs/reliability.md. The whole suite (bench/chaos.py
# SUITE) takes under 30 minutes; CHAOS_CASES=partition,... runs some again.
# Then BGP mode's rows in the bgp scenario's lab (bench/chaos.py --bgp;
# CHAOS_BGP_CASES=... to narrow, CHAOS_BGP=0 to skip).
chaos: deps
	@docker inspect lb1 >/dev/null 2>&1 || $(MAKE) lab-up lab-converge
	python bench/chaos.py $(if $(CHAOS_CASES),--cases $(CHAOS_CASES),)
	[ "$(CHAOS_BGP)" = 0 ] || python bench/chaos.py --bgp

# The lab's Prometheus against real faults (lab must be up: make lab); writes
# the table and plot of docs/observability.md. ALERTS_CASES=split_brain,... to narrow.
alerts: deps
	@docker inspect lb1 >/dev/null 2>&1 || $(MAKE) lab-up lab-converge
	python bench/alerts.py $(if $(ALERTS_CASES),--cases $(ALERTS_CASES),)

clean:
	rm -rf .build dist *.tar.gz
