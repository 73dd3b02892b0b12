#!/usr/bin/env bash
# The whole suite: lint, then two lanes side by side (one per core):
#   lane 1: the app against PostgreSQL + Redis;
#   lane 2: the rules engine, metadata and camera agent (they need no services), then the app
#           again on the embedded default (SQLite, jobs in-process).
# Each lane has its own database and temp folder; their output is shown when both are done.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
$PY -m ruff check .
$PY -m ruff format --check .
$(dirname "$PY")/lint-imports  # the walls: rules/, camera_agent/ and plugins/ import only what they may

PG_URL=${TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/dealercover_test}
TEST_REDIS=${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}
$PY scripts/ensure_database.py "$PG_URL"

# one hung test fails with its stack instead of stalling the lane; the slowest tests are listed
set -- --timeout=600 --durations=10 "$@"

LOGS=$(mktemp -d)
BASE=$(mktemp -d)

(
  echo "== app suite on PostgreSQL + Redis =="
  DATABASE_URL="$PG_URL" REDIS_URL="$TEST_REDIS" $PY -m pytest tests/app \
    --basetemp="$BASE/pg" "$@"
) >"$LOGS/pg.log" 2>&1 &
PG_LANE=$!

(
  lane=0
  echo "== rules engine, metadata and camera agent =="
  DATABASE_URL="" REDIS_URL="" $PY -m pytest tests --ignore=tests/app --basetemp="$BASE/unit" \
    "$@" || lane=1
  echo "== app suite on the embedded default (SQLite, in-process jobs) =="
  DATABASE_URL="" REDIS_URL="" $PY -m pytest tests/app --basetemp="$BASE/sqlite" "$@" || lane=1
  exit $lane
) >"$LOGS/embedded.log" 2>&1 &
EMBEDDED_LANE=$!

status=0
wait $PG_LANE || status=1
wait $EMBEDDED_LANE || status=1
cat "$LOGS/pg.log" "$LOGS/embedded.log"
rm -rf "$LOGS" "$BASE"
exit $status
