"""The current scope: which tenant and which subtree of its organisation a piece of work sees."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


class ScopeViolation(PermissionError):
    """A write would put a record outside the current scope, or no scope is set."""


class ReferenceOutOfScope(ScopeViolation):
    """A written reference (a foreign key, an entity reference field, an assigned related object)
    names a record the writer cannot see. A missing record and another tenant's get this same
    refusal, word for word, so the answer does not tell which ids exist elsewhere."""

    def __init__(self, field: str):
        self.field = field
        super().__init__(f"{field}: no such record in your scope")


@dataclass(frozen=True)
class Scope:
    """`node_path` is the materialised path of the user's org node, e.g. "/3/7/"; the user sees
    rows on that node and below. `unrestricted` is the platform's own view (platform admin, CLI,
    migrations)."""

    tenant_id: int | None = None
    node_id: int | None = None
    node_path: str | None = None
    unrestricted: bool = False
    user_id: int | None = None
    username: str = ""

    def covers_path(self, path: str | None) -> bool:
        if self.unrestricted:
            return True
        return bool(path and self.node_path and path.startswith(self.node_path))


SYSTEM = Scope(unrestricted=True, username="system")

_current: ContextVar[Scope | None] = ContextVar("dealercover_scope", default=None)


def current_scope() -> Scope | None:
    return _current.get()


@contextmanager
def use_scope(scope: Scope | None) -> Iterator[Scope | None]:
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)


def system_scope(username: str = "system") -> Scope:
    """The unrestricted scope for the platform's own work (CLI commands, migrations, login)."""
    return Scope(unrestricted=True, username=username)


def set_scope(scope: Scope | None):
    """Set the scope for the rest of this context; returns a token for `reset_scope`."""
    return _current.set(scope)


def reset_scope(token) -> None:
    _current.reset(token)


def scope_for(user) -> Scope:
    """The scope of a logged-in user: platform admins see everything, everyone else their tenant's
    node and below."""
    from app.security.roles import PLATFORM_ADMIN

    roles = {r.name for r in (user.roles or [])}
    if PLATFORM_ADMIN in roles:
        return Scope(unrestricted=True, user_id=user.id, username=user.username)
    node = user.org_node
    return Scope(
        tenant_id=user.tenant_id,
        node_id=node.id if node else None,
        node_path=node.path if node else None,
        user_id=user.id,
        username=user.username,
    )
