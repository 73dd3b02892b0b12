"""Tenancy: who may see which rows. One mechanism, applied to every ORM statement.

A model joins by inheriting one of the scoped mixins (`TenantScoped` for ordinary business data).
Every SELECT, UPDATE and DELETE through the ORM then carries the current user's scope, and every
insert or move is checked against it. With no scope set, scoped rows are invisible and writes are
refused: forgetting to set a scope fails closed.
"""

from app.tenancy.mixins import Scoped, SharedScoped, TenantScoped
from app.tenancy.scope import (
    Scope,
    ScopeViolation,
    current_scope,
    scope_for,
    system_scope,
    use_scope,
)

__all__ = [
    "Scope",
    "ScopeViolation",
    "Scoped",
    "SharedScoped",
    "TenantScoped",
    "current_scope",
    "scope_for",
    "system_scope",
    "use_scope",
]
