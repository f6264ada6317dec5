# One entry point for people and CI: `make run` and `make test` (see README).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
SIMVENV := .venv-snmpsim
BIN := $(VENV)/bin
# Debian packages the tests and the sandbox need (real agents and servers).
APT_PACKAGES := snmpd snmp python3-gdbm python3-venv prometheus victoria-metrics influxdb \
	prometheus-alertmanager chromium prometheus-snmp-exporter nftables iproute2 systemd

.PHONY: setup system-packages lint format typecheck unit audit test run run-recording bench clean

setup: system-packages $(VENV)/.installed $(SIMVENV)/.installed

system-packages:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# venv's bundled setuptools 65.5 has known vulnerabilities (make audit)
	$(BIN)/pip install -q --upgrade pip setuptools
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# snmpsim runs under Debian's Python with gdbm: about 6x faster walks than
# the dbm.dumb fallback of other builds (../shared/reference/snmpsim-notes.md).
$(SIMVENV)/.installed: | system-packages
	/usr/bin/python3 -m venv $(SIMVENV)
	$(SIMVENV)/bin/pip install -q 'snmpsim==1.2.2' pysmi
	touch $@

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest tests/unit

# Known vulnerabilities in what the venv holds; fails when nothing could be
# audited, names what could not (scripts/audit_dependencies.py says why).
audit: setup
	$(BIN)/python scripts/audit_dependencies.py

test: lint typecheck audit
	$(BIN)/pytest

run: setup
	$(BIN)/wifimon demo

# The real Cisco 5508 controller recording instead of the simulated city.
run-recording: setup
	$(BIN)/python scripts/play_recording.py

clean:
	rm -rf $(VENV) $(SIMVENV) .mypy_cache .ruff_cache .pytest_cache
