"""Schemathesis against every OpenAPI document of the app, through the WSGI app (no network).

The documents are Flask-AppBuilder's (`/api/v1/_openapi`: every FAB REST API, ours and its
security API) and the entity API's of an installed entity (the demo pack's 年审提醒). Each is
fuzzed as a tenant user and as a store user, with valid and invalid data (schemathesis'
positive and negative generation). The bar: valid specs and no 5xx answer.

Bounded in time for the test command (`API_FUZZ_SECONDS` per user, 75 by default): a first
pass of a few examples per operation and mode, derandomised so every run sends the same cases,
then passes with fresh seeds while the budget lasts. A longer exploration runs the same code
with `API_FUZZ_SECONDS=300 pytest tests/app/test_api_fuzz.py -s`; both print their figures.
"""

from __future__ import annotations

import contextvars
import os
import re
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, given, seed, settings

from app.tenancy.scope import system_scope, use_scope
from tests.app.conftest import PASSWORD, api_token, build_world, install_for, write_pack

DEMO_ENTITY = (
    Path(__file__).resolve().parents[2]
    / "metadata/packs/demo/entities/annual_inspection_reminder.yaml"
)
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "2"))  # per operation, mode and pass
# Per user; with two users the whole fuzz stays under ~3 minutes per database backend.
SECONDS = float(os.environ.get("API_FUZZ_SECONDS", "75"))
SHARES = (0.75, 0.25)  # FAB's document (about 100 operations), the entity's (5)
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
# FAB's document lists every API (its security API included), so a platform admin reads it; the
# calls are made as the tenant's users.
SPEC_READER = "fuzz.spec"
METHODS = {"get", "put", "post", "delete", "patch"}


@dataclass
class FuzzReport:
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    failures: dict[str, str] = field(default_factory=dict)  # "METHOD path status" → example
    seconds: Counter = field(default_factory=Counter)  # operation → time spent

    def add(self, case, response) -> None:
        self.requests += 1
        self.statuses[response.status_code] += 1
        if response.status_code >= 500:
            key = f"{case.method} {case.operation.path} {response.status_code}"
            self.failures.setdefault(key, _describe(case, response))

    def add_exception(self, case, exc: Exception) -> None:
        self.requests += 1
        self.statuses[500] += 1
        key = f"{case.method} {case.operation.path} {type(exc).__name__}"
        where = traceback.extract_tb(exc.__traceback__)[-1]
        self.failures.setdefault(
            key, f"{_describe(case, None)} -> {exc!r} at {where.filename}:{where.lineno}"
        )

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


def _describe(case, response) -> str:
    body = response.text[:300] if response is not None else ""
    return f"path={case.path_parameters} query={case.query} body={str(case.body)[:300]!r} -> {body}"


class IsolatedWsgi:
    """Each request in an empty context, as in production (the test's own app context and
    tenancy scope must not leak into it)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        return contextvars.Context().run(self.app, environ, start_response)


@pytest.fixture(scope="module")
def fuzz_world(app, tmp_path_factory):
    world = build_world(
        app, {"admin": ("tenant_admin", "hq"), "store": ("store_manager", "store_a")}
    )
    document = yaml.safe_load(DEMO_ENTITY.read_text(encoding="utf-8"))
    pack = write_pack(tmp_path_factory.mktemp("fuzzpack"), "fuzzdemo", documents=[document])
    install_for(app, world, pack)
    with use_scope(system_scope("tests")):
        sm = app.appbuilder.sm
        if sm.find_user(username=SPEC_READER) is None:
            role = sm.find_role("platform_admin")
            sm.add_user(SPEC_READER, "fuzz", "spec", "fuzz.spec@test.local", role, PASSWORD)
    return world


def _load(client, app, path: str, token: str):
    response = client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, (path, response.status_code, response.get_data()[:300])
    raw = response.get_json()
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = IsolatedWsgi(app)
    return raw, schema


def undeclared_path_parameters(raw: dict) -> list[str]:
    """`{name}` segments of a path that an operation does not declare as a path parameter —
    what makes a spec invalid though its JSON passes the meta-schema."""
    components = raw.get("components", {}).get("parameters", {})

    def path_names(parameters: list[dict]) -> set:
        prefix = "#/components/parameters/"
        found = [
            components.get(p["$ref"][len(prefix) :], {}) if "$ref" in p else p for p in parameters
        ]
        return {p.get("name") for p in found if p.get("in") == "path"}

    missing = []
    for path, item in raw.get("paths", {}).items():
        wanted = set(re.findall(r"{([^}]+)}", path))
        shared = path_names(item.get("parameters", []))
        for method, operation in item.items():
            if method not in METHODS:
                continue
            own = path_names(operation.get("parameters", []))
            missing += [f"{method.upper()} {path}: {name}" for name in wanted - shared - own]
    return missing


def check_spec(raw: dict, schema) -> None:
    schema.validate()  # the OpenAPI 3 meta-schema
    assert undeclared_path_parameters(raw) == []
    broken = [str(r.err()) for r in schema.get_all_operations() if not hasattr(r, "ok")]
    assert broken == []


def fuzz(
    schema, token: str, report: FuzzReport, examples: int, rng_seed, deadline, backwards=False
) -> bool:
    """One pass over every operation of `schema` in both modes; False when the deadline came
    first (the pass is cut short). The two users walk the operations in opposite orders, so a
    pass cut short on a slow machine still leaves no operation unvisited by both."""
    headers = {"Authorization": f"Bearer {token}"}
    results = list(schema.get_all_operations())
    for result in reversed(results) if backwards else results:
        if deadline is not None and time.monotonic() >= deadline:
            return False
        operation = result.ok()
        started = time.monotonic()
        for mode in MODES:
            _run_operation(operation, mode, headers, report, examples, rng_seed)
        report.seconds[operation.label] += time.monotonic() - started
    return True


def _run_operation(operation, mode, headers, report, examples, rng_seed) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=rng_seed is None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        called = time.monotonic()
        try:
            response = case.call(headers=headers)
        except Exception as exc:  # the test app propagates what would have been a 500
            report.add_exception(case, exc)
        else:
            report.add(case, response)
        report.seconds["(in the app)"] += time.monotonic() - called

    if rng_seed is not None:
        run = seed(rng_seed)(run)
    run()


def documents(client, app, token):
    yield _load(client, app, "/api/v1/_openapi", api_token(client, SPEC_READER))
    yield _load(client, app, "/api/v1/annual_inspection_reminder/_openapi", token)


@pytest.mark.parametrize("who", ["admin", "store"])
def test_every_openapi_document_is_valid_and_fuzzing_finds_no_server_error(
    app, client, fuzz_world, who
):
    """Each document gets its share of the time budget: a first pass over its operations
    (derandomised: the same cases every run), then passes with fresh seeds while its time lasts.
    On a slow machine the first pass may be cut short; the figures printed say how far it got."""
    token = api_token(client, fuzz_world.users[who])
    specs = list(documents(client, app, token))
    for raw, schema in specs:
        check_spec(raw, schema)
    report = FuzzReport()
    started = time.monotonic()
    passes = []
    for (_, schema), share in zip(specs, SHARES, strict=True):
        deadline = time.monotonic() + SECONDS * share
        done, rng_seed = 0, None
        while fuzz(schema, token, report, EXAMPLES, rng_seed, deadline, who == "store"):
            done += 1
            rng_seed = done
        passes.append(done)
    elapsed = time.monotonic() - started
    print(
        f"\nfuzz as {who}: {report.requests} requests in {elapsed:.0f} s, complete passes "
        f"{passes}, {report.server_errors} 5xx, {len(report.failures)} distinct; "
        f"statuses {dict(sorted(report.statuses.items()))}"
    )
    slowest = ", ".join(f"{op} {t:.1f} s" for op, t in report.seconds.most_common(6))
    print(f"time: {slowest}")
    assert report.failures == {}, "\n".join(f"{k}: {v}" for k, v in report.failures.items())
