"""Security headers on every response, and sessions that end after the idle timeout.

Scripts: only the app's own files and inline scripts carrying this response's nonce run. An
attacker who slips markup past the escaping (a stored `<script>` or an `onerror=` attribute)
cannot guess the nonce, which is fresh random for every response, so the browser refuses to
run it. Templates mark their inline scripts with `nonce="{{ csp_nonce() }}"`; Flask-AppBuilder's
own templates already call `csp_nonce()` when it is defined (`baselib.get_nonce()`), so defining
it as a Jinja global is all they need. Inline event handler attributes (`onclick="…"`) never
run under this policy: behaviour lives in static files (`app/static/dealercover.js`).

Styles keep 'unsafe-inline': Flask-AppBuilder's templates and widgets, Bootstrap 3's plugins,
select2, the datepicker and json-editor all write `style` attributes, which a nonce cannot
cover. A style cannot run code, and `connect-src`/`img-src 'self'` keep a CSS-only exfiltration
to this origin.
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, g, session

NONCE_BYTES = 18  # 144 bits, base64url: 24 characters


def content_security_policy(nonce: str) -> str:
    return (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; object-src 'none'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
    )


def csp_nonce() -> str:
    """This response's nonce (made on first use, so error pages rendered outside the normal
    request path have one too)."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(NONCE_BYTES)
    return nonce


def init_security_headers(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.before_request
    def _idle_timeout_session() -> None:
        # A permanent session expires PERMANENT_SESSION_LIFETIME after the last request.
        session.permanent = True

    @app.before_request
    def _new_nonce() -> None:
        g.csp_nonce = secrets.token_urlsafe(NONCE_BYTES)

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
