#!/usr/bin/env bash
# The whole suite: lint, then the app against PostgreSQL + Redis, then against the embedded
# default (SQLite, jobs in-process). The rules engine and camera agent need no services: run once.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
$PY -m ruff check .
$PY -m ruff format --check .
$(dirname "$PY")/lint-imports  # the walls: rules/, camera_agent/ and plugins/ import only what they may

PG_URL=${TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/dealercover_test}
TEST_REDIS=${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}
$PY scripts/ensure_database.py "$PG_URL"

echo "== suite on PostgreSQL + Redis =="
DATABASE_URL="$PG_URL" REDIS_URL="$TEST_REDIS" $PY -m pytest "$@"

echo "== app suite on the embedded default (SQLite, in-process jobs) =="
DATABASE_URL="" REDIS_URL="" $PY -m pytest tests/app "$@"
