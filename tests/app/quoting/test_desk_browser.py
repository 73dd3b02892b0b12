"""The desk as a user tries it, at phone width in headless Chromium: find a vehicle, quote every
carrier, watch the answers arrive, bundle 交强 + 商业 + 驾乘意外 + a service package, pay in the
sandbox, issue, download the 电子保单; then the policy is in the list with its lineage.

Screenshots of each step go to $DESK_SCREENSHOTS when it is set (for looking at the screens)."""

from __future__ import annotations

import datetime
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from app.customers.models import Vehicle
from app.extensions import db
from app.security import roles as r
from app.tenancy.scope import system_scope, use_scope
from tests.app.conftest import browser_login, build_world, install_for
from tests.app.quoting.helpers import PACKS, install_core, run_queued_jobs

SHOTS = os.environ.get("DESK_SCREENSHOTS")


@pytest.fixture(scope="module")
def world(app):
    install_core(app)
    world = build_world(app, {"desk": (r.INSURANCE_DESK, "store_a")})
    install_for(app, world, str(PACKS / "demo"))
    with use_scope(system_scope("tests")):
        vehicle = db.session.scalars(
            select(Vehicle).where(Vehicle.org_node_id == world.store_a).order_by(Vehicle.id)
        ).first()
        vehicle.purchase_price = Decimal("168000.00")
        vehicle.displacement = Decimal("1.50")
        vehicle.register_date = datetime.date.today() - datetime.timedelta(days=200)
        db.session.commit()
        world.plate = vehicle.plate
    return world


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("width", [390])
def test_a_desk_user_quotes_bundles_pays_and_issues_on_a_phone(
    app, live_server, browser, world, width
):
    from playwright.sync_api import expect

    page = browser_login(browser, live_server, world.users["desk"], width=width)
    page.goto(live_server + "/desk/")
    expect(page.locator(".dc-product").first).to_be_attached(timeout=10000)
    shot(page, f"desk-1-start-{width}")

    page.fill("#dc-find", world.plate)
    page.click("#dc-find-go")
    page.locator(".dc-vehicle").first.click()
    expect(page.locator("#dc-chosen-vehicle")).to_contain_text(world.plate)
    page.locator(".dc-product[value=driver_passenger_accident]").check()

    page.click("#dc-quote-go")
    expect(page.locator("#dc-progress-text")).to_contain_text("14/14", timeout=20000)
    quoted = page.locator(".dc-answer-ok")
    expect(quoted.first).to_be_visible()
    shot(page, f"desk-2-answers-{width}")
    best = page.locator(".dc-answer-ok.dc-best")
    for button in best.locator(".dc-pick").all():
        button.click()
    expect(page.locator(".dc-package").first).to_be_attached(timeout=10000)
    page.locator(".dc-package").first.check()
    shot(page, f"desk-3-bundle-{width}")

    page.click("#dc-bind")
    expect(page.locator("#dc-pay")).to_be_visible(timeout=20000)
    expect(page.locator("#dc-qr")).to_have_attribute("src", re.compile("qr.svg"))
    shot(page, f"desk-4-pay-{width}")
    page.click("#dc-pay-sandbox")
    # paid: with Redis the issuing job waits for a worker, which this test runs in its place
    expect(page.locator("#dc-order-status")).to_have_text(re.compile("已支付|出单|已出单"))
    run_queued_jobs(app)
    pdfs = page.locator(".dc-pdf")
    expect(pdfs).to_have_count(4, timeout=20000)  # three policies and the service contract
    expect(page.locator("#dc-order-status")).to_have_text("已出单")
    shot(page, f"desk-5-issued-{width}")

    for link in pdfs.all():
        answer = page.request.get(live_server + link.get_attribute("href"))
        assert answer.status == 200
        assert answer.headers["content-type"].startswith("application/pdf")
        assert answer.body()[:4] == b"%PDF"

    page.goto(live_server + "/policies/list/?plate=" + world.plate)
    expect(page.locator("body")).to_contain_text(world.plate)
    shot(page, f"desk-6-policy-list-{width}")

    # the policy page answers "why this number?" and a policy can be cancelled from it
    with use_scope(system_scope()):
        from app.policies.models import Policy

        policy = db.session.scalars(
            select(Policy).where(Policy.plate == world.plate, Policy.line == "commercial_motor")
        ).first()
        start = policy.start_date
    page.goto(f"{live_server}/policies/show/{policy.id}")
    expect(page.locator("#dc-lineage")).to_contain_text("commercial_motor")
    shot(page, f"desk-7-policy-{width}")
    page.click("#dc-cancel")
    page.fill("#effective_date", (start + datetime.timedelta(days=30)).isoformat())
    page.fill("#reason", "车辆转卖")
    page.click("#dc-cancel-submit")
    expect(page.locator("#dc-policy-status")).to_have_text("已退保")
    expect(page.locator("#dc-endorsements")).to_contain_text("退保")
    shot(page, f"desk-8-cancelled-{width}")
