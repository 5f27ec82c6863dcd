# Two commands on a fresh Debian/Ubuntu machine:
#   make demo   - .venv + project, then the main job on a virtual card (no hardware, no server)
#   make test   - system packages the tests need, .venv with every extra, then pytest
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SYSTEM_PACKAGES := pcscd libpcsclite-dev swig gcc python3-dev vsmartcard-vpcd pcsc-tools opensc
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test system-packages venv bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

venv: $(BIN)/python

# The demo serves the card to pcscd, so it needs the PC/SC stack like the tests do.
demo: system-packages venv
	$(BIN)/pip install -q -e '.[pcsc]'
	$(BIN)/cardkit demo

system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

test: system-packages venv
	$(BIN)/pip install -q -e '.[all,test]'
	$(BIN)/python -m pytest -q

bench: venv
	$(BIN)/pip install -q -e '.[all,test]'
	$(BIN)/python benchmarks/bench_tlv.py
	$(BIN)/python benchmarks/bench_roundtrip.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
