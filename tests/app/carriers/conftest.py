"""Fixtures of the carrier tests that need the database: the core pack for the platform, a
tenant with the demo pack (its 14 sandbox carriers), and a tenant with none."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.configuration.models import InstalledPack
from app.extensions import db
from app.tenancy.scope import system_scope, use_scope
from tests.app.carriers.helpers import ROOT
from tests.app.conftest import build_world, install_for

ROLES = {
    "admin": ("tenant_admin", "hq"),
    "desk": ("insurance_desk", "store_a"),
    "finance": ("finance", "hq"),
}


@pytest.fixture(scope="module")
def core(app):
    with use_scope(system_scope()):
        installed = db.session.scalar(
            select(InstalledPack).where(
                InstalledPack.name == "core", InstalledPack.tenant_id.is_(None)
            )
        )
    if installed is None:
        result = app.test_cli_runner().invoke(
            args=["pack", "install", str(ROOT / "metadata/packs/core")]
        )
        assert result.exit_code == 0, result.output
    return True


@pytest.fixture(scope="module")
def demo_world(app, core):
    world = build_world(app, ROLES)
    install_for(app, world, str(ROOT / "metadata/packs/demo"))
    return world


@pytest.fixture(scope="module")
def bare_world(app, core):
    return build_world(app, ROLES)
