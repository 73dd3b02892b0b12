"""Quotes as the API and the desk screen show them: labels in Chinese beside the codes, money as
strings with two places, times in ISO form."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.quoting.models import ANSWER_STATUS_LABELS, AnswerStatus, CarrierQuote, QuoteSession
from app.quoting.services import answers_sorted, best_answer, progress


def money(value: Any) -> str | None:
    return None if value is None else f"{Decimal(value):.2f}"


def quote_data(quote: QuoteSession) -> dict[str, Any]:
    best = best_answer(quote)
    labels: dict[AnswerStatus, str] = {}  # each label translated once, not once per answer
    return {
        "id": quote.id,
        "reference": quote.reference,
        "status": str(quote.status),
        "customer_id": quote.customer_id,
        "vehicle_id": quote.vehicle_id,
        "start_date": quote.start_date.isoformat(),
        "terminal": str(quote.terminal),
        "progress": progress(quote),
        "best_answer_id": best.id if best else None,
        "answers": [answer_data(a, labels) for a in answers_sorted(quote)],
    }


def answer_data(answer: CarrierQuote, labels: dict | None = None) -> dict[str, Any]:
    labels = {} if labels is None else labels
    label = labels.get(answer.status)
    if label is None:
        label = labels[answer.status] = str(ANSWER_STATUS_LABELS[answer.status])
    data: dict[str, Any] = {
        "id": answer.id,
        "carrier_key": answer.carrier_key,
        "carrier_name": answer.carrier_name,
        "status": str(answer.status),
        "status_label": label,
        "reasons": answer.reasons or [],
        "elapsed_ms": answer.elapsed_ms,
    }
    if answer.status != AnswerStatus.OK:
        return data
    data.update(
        {
            "lines": [_line(line) for line in answer.lines or []],
            "total_premium": money(answer.total_premium),
            "vehicle_tax": money(answer.vehicle_tax),
            "total": money(answer.total),
            "last_year_total": money(answer.last_year_total),
            "change_against_last_year": _change(answer),
            "valid_until": answer.valid_until.isoformat() + "Z" if answer.valid_until else None,
            "expired": answer.expired(),
        }
    )
    return data


def _line(line: dict[str, Any]) -> dict[str, Any]:
    return {
        "line": line["line"],
        "product_key": line["product_key"],
        "premium": money(line["premium"]),
        "premium_excl_vat": money(line["premium_excl_vat"]),
        "vehicle_tax": money((line.get("collected") or {}).get("vehicle_tax")),
        "coverages": [
            {
                "code": c["code"],
                "name": c["name"],
                "sum_insured": money(c.get("sum_insured")),
                "premium": money(c["premium"]),
            }
            for c in line.get("coverages", [])
        ],
        "explain": line.get("explain") or {},
    }


def _change(answer: CarrierQuote) -> str | None:
    """The change against last year's premium, as a signed percentage with one decimal."""
    if not answer.last_year_total or answer.total is None:
        return None
    change = (Decimal(answer.total) - answer.last_year_total) / answer.last_year_total * 100
    return f"{change.quantize(Decimal('0.1')):+}%"


def package_data(package) -> dict[str, Any]:
    return {
        "key": package.key,
        "version": package.version,
        "title": package.title,
        "price": money(package.price),
        "term_months": package.term_months,
    }
