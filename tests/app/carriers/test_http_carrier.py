"""The HTTP carrier plugin against the real simulator process, started here on a free port:
quotes over the wire, safe retries of reads, and an issue the carrier commits and then drops —
the retry with the same idempotency key returns the same policy numbers, and the carrier holds
one set of policies, not two."""

from __future__ import annotations

import datetime
import json
import os
import socket
import subprocess
import sys
import urllib.request
from dataclasses import replace

import pytest

from app.carriers.contract import (
    BindRequest,
    CarrierError,
    CarrierUnavailable,
    ClientContext,
    IssueRequest,
)
from plugins.http_carrier.client import HttpCarrierClient
from tests.app.carriers.helpers import ROOT, D, car, file_tariff, motor_request

API_KEY = "sim-test-key-not-secret"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def simulator():
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "plugins.http_carrier.simulator",
            "--port",
            str(port),
            "--api-key",
            API_KEY,
            "--pricing-factor",
            "0.9",
            "--max-vehicle-age",
            "8",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    banner = process.stdout.readline()  # printed once the socket listens
    assert "listening" in banner, process.stderr.read()
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


def _client(url, retries=2, api_key=API_KEY):
    config = {"base_url": url, "channel_code": "DLR001", "retries": retries, "backoff_ms": 0}
    return HttpCarrierClient(
        config, {"api_key": api_key}, ClientContext("T1", "sim_http", "/nowhere")
    )


def _control(url, change=None):
    data = None if change is None else json.dumps(change).encode()
    request = urllib.request.Request(url + "/control", data, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def _request():
    return replace(motor_request("sim_http", file_tariff()), tariff=None)  # none over HTTP


def test_quote_over_http_prices_with_the_carriers_factor(simulator):
    result = _client(simulator).quote(_request(), timeout=5)
    assert result.status == "ok"
    jqx, commercial = result.lines
    assert jqx.premium == D("712.50") and jqx.collected["vehicle_tax"] == D("360.00")
    # own damage 1568 / 0.75 × NCD 0.6 × 0.9 = 1128.96; third party 1300 / 0.75 × 0.54 = 936.00
    assert {c.code: c.premium for c in commercial.coverages} == {
        "own_damage": D("1128.96"),
        "third_party": D("936.00"),
    }
    old = replace(_request(), vehicle=car(register_date=datetime.date(2015, 1, 1)))
    assert _client(simulator).quote(old, timeout=5).status == "refused"


def test_bad_credentials_are_an_error_not_a_retry(simulator):
    with pytest.raises(CarrierError) as error:
        _client(simulator, api_key="wrong").quote(_request(), timeout=5)
    assert not isinstance(error.value, CarrierUnavailable)


def test_a_busy_carrier_is_retried_for_quotes(simulator):
    _control(simulator, {"fail_next": {"quote": 2}})
    before = _control(simulator)["calls"].get("quote", 0)
    assert _client(simulator, retries=2).quote(_request(), timeout=5).status == "ok"
    assert _control(simulator)["calls"]["quote"] == before + 3
    _control(simulator, {"fail_next": {"quote": 1}})
    with pytest.raises(CarrierUnavailable):
        _client(simulator, retries=0).quote(_request(), timeout=5)


def test_a_slow_carrier_times_out_per_call(simulator):
    _control(simulator, {"delay_ms": {"health": 1500}})
    try:
        with pytest.raises(CarrierUnavailable) as error:
            _client(simulator, retries=0).health(timeout=0.3)
        assert "0.3" in error.value.reasons[0]
    finally:
        _control(simulator, {"delay_ms": {"health": 0}})


def test_issue_committed_then_dropped_is_retried_with_the_same_key(simulator):
    client = _client(simulator, retries=0)
    request = _request()
    quote = client.quote(request, timeout=5)
    bound = client.bind(
        BindRequest(
            "bind-drop",
            "sim_http",
            quote.carrier_quote_ref,
            request,
            ("compulsory_motor", "commercial_motor"),
        ),
        timeout=5,
    )
    issue = IssueRequest("issue-drop-1", "sim_http", bound.proposal_ref, "PAY-1", bound.total)
    held_before = set(_control(simulator)["policies"])
    _control(simulator, {"drop_after_commit": ["issue"]})
    with pytest.raises(CarrierUnavailable):  # committed at the carrier, answer lost
        client.issue(issue, timeout=5)
    committed = set(_control(simulator)["policies"]) - held_before
    assert len(committed) == 2
    retried = client.issue(issue, timeout=5)  # the order's retry: same idempotency key
    assert {p.policy_no for p in retried.policies} == committed
    assert set(_control(simulator)["policies"]) - held_before == committed  # not issued twice
    assert all(p.policy_no.startswith("SIM") and len(p.policy_no) == 21 for p in retried.policies)


def test_the_plugin_retries_a_dropped_issue_itself_with_its_key(simulator):
    client = _client(simulator, retries=2)
    request = _request()
    quote = client.quote(request, timeout=5)
    bound = client.bind(
        BindRequest("bind-2", "sim_http", quote.carrier_quote_ref, request, ("compulsory_motor",)),
        timeout=5,
    )
    held_before = set(_control(simulator)["policies"])
    _control(simulator, {"drop_after_commit": ["issue"]})
    issued = client.issue(
        IssueRequest("issue-2", "sim_http", bound.proposal_ref, "PAY-2", bound.total), timeout=5
    )
    assert set(_control(simulator)["policies"]) - held_before == {issued.policies[0].policy_no}
    today = datetime.date.today()
    downloaded = {p.policy_no for p in client.download_policies(today, today, timeout=5)}
    assert issued.policies[0].policy_no in downloaded
    assert client.confirm(issued.policies[0].policy_no, timeout=5).status == "confirmed"


def test_an_issue_without_an_idempotency_key_is_never_sent(simulator):
    with pytest.raises(CarrierError):
        _client(simulator).issue(IssueRequest("", "sim_http", "SP1", "PAY", D("1.00")), timeout=5)
