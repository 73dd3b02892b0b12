"""REST API of quoting: ask every carrier at once, then poll the answers as they arrive.

POST /api/v1/quote/            start a quote (202; with ?wait=1, 201 once every carrier answered
                               or timed out)
GET  /api/v1/quote/<id>        the quote with each carrier's answer so far
GET  /api/v1/quote/<id>/packages  the service packages the desk may add to its order

Refusals come from app.errors: 422 naming the field, 404 for a quote outside the caller's scope.
"""

from __future__ import annotations

from contextlib import suppress

from apispec import APISpec
from apispec.exceptions import DuplicateComponentNameError
from flask import current_app, request
from flask_appbuilder.api import BaseApi, expose
from flask_appbuilder.security.decorators import protect

from app.extensions import db
from app.quoting import presenting, services
from app.tenancy.scope import current_scope

# The record id in a path (`/quote/{pk}`, `/order/{pk}/pay`, ...), declared once in the OpenAPI
# document's components; a call lists it by name (`- record_id`), which apispec writes as
# {"$ref": "#/components/parameters/record_id"}.
RECORD_ID = {
    "name": "pk",
    "description": "the record's id; a record outside your scope answers 404",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}


class RecordApi(BaseApi):
    """A REST API whose calls take a record id in the path: adds the `record_id` parameter to
    the OpenAPI document's components."""

    def add_apispec_components(self, api_spec: APISpec) -> None:
        super().add_apispec_components(api_spec)
        with suppress(DuplicateComponentNameError):  # another API registered it first
            api_spec.components.parameter("record_id", "path", dict(RECORD_ID))


class QuoteApi(RecordApi):
    resource_name = "quote"
    openapi_spec_tag = "Quoting"
    class_permission_name = "QuoteApi"
    method_permission_name = {"start": "post", "show": "get", "packages": "get"}

    @expose("/", methods=["POST"])
    @protect()
    def start(self):
        """Start a quote with every enabled carrier (or those named).
        ---
        post:
          summary: Quote one vehicle with many carriers at once
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [customer_id, lines]
                  properties:
                    customer_id: {type: integer}
                    vehicle_id: {type: integer}
                    start_date: {type: string, format: date}
                    terminal: {type: string, enum: [pc, phone]}
                    carriers: {type: array, items: {type: string}}
                    history:
                      type: object
                      properties:
                        claims_last_year: {type: integer}
                        claim_free_years: {type: integer}
                        jqx_record: {type: string}
                    lines:
                      type: array
                      items:
                        type: object
                        required: [product]
                        properties:
                          product: {type: string}
                          form: {type: object}
                          coverages:
                            type: array
                            items:
                              type: object
                              properties:
                                code: {type: string}
                                sum_insured: {type: string}
          parameters:
          - in: query
            name: wait
            schema: {type: integer, enum: [0, 1]}
          responses:
            201: {description: every carrier answered}
            202: {description: "carriers are being asked; poll GET /quote/{id}"}
            422: {description: a field is wrong; the answer names it}
        """
        scope = current_scope()
        started = services.start_quote(db.session, scope, request.get_json(silent=True))
        db.session.commit()
        wait = request.args.get("wait") == "1"
        services.launch(
            current_app._get_current_object(),
            scope,
            started,
            wait_seconds=services.longest_timeout(started) if wait else 0,
        )
        data = presenting.quote_data(services.refresh(db.session, started.quote))
        db.session.commit()
        return self.response(201 if wait else 202, **data)

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    def show(self, pk: int):
        """A quote and the answers so far.
        ---
        get:
          summary: A quote with each carrier's answer
          parameters:
          - record_id
          responses:
            200: {description: the quote}
            404: {description: no such quote in your scope}
        """
        quote = services.refresh(db.session, services.get_quote(db.session, pk), True)
        data = presenting.quote_data(quote)
        db.session.commit()  # answers marked 超时 by refresh
        return self.response(200, **data)

    @expose("/<int:pk>/packages", methods=["GET"])
    @protect()
    def packages(self, pk: int):
        """Service packages on sale for this quote.
        ---
        get:
          summary: The dealer's service packages the desk may add
          parameters:
          - record_id
          responses:
            200: {description: the packages}
            404: {description: no such quote in your scope}
        """
        from app.services.selling import packages_on_sale

        quote = services.get_quote(db.session, pk)
        lines = {"compulsory_motor", "commercial_motor"}
        found = packages_on_sale(db.session, quote, lines)
        return self.response(200, result=[presenting.package_data(p) for p in found])
