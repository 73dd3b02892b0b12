"""REST API of the policy book (in the OpenAPI document under "Policies").

GET  /api/v1/policy/                 list, with FAB's rison filters (policy_no, plate, …)
GET  /api/v1/policy/search           the list screen's search (plate, policy_no, insured, period,
                                     carrier_key, status, org_node_id), paginated
GET  /api/v1/policy/<id>             one policy with its coverages, endorsements and documents
POST /api/v1/policy/<id>/endorse     批改 (plate, owner, coverages) → the endorsement (201)
POST /api/v1/policy/<id>/cancel      退保 → the cancellation endorsement (201)
GET  /api/v1/policy/<id>/pdf         the 电子保单 PDF

Scoped like everything else: another tenant's or a sibling store's policy is not found (404).
The insured's ID number and phone are masked unless the caller's role may see them; an
unmasked answer is audited.
"""

from __future__ import annotations

import io
from typing import Any

from flask import g, request, send_file
from flask_appbuilder.api import expose
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import protect

from app.audit.recorder import record_event, to_json_value
from app.extensions import db
from app.policies import documents, listing, services
from app.policies.models import Endorsement, Policy
from app.policies.requests import cancellation_from, endorsement_from
from app.web.base import DealerModelApi

PERSONAL_FIELDS = ("insured_id_number", "insured_mobile")
LIST_COLUMNS = [
    "id",
    "policy_no",
    "carrier_key",
    "carrier_name",
    "line",
    "business_type",
    "status",
    "source",
    "issuing_terminal",
    "compulsory_only",
    "insured_name",
    "plate",
    "vin",
    "vehicle_is_new",
    "start_date",
    "end_date",
    "premium_incl_tax",
    "premium_excl_tax",
    "vat_amount",
    "vehicle_tax",
    "org_node_id",
    "tenant_id",
    "created_at",
]


def endorsement_data(endorsement: Endorsement) -> dict[str, Any]:
    return {
        "id": endorsement.id,
        "policy_id": endorsement.policy_id,
        "endorsement_no": endorsement.endorsement_no,
        "kind": endorsement.kind.value,
        "effective_date": endorsement.effective_date.isoformat(),
        "premium_change_incl_tax": str(endorsement.premium_change_incl_tax),
        "premium_change_excl_tax": str(endorsement.premium_change_excl_tax),
        "vehicle_tax_change": str(endorsement.vehicle_tax_change),
        "reason": endorsement.reason,
        "status": endorsement.status.value,
        "details": endorsement.details,
        "created_at": endorsement.created_at.isoformat() if endorsement.created_at else None,
    }


def _may_reveal() -> bool:
    from flask import current_app

    from app.policies.views import PERSONAL_VIEW

    return current_app.appbuilder.sm.has_access("can_show", PERSONAL_VIEW)


def _masked(row: dict[str, Any]) -> dict[str, Any]:
    for name in PERSONAL_FIELDS:
        if row.get(name):
            row[name] = listing.mask_identifier(row[name])
    if row.get("insured_name"):
        row["insured_name"] = listing.mask_name(row["insured_name"])
    return row


class PolicyApi(DealerModelApi):
    resource_name = "policy"
    openapi_spec_tag = "Policies"
    class_permission_name = "PolicyApi"
    datamodel = SQLAInterface(Policy)
    include_route_methods = {"get", "get_list", "info", "search", "endorse", "cancel", "pdf"}
    method_permission_name = {
        "get": "get",
        "get_list": "get",
        "info": "info",
        "search": "get",
        "endorse": "put",
        "cancel": "put",
        "pdf": "get",
    }
    list_columns = LIST_COLUMNS
    show_columns = [
        *LIST_COLUMNS,
        "product_key",
        "product_version",
        "history_type",
        "salesperson_id",
        "salesperson_name",
        "practitioner_no",
        "customer_id",
        *PERSONAL_FIELDS,
        "vehicle_id",
        "issued_at",
        "confirmed_at",
        "cancelled_at",
        "sum_insured",
        "renews_policy_id",
        "previous_carrier_key",
        "order_id",
        "quote_ref",
        "lineage",
        "updated_at",
        "created_by",
    ]
    search_columns = [
        "policy_no",
        "plate",
        "vin",
        "insured_name",
        "start_date",
        "end_date",
        "carrier_key",
        "status",
        "line",
        "business_type",
        "org_node_id",
        "created_at",
    ]
    order_columns = ["id", "policy_no", "start_date", "end_date", "created_at", "premium_incl_tax"]

    def pre_get(self, data: dict[str, Any]) -> None:
        result = data.get("result") or {}
        policy = db.session.get(Policy, data.get("id")) if data.get("id") is not None else None
        if policy is not None:
            result["coverages"] = [
                {
                    "code": c.code,
                    "name": c.name,
                    "sum_insured": to_json_value(c.sum_insured),
                    "premium_incl_tax": str(c.premium_incl_tax),
                    "premium_excl_tax": str(c.premium_excl_tax),
                }
                for c in policy.coverages
            ]
            result["endorsements"] = [endorsement_data(e) for e in policy.endorsements]
            result["documents"] = [
                {"id": d.id, "kind": d.kind.value, "filename": d.filename, "sha256": d.sha256}
                for d in policy.documents
            ]
        if not _may_reveal():
            _masked(result)
        elif policy is not None and any(result.get(name) for name in PERSONAL_FIELDS):
            record_event(
                db.session,
                "reveal_personal_data",
                tenant_id=policy.tenant_id,
                org_node_id=policy.org_node_id,
                entity="policy",
                detail={"policy_id": policy.id, "fields": list(PERSONAL_FIELDS), "via": "api"},
            )
            db.session.commit()

    def pre_get_list(self, data: dict[str, Any]) -> None:
        if not _may_reveal():
            for row in data.get("result") or []:
                _masked(row)

    @expose("/search", methods=["GET"])
    @protect()
    def search(self):
        """Search policies as the list screen does.
        ---
        get:
          summary: Search policies (plate, number, insured, period, carrier, status, store)
          parameters:
          - {in: query, name: q, schema: {type: string}, description: "number, plate or insured"}
          - {in: query, name: policy_no, schema: {type: string}}
          - {in: query, name: plate, schema: {type: string}}
          - {in: query, name: insured, schema: {type: string}}
          - {in: query, name: start_from, schema: {type: string, format: date}}
          - {in: query, name: start_to, schema: {type: string, format: date}}
          - {in: query, name: carrier_key, schema: {type: string}}
          - {in: query, name: status, schema: {type: string}}
          - {in: query, name: line, schema: {type: string}}
          - {in: query, name: business_type, schema: {type: string}}
          - {in: query, name: org_node_id, schema: {type: integer}}
          - {in: query, name: page, schema: {type: integer, minimum: 1}}
          - {in: query, name: page_size, schema: {type: integer, minimum: 1, maximum: 100}}
          responses:
            200: {description: "{count, page, page_size, result: [policy]}"}
            422: {description: a filter is malformed; the answer names it}
        """
        search = listing.PolicySearch.from_args(request.args)
        page = listing.page_of(
            db.session,
            search,
            listing.core_layout(),
            _positive(request.args.get("page"), 1),
            _positive(request.args.get("page_size"), 20),
        )
        reveal = _may_reveal()
        result = []
        for policy in page.policies:
            row = {name: to_json_value(getattr(policy, name)) for name in LIST_COLUMNS}
            result.append(row if reveal else _masked(row))
        return self.response(
            200, count=page.total, page=page.page, page_size=page.page_size, result=result
        )

    @expose("/<int:pk>/endorse", methods=["POST"])
    @protect()
    def endorse(self, pk: int):
        """批改 a policy: its plate, owner or coverages.
        ---
        post:
          summary: Endorse a policy (plate, owner or coverage change), pro rata
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [kind, effective_date]
                  properties:
                    kind: {type: string, enum: [change_plate, change_owner, change_coverage]}
                    effective_date: {type: string, format: date}
                    plate: {type: string}
                    insured_name: {type: string}
                    insured_id_number: {type: string}
                    insured_mobile: {type: string}
                    customer_id: {type: integer}
                    reason: {type: string}
                    endorsement_no: {type: string}
                    coverages:
                      type: array
                      items:
                        type: object
                        required: [code, premium_incl_tax]
                        properties:
                          code: {type: string}
                          name: {type: string}
                          sum_insured: {type: string}
                          premium_incl_tax: {type: string, description: annual premium}
          responses:
            201: {description: the endorsement with its premium change}
            404: {description: no such policy in your scope}
            409: {description: the policy is cancelled or expired}
            422: {description: a field is wrong; the answer names it}
        """
        policy = services.get_policy(db.session, pk)
        change = endorsement_from(request.get_json(silent=True))
        change.created_by = getattr(g.user, "username", None)
        endorsement = services.endorse(db.session, policy, change)
        db.session.commit()
        return self.response(201, **endorsement_data(endorsement))

    @expose("/<int:pk>/cancel", methods=["POST"])
    @protect()
    def cancel(self, pk: int):
        """退保 a policy from a date, refunding pro rata.
        ---
        post:
          summary: Cancel a policy (pro-rata refund as a negative premium change)
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [effective_date, reason]
                  properties:
                    effective_date: {type: string, format: date}
                    reason: {type: string}
                    endorsement_no: {type: string}
          responses:
            201: {description: the cancellation endorsement}
            404: {description: no such policy in your scope}
            409: {description: already cancelled or expired}
            422: {description: a field is wrong; the answer names it}
        """
        policy = services.get_policy(db.session, pk)
        effective, reason, number = cancellation_from(request.get_json(silent=True))
        endorsement = services.cancel(db.session, policy, effective, reason, endorsement_no=number)
        db.session.commit()
        return self.response(201, **endorsement_data(endorsement))

    @expose("/<int:pk>/pdf", methods=["GET"])
    @protect()
    def pdf(self, pk: int):
        """The 电子保单 of a policy.
        ---
        get:
          summary: The electronic policy (PDF)
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200:
              description: the PDF
              content:
                application/pdf: {schema: {type: string, format: binary}}
            404: {description: no such policy in your scope}
        """
        policy = services.get_policy(db.session, pk)
        document = documents.latest_policy_pdf(db.session, policy)
        db.session.commit()
        return send_file(
            io.BytesIO(documents.read_document(document)),
            mimetype="application/pdf",
            download_name=document.filename,
        )


def _positive(text: str | None, default: int) -> int:
    from app.errors import ValidationFailed

    if not text:
        return default
    if not text.isdigit() or int(text) < 1 or int(text) > 10**6:
        raise ValidationFailed("page: a positive number", "page：应为正整数", field="page")
    return int(text)
