"""Reading an endorsement or a cancellation from outside (a JSON body, a form), naming the field
that is wrong. Shared by the REST API and the console forms so both refuse the same way."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from app.errors import ValidationFailed
from app.identifiers import half_width
from app.policies.labels import EndorsementKind
from app.policies.services import CoverageDraft, EndorsementChange, OwnerChange

MAX_TEXT = 255


def _required(data: Mapping[str, Any], name: str, chinese: str) -> Any:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationFailed(f"{name}: is required", f"{name}：{chinese}必填", field=name)
    return value


def parse_date(value: Any, name: str) -> datetime.date:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(half_width(str(value)).strip())
    except ValueError as exc:
        raise ValidationFailed(
            f"{name}: not a date (YYYY-MM-DD)", f"{name}：日期格式应为 YYYY-MM-DD", field=name
        ) from exc


def parse_amount(value: Any, name: str, *, required: bool = True) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationFailed(f"{name}: is required", f"{name}：必填", field=name)
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValidationFailed(f"{name}: not an amount", f"{name}：不是有效金额", field=name)
    text = half_width(str(value)).strip().replace(",", "")
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise ValidationFailed(
            f"{name}: not an amount", f"{name}：不是有效金额", field=name
        ) from exc
    if not amount.is_finite() or abs(amount) >= Decimal("1e10"):
        raise ValidationFailed(f"{name}: out of range", f"{name}：金额超出范围", field=name)
    return amount


def _text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationFailed(f"{name}: must be text", f"{name}：应为文本", field=name)
    if len(value) > MAX_TEXT:
        raise ValidationFailed(
            f"{name}: at most {MAX_TEXT} characters", f"{name}：最多 {MAX_TEXT} 个字符", field=name
        )
    return value.strip() or None


def parse_coverages(items: Any) -> list[CoverageDraft]:
    if not isinstance(items, list) or not items:
        raise ValidationFailed(
            "coverages: a list of at least one coverage",
            "coverages：至少保留一个险别",
            field="coverages",
        )
    if len(items) > 50:
        raise ValidationFailed(
            "coverages: at most 50", "coverages：最多 50 个险别", field="coverages"
        )
    drafts = []
    for index, item in enumerate(items):
        where = f"coverages[{index}]"
        if not isinstance(item, Mapping):
            raise ValidationFailed(f"{where}: must be an object", f"{where}：格式错误", field=where)
        code = _text(item, "code")
        if not code:
            raise ValidationFailed(
                f"{where}.code: is required", f"{where}.code：险别代码必填", field=f"{where}.code"
            )
        drafts.append(
            CoverageDraft(
                code=code,
                name=_text(item, "name") or code,
                premium_incl_tax=parse_amount(
                    item.get("premium_incl_tax"), f"{where}.premium_incl_tax"
                ),
                sum_insured=parse_amount(
                    item.get("sum_insured"), f"{where}.sum_insured", required=False
                ),
            )
        )
    return drafts


def endorsement_from(data: Any) -> EndorsementChange:
    """A JSON object → an EndorsementChange; every refusal names its field."""
    if not isinstance(data, Mapping):
        raise ValidationFailed(
            "body: a JSON object is required", "请求体应为 JSON 对象", field="body"
        )
    kind_text = _required(data, "kind", "批改类型")
    try:
        kind = EndorsementKind(kind_text)
    except ValueError as exc:
        allowed = ", ".join(k.value for k in EndorsementKind if k != EndorsementKind.CANCEL)
        raise ValidationFailed(
            f"kind: must be one of {allowed}", f"kind：批改类型应为 {allowed} 之一", field="kind"
        ) from exc
    if kind == EndorsementKind.CANCEL:
        raise ValidationFailed(
            "kind: a cancellation is made with the cancel endpoint",
            "kind：退保请使用退保功能",
            field="kind",
        )
    effective = parse_date(_required(data, "effective_date", "生效日期"), "effective_date")
    change = EndorsementChange(
        kind=kind,
        effective_date=effective,
        reason=_text(data, "reason"),
        endorsement_no=_text(data, "endorsement_no"),
    )
    if kind == EndorsementKind.CHANGE_PLATE:
        change.plate = _text(data, "plate")
    elif kind == EndorsementKind.CHANGE_OWNER:
        change.owner = OwnerChange(
            insured_name=_text(data, "insured_name") or "",
            insured_id_number=_text(data, "insured_id_number"),
            insured_mobile=_text(data, "insured_mobile"),
            customer_id=_customer_id(data.get("customer_id")),
        )
    else:
        change.coverages = parse_coverages(data.get("coverages"))
    return change


def _customer_id(value: Any) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not str(value).isdigit() or int(value) > 2**31 - 1:
        raise ValidationFailed(
            "customer_id: not a customer id", "customer_id：客户编号无效", field="customer_id"
        )
    return int(value)


def cancellation_from(data: Any) -> tuple[datetime.date, str, str | None]:
    """(effective date, reason, carrier's endorsement number) of a 退保 request."""
    if not isinstance(data, Mapping):
        raise ValidationFailed(
            "body: a JSON object is required", "请求体应为 JSON 对象", field="body"
        )
    effective = parse_date(_required(data, "effective_date", "退保日期"), "effective_date")
    reason = _text(data, "reason")
    if not reason:
        raise ValidationFailed("reason: is required", "reason：退保原因必填", field="reason")
    return effective, reason, _text(data, "endorsement_no")
