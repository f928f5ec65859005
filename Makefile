# Two commands do all set-up on a fresh machine:  `make study` (the main job) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# torch==2.13.0 is the CPU build on the project's machines; on yours it is a normal PyPI torch.
# Override for another build, e.g.  make test TORCH_SPEC='torch>=2.1'
TORCH_SPEC ?= torch==2.13.0
JOBS ?= 2

.PHONY: venv venv-dev study publish claims test export clean-nbs check-sync toy bench readme docs docs-check lab

# venv: the kit and what its notebooks run with; venv-dev adds the test and docs tools (pytest, sphinx), which
# the main job does not need (~20 s less set-up for `make study`).
venv: $(VENV)/.installed
venv-dev: $(VENV)/.installed-dev

# pip byte-compiles what it installs on one core (~40 s of the ~70 s set-up); compileall does the same on every core.
# It exits 1 for the few third-party files written for newer Pythons (torch's py312_intrinsics.py), which pip skips too.
COMPILE = $(BIN)/python -m compileall -qq -j 0 "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" || true

$(VENV)/.installed: settings.ini setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install -q --no-compile "$(TORCH_SPEC)"
	$(BIN)/pip install -q --no-compile -e .
	$(COMPILE)
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install -q --no-compile -e ".[dev]"
	$(COMPILE)
	touch $@

# The main job: the default study on the embedded synthetic data, on CPU (the study generates data/toy: toy_data).
# It writes runs/toy/ (git ignores it) and ends by saying which committed verdicts (results/toy/) it reproduced;
# the committed evidence changes only with `make publish`.
study: venv
	$(BIN)/uar study studies/toy.yaml --device cpu --jobs $(JOBS)

# The paper's claims audited (issue 24): every row of Tables 2-4, five seeds, on the main job's data and preset; then one
# verdict per claim (runs/toy_claims/claims.md, figures/claims.png). Resumable; `uar publish runs/toy_claims` commits it.
claims: venv
	$(BIN)/uar study studies/toy_claims.yaml --device cpu --jobs $(JOBS)
	$(BIN)/uar claims runs/toy_claims

# Maintainers: make the last `make study` the committed evidence (results/toy/), then regenerate what shows it -
# the README (from nbs/index.ipynb) and the saved outputs of the notebooks that read results/toy.
PUBLISHED_NBS = nbs/tour.ipynb nbs/08b_verdicts.ipynb nbs/09_train.ipynb nbs/10_viz.ipynb nbs/11_study.ipynb
publish: venv-dev
	$(BIN)/uar publish runs/toy
	$(MAKE) readme
	$(BIN)/python tests/nb_outputs.py --jobs $(JOBS) $(PUBLISHED_NBS)

# The whole test suite: notebook tests (one pytest item per notebook) and end-to-end tests. Each of the JOBS pytest
# workers gets its share of the cores: torch's default (every core in every process) oversubscribes them, and
# spinning OpenMP threads slow the suite down (2 cores: 3 min 4 s -> 2 min 13 s). Override with TEST_THREADS=N.
TEST_THREADS ?= $(shell n=$$(( $$(nproc 2>/dev/null || echo $(JOBS)) / $(JOBS) )); echo $$(( n > 0 ? n : 1 )))
test: venv-dev
	OMP_NUM_THREADS=$(TEST_THREADS) MKL_NUM_THREADS=$(TEST_THREADS) $(BIN)/pytest -n $(JOBS) tests

export: venv
	$(BIN)/nbdev_export

clean-nbs: venv
	$(BIN)/nbdev_clean

# CI's sync check: exporting or cleaning the notebooks must not change any file.
check-sync: venv
	$(BIN)/nbdev_export
	$(BIN)/nbdev_clean
	@test -z "$$(git status --porcelain -- nbs uar_nb)" || { git status --porcelain -- nbs uar_nb; \
	  echo "nbdev_export/nbdev_clean changed files: edit the notebooks, export, clean, commit." >&2; exit 1; }

# Execute the teaching notebooks and save their outputs in them; the notebook tests fail when the saved outputs
# are stale. One notebook:  make outputs NB=nbs/04_cra.ipynb
.PHONY: outputs
outputs: venv
	$(BIN)/python tests/nb_outputs.py --jobs $(JOBS) $(NB)

bench: venv
	$(BIN)/uar bench --device cpu --quick --json results/bench/cpu_quick.json

# README.md is generated from nbs/index.ipynb (nbdev's readme_nb; nbdev_readme needs quarto, which we cannot
# install): run the index (it includes the committed results tables), clean it, render it with nbconvert.
readme: venv
	JUPYTER_PREFER_ENV_PATH=1 $(BIN)/jupyter nbconvert --to notebook --execute --inplace nbs/index.ipynb
	$(BIN)/nbdev_clean --fname nbs/index.ipynb
	$(BIN)/python tools/readme.py

# The website (Sphinx + MyST-NB + furo): the notebooks as saved, the method notes, the API; into _docs/site.
# Fails on any Sphinx warning and on a broken link or image (tests/test_docs.py builds it the same way).
docs: venv-dev
	$(BIN)/python tools/docs.py

# Look at the site as a reader: headless Chromium saves screenshots of the start page, a notebook and an
# API page to _docs/screenshots/. Installs Debian's chromium when it is missing (needs root and apt).
docs-check: docs
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	  { apt-get update -q && apt-get install -y -q chromium; } || \
	  { echo "docs-check needs Chromium: apt-get install chromium (Debian/Ubuntu)" >&2; exit 1; }
	$(BIN)/python tools/docs_check.py

# JupyterLab on nbs/ with the kit's kernel: the notebooks' `python3` kernel resolves to the .venv's Python
# (JUPYTER_PREFER_ENV_PATH: the environment's kernels win over a user's own). More flags: make lab LAB_ARGS='--no-browser'
LAB_ARGS ?=
lab: venv
	JUPYTER_PREFER_ENV_PATH=1 $(BIN)/jupyter lab --notebook-dir=nbs $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)
