"""The rule simulator driven in a real browser: pick a table, enter inputs, see the answer and
the trace, save the inputs as a test case (a new draft)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from app.configuration.models import Document, VersionStatus
from app.extensions import db
from app.tenancy.scope import system_scope, use_scope
from tests.app.conftest import browser_login, build_world

ROOT = Path(__file__).resolve().parents[2]


def _core_installed(app):
    with use_scope(system_scope()):
        found = db.session.scalar(
            select(Document).where(
                Document.key == "jqx_floating_rate", Document.tenant_id.is_(None)
            )
        )
    if found is None:
        result = app.test_cli_runner().invoke(
            args=["pack", "install", str(ROOT / "metadata/packs/core")]
        )
        assert result.exit_code == 0, result.output
    with use_scope(system_scope()):
        return db.session.scalar(
            select(Document).where(
                Document.key == "jqx_floating_rate", Document.tenant_id.is_(None)
            )
        )


def _platform_admin(app) -> str:
    admin = "sim.admin"
    with use_scope(system_scope()):
        sm = app.appbuilder.sm
        if sm.find_user(username=admin) is None:
            role = sm.find_role("platform_admin")
            sm.add_user(admin, "sim", "admin", "sim@test.local", role, "Sim-Pass-2026!")
    return admin


def test_simulator_evaluates_explains_and_saves_a_case(app, live_server, browser):
    document = _core_installed(app)
    page = browser_login(browser, live_server, _platform_admin(app), "Sim-Pass-2026!")
    page.goto(f"{live_server}/rules/simulator/")
    page.select_option("#dc-document", str(document.id))
    page.wait_for_selector("#dc-simulate")
    inputs = page.locator("#dc-simulate select, #dc-simulate input[id^=in-]")
    for index in range(inputs.count()):
        field = inputs.nth(index)
        if field.evaluate("e => e.tagName") == "SELECT":
            options = field.locator("option").all_inner_texts()
            field.select_option(options[1])
    page.click("#dc-run")
    page.wait_for_selector("#dc-result")
    assert page.locator("#dc-trace").inner_text().strip()
    page.screenshot(path="/tmp/simulator.png", full_page=True)
    page.fill("input[name=case_name]", "浏览器用例")
    page.click("#dc-save-case")
    page.wait_for_load_state()
    assert "浏览器用例" not in page.locator("#dc-error").all_inner_texts()
    with use_scope(system_scope()):
        db.session.expire_all()
        document = db.session.get(Document, document.id)
        draft = document.draft
        assert draft is not None and draft.status == VersionStatus.DRAFT
        assert any(case["name"] == "浏览器用例" for case in draft.body["tests"])
    page.close()


def test_a_bad_input_names_the_field(app, live_server, browser):
    document = _core_installed(app)
    world = build_world(app, {"admin": ("tenant_admin", "hq")})
    page = browser_login(browser, live_server, world.users["admin"])
    page.goto(f"{live_server}/rules/simulator/?document={document.id}")
    page.click("#dc-run")
    error = page.wait_for_selector("#dc-error")
    assert error.inner_text().strip()
    assert page.locator(".form-group.has-error").count() >= 1
    page.close()


def test_document_editor_form_is_generated_from_the_schema_and_validated_live(
    app, live_server, browser
):
    document = _core_installed(app)
    page = browser_login(browser, live_server, _platform_admin(app), "Sim-Pass-2026!")
    page.goto(f"{live_server}/documents/{document.id}/edit")
    page.wait_for_selector("#dc-schema-form [data-schemapath]")  # the form is built
    page.fill("#dc-version", "1.0.9")
    page.dispatch_event("#dc-version", "input")
    page.wait_for_function("document.getElementById('dc-text').value.includes('1.0.9')")
    page.wait_for_selector("#dc-status.label-success")
    page.fill("#dc-text", "kind: decision_table\nkey: jqx_floating_rate\nversion: 1\n")
    page.wait_for_selector(".dc-problem")
    assert "title" in page.locator("#dc-problems").inner_text()
    page.close()
