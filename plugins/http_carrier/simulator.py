"""A carrier simulator: a small HTTP server speaking the API the http_carrier plugin calls.

    python -m plugins.http_carrier.simulator --port 8700 [--api-key KEY] [--pricing-factor 0.9]
        [--latency-ms 300] [--drop-after-commit issue]

It prices with the rules engine over the pack documents on disk (metadata/packs/core and demo by
default: the same tariff the platform has), keeps its quotes, proposals, policies and
endorsements in memory, answers a repeated Idempotency-Key with its first answer, and numbers
policies in its own format (SIM + product prefix + year + 12 digits, never reused).

Faults on demand, for tests and demos, through POST /control (JSON):
    {"drop_after_commit": ["issue"]}  the next issue is committed, then the connection is closed
                                      without an answer (the retry must get the same policy)
    {"fail_next": {"quote": 2}}       the next 2 quotes answer 503
    {"delay_ms": {"quote": 1500}}     quotes answer after 1.5 s
GET /control answers what it holds (policies issued, calls per operation).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

import rules
from app.carriers.contract import (
    BindRequest,
    BindResult,
    CancelRequest,
    CancelResult,
    ClaimQuery,
    ConfirmResult,
    DownloadedPolicy,
    EndorseRequest,
    EndorseResult,
    IssuedPolicy,
    IssueRequest,
    IssueResult,
    QuotedCoverage,
    QuotedLine,
    QuoteRequest,
    QuoteResult,
    StatementLine,
    cents,
    coverage_inputs,
    excl_vat,
    from_data,
    to_data,
)
from plugins.sandbox_carrier.client import add_months, facts_as_inputs, whole_years

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PACKS = (ROOT / "metadata/packs/core", ROOT / "metadata/packs/demo")
PREFIXES = {
    "compulsory_motor": "JQ",
    "commercial_motor": "SY",
    "motor_non_motor": "JC",
    "accident_health": "YJ",
    "term_life": "SX",
}
ZERO = Decimal("0.00")


class Refused(Exception):
    def __init__(self, status: int, reasons: list[str]) -> None:
        super().__init__(reasons[0])
        self.status, self.reasons = status, reasons


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


class Tariff:
    """Products and rule documents read from pack folders, priced like the platform does."""

    def __init__(self, packs) -> None:
        self.products: dict[str, dict] = {}
        documents = []
        for pack in packs:
            for path in sorted(Path(pack).glob("*/*.yaml")):
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
                if not isinstance(data, dict):
                    continue
                if data.get("kind") == "product":
                    self.products[data["key"]] = data
                elif data.get("kind") in ("decision_table", "rule_set"):
                    documents.append(data)
        self.library = rules.Library(documents)

    def _call(self, ref: dict, env: dict) -> dict:
        compiled = self.library.get(ref["rule_set"], ref.get("version"))
        inputs = {}
        for declared in compiled.declared_inputs():
            name = declared["name"]
            expression = ref.get("inputs", {}).get(name)
            inputs[name] = (
                env.get(name) if expression is None else rules.evaluate_expression(expression, env)
            )
        return compiled.evaluate(inputs)

    def price(self, product_key: str, inputs: dict, coverages) -> QuotedLine:
        product = self.products.get(product_key)
        if product is None:
            raise Refused(422, [f"本公司不销售产品 {product_key}"])
        body = product["body"]
        env = {f["name"]: f.get("default") for f in body.get("form", [])}
        env.update(inputs)
        env.update(coverage_inputs(body, coverages))
        outputs = self._call(body["pricing"], env)
        collected = {
            item["code"]: cents(self._call(item, env)[item["amount"]])
            for item in body.get("collected_with", [])
        }
        premium = cents(outputs[body["pricing"]["premium"]])
        names = {c["code"]: c["name"]["zh"] for c in body["coverages"]}
        by_coverage = body["pricing"].get("coverage_premiums", {})
        asked = {c.code for c in coverages}
        quoted = tuple(
            QuotedCoverage(code, names[code], None, cents(outputs[output]))
            for code, output in by_coverage.items()
            if outputs.get(output) is not None
            and (code in asked or (not asked and outputs[output]))
        )
        return QuotedLine(
            body["line"],
            product_key,
            quoted,
            premium,
            excl_vat(premium),
            collected,
            {name: outputs.get(name) for name in body["pricing"].get("explain", [])},
        )


class Carrier:
    """What the simulated carrier remembers, behind one lock."""

    def __init__(self, tariff: Tariff, factor: Decimal, max_age: int | None) -> None:
        self.tariff, self.factor, self.max_age = tariff, factor, max_age
        self.lock = threading.Lock()
        self.quotes: dict[str, dict] = {}
        self.proposals: dict[str, dict] = {}  # ref → {result, start, ends, facts}
        self.replies: dict[tuple[str, str], Any] = {}  # (operation, idempotency key) → answer
        self.policies: dict[str, DownloadedPolicy] = {}
        self.statement: list[StatementLine] = []
        self.sequence = Counter()
        self.calls = Counter()
        self.drop_after_commit: list[str] = []
        self.fail_next = Counter()
        self.delay_ms: dict[str, int] = {}

    def quote(self, request: QuoteRequest) -> QuoteResult:
        if self.max_age is not None and request.vehicle and request.vehicle.register_date:
            age = whole_years(request.vehicle.register_date, request.start_date)
            if age > self.max_age:
                return QuoteResult(
                    "refused",
                    request.carrier_key,
                    reasons=(f"车龄 {age} 年，超过本公司承保上限 {self.max_age} 年",),
                )
        lines = [
            self.tariff.price(
                line.product_key, facts_as_inputs(request, line, self.factor), line.coverages
            )
            for line in request.lines
        ]
        premium = sum((line.premium for line in lines), ZERO)
        tax = sum((line.collected.get("vehicle_tax", ZERO) for line in lines), ZERO)
        ref = f"SQ{uuid.uuid4().hex[:18].upper()}"
        valid = _now() + timedelta(minutes=60)
        with self.lock:
            self.quotes[ref] = {"valid_until": valid}
        return QuoteResult(
            "ok", request.carrier_key, ref, tuple(lines), premium, tax, premium + tax, valid
        )

    def bind(self, request: BindRequest) -> BindResult:
        with self.lock:
            quote = self.quotes.get(request.carrier_quote_ref)
        if quote is None or quote["valid_until"] < _now():
            raise Refused(422, ["报价不存在或已过期，请重新报价"])
        chosen = [x for x in request.request.lines if x.product_key in request.product_keys]
        asked = QuoteRequest(**{**request.request.__dict__, "lines": tuple(chosen)})
        quoted = self.quote(asked)
        if quoted.status != "ok":
            return BindResult("refused", request.carrier_key, None, reasons=quoted.reasons)
        with self.lock:
            self.sequence["proposal"] += 1
            ref = f"SP{_now():%Y%m%d}{self.sequence['proposal']:08d}"
            result = BindResult(
                "bound",
                request.carrier_key,
                ref,
                quoted.lines,
                quoted.total_premium,
                quoted.vehicle_tax,
                quoted.total,
                _now() + timedelta(minutes=30),
            )
            start = asked.start_date
            self.proposals[ref] = {
                "result": result,
                "start": start,
                "end": asked.end_date or add_months(start, 12) - timedelta(days=1),
                "insured": asked.insured.name,
                "plate": asked.vehicle.plate if asked.vehicle else None,
                "vin": asked.vehicle.vin if asked.vehicle else None,
            }
        return result

    def issue(self, request: IssueRequest) -> IssueResult:
        with self.lock:
            proposal = self.proposals.get(request.proposal_ref)
            if proposal is None:
                raise Refused(422, ["投保单不存在"])
            if proposal.get("issued"):
                raise Refused(409, ["该投保单已出单，请用原幂等键查询结果"])
            bound: BindResult = proposal["result"]
            if cents(request.paid_amount) != bound.total:
                raise Refused(422, [f"实收 {request.paid_amount} 元与应缴 {bound.total} 元不符"])
            now, policies = _now(), []
            for line in bound.lines:
                prefix = PREFIXES.get(line.line, "QT")
                self.sequence[f"{prefix}{now.year}"] += 1
                number = f"SIM{prefix}{now.year}{self.sequence[f'{prefix}{now.year}']:012d}"
                policy = IssuedPolicy(
                    line.line,
                    line.product_key,
                    number,
                    line.premium,
                    line.premium_excl_vat,
                    proposal["start"],
                    proposal["end"],
                    line.collected.get("vehicle_tax", ZERO),
                )
                policies.append(policy)
                self.policies[number] = DownloadedPolicy(
                    request.carrier_key,
                    number,
                    line.line,
                    line.product_key,
                    "issued",
                    now,
                    policy.start_date,
                    policy.end_date,
                    policy.premium,
                    policy.premium_excl_vat,
                    policy.vehicle_tax,
                    proposal["insured"],
                    proposal["plate"],
                    proposal["vin"],
                    request.proposal_ref,
                )
            proposal["issued"] = True
            return IssueResult(
                "pending_confirmation",
                request.carrier_key,
                request.proposal_ref,
                tuple(policies),
                now,
            )

    def _share_left(self, policy, effective: date) -> Decimal:
        term = (policy.end_date - policy.start_date).days + 1
        left = max((policy.end_date - effective).days + 1, 0)
        return Decimal(1) if effective <= policy.start_date else Decimal(left) / Decimal(term)

    def _endorsement_no(self) -> str:
        with self.lock:
            self.sequence["endorsement"] += 1
            return f"SIME{_now():%Y}{self.sequence['endorsement']:012d}"

    def endorse(self, request: EndorseRequest) -> EndorseResult:
        change = ZERO
        if request.kind == "change_coverage" and request.new_premium is not None:
            share = self._share_left(request.policy, request.effective_date)
            change = cents((request.new_premium - request.policy.premium) * share)
        return EndorseResult(
            request.carrier_key,
            request.policy.policy_no,
            self._endorsement_no(),
            request.effective_date,
            change,
            excl_vat(change),
        )

    def cancel(self, request: CancelRequest) -> CancelResult:
        refund = cents(
            request.policy.premium * self._share_left(request.policy, request.effective_date)
        )
        with self.lock:
            held = self.policies.get(request.policy.policy_no)
            if held is not None:
                self.policies[held.policy_no] = DownloadedPolicy(
                    **{**held.__dict__, "status": "cancelled"}
                )
        return CancelResult(
            request.carrier_key,
            request.policy.policy_no,
            self._endorsement_no(),
            request.effective_date,
            refund,
            excl_vat(refund),
        )


class Handler(BaseHTTPRequestHandler):
    server_version = "DealerCoverCarrierSimulator/1.0"
    protocol_version = "HTTP/1.1"
    carrier: Carrier
    api_key: str | None = None

    def log_message(self, format: str, *args: Any) -> None:  # quiet unless asked
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)

    def _send(self, status: int, answer: Any) -> None:
        body = json.dumps(answer, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _drop(self) -> None:
        """Close the connection without an answer, as a carrier that crashed after committing."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def do_GET(self) -> None:
        if self.path == "/control":
            carrier = self.carrier
            with carrier.lock:
                answer = {"policies": sorted(carrier.policies), "calls": dict(carrier.calls)}
            self._send(200, answer)
        else:
            self._send(404, {"message": "not found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            data = json.loads(self.rfile.read(length).decode() or "{}") if length else {}
        except ValueError:
            self._send(400, {"message": "body is not JSON", "reasons": ["请求不是 JSON"]})
            return
        if self.path == "/control":
            self._control(data)
            return
        if self.api_key and self.headers.get("Authorization") != f"Bearer {self.api_key}":
            self._send(401, {"message": "bad credentials", "reasons": ["凭据无效"]})
            return
        operation = self.path.removeprefix("/v1/").replace("/", "_")
        handler = getattr(self, f"op_{operation}", None)
        if handler is None:
            self._send(404, {"message": "not found"})
            return
        self._dispatch(operation, handler, data)

    def _control(self, data: dict) -> None:
        carrier = self.carrier
        with carrier.lock:
            carrier.drop_after_commit += list(data.get("drop_after_commit", []))
            carrier.fail_next.update(data.get("fail_next", {}))
            carrier.delay_ms.update(data.get("delay_ms", {}))
        self._send(200, {"ok": True})

    def _dispatch(self, operation: str, handler, data: dict) -> None:
        carrier, key = self.carrier, self.headers.get("Idempotency-Key")
        with carrier.lock:
            carrier.calls[operation] += 1
            failing = carrier.fail_next[operation] > 0
            if failing:
                carrier.fail_next[operation] -= 1
            delay = carrier.delay_ms.get(operation, 0)
            replay = carrier.replies.get((operation, key)) if key else None
        if delay:
            time.sleep(delay / 1000)
        if failing:
            self._send(503, {"message": "busy", "reasons": ["保险公司系统繁忙（模拟）"]})
            return
        if replay is not None:
            self._send(200, replay)
            return
        try:
            answer = to_data(handler(data))
        except Refused as refusal:
            self._send(refusal.status, {"message": refusal.reasons[0], "reasons": refusal.reasons})
            return
        except (KeyError, TypeError, ValueError, rules.RuleError) as error:
            self._send(422, {"message": str(error), "reasons": [f"请求无法处理：{error}"]})
            return
        with carrier.lock:
            if key:
                carrier.replies[(operation, key)] = answer
            drop = operation in carrier.drop_after_commit
            if drop:
                carrier.drop_after_commit.remove(operation)
        if drop:
            self._drop()
        else:
            self._send(200, answer)

    def op_quote(self, data):
        return self.carrier.quote(from_data(QuoteRequest, data))

    def op_bind(self, data):
        return self.carrier.bind(from_data(BindRequest, data))

    def op_issue(self, data):
        return self.carrier.issue(from_data(IssueRequest, data))

    def op_endorse(self, data):
        return self.carrier.endorse(from_data(EndorseRequest, data))

    def op_cancel(self, data):
        return self.carrier.cancel(from_data(CancelRequest, data))

    def op_confirm(self, data):
        policy = self.carrier.policies.get(data.get("policy_no", ""))
        if policy is None:
            return ConfirmResult("", data.get("policy_no", ""), "unknown")
        return ConfirmResult(policy.carrier_key, policy.policy_no, "confirmed", policy.issued_at)

    def op_claims_lookup(self, data):
        from_data(ClaimQuery, data)
        return []

    def op_downloads_policies(self, data):
        since, until = date.fromisoformat(data["since"]), date.fromisoformat(data["until"])
        with self.carrier.lock:
            held = list(self.carrier.policies.values())
        return [p for p in held if since <= p.issued_at.date() <= until]

    def op_downloads_statement(self, data):
        period = str(data["period"])
        with self.carrier.lock:
            held = list(self.carrier.policies.values())
        return [
            StatementLine(
                p.carrier_key,
                period,
                p.policy_no,
                None,
                p.insured_name,
                p.product_key,
                p.premium,
                p.premium_excl_vat,
                "commission",
                Decimal("0.10"),
                cents(p.premium_excl_vat * Decimal("0.10")),
            )
            for p in held
            if f"{p.issued_at:%Y-%m}" == period
        ]

    def op_downloads_claims(self, data):
        return []

    def op_health(self, data):
        return {"ok": True, "detail": "模拟器正常"}


def serve(
    port: int,
    host: str = "127.0.0.1",
    api_key: str | None = None,
    pricing_factor: str = "1.0",
    max_vehicle_age: int | None = None,
    drop_after_commit: list[str] | None = None,
    latency_ms: int = 0,
    packs=DEFAULT_PACKS,
    verbose: bool = False,
) -> ThreadingHTTPServer:
    """Build the server (not started): `serve(...).serve_forever()`."""
    carrier = Carrier(Tariff(packs), Decimal(pricing_factor), max_vehicle_age)
    carrier.drop_after_commit = list(drop_after_commit or [])
    if latency_ms:
        carrier.delay_ms.update({op: latency_ms for op in ("quote", "bind", "issue")})
    handler = type("BoundHandler", (Handler,), {"carrier": carrier, "api_key": api_key})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    server.verbose = verbose
    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="DealerCover carrier simulator (HTTP)")
    parser.add_argument("--port", type=int, default=8700)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--api-key", default=None, help="require Authorization: Bearer KEY")
    parser.add_argument("--pricing-factor", default="1.0", help="自主定价系数 on every line")
    parser.add_argument("--max-vehicle-age", type=int, default=None)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument(
        "--drop-after-commit",
        action="append",
        default=[],
        help="operation whose next answer is dropped after committing (e.g. issue)",
    )
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    server = serve(
        args.port,
        args.host,
        args.api_key,
        args.pricing_factor,
        args.max_vehicle_age,
        args.drop_after_commit,
        args.latency_ms,
        verbose=args.verbose,
    )
    print(
        f"carrier simulator listening on http://{args.host}:{server.server_address[1]}", flush=True
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
