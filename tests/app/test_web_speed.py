"""The web tier's speed mechanisms keep their meaning: permissions read once per request still
grant and refuse as before and are re-read after a change in the same request; the REST API's
argument schema, checked once, still refuses bad arguments. (Times are measured by
bench/web/bench_pages.py, never asserted here.)"""

from __future__ import annotations

from contextlib import contextmanager

from flask import g
from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import event

from app.extensions import db
from app.security.manager import PERMISSIONS_KEY
from app.tenancy.scope import system_scope, use_scope
from tests.app.conftest import api_token, build_world, login


@contextmanager
def statements(app):
    seen: list[str] = []

    def note(_conn, _cursor, sql, *_args):
        seen.append(sql)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_a_list_page_reads_permissions_once_and_still_refuses(app, client):
    world = build_world(app, {"desk": ("insurance_desk", "store_a")})
    login(client, world.users["desk"])
    with statements(app) as seen:
        page = client.get("/customerview/list/")
    assert page.status_code == 200
    permission_reads = [s for s in seen if "ab_permission_view" in s]
    assert len(permission_reads) == 1, permission_reads
    # The desk has no audit log: refused, with the same cached mechanism.
    assert client.get("/auditrecordview/list/").status_code in (302, 403)


def test_permissions_are_reread_after_a_role_change_in_the_request(app):
    sm = app.appbuilder.sm
    with app.test_request_context("/"), use_scope(system_scope("tests")):
        role = sm.add_role(f"speed_probe_{id(app)}")
        assert not sm.exist_permission_on_roles("CustomerView", "can_list", [role.id])
        assert PERMISSIONS_KEY in g
        granted = sm.find_permission_view_menu("can_list", "CustomerView")
        role.permissions.append(granted)
        db.session.flush()
        assert sm.exist_permission_on_roles("CustomerView", "can_list", [role.id])
        db.session.delete(db.session.get(Role, role.id))
        db.session.commit()


def test_the_public_role_check_is_one_query_per_request(app, client):
    world = build_world(app, {"desk": ("insurance_desk", "store_a")})
    token = api_token(client, world.users["desk"])
    with statements(app) as seen:
        answer = client.get("/api/v1/customer/", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    assert len([s for s in seen if "ab_permission_view" in s]) <= 2  # public + the user's


def test_bad_api_arguments_are_still_refused(app, client):
    world = build_world(app, {"desk": ("insurance_desk", "store_a")})
    auth = {"Authorization": f"Bearer {api_token(client, world.users['desk'])}"}
    for _ in range(2):  # the second answer comes from the compiled validator
        bad = client.get("/api/v1/customer/?q=(page_size:many)", headers=auth)
        assert bad.status_code == 400
        assert "Not a valid rison schema" in bad.get_json()["message"]
    good = client.get("/api/v1/customer/?q=(page_size:1)", headers=auth)
    assert good.status_code == 200
    assert len(good.get_json()["result"]) <= 1
