"""The user screen: Flask-AppBuilder's, with tenant, org node, role grants judged against the
rights the editor held before the request, and an audited unlock."""

from __future__ import annotations

from flask import abort, flash, g, redirect, request
from flask_appbuilder.actions import action
from flask_appbuilder.hooks import before_request
from flask_appbuilder.security import views as fab_views
from flask_appbuilder.security.views import UserDBModelView
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.identifiers.forms import ValidIdentifier
from app.security.grants import GrantRefused, check_user_write, current_actor
from app.security.roles import ROLE_LABELS


def role_label(name: str) -> str:
    """A role's label in the user's language (custom roles keep their name)."""
    return str(ROLE_LABELS.get(name, name))


class DealerUserView(UserDBModelView):
    label_columns = {
        **UserDBModelView.label_columns,
        "tenant": _l("Tenant"),
        "org_node": _l("Org node"),
        "phone": _l("Mobile"),
        "locked_until": _l("Locked until"),
        "login_lock": _l("Login lock"),
    }
    list_columns = [
        "first_name",
        "last_name",
        "username",
        "org_node",
        "roles",
        "active",
        "login_lock",
    ]
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
    formatters_columns = {
        "roles": lambda roles: "、".join(role_label(r.name) for r in roles or []),
        "active": lambda active: _("Yes") if active else _("No"),
    }
    validators_columns = {"phone": [ValidIdentifier("mobile")]}

    def _refuse_escalation(self, item, deleting: bool = False) -> None:
        """The grant rules (app/security/grants.py) judged now, so the form shows the reason; the
        same rules run again at flush for every other path."""
        session = self.datamodel.session
        try:
            with session.no_autoflush:
                actor = current_actor(session)
                if not deleting:
                    self._place_in_tenant(item, actor)
                check_user_write(session, actor, item, deleting=deleting)
        except GrantRefused:
            session.rollback()  # nothing of the refused edit may reach a later flush
            raise

    @staticmethod
    def _place_in_tenant(item, actor) -> None:
        if item.org_node is not None:
            item.tenant_id = item.org_node.tenant_id
        elif actor is None or not actor.is_platform:
            raise GrantRefused(_("Org node: a user of a tenant needs an org node"))

    def pre_add(self, item) -> None:
        self._refuse_escalation(item)
        super().pre_add(item)

    def pre_update(self, item) -> None:
        self._refuse_escalation(item)
        super().pre_update(item)

    def pre_delete(self, item) -> None:
        self._refuse_escalation(item, deleting=True)
        super().pre_delete(item)

    @action(
        "unlock",
        _l("Unlock login"),
        _l("Unlock the selected users? Their failed logins are forgotten on every address."),
        "fa-unlock",
    )
    def unlock(self, items):
        """A second administrator lifts a lock-out (never their own); audited per user."""
        from app.security.throttle import unlock_account

        items = [u for u in (items if isinstance(items, list) else [items]) if u is not None]
        session = self.datamodel.session
        done = 0
        for user in items:
            if user.id == g.user.id:
                flash(_("You cannot unlock your own account: ask another administrator"), "danger")
                continue
            unlock_account(session, user, g.user.username)
            done += 1
        session.commit()
        flash(_("%(n)d user(s) unlocked", n=done), "info")
        return redirect(self.get_redirect())


class PlatformOnlyScreens:
    """Roles and groups are shared by every tenant: their screens change nothing for anyone but a
    platform admin (the grant guard at flush refuses it too, without a readable answer)."""

    @before_request
    def _changes_are_the_platforms(self):
        changing = request.method != "GET" or request.endpoint.rsplit(".", 1)[-1] in (
            "delete",
            "action",
        )
        if changing:
            actor = current_actor(self.datamodel.session)
            if actor is None or (actor.user_id is not None and not actor.is_platform):
                abort(403)
        return None


# Same class names as Flask-AppBuilder's: permissions are named after the view class.
class RoleModelView(PlatformOnlyScreens, fab_views.RoleModelView):
    pass


class UserGroupModelView(PlatformOnlyScreens, fab_views.UserGroupModelView):
    pass
