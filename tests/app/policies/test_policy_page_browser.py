"""The policy page in headless Chromium at a PC's 1366 px and a phone's 390 px: nothing wider than
the screen (long policy and endorsement numbers, VINs, coverage tables), the facts readable.
Set DC_SCREENSHOTS to a folder to keep the screenshots."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest

from app.extensions import db
from app.policies.models import Policy
from app.policies.services import EndorsementChange, endorse
from app.security import roles as r
from app.tenancy.scope import system_scope, use_scope
from tests.app.conftest import browser_login, build_world
from tests.app.policies.factory import commercial_coverages, make_policy

WIDTHS = (1366, 390)


@pytest.fixture(scope="module")
def policy_page(app):
    world = build_world(app, {"desk": (r.INSURANCE_DESK, "store_a")})
    pk = make_policy(world.store_a, start_date=datetime.date(2026, 3, 1))
    with use_scope(system_scope("tests")):
        policy = db.session.get(Policy, pk)
        endorse(
            db.session,
            policy,
            EndorsementChange(
                kind="change_coverage",
                effective_date=datetime.date(2026, 6, 1),
                coverages=commercial_coverages(own_damage="3300.00"),
                reason="提高车损险保额，客户要求同时调整第三者责任险限额",
                endorsement_no="PDAA2026SHOWPAGE0000000000LONGP001",
            ),
            ask_carrier=False,
        )
        db.session.commit()
    return world, pk


def test_the_policy_page_fits_a_pc_and_a_phone(browser, live_server, policy_page):
    world, pk = policy_page
    shots = os.environ.get("DC_SCREENSHOTS")
    for width in WIDTHS:
        page = browser_login(browser, live_server, world.users["desk"], width=width)
        page.goto(f"{live_server}/policies/show/{pk}")
        assert page.locator("#dc-policy-no").is_visible()
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        wide = page.evaluate(
            """() => [...document.querySelectorAll('#dc-policy-page *')]
                .filter(e => { const r = e.getBoundingClientRect();
                    const cell = ['TD', 'TH'].includes(e.tagName);
                    return (r.width > 0 && r.right > window.innerWidth + 1)
                        || (cell && e.scrollWidth > e.clientWidth + 1); })
                .slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className)"""
        )
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{shots}/policy-show-{width}.png", full_page=True)
        assert overflow <= 0, f"{width} px: the page is {overflow} px too wide: {wide}"
        assert wide == [], f"{width} px: past the right edge: {wide}"
        page.close()
