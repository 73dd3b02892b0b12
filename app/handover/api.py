"""REST API of hand-overs (in the OpenAPI document under "Hand-over").

GET  /api/v1/handover/holdings/<user id>   what is assigned to the user, per kind
POST /api/v1/handover/                     hand over {leaver_id, successor_id, note} (201)
POST /api/v1/handover/leave                leave: stop the login at once and hand over (201)

Scoped like everything else: a user of another tenant or a sibling store is not found (404);
records the caller cannot see refuse the whole hand-over (403)."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_appbuilder.api import BaseApi, expose
from flask_appbuilder.security.decorators import protect

from app.errors import BadInput
from app.extensions import db
from app.handover import services
from app.handover.models import HandoverReason, HandoverRecord
from app.handover.registry import assignments


def holdings_data(held: services.Holdings) -> dict[str, Any]:
    return {
        "user_id": held.user.id,
        "username": held.user.username,
        "active": bool(held.user.active),
        "total": held.total,
        "assignments": [
            {"key": a.key, "label": a.label[1], "label_en": a.label[0], "count": held.counts[a.key]}
            for a in assignments()
        ],
    }


def record_data(record: HandoverRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "leaver_id": record.leaver_id,
        "successor_id": record.successor_id,
        "reason": record.reason,
        "login_stopped": record.login_stopped,
        "moved": record.counts,
        "created_at": record.created_at.isoformat() if record.created_at else None,
    }


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadInput("the request must be a JSON object", "请求须为 JSON 对象")
    return body


class HandoverApi(BaseApi):
    resource_name = "handover"
    openapi_spec_tag = "Hand-over"
    class_permission_name = "HandoverApi"
    method_permission_name = {"holdings": "get", "hand_over": "post", "leave": "post"}

    @expose("/holdings/<int:user_id>", methods=["GET"])
    @protect()
    def holdings(self, user_id: int):
        """What is assigned to a user.
        ---
        get:
          summary: Records assigned to a user that you see, per kind (customers, open policies, …)
          parameters:
          - {in: path, name: user_id, required: true, schema: {type: integer}}
          responses:
            200: {description: "{user_id, total, assignments: [{key, label, count}]}"}
            404: {description: no such user in your scope}
        """
        user = services.user_in_scope(db.session, user_id, "user_id")
        held = services.holdings(db.session, user, everywhere=False)
        return self.response(200, **holdings_data(held))

    @expose("/", methods=["POST"])
    @protect()
    def hand_over(self):
        """Hand over everything assigned to one user to another.
        ---
        post:
          summary: Hand over a user's customers, open policies and other assigned records
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [leaver_id]
                  properties:
                    leaver_id: {type: integer}
                    successor_id: {type: integer}
                    note: {type: string, maxLength: 255}
          responses:
            201: {description: "handed over: {id, moved: {assignment: rows}}"}
            403: {description: some records are outside your scope; nothing moved}
            404: {description: no such user in your scope}
            422: {description: "a field is wrong (successor_id when records remain)"}
        """
        return self._hand_over(HandoverReason.REASSIGNMENT, stop_login=False)

    @expose("/leave", methods=["POST"])
    @protect()
    def leave(self):
        """A user leaves: the login stops at once and everything assigned is handed over.
        ---
        post:
          summary: Leave (离职) — stop the login and hand over
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [leaver_id]
                  properties:
                    leaver_id: {type: integer}
                    successor_id: {type: integer}
                    note: {type: string, maxLength: 255}
          responses:
            201: {description: "left and handed over"}
            403: {description: some records are outside your scope; nothing changed}
            404: {description: no such user in your scope}
            422: {description: "successor_id is required while records remain"}
        """
        return self._hand_over(HandoverReason.LEAVING, stop_login=True)

    def _hand_over(self, reason: HandoverReason, stop_login: bool):
        body = _body()
        record = services.hand_over(
            db.session,
            body.get("leaver_id"),
            body.get("successor_id"),
            reason=reason,
            stop_login=stop_login,
            note=_note(body),
        )
        db.session.commit()
        return self.response(201, **record_data(record))


def _note(body: dict[str, Any]) -> str | None:
    note = body.get("note")
    if note is not None and not isinstance(note, str):
        raise BadInput("note must be text", "备注须为文字", field="note")
    return note
