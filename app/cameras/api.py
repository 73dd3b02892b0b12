"""The signed HTTP API the camera agent posts to: events and heartbeats.

No user logs in here: the camera's key id, timestamp and HMAC signature are the credentials,
checked before the body is even parsed. Answers follow the agent's contract: 201 stored,
200 duplicate, 401 bad/unknown/revoked key or stale timestamp, 403 another camera's code,
400/422 malformed (the agent dead-letters those), 413 too large.
"""

from __future__ import annotations

import time

from flask import jsonify, request
from flask_appbuilder.api import BaseApi, expose
from werkzeug.exceptions import RequestEntityTooLarge

from app.audit.models import utcnow
from app.cameras import services
from app.extensions import db


def _answer(status: int, state: str, message: str = "", **extra):
    body = {"status": state, **extra}
    if message:
        body["message"] = message
    return jsonify(body), status


class CameraIngestApi(BaseApi):
    resource_name = "camera"
    openapi_spec_tag = "Camera agent"
    # Neither endpoint is a user permission: the signature is the credential.
    csrf_exempt = True

    @expose("/events", methods=["POST"])
    def events(self):
        """Store one signed camera event, once per event id.
        ---
        post:
          summary: Store one signed camera event
          parameters:
          - {in: header, name: X-Camera-Key, required: true, schema: {type: string}}
          - {in: header, name: X-Timestamp, required: true, schema: {type: string}}
          - {in: header, name: X-Signature, required: true, schema: {type: string}}
          requestBody:
            content:
              application/json:
                schema: {type: object}
          responses:
            201: {description: stored}
            200: {description: "a duplicate of a stored event"}
            400: {description: malformed}
            401: {description: "bad, unknown or revoked key, or a stale timestamp"}
            403: {description: "another camera's code"}
            413: {description: too large}
            422: {description: malformed}
        """
        return self._signed(self._store_event)

    @expose("/heartbeat", methods=["POST"])
    def heartbeat(self):
        """Record a signed heartbeat: agent version and spool depth.
        ---
        post:
          summary: Record a signed heartbeat
          parameters:
          - {in: header, name: X-Camera-Key, required: true, schema: {type: string}}
          - {in: header, name: X-Timestamp, required: true, schema: {type: string}}
          - {in: header, name: X-Signature, required: true, schema: {type: string}}
          requestBody:
            content:
              application/json:
                schema: {type: object}
          responses:
            200: {description: recorded}
            400: {description: malformed}
            401: {description: "bad, unknown or revoked key, or a stale timestamp"}
            403: {description: "another camera's code"}
            413: {description: too large}
        """
        return self._signed(self._heartbeat)

    def _signed(self, handler):
        request.max_content_length = services.MAX_BODY_BYTES
        try:
            body = request.get_data(cache=False)
        except RequestEntityTooLarge:
            return _answer(413, "refused", "body too large")
        session = db.session
        try:
            auth = services.authenticate(
                session,
                request.headers.get("X-Camera-Key"),
                request.headers.get("X-Timestamp"),
                request.headers.get("X-Signature"),
                body,
                time.time(),
            )
            return handler(session, auth, services.parse_json_object(body))
        except services.CameraAuthError as exc:
            return _answer(401, "refused", str(exc))
        except services.CameraForbidden as exc:
            return _answer(403, "refused", str(exc))
        except services.MalformedRequest as exc:
            return _answer(exc.status, "malformed", str(exc))

    @staticmethod
    def _store_event(session, auth, data):
        event = services.parse_event(data, utcnow())
        services.check_own_code(auth, event.camera_code)
        row_id, created = services.store_event(session, auth, event)
        if not created:
            return _answer(200, "duplicate")
        return _answer(201, "stored", id=row_id)

    @staticmethod
    def _heartbeat(session, auth, data):
        beat = services.parse_heartbeat(data)
        services.check_own_code(auth, beat.camera_code)
        services.record_heartbeat(session, auth, beat)
        return _answer(200, "ok")
