"""The ORM guard: adds the current scope to every statement and checks every write.

Installed once on SQLAlchemy's Session class, so it covers Flask-AppBuilder's views and REST
APIs, our own services, jobs and exports alike. Hand-written SQL bypasses ORM events; on
PostgreSQL row-level security (`app.tenancy.row_security`) is the second wall behind this one.

Writes: `check_write` of each scoped row judges its tenant and org node, then
`app.tenancy.references` resolves every reference the row writes inside the writer's scope.
"""

from __future__ import annotations

import warnings

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import event, false
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from app.tenancy.mixins import Scoped, user_scope_clause
from app.tenancy.references import check_references
from app.tenancy.row_security import install_row_settings
from app.tenancy.scope import ScopeViolation, current_scope

# SQLAlchemy calls the criteria lambda once with the abstract mixin while analysing it; reading a
# declared column there warns, harmlessly.
warnings.filterwarnings("ignore", message="Unmanaged access of declarative attribute")

_installed = False


def install_guard() -> None:
    global _installed
    if _installed:
        return
    event.listen(Session, "do_orm_execute", _add_scope_criteria)
    event.listen(Session, "before_flush", _check_writes)
    install_row_settings()
    _installed = True


def _add_scope_criteria(state: ORMExecuteState) -> None:
    if state.is_column_load or not (state.is_select or state.is_update or state.is_delete):
        return
    scope = current_scope()
    if scope is not None and scope.unrestricted:
        return
    if scope is None or scope.tenant_id is None or not scope.node_path:
        options = [
            with_loader_criteria(root, lambda cls: false(), include_aliases=True)
            for root in _roots()
        ]
    else:
        tenant_id, node_path = scope.tenant_id, scope.node_path
        options = [
            with_loader_criteria(
                Scoped, lambda cls: cls.scope_clause(tenant_id, node_path), include_aliases=True
            ),
            with_loader_criteria(
                User, lambda cls: user_scope_clause(cls, tenant_id, node_path), include_aliases=True
            ),
        ]
    state.statement = state.statement.options(*options)


def _roots() -> tuple[type, ...]:
    """The classes whose rows are scoped: our marker, and Flask-AppBuilder's base User (its
    security REST API queries that class, not our subclass)."""
    return (Scoped, User)


def _check_writes(session: Session, flush_context, instances) -> None:
    touched = [o for o in (*session.new, *session.dirty, *session.deleted) if isinstance(o, Scoped)]
    if not touched:
        return
    scope = current_scope()
    if scope is None:
        names = sorted({type(o).__name__ for o in touched})
        raise ScopeViolation(f"no scope is set: refusing to write {', '.join(names)}")
    with session.no_autoflush:
        new = [o for o in session.new if isinstance(o, Scoped)]
        dirty = [o for o in session.dirty if isinstance(o, Scoped) and session.is_modified(o)]
        for obj in new:
            obj.check_write(session, scope, is_new=True)
        for obj in dirty:
            obj.check_write(session, scope, is_new=False)
        # After check_write, which fills in each row's tenant: references are judged against it.
        check_references(session, scope, new, dirty)
