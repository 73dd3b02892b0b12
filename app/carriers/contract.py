"""The carrier plugin contract: request and result types, the client protocol, the hooks.

Pure Python — dataclasses, Decimal, date and pluggy, nothing of Flask, SQLAlchemy or the rest of
`app/`. A carrier plugin imports this module and `rules/`, never models, views or sessions (a test
checks the imports of every plugin under `plugins/`).

A plugin is a module (or package) that implements the hook `dealercover_carrier_plugins()` and
returns `CarrierPlugin` descriptions; each describes a plugin code, its capabilities, the JSON
Schema of its configuration and a factory that makes a `CarrierClient` for one tenant's carrier
document. The platform discovers plugins from the `dealercover.carriers` entry-point group and from
the top-level `plugins/` folder (see app/carriers/registry.py and docs/plugins.md).

Money is `Decimal` (yuan, two places, half-up) and includes VAT unless the name says `excl_vat`.
Every call on a client takes `timeout` in seconds; a client that cannot answer in time raises
`CarrierUnavailable`.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal, Protocol, runtime_checkable

import pluggy

PROJECT = "dealercover"
ENTRY_POINT_GROUP = "dealercover.carriers"
CONTRACT_VERSION = "1.0"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

# Product lines a carrier may quote: the `line` of a product document (common.schema.json's
# product_line; 驾乘意外 is motor_non_motor there).
LINES = (
    "compulsory_motor",
    "commercial_motor",
    "motor_non_motor",
    "accident_health",
    "term_life",
    "other",
)
# What a plugin may declare it can do; a carrier document enables a subset.
CAPABILITIES = (
    "quote",
    "bind",
    "issue",
    "endorse",
    "cancel",
    "confirm",
    "claim_lookup",
    "policy_download",
    "statement_download",
    "claim_download",
)
# 不含税保费 = 含税保费 / 1.06 (DOMAIN.md); the platform's own helper is app/fees/arithmetic.
VAT_FACTOR = Decimal("1.06")
CENT = Decimal("0.01")


def cents(value: Any) -> Decimal:
    """Half-up to the cent, from a Decimal, int or a numeric string (never a float's noise)."""
    return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


def excl_vat(amount: Decimal) -> Decimal:
    return cents(Decimal(amount) / VAT_FACTOR)


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------
class CarrierError(Exception):
    """A carrier call went wrong. `reasons` are Chinese texts a desk user can read."""

    retryable = False

    def __init__(self, message: str, reasons: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.reasons = tuple(reasons) or (message,)


class CarrierRefused(CarrierError):
    """A business refusal (underwriting, product not sold, …): asking again will not help."""


class CarrierUnavailable(CarrierError):
    """Timeout, connection error or 5xx: the call may be retried (with the same idempotency key
    when it changes state)."""

    retryable = True


# ---------------------------------------------------------------------------------------------
# The platform's tariff, handed to a plugin in the QuoteRequest
# ---------------------------------------------------------------------------------------------
@runtime_checkable
class PricedProduct(Protocol):
    """What `Tariff.price` returns (app/quoting/pricing.py's PricedProduct has these fields)."""

    premium: Decimal
    collected: Mapping[str, Decimal]
    outputs: Mapping[str, Any]
    trace: Any
    versions: Mapping[str, str]  # "kind:key" → version of every document used (lineage)
    # coverage code → premium, from the product's pricing.coverage_premiums (may be empty)
    coverage_premiums: Mapping[str, Decimal]


@runtime_checkable
class Tariff(Protocol):
    """The platform's reference tariff: the product and pricing documents in force on the start
    date (app/carriers/tariff.py over app/quoting/pricing.py).

    `inputs` are pricing inputs: the product's form values plus what the carrier adds (for example
    its `pricing_factor` 自主定价系数); `coverages` are the coverages asked for, which the
    platform turns into the product's coverage form fields (`<code>` taken yes/no,
    `<code>_limit` / `<code>_sum_insured` the amount). A sandbox carrier prices with this; a real
    carrier ignores it (over HTTP it is None)."""

    def price(
        self,
        product_key: str,
        inputs: Mapping[str, Any],
        coverages: Sequence[CoverageRequest] = (),
    ) -> PricedProduct: ...

    def product(self, product_key: str) -> Mapping[str, Any]:
        """The product document's body in force (line, coverages with names, form, pricing)."""
        ...


# ---------------------------------------------------------------------------------------------
# Facts sent to a carrier
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VehicleFacts:
    plate: str | None = None
    vin: str | None = None
    vehicle_class: str = "家庭自用汽车"  # 交强险 class (DOMAIN.md)
    seats: int = 5
    tonnage: Decimal | None = None
    displacement_l: Decimal | None = None
    fuel: str = "petrol"  # petrol | diesel | hybrid | plugin_hybrid | electric | fuel_cell
    purchase_price: Decimal | None = None
    register_date: date | None = None
    is_new: bool = False
    usage: str = "private"  # private | company | government | hire | freight
    brand: str = ""
    model_name: str = ""


@dataclass(frozen=True)
class PartyFacts:
    name: str
    kind: Literal["person", "company"] = "person"
    id_number: str | None = None
    credit_code: str | None = None
    mobile: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class History:
    claims_last_year: int = 0
    claim_free_years: int = 0
    jqx_record: str = "A1"  # 交强险 floating-rate record A1..A6
    previous_carrier: str | None = None
    drink_driving_offences: int = 0


@dataclass(frozen=True)
class CoverageRequest:
    code: str
    sum_insured: Decimal | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LineRequest:
    product_key: str
    line: str
    coverages: tuple[CoverageRequest, ...] = ()
    form: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class QuoteRequest:
    request_id: str
    carrier_key: str
    province: str
    start_date: date
    vehicle: VehicleFacts | None
    holder: PartyFacts
    insured: PartyFacts
    lines: tuple[LineRequest, ...]
    history: History = field(default_factory=History)
    end_date: date | None = None  # default: one year from start_date
    tariff: Tariff | None = field(default=None, compare=False, repr=False)


# ---------------------------------------------------------------------------------------------
# Answers
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QuotedCoverage:
    code: str
    name: str
    sum_insured: Decimal | None
    premium: Decimal | None  # None: the line is priced as a whole (交强险's three limits)


@dataclass(frozen=True)
class QuotedLine:
    line: str
    product_key: str
    coverages: tuple[QuotedCoverage, ...]
    premium: Decimal
    premium_excl_vat: Decimal
    collected: Mapping[str, Decimal] = field(default_factory=dict)  # {"vehicle_tax": …}
    explain: Mapping[str, Any] = field(default_factory=dict)  # named intermediate values
    trace: Any = None


QuoteStatus = Literal["ok", "refused", "failed", "timeout"]


@dataclass(frozen=True)
class QuoteResult:
    status: QuoteStatus
    carrier_key: str
    carrier_quote_ref: str | None = None
    lines: tuple[QuotedLine, ...] = ()
    total_premium: Decimal = Decimal("0.00")
    vehicle_tax: Decimal = Decimal("0.00")
    total: Decimal = Decimal("0.00")
    valid_until: datetime | None = None
    reasons: tuple[str, ...] = ()
    lineage: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BindRequest:
    """核保/投保: the quote request again (carriers re-price; a client price is never trusted) and
    the chosen lines. The same idempotency key always answers with the same proposal."""

    idempotency_key: str
    carrier_key: str
    carrier_quote_ref: str
    request: QuoteRequest
    product_keys: tuple[str, ...]


@dataclass(frozen=True)
class BindResult:
    status: Literal["bound", "refused"]
    carrier_key: str
    proposal_ref: str | None
    lines: tuple[QuotedLine, ...] = ()
    total_premium: Decimal = Decimal("0.00")
    vehicle_tax: Decimal = Decimal("0.00")
    total: Decimal = Decimal("0.00")  # what must be paid
    pay_before: datetime | None = None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class IssueRequest:
    """Issue the bound proposal after payment. Never retried without the same idempotency key."""

    idempotency_key: str
    carrier_key: str
    proposal_ref: str
    payment_ref: str
    paid_amount: Decimal


@dataclass(frozen=True)
class IssuedPolicy:
    line: str
    product_key: str
    policy_no: str
    premium: Decimal
    premium_excl_vat: Decimal
    start_date: date
    end_date: date
    vehicle_tax: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class IssueResult:
    status: Literal["pending_confirmation", "issued"]
    carrier_key: str
    proposal_ref: str
    policies: tuple[IssuedPolicy, ...]
    issued_at: datetime


@dataclass(frozen=True)
class PolicyRef:
    """A policy as the platform knows it, sent with endorse/cancel so a carrier needs no look-up."""

    policy_no: str
    line: str
    product_key: str
    start_date: date
    end_date: date
    premium: Decimal
    vehicle_tax: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class EndorseRequest:
    idempotency_key: str
    carrier_key: str
    policy: PolicyRef
    kind: Literal["change_plate", "change_owner", "change_coverage"]
    effective_date: date
    changes: Mapping[str, Any] = field(default_factory=dict)
    new_premium: Decimal | None = None  # change_coverage: the full-year premium after the change


@dataclass(frozen=True)
class EndorseResult:
    carrier_key: str
    policy_no: str
    endorsement_no: str
    effective_date: date
    premium_change: Decimal  # signed, incl. VAT
    premium_change_excl_vat: Decimal
    status: Literal["pending_confirmation", "done"] = "done"


@dataclass(frozen=True)
class CancelRequest:
    idempotency_key: str
    carrier_key: str
    policy: PolicyRef
    effective_date: date
    reason: str = ""


@dataclass(frozen=True)
class CancelResult:
    carrier_key: str
    policy_no: str
    endorsement_no: str
    effective_date: date
    refund: Decimal  # positive amount paid back, incl. VAT
    refund_excl_vat: Decimal
    vehicle_tax_refund: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class ConfirmResult:
    carrier_key: str
    policy_no: str
    status: Literal["confirmed", "pending", "unknown", "refused"]
    confirmed_at: datetime | None = None


@dataclass(frozen=True)
class ClaimQuery:
    policy_no: str | None = None
    plate: str | None = None
    claim_no: str | None = None


@dataclass(frozen=True)
class ClaimInfo:
    claim_no: str
    policy_no: str
    plate: str | None
    loss_date: date
    reported_at: datetime
    status: (
        str  # reported 已报案 | surveying 查勘中 | settling 理算中 | paid 已结案 | closed 已注销
    )
    description: str = ""
    estimated_amount: Decimal | None = None
    paid_amount: Decimal | None = None


@dataclass(frozen=True)
class DownloadedPolicy:
    """One row of a carrier's policy download (保单下载)."""

    carrier_key: str
    policy_no: str
    line: str
    product_key: str
    status: Literal["issued", "cancelled"]
    issued_at: datetime
    start_date: date
    end_date: date
    premium: Decimal
    premium_excl_vat: Decimal
    vehicle_tax: Decimal = Decimal("0.00")
    insured_name: str = ""
    plate: str | None = None
    vin: str | None = None
    proposal_ref: str | None = None


@dataclass(frozen=True)
class StatementLine:
    """One row of a carrier's monthly statement (对账单)."""

    carrier_key: str
    period: str  # YYYY-MM
    policy_no: str
    endorsement_no: str | None
    insured_name: str
    product_key: str
    premium: Decimal
    premium_excl_vat: Decimal
    fee_type: str
    fee_rate: Decimal
    fee_amount: Decimal
    settled: bool = False


@dataclass(frozen=True)
class DownloadedClaim:
    carrier_key: str
    claim_no: str
    policy_no: str
    plate: str | None
    loss_date: date
    reported_at: datetime
    status: str
    amount: Decimal | None = None


@dataclass(frozen=True)
class Health:
    ok: bool
    latency_ms: int
    detail: str = ""


@dataclass(frozen=True)
class ClientContext:
    """Where a client runs: the tenant and carrier document it serves, and a private folder
    (under the platform's storage) for any state it must keep between processes."""

    tenant_code: str
    carrier_key: str
    state_dir: str


# ---------------------------------------------------------------------------------------------
# The client and the plugin
# ---------------------------------------------------------------------------------------------
@runtime_checkable
class CarrierClient(Protocol):
    """One tenant's connection to one carrier. Every call takes `timeout` (seconds)."""

    def quote(self, request: QuoteRequest, timeout: float) -> QuoteResult: ...

    def bind(self, request: BindRequest, timeout: float) -> BindResult: ...

    def issue(self, request: IssueRequest, timeout: float) -> IssueResult: ...

    def endorse(self, request: EndorseRequest, timeout: float) -> EndorseResult: ...

    def cancel(self, request: CancelRequest, timeout: float) -> CancelResult: ...

    def confirm(self, policy_no: str, timeout: float) -> ConfirmResult: ...

    def claim_lookup(self, query: ClaimQuery, timeout: float) -> tuple[ClaimInfo, ...]: ...

    def download_policies(
        self, since: date, until: date, timeout: float
    ) -> tuple[DownloadedPolicy, ...]: ...

    def download_statement(self, period: str, timeout: float) -> tuple[StatementLine, ...]: ...

    def download_claims(
        self, since: date, until: date, timeout: float
    ) -> tuple[DownloadedClaim, ...]: ...

    def health(self, timeout: float) -> Health: ...


ClientFactory = Callable[[Mapping[str, Any], Mapping[str, str], ClientContext], CarrierClient]


@dataclass(frozen=True)
class CarrierPlugin:
    """A plugin's description. `make_client(config, credentials, context)` gets the carrier
    document's `config` (already validated by `config_schema`) and its credentials resolved to
    their secret values; it must not log or echo them."""

    code: str
    name: str
    version: str
    capabilities: tuple[str, ...]
    config_schema: Mapping[str, Any]
    make_client: ClientFactory = field(compare=False, repr=False)
    description: str = ""
    contract_version: str = CONTRACT_VERSION
    # Checks beyond the JSON Schema (e.g. a policy-number format's length): config → problems
    # (Chinese texts); empty when the configuration is usable.
    check_config: Callable[[Mapping[str, Any]], list[str]] | None = field(
        default=None, compare=False, repr=False
    )


class CarrierHookSpecs:
    """The hooks of the "dealercover" project (pluggy)."""

    @hookspec
    def dealercover_carrier_plugins(self) -> list[CarrierPlugin]:
        """Return the carrier plugins this module provides."""


# ---------------------------------------------------------------------------------------------
# The coverage ↔ form-field convention of product documents
# ---------------------------------------------------------------------------------------------
def coverage_inputs(
    product_body: Mapping[str, Any], coverages: Sequence[CoverageRequest]
) -> dict[str, Any]:
    """The form values that say which coverages are taken, by the products' convention: coverage
    `C` is taken when the boolean field `C` is true, and its amount is in the field `C_limit` or
    `C_sum_insured` (0 when not taken). No coverages asked → no values (the form decides)."""
    if not coverages:
        return {}
    fields = {spec["name"]: spec for spec in product_body.get("form", [])}
    asked = {coverage.code: coverage for coverage in coverages}
    values: dict[str, Any] = {}
    for offered in product_body.get("coverages", []):
        code = offered["code"]
        taken = code in asked
        spec = fields.get(code)
        if spec is not None and spec.get("type") == "boolean":
            values[code] = taken
        for name in (f"{code}_limit", f"{code}_sum_insured"):
            spec = fields.get(name)
            if spec is None:
                continue
            amount = asked[code].sum_insured if taken else Decimal(0)
            if taken and amount is None:
                continue  # taken with the form's own (default) amount
            values[name] = _field_value(spec, amount)
    return values


def _field_value(spec: Mapping[str, Any], amount: Decimal) -> Any:
    """An amount as the field wants it: an enum's matching choice value, else the number."""
    if spec.get("type") != "enum":
        return amount
    for choice in spec.get("choices", []):
        try:
            if Decimal(choice["value"]) == amount:
                return choice["value"]
        except InvalidOperation:
            continue
    return str(amount.normalize()) if amount else "0"


# ---------------------------------------------------------------------------------------------
# Plain-data conversion, for plugins that talk JSON (e.g. over HTTP)
# ---------------------------------------------------------------------------------------------
def to_data(value: Any) -> Any:
    """A contract object → JSON-ready data (Decimal and dates as strings)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_data(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name != "tariff"
        }
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_data(v) for v in value]
    return value


def from_data(cls: type, data: Any) -> Any:
    """JSON data → the contract type `cls` (the inverse of `to_data`)."""
    return _decode(cls, data)


def _decode(hint: Any, data: Any) -> Any:
    if data is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return _decode(options[0], data) if len(options) == 1 else data
    if origin is Literal or hint is Any:
        return data
    if origin is tuple:
        return tuple(_decode(typing.get_args(hint)[0], item) for item in data)
    if origin in (Mapping, dict) or hint in (Mapping, dict):
        args = typing.get_args(hint)
        value_type = args[1] if len(args) == 2 else Any
        return {k: _decode(value_type, v) for k, v in data.items()}
    if dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        names = {f.name for f in dataclasses.fields(hint) if f.init}
        return hint(**{k: _decode(hints[k], v) for k, v in data.items() if k in names})
    if hint is Decimal:
        return Decimal(str(data))
    if hint is datetime:
        return datetime.fromisoformat(data)
    if hint is date:
        return date.fromisoformat(data)
    return data
