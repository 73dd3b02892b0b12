"""Plugin discovery: the built-in plugins register like outside ones; a plugin that fails to
import, whose hook raises, that repeats a code or declares an unusable schema is kept as a load
error, shown on 状态监控, and the others keep working."""

from __future__ import annotations

import datetime
import textwrap

import pytest

from app.carriers import registry as plugin_registry
from app.carriers.registry import BUILTIN_DIR, discover
from app.carriers.services import enabled_carriers
from app.extensions import db
from app.tenancy.scope import system_scope, use_scope
from tests.app.conftest import login

GOOD = """
from app.carriers.contract import CarrierPlugin, hookimpl

@hookimpl
def dealercover_carrier_plugins():
    return [CarrierPlugin("{code}", "好插件", "0.1.0", ("quote",), {{"type": "object"}},
                          make_client=lambda config, credentials, context: None)]
"""
BROKEN = {
    "broken_import": "import module_that_does_not_exist_anywhere\n",
    "hook_raises": textwrap.dedent(
        """
        from app.carriers.contract import hookimpl

        @hookimpl
        def dealercover_carrier_plugins():
            raise RuntimeError("configuration service down")
        """
    ),
    "same_code": GOOD.format(code="sandbox"),
    "bad_schema": GOOD.format(code="bad_schema").replace('{"type": "object"}', '{"type": 42}'),
}


@pytest.fixture
def plugin_folder(tmp_path):
    for name, source in BROKEN.items():
        (tmp_path / f"{name}.py").write_text(source, encoding="utf-8")
    package = tmp_path / "good_package"
    package.mkdir()
    (package / "__init__.py").write_text(GOOD.format(code="good_one"), encoding="utf-8")
    (tmp_path / "_private.py").write_text("raise SystemExit('never imported')\n")
    return tmp_path


def test_the_builtin_plugins_are_found_like_any_other():
    found = discover()
    assert set(found.carriers) == {"sandbox", "http_carrier"}
    assert set(found.payments) == {"payment_sandbox"}
    assert found.carriers["sandbox"].source == "plugins/sandbox_carrier"
    assert found.errors == []
    assert found.manager.project_name == "dealercover"


def test_failures_are_kept_as_load_errors_and_the_rest_loads(plugin_folder):
    found = discover((BUILTIN_DIR, plugin_folder), entry_points=False)
    assert set(found.carriers) == {"sandbox", "http_carrier", "good_one"}
    errors = {error.name: error for error in found.errors}
    assert set(errors) == set(BROKEN)
    assert "ModuleNotFoundError" in errors["broken_import"].summary
    assert "configuration service down" in errors["hook_raises"].summary
    assert "重复" in errors["same_code"].summary
    assert "config_schema is invalid" in errors["bad_schema"].summary
    assert "Traceback" in errors["broken_import"].detail


def test_the_status_page_shows_load_errors_and_carriers_still_work(
    app, client, demo_world, plugin_folder
):
    previous = plugin_registry.set_registry(discover((BUILTIN_DIR, plugin_folder)))
    try:
        login(client, demo_world.users["admin"])
        page = client.get("/carriers/status/")
        text = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "加载失败的插件（4）" in text
        assert 'data-plugin="broken_import"' in text and "module_that_does_not_exist" in text
        assert 'data-plugin="good_one"' in text
        with use_scope(system_scope()):
            carriers = enabled_carriers(db.session, demo_world.tenant_id, datetime.date.today())
        assert len(carriers) == 14
    finally:
        plugin_registry.set_registry(previous)
