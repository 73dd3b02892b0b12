"""The user screen: Flask-AppBuilder's, with tenant, org node and a guard against escalation."""

from __future__ import annotations

from flask import g
from flask_appbuilder.security.views import UserDBModelView
from flask_babel import lazy_gettext as _l

from app.identifiers.forms import ValidIdentifier
from app.security.roles import PLATFORM_ADMIN


def _is_platform_admin(user) -> bool:
    return any(r.name == PLATFORM_ADMIN for r in (getattr(user, "roles", None) or []))


class DealerUserView(UserDBModelView):
    label_columns = {
        **UserDBModelView.label_columns,
        "tenant": _l("Tenant"),
        "org_node": _l("Org node"),
        "phone": _l("Mobile"),
        "locked_until": _l("Locked until"),
    }
    list_columns = ["first_name", "last_name", "username", "org_node", "roles", "active"]
    show_fieldsets = [
        (_l("User info"), {"fields": ["first_name", "last_name", "username", "email", "phone"]}),
        (_l("Organisation"), {"fields": ["tenant", "org_node", "roles", "active"]}),
        (
            _l("Audit"),
            {
                "fields": [
                    "last_login",
                    "login_count",
                    "fail_login_count",
                    "locked_until",
                    "created_on",
                    "changed_on",
                ]
            },
        ),
    ]
    user_show_fieldsets = show_fieldsets[:2]
    add_columns = [
        "first_name",
        "last_name",
        "username",
        "email",
        "phone",
        "org_node",
        "roles",
        "active",
        "password",
        "conf_password",
    ]
    edit_columns = [
        "first_name",
        "last_name",
        "username",
        "email",
        "phone",
        "org_node",
        "roles",
        "active",
        "locked_until",
    ]
    search_columns = ["first_name", "last_name", "username", "email", "org_node", "roles"]
    validators_columns = {"phone": [ValidIdentifier("mobile")]}

    def _refuse_escalation(self, item) -> None:
        if _is_platform_admin(g.user):
            return
        if _is_platform_admin(item):
            raise ValueError(str(_l("Roles: only a platform admin may grant platform admin")))
        if item.org_node is None:
            raise ValueError(str(_l("Org node: a user of a tenant needs an org node")))
        item.tenant_id = item.org_node.tenant_id

    def pre_add(self, item) -> None:
        self._refuse_escalation(item)
        super().pre_add(item)

    def pre_update(self, item) -> None:
        self._refuse_escalation(item)
        super().pre_update(item)
