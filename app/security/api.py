"""Flask-AppBuilder's security REST API for users, answering a refused role grant with 403.

The grant rules themselves live in app/security/grants.py and run at flush for every path; here
they are also run before the write, so the API can answer with the reason instead of an error.
"""

from __future__ import annotations

import inspect

from flask import request
from flask_appbuilder.api import expose, safe
from flask_appbuilder.hooks import before_request
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name, protect
from flask_appbuilder.security.sqla import apis as fab_apis
from flask_babel import gettext as _
from flask_login import current_user

from app.security.grants import GrantRefused, check_user_write, current_actor
from app.security.models import DealerUser

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def refused_unless_platform(session) -> bool:
    """True when a known user who is not a platform admin is calling: roles, groups and
    permissions are shared by every tenant, so only the platform changes them. Anonymous callers
    are left to Flask-AppBuilder's own 401."""
    if not current_user.is_authenticated:
        from flask_jwt_extended import verify_jwt_in_request

        try:
            verify_jwt_in_request(optional=True)
        except Exception:  # a bad token: the route's own check answers it
            return False
    actor = current_actor(session)
    return actor is not None and actor.user_id is not None and not actor.is_platform


class PlatformOnlyWrites:
    """Refuses every write route of the API to anyone but a platform admin, with a 403 (the
    grant guard at flush would refuse the write too, but as a server error)."""

    @before_request
    def _writes_are_the_platforms(self):
        if request.method in WRITE_METHODS and refused_unless_platform(self.datamodel.session):
            return self.response(
                403, message=_("Roles: only a platform admin may change roles and groups")
            )
        return None


# Same class names as Flask-AppBuilder's: permissions and endpoints are named after them.
class RoleApi(PlatformOnlyWrites, fab_apis.RoleApi):
    pass


class GroupApi(PlatformOnlyWrites, fab_apis.GroupApi):
    # Flask-AppBuilder searches on its list columns, which name related columns ("roles.name",
    # "users.id"); no filter exists for a dotted column, so each start-up logged four
    # "Filter type not supported" warnings. Search on the group's own columns and its relations.
    search_columns = ["id", "name", "label", "description", "roles", "users"]


class ViewMenuApi(PlatformOnlyWrites, fab_apis.ViewMenuApi):
    pass


class PermissionViewMenuApi(PlatformOnlyWrites, fab_apis.PermissionViewMenuApi):
    pass


class UserApi(fab_apis.UserApi):
    """Same class name as Flask-AppBuilder's: its endpoints keep their names."""

    datamodel = SQLAInterface(DealerUser)

    def _judge(self, item, deleting: bool = False) -> None:
        session = self.datamodel.session
        with session.no_autoflush:
            check_user_write(session, current_actor(session), item, deleting=deleting)

    def pre_add(self, item) -> None:
        self._judge(item)
        super().pre_add(item)

    def pre_update(self, item, data) -> None:
        self._judge(item)
        super().pre_update(item, data)

    def pre_delete(self, item) -> None:
        self._judge(item, deleting=True)
        super().pre_delete(item)

    def _refused(self, refused: GrantRefused):
        self.datamodel.session.rollback()
        return self.response(403, message=str(refused))

    @expose("/", methods=["POST"])
    @protect()
    @safe
    @permission_name("post")
    def post(self):
        """Create a user (Flask-AppBuilder's, with role grants judged)."""
        try:
            return inspect.unwrap(fab_apis.UserApi.post)(self)
        except GrantRefused as refused:
            return self._refused(refused)

    @expose("/<pk>", methods=("PUT",))
    @protect()
    @safe
    @permission_name("put")
    def put(self, pk):
        """Edit a user (Flask-AppBuilder's, with role grants judged)."""
        try:
            return inspect.unwrap(fab_apis.UserApi.put)(self, pk)
        except GrantRefused as refused:
            return self._refused(refused)

    @expose("/<pk>", methods=["DELETE"])
    @protect()
    @safe
    @permission_name("delete")
    def delete(self, pk):
        """Delete a user (only one the caller could have given every role to)."""
        try:
            return inspect.unwrap(fab_apis.UserApi.delete)(self, pk)
        except GrantRefused as refused:
            return self._refused(refused)


# The OpenAPI description of each route is read from its docstring: keep Flask-AppBuilder's.
for _name in ("post", "put", "delete"):
    getattr(UserApi, _name).__doc__ = getattr(fab_apis.UserApi, _name).__doc__
