# Two commands for a newcomer: `make run` and `make test`. Everything else is set up on the way.
VENV      := .venv
BIN       := $(VENV)/bin
PYTHON    := $(BIN)/python
STAMP_RUN := $(VENV)/.installed-run
STAMP_TST := $(VENV)/.installed-test
EXT_STAMP := extension/node_modules/.installed

.PHONY: relink run test lint typecheck pytest ext-test bench clean help

help:
	@echo "make run    set up .venv and run Breather (proxy + dashboard window) on the default rules"
	@echo "make test   set up .venv with test extras and run every test, lint and type check"
	@echo "make bench  run the benchmarks in bench/ and print ratios"

$(PYTHON):
	@PY=$$(scripts/find-python) && "$$PY" -m venv $(VENV)
	@$(PYTHON) -m pip install --quiet --upgrade pip

# Dependencies are installed when pyproject.toml changes; the project itself is re-linked on every run because
# strict editable mode (which mypy needs to follow the package-dir mapping) does not see new modules by itself.
$(STAMP_RUN): pyproject.toml | $(PYTHON)
	$(PYTHON) -m pip install --quiet -e '.[gui]' --config-settings editable_mode=strict
	@touch $@

$(STAMP_TST): pyproject.toml | $(PYTHON)
	$(PYTHON) -m pip install --quiet -e '.[gui,test]' --config-settings editable_mode=strict
	$(PYTHON) -m pip check
	@touch $@ $(STAMP_RUN)

# A new version gets a new link tree beside the old one, and mypy reads build/__editable__.breather-*: the old one
# goes, or mypy finds every module twice.
relink:
	@$(PYTHON) -m pip install --quiet --no-deps -e . --config-settings editable_mode=strict \
		> $(VENV)/relink.log 2>&1 || { cat $(VENV)/relink.log; exit 1; }
	@current=$$($(PYTHON) -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])'); \
	for tree in build/__editable__.breather-*; do \
		case "$$tree" in *-$$current-*) ;; *) rm -rf "$$tree" ;; esac; \
	done

$(EXT_STAMP): extension/package.json
	cd extension && npm install --no-audit --no-fund --silent
	@touch $@

run: $(STAMP_RUN) relink
	$(BIN)/breather run

lint: $(STAMP_TST) relink
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP_TST) relink
	$(BIN)/mypy

pytest: $(STAMP_TST) relink
	$(BIN)/pytest

ext-test: $(EXT_STAMP)
	cd extension && npm test --silent
	cd extension && npx web-ext lint --self-hosted --output text

test: lint typecheck ext-test pytest

bench: $(STAMP_TST)
	$(PYTHON) -m bench

clean:
	rm -rf $(VENV) extension/node_modules build *.egg-info
