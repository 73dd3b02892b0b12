"""Fees beside the premiums on the compare screen, for the roles allowed to see them (a store
manager, finance, the tenant's business admin; not the desk clerk). A screen of its own, so the
permission is granted like any other and the desk's script simply gets 403 without it."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access_api, permission_name

from app.extensions import db
from app.fees.estimates import FEE_TYPE_LABELS, agreements_for, estimate_fees
from app.quoting.desk import json_endpoint
from app.quoting.facts import vehicle_age_years
from app.quoting.models import AnswerStatus, QuoteSession
from app.quoting.presenting import money
from app.quoting.services import get_quote


class QuoteFeesView(BaseView):
    route_base = "/desk-fees"

    @expose("/<int:pk>")
    @has_access_api
    @permission_name("list")
    @json_endpoint
    def fees(self, pk: int):
        return jsonify(quote_fees(get_quote(db.session, pk)))


def quote_fees(quote: QuoteSession) -> dict[str, Any]:
    from app.configuration.lookup import documents_in_force
    from app.orders.issuing import policy_line
    from app.policies.services import business_type_for, combined_types

    agreements = [
        v.data
        for v in documents_in_force(db.session, "fee_agreement", quote.tenant_id, quote.start_date)
    ]
    facts = {"vehicle_age": vehicle_age_years(quote.vehicle, quote.start_date)}
    answers = {}
    for answer in quote.answers:
        if answer.status != AnswerStatus.OK:
            continue
        lines = answer.lines or []
        combined = combined_types([policy_line(line["line"]) for line in lines])
        types = {}
        for line in lines:
            code = policy_line(line["line"])
            combined_type = combined.get(code)
            types[line["line"]] = str(
                combined_type
                or business_type_for(
                    db.session, quote.vehicle, answer.carrier_key, code, quote.start_date
                )
            )
        fees = estimate_fees(agreements_for(agreements, answer.carrier_key), lines, types, facts)
        answers[str(answer.id)] = {
            "fees": [
                {"type": t, "label": FEE_TYPE_LABELS.get(t, t), "amount": money(a)}
                for t, a in sorted(fees.items())
            ],
            "total": money(sum(fees.values())) if fees else "0.00",
        }
    return {"answers": answers}
