# One-command entry points. `make quick`: set up and run the main job; `make test`: set up and run the tests.
PYTHON ?= python3
VENV ?= .venv
# CPU build pinned for CI and development; users elsewhere may use any recent torch (TORCH="torch").
TORCH ?= torch==2.13.0
OUT ?= results/quick
BIN := $(VENV)/bin

.PHONY: setup quick test lint golden check-golden bench

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet "$(TORCH)"
	$(BIN)/pip install --quiet -e ".[dev,dist]"
	# test oracle only; its metadata pins numpy<2, so it is installed without its (already present) deps
	$(BIN)/pip install --quiet --no-deps "pyirstdmetrics==1.0.2"
	touch $@

setup: $(VENV)/.installed

quick: setup
	$(BIN)/istdbench run quick -o $(OUT)
	$(BIN)/istdbench report $(OUT)

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The committed CI copy of the quick run's metric table.
GOLDEN := tests/golden/quick_metrics.csv
# NFTDGSTV's quick maps depend on BLAS rounding (AUC up to 0.05 apart between OpenBLAS's SkylakeX and
# Haswell kernels on one machine), so the golden copy is written and checked with one kernel on x86 CPUs
# that have it (docs/baselines-nftdgstv-ctstc.md, "Rounding").
GOLDEN_BLAS := $(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && echo OPENBLAS_CORETYPE=Haswell)
golden: setup
	$(GOLDEN_BLAS) $(BIN)/istdbench run quick -o $(OUT)
	$(BIN)/python -m istdbench.runners.golden write $(OUT) $(GOLDEN)

check-golden: setup
	$(GOLDEN_BLAS) $(BIN)/istdbench run quick -o results/ci-quick --no-resume
	$(BIN)/python -m istdbench.runners.golden compare results/ci-quick $(GOLDEN)
	$(BIN)/istdbench report results/ci-quick
	# every table and paper figure of the report in a two-column test paper: no overfull box (needs pdflatex)
	if command -v pdflatex >/dev/null; then $(BIN)/python -m istdbench.reports.texcheck results/ci-quick/report; \
	else echo "pdflatex not installed: LaTeX check of the report skipped"; fi
