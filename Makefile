# Two commands do all set-up on a fresh machine:  `make study` (the main job) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# torch==2.13.0 is the CPU build on the project's machines; on yours it is a normal PyPI torch.
# Override for another build, e.g.  make test TORCH_SPEC='torch>=2.1'
TORCH_SPEC ?= torch==2.13.0
JOBS ?= 2

.PHONY: venv study test export clean-nbs check-sync toy bench

venv: $(VENV)/.installed

$(VENV)/.installed: settings.ini setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install -q "$(TORCH_SPEC)"
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

# The main job: the default study on the embedded synthetic data, on CPU.
study: venv
	test -f data/toy/dataset.json || $(BIN)/uar toy --out data/toy
	$(BIN)/uar study studies/toy.yaml --device cpu --jobs $(JOBS)

# The whole test suite: notebook tests (one pytest item per notebook) and end-to-end tests.
test: venv
	$(BIN)/pytest -n $(JOBS) tests

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
