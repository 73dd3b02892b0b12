"""The sandbox carrier's client: underwriting, pricing through the platform's tariff, proposals,
issuance with idempotency keys, endorsements, cancellations, confirmations and downloads."""

from __future__ import annotations

import calendar
import functools
import json
import random
import re
import sqlite3
import time
import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from app.carriers.contract import (
    LINES,
    BindRequest,
    BindResult,
    CancelRequest,
    CancelResult,
    CarrierError,
    CarrierRefused,
    CarrierUnavailable,
    ClaimInfo,
    ClaimQuery,
    ClientContext,
    ConfirmResult,
    DownloadedClaim,
    DownloadedPolicy,
    EndorseRequest,
    EndorseResult,
    Health,
    IssuedPolicy,
    IssueRequest,
    IssueResult,
    LineRequest,
    QuotedCoverage,
    QuotedLine,
    QuoteRequest,
    QuoteResult,
    StatementLine,
    cents,
    excl_vat,
    from_data,
    to_data,
)
from plugins.sandbox_carrier.state import SandboxState, dumps

ZERO = Decimal("0.00")
MOTOR_LINES = ("compulsory_motor", "commercial_motor", "motor_non_motor")
PERSON_LINES = ("accident_health", "term_life")
NUMBER_TOKEN = r"\{(?:prefix|yyyy|yy|mm|branch|seq:0(?:[4-9]|1[0-2])d)\}"
NUMBER_PATTERN = re.compile(rf"^(?:{NUMBER_TOKEN}|[A-Z0-9])+$")
DECIMAL_TEXT = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$"}
FUEL_LABELS = {
    "petrol": "汽油",
    "diesel": "柴油",
    "hybrid": "油电混合",
    "plugin_hybrid": "插电式混合动力",
    "electric": "纯电动",
    "fuel_cell": "燃料电池",
}

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "沙箱保险公司配置 / Sandbox carrier configuration",
    "type": "object",
    "additionalProperties": False,
    "required": ["policy_number"],
    "properties": {
        "branch_code": {
            "type": "string",
            "pattern": "^[0-9]{6}$",
            "default": "310000",
            "description": "出单机构代码（6 位），可出现在保单号中 / Issuing branch code.",
        },
        "pricing_factors": {
            "type": "object",
            "description": "各产品线的自主定价系数（费率结构中的最后一个系数，受法定区间限制）",
            "propertyNames": {"enum": list(LINES)},
            "additionalProperties": DECIMAL_TEXT,
        },
        "underwriting": {
            "type": "object",
            "additionalProperties": False,
            "description": "核保规则 / Underwriting rules.",
            "properties": {
                "max_vehicle_age_years": {"type": "integer", "minimum": 0, "maximum": 50},
                "refused_vehicle_classes": {"type": "array", "items": {"type": "string"}},
                "refused_provinces": {"type": "array", "items": {"type": "string"}},
                "refused_fuels": {"type": "array", "items": {"enum": list(FUEL_LABELS)}},
                "max_purchase_price": DECIMAL_TEXT,
                "max_claims_last_year": {"type": "integer", "minimum": 0, "maximum": 50},
                "min_insured_age": {"type": "integer", "minimum": 0, "maximum": 120},
                "max_insured_age": {"type": "integer", "minimum": 0, "maximum": 120},
            },
        },
        "latency_ms": {"type": "integer", "minimum": 0, "maximum": 30000, "default": 0},
        "fault_rate": {"type": "number", "minimum": 0, "maximum": 1, "default": 0},
        "quote_valid_minutes": {"type": "integer", "minimum": 1, "maximum": 10080, "default": 60},
        "pay_within_minutes": {"type": "integer", "minimum": 1, "maximum": 10080, "default": 30},
        "policy_number": {
            "type": "object",
            "additionalProperties": False,
            "required": ["pattern", "prefixes"],
            "description": "保单号格式：{prefix}{yyyy}{yy}{mm}{branch}{seq:0Nd} 与大写字母数字",
            "properties": {
                "pattern": {"type": "string", "minLength": 1, "maxLength": 80},
                "prefixes": {
                    "type": "object",
                    "propertyNames": {"enum": list(LINES)},
                    "additionalProperties": {"type": "string", "pattern": "^[A-Z0-9]{1,6}$"},
                },
            },
        },
        "endorsement_prefix": {"type": "string", "pattern": "^[A-Z0-9]{1,4}$", "default": "E"},
        "fee_rates": {
            "type": "object",
            "description": "对账单上的手续费率（按不含税保费） / Fee rate on statements.",
            "propertyNames": {"enum": list(LINES)},
            "additionalProperties": DECIMAL_TEXT,
        },
    },
}


def check_config(config: Mapping[str, Any]) -> list[str]:
    """What the schema cannot say: the policy-number pattern and its length (20–22)."""
    numbering = config.get("policy_number") or {}
    pattern = str(numbering.get("pattern", ""))
    if not NUMBER_PATTERN.match(pattern):
        return [
            f"保单号格式 {pattern!r} 只能由大写字母、数字和 {{prefix}} {{yyyy}} {{yy}} {{mm}} "
            "{branch} {seq:0Nd} 组成"
        ]
    if "{seq:" not in pattern:
        return ["保单号格式须含流水号 {seq:0Nd}，否则号码会重复"]
    problems = []
    for line, prefix in (numbering.get("prefixes") or {}).items():
        sample = _format_number(
            pattern, prefix, str(config.get("branch_code", "310000")), 1, date(2026, 1, 1)
        )
        if not 20 <= len(sample) <= 22:
            problems.append(f"{line} 的保单号 {sample} 长 {len(sample)} 位，须为 20–22 位")
    return problems


def _format_number(pattern: str, prefix: str, branch: str, seq: int, day: date) -> str:
    return pattern.format(
        prefix=prefix,
        yyyy=f"{day.year:04d}",
        yy=f"{day.year % 100:02d}",
        mm=f"{day.month:02d}",
        branch=branch,
        seq=seq,
    )


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def whole_years(start: date, end: date) -> int:
    years = end.year - start.year - ((end.month, end.day) < (start.month, start.day))
    return max(years, 0)


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def birth_and_gender(id_number: str | None) -> tuple[date | None, str | None]:
    """From an 18-character resident ID: birth date (digits 7–14) and sex (17th digit)."""
    if not id_number or len(id_number) != 18 or not id_number[:17].isdigit():
        return None, None
    try:
        born = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None, None
    return born, "male" if int(id_number[16]) % 2 else "female"


def facts_as_inputs(
    request: QuoteRequest, line: LineRequest, pricing_factor: Decimal | None = None
) -> dict[str, Any]:
    """The facts of a request as pricing inputs, the desk's form values over them, and the
    carrier's own pricing factor last (a desk cannot change a carrier's factor)."""
    history = request.history
    inputs: dict[str, Any] = {
        "province": request.province,
        "record": history.jqx_record,
        "claims_last_year": history.claims_last_year,
        "claim_free_years": history.claim_free_years,
        "drink_offences": history.drink_driving_offences,
    }
    if request.vehicle is not None:
        inputs.update(_vehicle_inputs(request))
    born, gender = birth_and_gender(request.insured.id_number)
    if born is not None:
        inputs.update(age=whole_years(born, request.start_date), gender=gender)
    inputs.update({k: v for k, v in line.form.items() if v is not None})
    if pricing_factor is not None:
        inputs["pricing_factor"] = pricing_factor
    return inputs


def _vehicle_inputs(request: QuoteRequest) -> dict[str, Any]:
    vehicle = request.vehicle
    registered = vehicle.register_date
    age = 0 if vehicle.is_new or registered is None else whole_years(registered, request.start_date)
    tax_months = 12
    if vehicle.is_new and registered is not None and registered.year == request.start_date.year:
        tax_months = 12 - registered.month + 1  # the registration month is taxed
    values = {
        "vehicle_class": vehicle.vehicle_class,
        "seats": vehicle.seats,
        "passenger_seats": max(vehicle.seats - 1, 0),
        "tonnage": vehicle.tonnage or Decimal(0),
        "displacement_l": vehicle.displacement_l or Decimal(0),
        "fuel": vehicle.fuel,
        "vehicle_age": age,
        "tax_months": tax_months,
    }
    if vehicle.purchase_price is not None:
        values["purchase_price"] = vehicle.purchase_price
    if vehicle.vehicle_class == "摩托车" and vehicle.displacement_l:
        values["displacement_ml"] = int(vehicle.displacement_l * 1000)
    return values


def answers_after_latency(method):
    """The carrier's answer (or its refusal) arrives `latency_ms` after the call.

    A real insurer's answer time includes its own underwriting and pricing, so the sandbox does
    its work first and sleeps only for what is left; sleeping the whole latency and then working
    would answer late by the work's time, which a real carrier never adds on our side.
    """

    @functools.wraps(method)
    def simulated(self: SandboxClient, *args: Any, **kwargs: Any) -> Any:
        timeout = kwargs["timeout"] if "timeout" in kwargs else args[-1]
        latency = self._latency()
        answer_at = time.monotonic() + latency
        self._fail_as_configured(latency, timeout)
        try:
            return method(self, *args, **kwargs)
        finally:
            time.sleep(max(0.0, answer_at - time.monotonic()))

    return simulated


class SandboxClient:
    """One tenant's sandbox insurer (contract.CarrierClient)."""

    def __init__(self, config: Mapping[str, Any], context: ClientContext) -> None:
        problems = check_config(config)
        if problems:
            raise ValueError("; ".join(problems))
        self.config = dict(config)
        self.context = context
        self.carrier_key = context.carrier_key
        self.channel = context.tenant_code
        self.state = SandboxState(context.state_dir)
        self.rules = dict(config.get("underwriting") or {})
        self.random = random.Random()

    # --- simulation --------------------------------------------------------------------------

    def _simulate(self, timeout: float) -> None:
        """The carrier's answer time and its faults, as its document says (before any work)."""
        latency = self._latency()
        self._fail_as_configured(latency, timeout)
        if latency:
            time.sleep(latency)

    def _latency(self) -> float:
        return int(self.config.get("latency_ms", 0)) / 1000

    def _fail_as_configured(self, latency: float, timeout: float) -> None:
        if latency > timeout:
            time.sleep(max(timeout, 0))
            raise CarrierUnavailable("保险公司响应超时", [f"保险公司在 {timeout:g} 秒内未响应"])
        if self.random.random() < float(self.config.get("fault_rate", 0)):
            if latency:
                time.sleep(latency)
            raise CarrierUnavailable(
                "保险公司系统繁忙", ["保险公司系统繁忙，请稍后重试（模拟故障）"]
            )

    # --- underwriting ------------------------------------------------------------------------

    def underwrite(self, request: QuoteRequest) -> list[str]:
        """Reasons to refuse, in Chinese; empty when the risk is accepted."""
        lines = {line.line for line in request.lines}
        reasons = []
        if lines & set(MOTOR_LINES) and request.vehicle is not None:
            reasons += self._vehicle_reasons(request)
        if lines & set(PERSON_LINES):
            reasons += self._person_reasons(request)
        return reasons

    def _vehicle_reasons(self, request: QuoteRequest) -> list[str]:
        vehicle, rules, reasons = request.vehicle, self.rules, []
        oldest = rules.get("max_vehicle_age_years")
        if oldest is not None and vehicle.register_date is not None:
            age = whole_years(vehicle.register_date, request.start_date)
            if age > oldest:
                reasons.append(f"车龄 {age} 年，超过本公司承保上限 {oldest} 年")
        if vehicle.vehicle_class in rules.get("refused_vehicle_classes", []):
            reasons.append(f"本公司暂不承保{vehicle.vehicle_class}")
        if request.province in rules.get("refused_provinces", []):
            reasons.append(f"本公司在{request.province}暂不承保车险")
        if vehicle.fuel in rules.get("refused_fuels", []):
            reasons.append(f"本公司暂不承保{FUEL_LABELS.get(vehicle.fuel, vehicle.fuel)}车辆")
        highest = rules.get("max_purchase_price")
        if highest and vehicle.purchase_price and vehicle.purchase_price > Decimal(highest):
            reasons.append(f"新车购置价超过本公司承保上限 {Decimal(highest):,.0f} 元")
        most = rules.get("max_claims_last_year")
        if most is not None and request.history.claims_last_year > most:
            reasons.append(f"上年出险 {request.history.claims_last_year} 次，超过本公司承保条件")
        return reasons

    def _person_reasons(self, request: QuoteRequest) -> list[str]:
        born, _ = birth_and_gender(request.insured.id_number)
        if born is None:
            return []
        age = whole_years(born, request.start_date)
        low, high = self.rules.get("min_insured_age"), self.rules.get("max_insured_age")
        if (low is not None and age < low) or (high is not None and age > high):
            return [f"被保险人 {age} 岁，不在本公司承保年龄 {low or 0}–{high or 120} 岁内"]
        return []

    # --- pricing -----------------------------------------------------------------------------

    def pricing_inputs(self, request: QuoteRequest, line: LineRequest) -> dict[str, Any]:
        factor = (self.config.get("pricing_factors") or {}).get(line.line)
        return facts_as_inputs(request, line, None if factor is None else Decimal(factor))

    def _price(self, request: QuoteRequest) -> tuple[list[QuotedLine], dict[str, str]]:
        if request.tariff is None:
            raise CarrierError("沙箱保险公司须由平台提供费率", ["未提供平台费率，无法报价"])
        lines, lineage = [], {}
        for line in request.lines:
            product = request.tariff.product(line.product_key)
            inputs = self.pricing_inputs(request, line)
            priced = request.tariff.price(line.product_key, inputs, line.coverages)
            lineage.update(priced.versions)
            premium = cents(priced.premium)
            explain = {n: priced.outputs.get(n) for n in product["pricing"].get("explain", [])}
            if "pricing_factor" in inputs:
                explain["pricing_factor"] = inputs["pricing_factor"]
            lines.append(
                QuotedLine(
                    line=product["line"],
                    product_key=line.product_key,
                    coverages=self._coverages(product, line, priced),
                    premium=premium,
                    premium_excl_vat=excl_vat(premium),
                    collected={k: cents(v) for k, v in priced.collected.items()},
                    explain=explain,
                    trace=priced.trace,
                )
            )
        return lines, lineage

    @staticmethod
    def _coverages(product: Mapping, line: LineRequest, priced) -> tuple[QuotedCoverage, ...]:
        asked = {c.code: c for c in line.coverages}
        premiums = priced.coverage_premiums
        found = []
        for offered in product.get("coverages", []):
            code = offered["code"]
            if premiums:
                taken = code in asked if asked else premiums.get(code, ZERO) > 0
                if not taken or code not in premiums:
                    continue
            elif not (code in asked or offered.get("required") or offered.get("selected")):
                continue
            sum_insured = asked[code].sum_insured if code in asked else None
            if sum_insured is None and offered.get("limit"):
                sum_insured = Decimal(offered["limit"])
            if (
                sum_insured is None
                and (offered.get("sum_insured") or {}).get("mode") == "vehicle_value"
            ):
                sum_insured = priced.outputs.get("actual_value")
            found.append(
                QuotedCoverage(
                    code=code,
                    name=offered["name"]["zh"],
                    sum_insured=sum_insured,
                    premium=premiums.get(code) if premiums else None,
                )
            )
        return tuple(found)

    @staticmethod
    def _totals(lines: list[QuotedLine]) -> tuple[Decimal, Decimal, Decimal]:
        premium = sum((line.premium for line in lines), ZERO)
        tax = sum((line.collected.get("vehicle_tax", ZERO) for line in lines), ZERO)
        return premium, tax, premium + tax

    # --- quote, bind, issue ------------------------------------------------------------------

    @answers_after_latency
    def quote(self, request: QuoteRequest, timeout: float) -> QuoteResult:
        reasons = self.underwrite(request)
        if reasons:
            return QuoteResult("refused", self.carrier_key, reasons=tuple(reasons))
        try:
            lines, lineage = self._price(request)
        except CarrierError:
            raise
        except Exception as error:  # noqa: BLE001 - the documents could not price these facts
            return QuoteResult("failed", self.carrier_key, reasons=(f"无法报价：{error}",))
        premium, tax, total = self._totals(lines)
        ref = f"Q{uuid.uuid4().hex[:20].upper()}"
        valid_until = _now() + timedelta(minutes=int(self.config.get("quote_valid_minutes", 60)))
        with self.state.write() as db:
            db.execute(
                "INSERT INTO quote (ref, channel, valid_until, data) VALUES (?, ?, ?, ?)",
                (ref, self.channel, valid_until.isoformat(), dumps({"total": str(total)})),
            )
        return QuoteResult(
            "ok",
            self.carrier_key,
            ref,
            tuple(lines),
            premium,
            tax,
            total,
            valid_until,
            lineage=lineage,
        )

    @answers_after_latency
    def bind(self, request: BindRequest, timeout: float) -> BindResult:
        with self.state.read() as db:
            done = SandboxState.one(
                db,
                "SELECT data FROM proposal WHERE idempotency_key = ? AND channel = ?",
                request.idempotency_key,
                self.channel,
            )
            quote = db.execute(
                "SELECT valid_until FROM quote WHERE ref = ? AND channel = ?",
                (request.carrier_quote_ref, self.channel),
            ).fetchone()
        if done is not None:
            return from_data(BindResult, done["result"])
        if quote is None:
            raise CarrierRefused("unknown quote", ["报价单号不存在，请重新报价"])
        if datetime.fromisoformat(quote[0]) < _now():
            raise CarrierRefused("quote expired", ["报价已过期，请重新报价"])
        wanted = set(request.product_keys)
        chosen = tuple(x for x in request.request.lines if x.product_key in wanted)
        if not chosen:
            raise CarrierRefused("nothing chosen", ["未选择投保险种"])
        asked = replace(request.request, lines=chosen)
        reasons = self.underwrite(asked)
        if reasons:
            return BindResult("refused", self.carrier_key, None, reasons=tuple(reasons))
        lines, _ = self._price(asked)
        premium, tax, total = self._totals(lines)
        pay_before = _now() + timedelta(minutes=int(self.config.get("pay_within_minutes", 30)))
        with self.state.write() as db:
            again = SandboxState.one(
                db, "SELECT data FROM proposal WHERE idempotency_key = ?", request.idempotency_key
            )
            if again is not None:
                return from_data(BindResult, again["result"])
            number = SandboxState.next_number(db, "proposal")
            ref = f"T{self.config.get('branch_code', '310000')}{_now():%Y%m%d}{number:07d}"
            result = BindResult(
                "bound", self.carrier_key, ref, tuple(lines), premium, tax, total, pay_before
            )
            terms = {x.product_key: self._end_date(asked, x) for x in chosen}
            facts = {
                "plate": asked.vehicle.plate if asked.vehicle else None,
                "vin": asked.vehicle.vin if asked.vehicle else None,
                "insured_name": asked.insured.name,
                "start_date": asked.start_date.isoformat(),
                "end_dates": {k: v.isoformat() for k, v in terms.items()},
            }
            db.execute(
                "INSERT INTO proposal (ref, idempotency_key, channel, data) VALUES (?, ?, ?, ?)",
                (
                    ref,
                    request.idempotency_key,
                    self.channel,
                    dumps({"result": to_data(result), "facts": facts}),
                ),
            )
        return result

    @staticmethod
    def _end_date(request: QuoteRequest, line: LineRequest) -> date:
        """The policy's last day: a year (or the product's term) less a day."""
        if request.end_date is not None:
            return request.end_date
        months = 12
        if request.tariff is not None:
            months = int(request.tariff.product(line.product_key).get("term_months", 12))
        years = line.form.get("term_years")
        if years not in (None, ""):
            months = int(years) * 12
        return add_months(request.start_date, months) - timedelta(days=1)

    @answers_after_latency
    def issue(self, request: IssueRequest, timeout: float) -> IssueResult:
        with self.state.write() as db:
            done = SandboxState.one(
                db,
                "SELECT data FROM issue WHERE idempotency_key = ? AND channel = ?",
                request.idempotency_key,
                self.channel,
            )
            if done is not None:
                return from_data(IssueResult, done)
            return self._issue(db, request)

    def _issue(self, db: sqlite3.Connection, request: IssueRequest) -> IssueResult:
        proposal = SandboxState.one(
            db,
            "SELECT data FROM proposal WHERE ref = ? AND channel = ?",
            request.proposal_ref,
            self.channel,
        )
        if proposal is None:
            raise CarrierRefused("unknown proposal", ["投保单不存在"])
        issued = db.execute(
            "SELECT data FROM issue WHERE proposal_ref = ?", (request.proposal_ref,)
        ).fetchone()
        if issued is not None:
            raise CarrierRefused("already issued", ["该投保单已出单，请用原幂等键查询结果"])
        bound = from_data(BindResult, proposal["result"])
        if cents(request.paid_amount) != bound.total:
            raise CarrierRefused(
                "paid amount differs", [f"实收 {request.paid_amount} 元与应缴 {bound.total} 元不符"]
            )
        facts, now = proposal["facts"], _now()
        start = date.fromisoformat(facts["start_date"])
        policies = []
        for line in bound.lines:
            end = date.fromisoformat(facts["end_dates"][line.product_key])
            policy = IssuedPolicy(
                line=line.line,
                product_key=line.product_key,
                policy_no=self._policy_number(db, line.line, now.date()),
                premium=line.premium,
                premium_excl_vat=line.premium_excl_vat,
                start_date=start,
                end_date=end,
                vehicle_tax=line.collected.get("vehicle_tax", ZERO),
            )
            policies.append(policy)
            self._store_policy(db, policy, facts, request.proposal_ref, now)
        result = IssueResult(
            "pending_confirmation", self.carrier_key, request.proposal_ref, tuple(policies), now
        )
        db.execute(
            "INSERT INTO issue (idempotency_key, channel, proposal_ref, data) VALUES (?, ?, ?, ?)",
            (request.idempotency_key, self.channel, request.proposal_ref, dumps(to_data(result))),
        )
        return result

    def _policy_number(self, db: sqlite3.Connection, line: str, day: date) -> str:
        numbering = self.config["policy_number"]
        prefix = numbering["prefixes"].get(line) or next(iter(numbering["prefixes"].values()), "P")
        seq = SandboxState.next_number(db, f"policy:{prefix}:{day.year}")
        branch = str(self.config.get("branch_code", "310000"))
        return _format_number(numbering["pattern"], prefix, branch, seq, day)

    def _store_policy(self, db, policy: IssuedPolicy, facts: Mapping, proposal: str | None, now):
        row = DownloadedPolicy(
            carrier_key=self.carrier_key,
            policy_no=policy.policy_no,
            line=policy.line,
            product_key=policy.product_key,
            status="issued",
            issued_at=now,
            start_date=policy.start_date,
            end_date=policy.end_date,
            premium=policy.premium,
            premium_excl_vat=policy.premium_excl_vat,
            vehicle_tax=policy.vehicle_tax,
            insured_name=facts.get("insured_name", ""),
            plate=facts.get("plate"),
            vin=facts.get("vin"),
            proposal_ref=proposal,
        )
        db.execute(
            "INSERT INTO policy (policy_no, channel, issued_on, status, data) "
            "VALUES (?, ?, ?, ?, ?)",
            (policy.policy_no, self.channel, now.date().isoformat(), "issued", dumps(to_data(row))),
        )

    def record_outside_policy(
        self,
        line: str,
        product_key: str,
        premium: Decimal,
        start_date: date,
        insured_name: str,
        plate: str | None = None,
        issued_on: date | None = None,
    ) -> DownloadedPolicy:
        """Sandbox only: a policy the carrier issued outside the platform (at its own counter),
        which its download will list and the platform cannot match."""
        now = datetime.combine(issued_on or _now().date(), datetime.min.time())
        with self.state.write() as db:
            policy = IssuedPolicy(
                line,
                product_key,
                self._policy_number(db, line, now.date()),
                cents(premium),
                excl_vat(premium),
                start_date,
                add_years(start_date, 1) - timedelta(days=1),
            )
            self._store_policy(
                db, policy, {"insured_name": insured_name, "plate": plate}, None, now
            )
        return self._policy(policy.policy_no)

    def _policy(self, policy_no: str) -> DownloadedPolicy | None:
        with self.state.read() as db:
            found = SandboxState.one(
                db,
                "SELECT data FROM policy WHERE policy_no = ? AND channel = ?",
                policy_no,
                self.channel,
            )
        return from_data(DownloadedPolicy, found) if found else None

    # --- after issuance ----------------------------------------------------------------------

    @answers_after_latency
    def confirm(self, policy_no: str, timeout: float) -> ConfirmResult:
        policy = self._policy(policy_no)
        if policy is None:
            return ConfirmResult(self.carrier_key, policy_no, "unknown")
        return ConfirmResult(self.carrier_key, policy_no, "confirmed", policy.issued_at)

    @answers_after_latency
    def endorse(self, request: EndorseRequest, timeout: float) -> EndorseResult:
        policy = request.policy
        change = ZERO
        if request.kind == "change_coverage" and request.new_premium is not None:
            change = cents(
                (request.new_premium - policy.premium) * _share_left(policy, request.effective_date)
            )
        with self.state.write() as db:
            done = SandboxState.one(
                db,
                "SELECT data FROM endorsement WHERE idempotency_key = ?",
                request.idempotency_key,
            )
            if done is not None:
                return from_data(EndorseResult, done)
            result = EndorseResult(
                self.carrier_key,
                policy.policy_no,
                self._endorsement_number(db),
                request.effective_date,
                change,
                excl_vat(change),
            )
            self._store_endorsement(db, request.idempotency_key, policy.policy_no, result)
        return result

    @answers_after_latency
    def cancel(self, request: CancelRequest, timeout: float) -> CancelResult:
        policy = request.policy
        refund = cents(policy.premium * _share_left(policy, request.effective_date))
        months_left = max(
            (policy.end_date.year - request.effective_date.year) * 12
            + policy.end_date.month
            - request.effective_date.month,
            0,
        )
        tax_refund = cents(policy.vehicle_tax * min(months_left, 12) / 12)
        with self.state.write() as db:
            done = SandboxState.one(
                db,
                "SELECT data FROM endorsement WHERE idempotency_key = ?",
                request.idempotency_key,
            )
            if done is not None:
                return from_data(CancelResult, done)
            result = CancelResult(
                self.carrier_key,
                policy.policy_no,
                self._endorsement_number(db),
                request.effective_date,
                refund,
                excl_vat(refund),
                tax_refund,
            )
            self._store_endorsement(db, request.idempotency_key, policy.policy_no, result)
            db.execute(
                "UPDATE policy SET status = 'cancelled', "
                "data = json_set(data, '$.status', 'cancelled') "
                "WHERE policy_no = ? AND channel = ?",
                (policy.policy_no, self.channel),
            )
        return result

    def _endorsement_number(self, db: sqlite3.Connection) -> str:
        prefix = self.config.get("endorsement_prefix", "E")
        day = _now().date()
        seq = SandboxState.next_number(db, f"endorsement:{day.year}")
        return f"{prefix}{day:%Y}{self.config.get('branch_code', '310000')}{seq:08d}"

    def _store_endorsement(self, db, key: str, policy_no: str, result) -> None:
        db.execute(
            "INSERT INTO endorsement (endorsement_no, idempotency_key, channel, policy_no, made_on,"
            " data) VALUES (?, ?, ?, ?, ?, ?)",
            (
                result.endorsement_no,
                key,
                self.channel,
                policy_no,
                _now().date().isoformat(),
                dumps({"kind": type(result).__name__, **to_data(result)}),
            ),
        )

    # --- claims (sandbox only: report one; the contract: look up and download) ---------------

    def report_claim(
        self,
        policy_no: str,
        loss_date: date,
        description: str = "",
        estimated_amount: Decimal | None = None,
    ) -> ClaimInfo:
        policy = self._policy(policy_no)
        now = _now()
        with self.state.write() as db:
            seq = SandboxState.next_number(db, f"claim:{now.year}")
            claim = ClaimInfo(
                claim_no=f"CL{now:%Y}{self.config.get('branch_code', '310000')}{seq:08d}",
                policy_no=policy_no,
                plate=policy.plate if policy else None,
                loss_date=loss_date,
                reported_at=now,
                status="reported",
                description=description,
                estimated_amount=estimated_amount,
            )
            db.execute(
                "INSERT INTO claim (claim_no, channel, policy_no, reported_on, data) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    claim.claim_no,
                    self.channel,
                    policy_no,
                    now.date().isoformat(),
                    dumps(to_data(claim)),
                ),
            )
        return claim

    @answers_after_latency
    def claim_lookup(self, query: ClaimQuery, timeout: float) -> tuple[ClaimInfo, ...]:
        with self.state.read() as db:
            claims = SandboxState.many(
                db, "SELECT data FROM claim WHERE channel = ? ORDER BY claim_no", self.channel
            )
        found = []
        for data in claims:
            claim = from_data(ClaimInfo, data)
            if (
                (query.claim_no and claim.claim_no != query.claim_no)
                or (query.policy_no and claim.policy_no != query.policy_no)
                or (query.plate and claim.plate != query.plate)
            ):
                continue
            found.append(claim)
        return tuple(found)

    # --- downloads ---------------------------------------------------------------------------

    @answers_after_latency
    def download_policies(
        self, since: date, until: date, timeout: float
    ) -> tuple[DownloadedPolicy, ...]:
        with self.state.read() as db:
            rows = SandboxState.many(
                db,
                "SELECT data FROM policy WHERE channel = ? AND issued_on BETWEEN ? AND ? "
                "ORDER BY policy_no",
                self.channel,
                since.isoformat(),
                until.isoformat(),
            )
        return tuple(from_data(DownloadedPolicy, row) for row in rows)

    @answers_after_latency
    def download_statement(self, period: str, timeout: float) -> tuple[StatementLine, ...]:
        first = date.fromisoformat(f"{period}-01")
        last = add_months(first, 1) - timedelta(days=1)
        rates = self.config.get("fee_rates") or {}
        lines = []
        for policy in self.download_policies(first, last, timeout):
            rate = Decimal(rates.get(policy.line, "0"))
            lines.append(
                StatementLine(
                    self.carrier_key,
                    period,
                    policy.policy_no,
                    None,
                    policy.insured_name,
                    policy.product_key,
                    policy.premium,
                    policy.premium_excl_vat,
                    "commission",
                    rate,
                    cents(policy.premium_excl_vat * rate),
                )
            )
        with self.state.read() as db:
            endorsements = db.execute(
                "SELECT e.data, p.data FROM endorsement e "
                "JOIN policy p ON p.policy_no = e.policy_no "
                "WHERE e.channel = ? AND e.made_on BETWEEN ? AND ? ORDER BY e.endorsement_no",
                (self.channel, first.isoformat(), last.isoformat()),
            ).fetchall()
        for endorsement_text, policy_text in endorsements:
            made, policy = json.loads(endorsement_text), json.loads(policy_text)
            change = (
                -Decimal(made["refund"]) if "refund" in made else Decimal(made["premium_change"])
            )
            if not change:
                continue
            rate = Decimal(rates.get(policy["line"], "0"))
            lines.append(
                StatementLine(
                    self.carrier_key,
                    period,
                    policy["policy_no"],
                    made["endorsement_no"],
                    policy["insured_name"],
                    policy["product_key"],
                    change,
                    excl_vat(change),
                    "commission",
                    rate,
                    cents(excl_vat(change) * rate),
                )
            )
        return tuple(lines)

    @answers_after_latency
    def download_claims(
        self, since: date, until: date, timeout: float
    ) -> tuple[DownloadedClaim, ...]:
        with self.state.read() as db:
            rows = SandboxState.many(
                db,
                "SELECT data FROM claim WHERE channel = ? AND reported_on BETWEEN ? AND ? "
                "ORDER BY claim_no",
                self.channel,
                since.isoformat(),
                until.isoformat(),
            )
        claims = [from_data(ClaimInfo, row) for row in rows]
        return tuple(
            DownloadedClaim(
                self.carrier_key,
                c.claim_no,
                c.policy_no,
                c.plate,
                c.loss_date,
                c.reported_at,
                c.status,
                c.estimated_amount,
            )
            for c in claims
        )

    def health(self, timeout: float) -> Health:
        started = time.monotonic()
        self._simulate(timeout)
        return Health(True, int((time.monotonic() - started) * 1000), "沙箱保险公司正常")


def _share_left(policy, effective: date) -> Decimal:
    """The share of the term from `effective` to the end (days, both ends included)."""
    term = (policy.end_date - policy.start_date).days + 1
    if effective <= policy.start_date:
        return Decimal(1)
    left = max((policy.end_date - effective).days + 1, 0)
    return Decimal(left) / Decimal(term)
