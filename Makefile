# Two commands set up everything: `make demo` and `make test`. Each creates the virtualenv and
# installs the pinned requirements on first use (and again whenever a requirements file changes).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo test lint audit bench format clean messages

$(INSTALLED): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(INSTALLED)

# The theme app extension's tooling (Shopify's theme linter, terser), pinned in package-lock.json.
NODE_INSTALLED := node_modules/.installed

$(NODE_INSTALLED): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_INSTALLED)

demo: $(INSTALLED)
	$(BIN)/python scripts/demo.py

# The browser tests build the web pixel with the pinned node tooling.
test: $(INSTALLED) $(NODE_INSTALLED)
	scripts/ensure-chromium
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(INSTALLED) $(NODE_INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports
	npm run -s theme-check

# Known vulnerabilities in the installed pinned requirements, from PyPI's advisory data (over the
# network). --strict: a package it could not look up fails the audit rather than passing unchecked.
# Not part of `make lint`: these build machines reach PyPI's package index but not its advisory
# data, so here it can only fail; run it where pypi.org answers.
audit: $(INSTALLED)
	@$(BIN)/pip-audit --strict --progress-spinner off --skip-editable || { \
	  echo "audit: failed: a known vulnerability above, or PyPI's advisory data could not be read for" \
	       "every package (offline, or an index without PyPI's JSON API)" >&2; exit 1; }

format: $(INSTALLED)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The admin's English and Japanese: update locale/ja/LC_MESSAGES/django.po from the code, translate
# what is new there, then compile (the compiled .mo is committed beside it).
messages: $(INSTALLED)
	$(BIN)/python manage.py makemessages -l ja --ignore=.venv --ignore=devstore --ignore=tests --ignore=bench --ignore=var --ignore=node_modules --ignore=extensions
	$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=node_modules

bench: $(INSTALLED)
	$(BIN)/python -m bench

clean:
	rm -rf var staticfiles .pytest_cache .mypy_cache .ruff_cache
