# Two commands on a fresh Debian/Ubuntu machine:
#   make demo   - .venv + project, then the main job on a virtual card (no hardware, no server)
#   make test   - system packages the tests need, .venv with every extra, then pytest
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The demo serves its card to pcscd (pyscard builds against libpcsclite) and draws its Chinese
# receipt as a PNG (Pillow and a CJK font); the tests also drive scriptor (pcsc-tools) and check
# that Wireshark (tshark) dissects our pcap traces, and screenshot the bench report in headless chromium.
DEMO_PACKAGES := pcscd libpcsclite-dev swig gcc python3-dev vsmartcard-vpcd opensc fonts-wqy-microhei
TEST_PACKAGES := $(DEMO_PACKAGES) pcsc-tools tshark chromium softhsm2
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test venv bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

venv: $(BIN)/python

# Installs the Debian packages in $(1) that are missing (apt-get, through sudo when not root).
define install_missing
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

demo: venv
	$(call install_missing,$(DEMO_PACKAGES))
	$(BIN)/pip install -q -e '.[pcsc,image]'
	$(BIN)/cardkit demo

test: venv
	$(call install_missing,$(TEST_PACKAGES))
	$(BIN)/pip install -q -e '.[all,test]'
	$(BIN)/python -m pytest -q

bench: venv
	$(call install_missing,$(DEMO_PACKAGES))
	$(BIN)/pip install -q -e '.[all,test]'
	$(BIN)/python benchmarks/bench_tlv.py --svg docs/img/bench_tlv.svg
	$(BIN)/python benchmarks/bench_roundtrip.py --svg docs/img/bench_roundtrip.svg
	$(BIN)/python benchmarks/bench_crypto.py --svg docs/img/bench_crypto.svg
	$(BIN)/python benchmarks/bench_emv.py --svg docs/img/bench_emv.svg
	$(BIN)/python benchmarks/bench_pos.py --svg docs/img/bench_pos.svg
	$(BIN)/python benchmarks/bench_transit.py --svg docs/img/bench_transit.svg
	$(BIN)/python benchmarks/bench_host.py --svg docs/img/bench_host.svg
	$(BIN)/python benchmarks/bench_issue.py --svg docs/img/bench_issue.svg

lint: venv
	$(BIN)/pip install -q -e '.[all,test]' ruff mypy types-PyYAML
	$(BIN)/ruff check cardkit applets pos_sim cli benchmarks tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
