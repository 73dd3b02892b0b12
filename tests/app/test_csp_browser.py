"""Issue 14, finding 11: the Content Security Policy runs scripts only with the response's nonce.

Headless Chromium visits the console's main pages as an admin and collects every console
message and page error: none may be a Content Security Policy refusal, and the behaviour that
used to hang on inline handlers (auto-submitting select, hiding a broken picture, confirming a
delete) and the JSON-schema form of the document editor must still work. A control shows that
the collector does see a refusal: an inline script without the nonce, added to a live page,
is refused and reported.
"""

from __future__ import annotations

import base64
import re

import pytest
from sqlalchemy import select

from app.cameras.models import CameraEvent
from app.configuration.runtime import REGISTRY
from app.extensions import db
from app.tenancy.scope import system_scope, use_scope
from tests.app.conftest import (
    PASSWORD,
    IsolatedClient,
    add_entity_records,
    build_world,
    install_for,
    reminder_entity,
    write_pack,
)
from tests.app.test_cameras import add_camera, event, plate_in, post_signed
from tests.app.test_simulator_browser import _core_installed, _platform_admin

CSP_WORDS = "Content Security Policy"


class ConsoleWatch:
    """Every console message, page error and securitypolicyviolation event of a page."""

    def __init__(self, page) -> None:
        self.messages: list[str] = []
        self.errors: list[str] = []
        page.on("console", lambda message: self.messages.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        # Init scripts are injected by the driver, outside the page's policy.
        page.add_init_script(
            "window.__cspViolations = [];"
            "document.addEventListener('securitypolicyviolation', function (e) {"
            "  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI); });"
        )

    def refusals(self, page) -> list[str]:
        seen = [m for m in self.messages if CSP_WORDS in m]
        return seen + page.evaluate("window.__cspViolations || []")


@pytest.fixture(scope="module")
def world(app):
    return build_world(app, {"admin": ("tenant_admin", "hq")})


@pytest.fixture(scope="module")
def entity_record(app, world, tmp_path_factory):
    folder = write_pack(
        tmp_path_factory.mktemp("csp_pack"), "csp_pack", documents=[reminder_entity()]
    )
    install_for(app, world, folder)
    add_entity_records(app, world)
    with use_scope(system_scope("tests")):
        runtime = REGISTRY.get(db.session, "inspection_reminder", world.tenant_id)
        return db.session.scalars(select(runtime.model.id).order_by(runtime.model.id)).first()


@pytest.fixture(scope="module")
def arrival(app, world):
    """A read at store A today whose picture is not a real JPEG (the page hides it)."""
    key_id, token, _ = add_camera(world, code="GATE-CSP")
    plate, _ = plate_in(world)
    payload = event(plate, "GATE-CSP", image_jpeg_b64=base64.b64encode(b"\xff\xd8broken").decode())
    client = IsolatedClient(app, app.response_class)
    answer = post_signed(client, key_id, token, payload)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    with use_scope(system_scope("tests")):
        return db.session.scalar(
            select(CameraEvent.id).where(CameraEvent.event_id == payload["event_id"])
        )


def _login(browser, base_url: str, username: str, password: str):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    watch = ConsoleWatch(page)
    page.goto(f"{base_url}/login/")
    assert not watch.refusals(page), watch.messages
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    return page, watch


def _visit(page, watch, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    policy = response.headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0], policy
    page.wait_for_load_state("load")
    assert not watch.refusals(page), (url, watch.refusals(page))
    assert not watch.errors, (url, watch.errors)


def test_platform_admin_pages_run_without_csp_refusals(app, live_server, browser):
    document = _core_installed(app)
    page, watch = _login(browser, live_server, _platform_admin(app), "Sim-Pass-2026!")
    for path in (
        "/customerview/list/",
        "/customerview/add",
        "/cameraview/list/",
        "/cameraeventview/list/",
        "/cameramonitorview/list/",
        "/auditrecordview/list/",
        "/documentview/list/",
    ):
        _visit(page, watch, live_server + path)

    # The document editor: json-editor builds its form from the schema, the live check answers.
    _visit(page, watch, f"{live_server}/documents/{document.id}/edit")
    page.wait_for_selector("#dc-schema-form [data-schemapath]")
    page.wait_for_selector("#dc-status.label-success, #dc-status.label-danger")
    assert page.locator("#dc-status").inner_text().strip()

    # The simulator: choosing a table submits the form (a listener, no onchange attribute).
    _visit(page, watch, f"{live_server}/rules/simulator/")
    with page.expect_navigation():
        page.select_option("#dc-document", str(document.id))
    page.wait_for_selector("#dc-simulate")
    assert not watch.refusals(page) and not watch.errors

    # The FAB list's search widget and the actions menu are FAB's own scripts: they still work.
    _visit(page, watch, live_server + "/customerview/list/")
    assert page.evaluate("typeof window.jQuery") == "function"
    page.close()


def test_store_pages_run_without_csp_refusals(
    app, live_server, browser, world, entity_record, arrival
):
    page, watch = _login(browser, live_server, world.users["admin"], PASSWORD)
    for path in (
        "/cameraview/add",
        "/walkinleadview/list/",
        f"/cameraeventview/show/{arrival}",
        "/entities/inspection_reminder/",
    ):
        _visit(page, watch, live_server + path)

    # Arrivals: the broken picture is hidden by the listener, not by an onerror attribute.
    _visit(page, watch, f"{live_server}/cameras/arrivals/")
    picture = page.locator(f"tr[data-event='{arrival}'] img[data-dc-hide-broken]")
    page.wait_for_function(
        "img => getComputedStyle(img).display === 'none'", arg=picture.element_handle()
    )

    # Deleting an entity record asks first; "cancel" keeps it (data-dc-confirm listener).
    _visit(page, watch, f"{live_server}/entities/inspection_reminder/{entity_record}/")
    questions = []

    def dismiss(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.locator("form[data-dc-confirm] button, form[data-dc-confirm] input[type=submit]").click()
    assert questions and questions[0]
    assert re.search(rf"/entities/inspection_reminder/{entity_record}/?$", page.url)
    assert not watch.refusals(page) and not watch.errors
    page.screenshot(path="/tmp/csp_entity_show.png", full_page=True)
    page.close()


def test_an_inline_script_without_the_nonce_is_refused(app, live_server, browser, world):
    """The control: the collector above does see a refusal, and the policy does refuse."""
    page, watch = _login(browser, live_server, world.users["admin"], PASSWORD)
    _visit(page, watch, live_server + "/customerview/list/")
    page.evaluate(
        "() => { var s = document.createElement('script');"
        " s.textContent = 'window.__injected = true'; document.body.appendChild(s); }"
    )
    page.evaluate(
        "() => { var i = document.createElement('img'); i.src = 'data:,';"
        " i.setAttribute('onerror', 'window.__handler = true'); document.body.appendChild(i);"
        " i.src = '/no-such-picture'; }"
    )
    page.wait_for_function("window.__cspViolations.length >= 2")
    assert page.evaluate("window.__injected === undefined && window.__handler === undefined")
    assert any(CSP_WORDS in m for m in watch.messages)
    page.close()
