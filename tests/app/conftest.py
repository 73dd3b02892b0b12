"""Fixtures of the app's tests: one app per run, on PostgreSQL when DATABASE_URL says so, else on
a fresh SQLite file (the embedded default). The schema is built by the real migrations.

Tests share the database; each builds its own tenants with unique codes, so they never see each
other's rows (which is the very property under test)."""

from __future__ import annotations

import contextvars
import datetime
import itertools
import os
import random
import uuid
from dataclasses import dataclass, field

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import select, text
from werkzeug.security import generate_password_hash

from app import create_app
from app.customers.models import Customer, Vehicle
from app.demo.loader import make_plate, make_resident_id, make_vin
from app.extensions import db
from app.organisation.commands import create_tenant
from app.organisation.models import Brand, City, NodeKind, OrgNode, TenantKind
from app.organisation.reference import load_reference_data
from app.security import roles as r
from app.tenancy.scope import system_scope, use_scope

PASSWORD = "Test-Pass-2026!"


def _reset_database(url: str, storage) -> str:
    if url.startswith("postgresql"):
        from sqlalchemy import create_engine

        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        return url
    return f"sqlite:///{storage / 'test.db'}"


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    storage = tmp_path_factory.mktemp("storage")
    os.environ["STORAGE_PATH"] = str(storage)
    url = _reset_database(os.environ.get("DATABASE_URL", ""), storage)
    os.environ["DATABASE_URL"] = url
    migrator = create_app("test")
    with migrator.app_context():
        upgrade()
        db.session.remove()
    application = create_app("test")
    with application.app_context():
        with use_scope(system_scope("tests")):
            load_reference_data(db.session)
            _add_probe_role(application.appbuilder)
            db.session.commit()
        yield application
        db.session.remove()


def _add_probe_role(appbuilder) -> None:
    """A role holding every permission but not the platform admin's scope: scoping must hold even
    for a user who may open every screen."""
    sm = appbuilder.sm
    admin = sm.find_role(r.PLATFORM_ADMIN)
    probe = sm.find_role("scope_probe") or sm.add_role("scope_probe")
    probe.permissions = list(admin.permissions)


_counter = itertools.count(1)


@dataclass
class World:
    """A tenant: HQ → region → area → stores A and B, customers and vehicles in each store."""

    tenant_id: int
    code: str
    hq: int
    region: int
    area: int
    store_a: int
    store_b: int
    users: dict[str, str] = field(default_factory=dict)


def build_world(app, roles_at: dict[str, tuple[str, str]] | None = None) -> World:
    """roles_at: username suffix → (role, node attribute)."""
    n = next(_counter)
    code = f"T{n}{uuid.uuid4().hex[:4].upper()}"
    sm = app.appbuilder.sm
    with use_scope(system_scope("tests")):
        brand = db.session.query(Brand).filter_by(code="SVW").one()
        city = db.session.query(City).filter_by(code="310100").one()
        tenant = create_tenant(db.session, code, f"测试集团{code}", TenantKind.DEALER_GROUP)
        hq = tenant.root
        if hq is None:
            hq = db.session.query(OrgNode).filter_by(tenant_id=tenant.id, parent_id=None).one()
        region = _node(tenant, hq, NodeKind.REGION, "R1", "华东大区")
        area = _node(tenant, region, NodeKind.AREA, "A1", "上海片区")
        store_a = _node(tenant, area, NodeKind.STORE, "SA", "浦东店", brand, city)
        store_b = _node(tenant, area, NodeKind.STORE, "SB", "闵行店", brand, city)
        rng = random.Random(n)
        for store in (store_a, store_b):
            for _ in range(2):
                customer = Customer(
                    tenant_id=tenant.id,
                    org_node_id=store.id,
                    name=f"{store.name}客户{rng.randrange(1000)}",
                    id_number=make_resident_id(rng, "310115", datetime.date(1980, 5, 17), True),
                    mobile=f"139{rng.randrange(10**8):08d}",
                )
                vehicle = Vehicle(
                    tenant_id=tenant.id,
                    org_node_id=store.id,
                    customer=customer,
                    plate=make_plate(rng, "上海", "上海", False),
                    vin=make_vin(rng, "LSV", "R"),
                    brand=brand,
                )
                db.session.add_all([customer, vehicle])
        world = World(tenant.id, code, hq.id, region.id, area.id, store_a.id, store_b.id)
        nodes = {"hq": hq, "region": region, "store_a": store_a, "store_b": store_b}
        for suffix, (role_name, node_name) in (roles_at or {}).items():
            username = f"{code.lower()}.{suffix}"
            node = nodes[node_name]
            user = sm.user_model(
                username=username,
                first_name=suffix,
                last_name=code,
                email=f"{username}@test.local",
                active=True,
                roles=[sm.find_role(role_name)],
                tenant_id=tenant.id,
                org_node_id=node.id,
            )
            user.password = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
            db.session.add(user)
            world.users[suffix] = username
        db.session.commit()
    return world


def _node(tenant, parent, kind, code, name, brand=None, city=None) -> OrgNode:
    node = OrgNode(
        tenant_id=tenant.id, parent=parent, kind=kind, code=code, name=name, brand=brand, city=city
    )
    db.session.add(node)
    db.session.flush()
    return node


class IsolatedClient(FlaskClient):
    """Each request runs in an empty context, so it pushes its own app context, database session
    and `g` as in production, instead of borrowing the test's."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    yield app.test_client()
    db.session.remove()


def login(client, username: str, password: str = PASSWORD):
    return client.post(
        "/login/", data={"username": username, "password": password}, follow_redirects=False
    )


def api_token(client, username: str, password: str = PASSWORD) -> str:
    response = client.post(
        "/api/v1/security/login",
        json={"username": username, "password": password, "provider": "db", "refresh": False},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["access_token"]


def scope_of(username: str):
    """The scope the user works in, as a request would set it."""
    from app.security.models import DealerUser
    from app.tenancy.scope import scope_for

    with use_scope(system_scope()):
        user = db.session.scalar(select(DealerUser).where(DealerUser.username == username))
        return scope_for(user)


def write_pack(folder, name: str, version: str = "1.0.0", documents=(), requires=None) -> str:
    """Write a pack folder (pack.yaml + one YAML file per document); returns its path."""
    import yaml

    from app.configuration.reading import KIND_FOLDERS

    root = folder / name
    root.mkdir(parents=True, exist_ok=True)
    manifest = {
        "name": name,
        "version": version,
        "description": "测试包 / test pack",
        "tenant_scoped": True,
    }
    if requires:
        manifest["requires"] = requires
    (root / "pack.yaml").write_text(yaml.safe_dump(manifest, allow_unicode=True), encoding="utf-8")
    for document in documents:
        target = root / KIND_FOLDERS[document["kind"]] / f"{document['key']}.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(
            yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
    return str(root)


def reminder_entity(key: str = "inspection_reminder", version: str = "1.0.0", extra_fields=()):
    """An entity document like 年审提醒: a plate, a due date and an enum status."""
    fields = [
        {
            "name": "plate",
            "label": {"zh": "车牌号", "en": "Plate"},
            "type": "plate",
            "required": True,
        },
        {
            "name": "due_date",
            "label": {"zh": "年审到期日", "en": "Due"},
            "type": "date",
            "required": True,
        },
        {
            "name": "status",
            "label": {"zh": "状态", "en": "Status"},
            "type": "enum",
            "default": "pending",
            "choices": [
                {"value": "pending", "label": {"zh": "待提醒", "en": "Pending"}},
                {"value": "done", "label": {"zh": "已完成", "en": "Done"}},
            ],
        },
        *extra_fields,
    ]
    return {
        "kind": "entity",
        "key": key,
        "version": version,
        "title": "年审提醒",
        "body": {
            "name": key,
            "label": {"zh": "年审提醒", "en": "Inspection reminder"},
            "fields": fields,
            "list_columns": [f["name"] for f in fields],
            "search_fields": ["plate"],
            "permissions": {
                "tenant_admin": "write",
                "store_manager": "write",
                "insurance_desk": "write",
            },
        },
    }


def install_for(app, world, folder: str):
    """Install a pack folder for the world's tenant, as the CLI does."""
    from pathlib import Path

    from app.configuration.install import install_pack
    from app.configuration.reading import read_pack
    from app.configuration.runtime import REGISTRY

    with use_scope(system_scope("tests")):
        plan = install_pack(db.session, read_pack(Path(folder)), world.tenant_id, "tests")
        REGISTRY.refresh(db.session, force=True)
    return plan


def add_entity_records(app, world, key: str = "inspection_reminder") -> None:
    """One record of the entity in each store of the world, through the records service."""
    from app.configuration import records
    from app.configuration.runtime import REGISTRY

    with use_scope(system_scope("tests")):
        runtime = REGISTRY.get(db.session, key, world.tenant_id)
        for store in (world.store_a, world.store_b):
            records.create_record(
                db.session,
                runtime,
                {"plate": "沪A12345", "due_date": "2026-12-31", "org_node_id": store},
                "tests",
            )


@pytest.fixture(scope="session")
def live_server(app):
    """The app served on a free localhost port in a thread, on the test database."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright (no browser download)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists("/usr/bin/chromium"):
        pytest.skip("no Chromium at /usr/bin/chromium (make install installs it)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def browser_login(browser, base_url: str, username: str, password: str = PASSWORD, width=1280):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{base_url}/login/")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_load_state()
    return page
