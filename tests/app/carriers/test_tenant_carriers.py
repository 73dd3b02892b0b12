"""Carriers per tenant: enabled by the tenant's carrier documents (another tenant's are
invisible), configuration checked against the plugin's own schema at install, default answers
an admin can lock, and credentials that no screen, export, audit entry or API shows again."""

from __future__ import annotations

import datetime

import pytest
from sqlalchemy import select

from app.audit.models import AuditRecord
from app.carriers.models import CarrierCredential
from app.carriers.services import (
    apply_defaults,
    carrier_defaults,
    carrier_for,
    carrier_statuses,
    enabled_carriers,
    resolve_credentials,
)
from app.configuration.reading import PackError
from app.errors import NotFound, Unavailable
from app.extensions import db
from app.tenancy.scope import system_scope, use_scope
from tests.app.carriers.helpers import carrier_document
from tests.app.conftest import install_for, login, write_pack

BRAND_NEW = "sk-live-7f3a9c2e-DO-NOT-SHOW"
ON = datetime.date.today()
FOURTEEN = {
    "picc",
    "pingan",
    "cpic",
    "fude",
    "taiping",
    "chinaunited",
    "chinalife_pc",
    "bbw",
    "ccic",
    "tianan",
    "huaan",
    "sinosig",
    "huatai",
    "dubang",
}


def test_the_demo_tenant_has_fourteen_sandbox_carriers_and_others_none(demo_world, bare_world):
    with use_scope(system_scope()):
        mine = enabled_carriers(db.session, demo_world.tenant_id, ON)
        assert {c.key for c in mine} == FOURTEEN  # sim_http is in the pack but disabled
        assert {c.plugin_code for c in mine} == {"sandbox"}
        picc = next(c for c in mine if c.key == "picc")
        assert picc.name == "中国人保财险" and picc.timeout == 10.0
        assert {"compulsory_motor", "commercial_motor", "term_life"} <= picc.products
        assert enabled_carriers(db.session, bare_world.tenant_id, ON) == []
        with pytest.raises(NotFound):
            carrier_for(db.session, bare_world.tenant_id, "picc", ON)
        states = {s.key: s.state for s in carrier_statuses(db.session, demo_world.tenant_id, ON)}
        assert states["sim_http"] == "disabled" and states["picc"] == "ready"


def test_locked_defaults_win_over_the_desk(demo_world):
    ccic = carrier_document("ccic")
    assert carrier_defaults(ccic)["deductible"].locked is True
    assert apply_defaults(ccic, {"deductible": "0", "third_party_limit": "500000"}) == {
        "deductible": "500",
        "third_party_limit": "500000",
    }
    picc = carrier_document("picc")  # an unlocked default fills only what the desk left empty
    assert apply_defaults(picc, {})["third_party_limit"] == "2000000"
    assert apply_defaults(picc, {"third_party_limit": "500000"})["third_party_limit"] == "500000"
    with use_scope(system_scope()):
        binding = carrier_for(db.session, demo_world.tenant_id, "ccic", ON)
    assert binding.locked_answers == {"deductible": "500"} and binding.default_answers == {}


def _carrier(key, config_changes=None, plugin="sandbox", **body_changes):
    document = carrier_document("picc")
    document["key"] = key
    document["body"]["plugin"] = plugin
    document["body"]["products"] = ["compulsory_motor"]
    document["body"].pop("defaults", None)
    document["body"]["config"].update(config_changes or {})
    document["body"].update(body_changes)
    return document


def test_a_config_the_plugin_refuses_is_not_installed(app, bare_world, tmp_path):
    bad = _carrier(
        "badcfg",
        {
            "fault_rate": 2,
            "policy_number": {
                "pattern": "{prefix}{seq:04d}",
                "prefixes": {"compulsory_motor": "PD"},
            },
        },
    )
    folder = write_pack(tmp_path, "badcarrier", documents=[bad])
    with pytest.raises(PackError) as refused:
        install_for(app, bare_world, folder)
    text = str(refused.value)
    assert "$.body.config.fault_rate" in text and "JSON Schema" in text
    short = _carrier(
        "shortno",
        {"policy_number": {"pattern": "{prefix}{seq:04d}", "prefixes": {"compulsory_motor": "PD"}}},
    )
    with pytest.raises(PackError) as refused:
        install_for(app, bare_world, write_pack(tmp_path, "short", documents=[short]))
    assert "须为 20–22 位" in str(refused.value)
    missing = _carrier("noplugin", plugin="not_installed")
    with pytest.raises(PackError) as refused:
        install_for(app, bare_world, write_pack(tmp_path, "noplugin", documents=[missing]))
    assert "$.body.plugin" in str(refused.value) and "not_installed" in str(refused.value)
    with use_scope(system_scope()):
        assert enabled_carriers(db.session, bare_world.tenant_id, ON) == []


def _add_credential(client, admin, carrier_key="picc", name="api_key", value=BRAND_NEW):
    login(client, admin)
    assert client.get("/carriercredentialview/add").status_code == 200
    return client.post(
        "/carriercredentialview/add",
        data={"carrier_key": carrier_key, "name": name, "value": value},
        follow_redirects=True,
    )


def test_a_credential_is_never_shown_again(app, client, demo_world):
    answer = _add_credential(client, demo_world.users["admin"])
    assert answer.status_code == 200
    listing = client.get("/carriercredentialview/list/").get_data(as_text=True)
    assert "api_key" in listing and BRAND_NEW not in listing
    with use_scope(system_scope()):
        row = db.session.scalar(
            select(CarrierCredential).where(CarrierCredential.tenant_id == demo_world.tenant_id)
        )
        assert BRAND_NEW not in row.secret and row.fingerprint in listing
        assert f"secret:{row.id}" in listing
        audits = db.session.scalars(
            select(AuditRecord).where(AuditRecord.entity == "carrier_credential")
        ).all()
        assert audits and all(BRAND_NEW not in (a.after or "") + (a.before or "") for a in audits)
        assert any('"secret": "******"' in (a.after or "") for a in audits)
        # the platform resolves it for the plugin, for this tenant and carrier only
        refs = {"api_key": row.reference}
        assert resolve_credentials(db.session, demo_world.tenant_id, "picc", refs) == {
            "api_key": BRAND_NEW
        }
        with pytest.raises(Unavailable):
            resolve_credentials(db.session, demo_world.tenant_id + 1, "picc", refs)
        with pytest.raises(Unavailable):
            resolve_credentials(db.session, demo_world.tenant_id, "pingan", refs)
    for path in (
        f"/carriercredentialview/show/{row.id}",
        "/carriercredentialview/export/?format=csv",
        "/api/v1/carriercredential/",
        f"/api/v1/carriercredential/{row.id}",
    ):
        shown = client.get(path)
        assert BRAND_NEW not in shown.get_data(as_text=True)
        assert shown.status_code in (302, 403, 404, 405), (path, shown.status_code)


def test_a_desk_user_cannot_reach_credentials(app, client, demo_world):
    login(client, demo_world.users["desk"])
    page = client.get("/carriercredentialview/list/")
    assert page.status_code in (302, 403)


def test_the_status_page_lists_plugins_and_the_tenants_carriers(
    app, client, demo_world, bare_world
):
    login(client, demo_world.users["admin"])
    page = client.get("/carriers/status/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "插件与保险公司" in text and 'data-plugin="sandbox"' in text
    assert 'data-plugin="http_carrier"' in text and 'data-plugin="payment_sandbox"' in text
    assert 'data-carrier="picc"' in text and "已停用" in text
    client.get("/logout/")
    login(client, bare_world.users["admin"])
    other = client.get("/carriers/status/").get_data(as_text=True)
    assert 'data-carrier="picc"' not in other and "尚未配置保险公司" in other
