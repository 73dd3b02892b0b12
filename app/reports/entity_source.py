"""Reports over an entity's records: a `report` document whose `source` is an entity (and, with
`table.field` paths, the rows of one of its child tables — a course's attendees).

Rows are read through the ORM, so the tenant guard scopes them to what the user sees; grouping
and measures are computed here over plain values. Supported: dimensions on fields (of the record
or of the child row), measures count / count_distinct / sum / avg / min / max with an optional
`where` expression (the rules language; a child field `attendees.completed` is named
`attendees_completed`), ratio and share, fixed filters, periods on a date field, totals, sort, and
`target` (a minimum a measure is held against: two more columns, the minimum and 达标).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import rules
from app.errors import BadInput, NotFound

MAX_ROWS = 200_000
PERIODS = ("today", "yesterday", "this_month", "last_month", "this_year", "last_year", "custom")
ZERO = Decimal(0)


@dataclass
class ReportTable:
    title: str
    headers: list[str]
    rows: list[list[Any]]
    totals: list[Any] | None = None
    period: tuple[datetime.date, datetime.date] | None = None
    kinds: list[str] = field(default_factory=list)  # per column: text, integer, decimal, money…


def period_range(
    period: str, today: datetime.date, start: str | None = None, end: str | None = None
) -> tuple[datetime.date, datetime.date]:
    if period not in PERIODS:
        raise BadInput(f"period: {period!r}", "期间不正确", field="period")
    if period == "today":
        return today, today
    if period == "yesterday":
        day = today - datetime.timedelta(days=1)
        return day, day
    if period == "this_month":
        return today.replace(day=1), today
    if period == "last_month":
        last = today.replace(day=1) - datetime.timedelta(days=1)
        return last.replace(day=1), last
    if period == "this_year":
        return today.replace(month=1, day=1), today.replace(month=12, day=31)
    if period == "last_year":
        return datetime.date(today.year - 1, 1, 1), datetime.date(today.year - 1, 12, 31)
    try:
        low, high = datetime.date.fromisoformat(start or ""), datetime.date.fromisoformat(end or "")
    except ValueError:
        raise BadInput(
            "custom period: from and to must be dates", "自定义期间须填写起止日期", field="from"
        ) from None
    if high < low or (high - low).days > 3660:
        raise BadInput("custom period: to before from", "结束日期早于开始日期", field="to")
    return low, high


def run_report(
    session: Session,
    runtime,
    body: Mapping[str, Any],
    *,
    period: str | None = None,
    start: str | None = None,
    end: str | None = None,
    today: datetime.date | None = None,
    lang: str = "zh",
) -> ReportTable:
    definition = runtime.definition
    child = _child_table(definition, body)
    model = runtime.model
    child_model = model.__children__[child] if child else None
    query = (
        select(child_model, model).join(model, child_model.parent_id == model.id)
        if child_model is not None
        else select(model)
    )
    chosen = period or body.get("default_period") or (body.get("periods") or ["this_year"])[0]
    span = None
    if body.get("period_field"):
        span = period_range(chosen, today or datetime.date.today(), start, end)
        column = _column(definition, body["period_field"], model, child_model)
        query = query.where(column >= span[0], column <= span[1])
    for condition in body.get("filters", []):
        query = query.where(_filter(definition, condition, model, child_model))
    found = session.execute(query.limit(MAX_ROWS + 1)).all()
    if len(found) > MAX_ROWS:
        raise BadInput(
            f"more than {MAX_ROWS} rows: narrow the period",
            f"数据超过 {MAX_ROWS} 行，请缩小期间",
            field="period",
        )
    values = [_values(definition, child, row) for row in found]
    return _tabulate(definition, body, values, span, lang)


def _child_table(definition, body) -> str | None:
    paths = [d["field"] for d in body["dimensions"]]
    paths += [m["field"] for m in body["measures"] if m.get("field")]
    paths += [f["field"] for f in body.get("filters", [])]
    tables = {p.split(".", 1)[0] for p in paths if "." in p}
    tables = {t for t in tables if (definition.field(t) or {}).get("type") == "table"}
    if len(tables) > 1:
        raise BadInput("a report reads one child table", "一张报表只能统计一个明细表")
    return next(iter(tables), None)


def _spec(definition, path: str) -> dict:
    if "." in path:
        table, name = path.split(".", 1)
        spec = definition.child(table).field(name) if definition.field(table) else None
    else:
        spec = definition.field(path)
    if spec is None:
        raise NotFound(f"{path}: not a field of {definition.name}", f"{path}：不是该数据的字段")
    return spec


def _column(definition, path: str, model, child_model):
    _spec(definition, path)
    if "." in path:
        return getattr(child_model, path.split(".", 1)[1])
    return getattr(model, path)


def _filter(definition, condition: Mapping, model, child_model):
    column = _column(definition, condition["field"], model, child_model)
    op, value = condition["op"], condition.get("value")
    operations = {
        "eq": lambda: column == value,
        "ne": lambda: column != value,
        "in": lambda: column.in_(value or []),
        "not_in": lambda: column.not_in(value or []),
        "gt": lambda: column > value,
        "gte": lambda: column >= value,
        "lt": lambda: column < value,
        "lte": lambda: column <= value,
        "is_null": lambda: column.is_(None),
        "not_null": lambda: column.is_not(None),
    }
    return operations[op]()


def _values(definition, child: str | None, row) -> dict[str, Any]:
    """A result row as {path: value}; booleans left empty count as no."""
    record = row[-1]
    found: dict[str, Any] = {}
    for spec in definition.column_fields:
        found[spec["name"]] = _plain(spec, getattr(record, spec["name"], None))
    if child:
        line = row[0]
        for spec in definition.child(child).column_fields:
            found[f"{child}.{spec['name']}"] = _plain(spec, getattr(line, spec["name"], None))
    return found


def _plain(spec: dict, value: Any) -> Any:
    if spec.get("type") == "boolean":
        return bool(value)
    return value


def _tabulate(definition, body, values: list[dict], span, lang: str) -> ReportTable:
    dimensions = body["dimensions"]
    groups: dict[tuple, list[dict]] = {}
    for row in values:
        key = tuple(row.get(d["field"]) for d in dimensions)
        groups.setdefault(key, []).append(row)
    measures = body["measures"]
    computed = {key: _measures(measures, rows) for key, rows in groups.items()}
    totals = _measures(measures, values)
    for results in [*computed.values(), totals]:
        _derived(measures, results, totals)
    sort = body.get("sort") or {}
    names = [m["name"] for m in measures]
    ordered = list(computed.items())
    if sort.get("by") in names:
        ordered.sort(
            key=lambda item: (item[1][sort["by"]] is None, item[1][sort["by"]] or ZERO),
            reverse=sort.get("direction", "desc") == "desc",
        )
    else:
        ordered.sort(key=lambda item: tuple(str(v) for v in item[0]))
    target = body.get("target")
    headers = [_label(d["label"], lang) for d in dimensions]
    headers += [_label(m["label"], lang) for m in measures]
    kinds = ["text"] * len(dimensions) + [m.get("format", "decimal") for m in measures]
    if target:
        headers += [_label(target["label"], lang), "达标" if lang == "zh" else "Met"]
        kinds += ["decimal", "text"]
    rows = []
    for key, results in ordered:
        cells = [
            _dimension_text(definition, d["field"], v, lang)
            for d, v in zip(dimensions, key, strict=True)
        ]
        cells += [results[name] for name in names]
        if target:
            cells += _target_cells(target, results, lang)
        rows.append(cells)
    total_row = None
    if body.get("totals", True):
        total_row = ["合计" if lang == "zh" else "Total"] + [""] * (len(dimensions) - 1)
        total_row += [totals[name] for name in names] + (["", ""] if target else [])
    title = _label(body["title"], lang)
    return ReportTable(title, headers, rows, total_row, span, kinds)


def _measures(measures: list[dict], rows: list[dict]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for measure in measures:
        aggregate = measure["aggregate"]
        if aggregate in ("ratio", "share"):
            continue
        chosen = [r for r in rows if _where(measure, r)]
        values = [r.get(measure["field"]) for r in chosen] if measure.get("field") else []
        numbers = [Decimal(str(v)) for v in values if v is not None]
        if aggregate == "count":
            results[measure["name"]] = len(chosen)
        elif aggregate == "count_distinct":
            results[measure["name"]] = len({v for v in values if v is not None})
        elif aggregate == "sum":
            results[measure["name"]] = sum(numbers, ZERO)
        elif aggregate == "avg":
            average = sum(numbers, ZERO) / len(numbers) if numbers else None
            results[measure["name"]] = _round(average) if average is not None else None
        elif aggregate == "min":
            results[measure["name"]] = min(numbers) if numbers else None
        elif aggregate == "max":
            results[measure["name"]] = max(numbers) if numbers else None
    return results


def _derived(measures: list[dict], results: dict[str, Any], totals: dict[str, Any]) -> None:
    for measure in measures:
        if measure["aggregate"] == "ratio":
            top, bottom = results.get(measure["numerator"]), results.get(measure["denominator"])
            results[measure["name"]] = _round(Decimal(top) / Decimal(bottom)) if bottom else None
        elif measure["aggregate"] == "share":
            part, whole = results.get(measure["of"]), totals.get(measure["of"])
            results[measure["name"]] = _round(Decimal(part) / Decimal(whole), 4) if whole else None


def _where(measure: dict, row: dict) -> bool:
    expression = measure.get("where")
    if not expression:
        return True
    names = {path.replace(".", "_"): value for path, value in row.items()}
    try:
        answer = rules.evaluate_expression(expression, names)
    except rules.RuleError as exc:
        raise BadInput(
            f"measure {measure['name']}: where: {exc}",
            f"指标 {measure['name']} 的条件无法计算：{exc}",
            field="where",
        ) from None
    return answer is True


def _target_cells(target: dict, results: dict[str, Any], lang: str) -> list[Any]:
    minimum = Decimal(str(target["minimum"]))
    value = results.get(target["measure"]) or ZERO
    met = Decimal(value) >= minimum
    return [minimum, ("是" if met else "否") if lang == "zh" else ("yes" if met else "no")]


def _dimension_text(definition, path: str, value: Any, lang: str) -> Any:
    if value is None:
        return "（空）" if lang == "zh" else "(empty)"
    spec = _spec(definition, path)
    if spec.get("type") == "enum":
        for choice in spec.get("choices", []):
            if choice["value"] == value:
                return _label(choice["label"], lang)
    return value


def _label(label: Mapping[str, str] | str, lang: str) -> str:
    if isinstance(label, str):
        return label
    return label.get(lang) or label.get("zh") or next(iter(label.values()))


def _round(value: Decimal, places: int = 2) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
