"""References written through the ORM must resolve inside the writer's scope.

Reading is scoped by the guard's criteria, but a reference written as a bare id
(`vehicle.customer_id = 41`) is not a read: nothing would stop a row of one tenant pointing at
another tenant's customer, and the database's own foreign key check would even tell an attacker
which ids exist. So the guard's `before_flush` check also resolves every reference an insert or
update writes:

- every foreign key of a scoped model that points to a scoped table (the scope columns
  `tenant_id` and `org_node_id` excepted: `check_write` judges those);
- every column whose `info["references"]` names its target (entity reference fields, which have
  no foreign key: the target is a model, or a callable `(session, row) -> model`);
- every many-to-one relationship assigned a persistent object (the foreign key is only copied
  from the object during the flush, after this check).

The referenced ids are looked up with one SELECT per target model, through the ORM, so the
guard's own criteria decide what the writer can see. The referenced row must also belong to the
writing row's tenant (or to no tenant: shared platform rows), which holds even for the platform's
unrestricted scope. A missing id and an invisible one raise the same `ReferenceOutOfScope`.

A reference may be declared tenant-wide (`info={"reference_scope": "tenant"}` on the column, or
listed in `catalogue.TENANT_WIDE_REFERENCES`): it must then resolve in the writer's tenant rather
than below the writer's org node (a store's gate camera recognises the tenant's cars bought at a
sibling store).
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from flask_appbuilder import Model
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import MANYTOONE

from app.tenancy.catalogue import TENANT_WIDE_REFERENCES
from app.tenancy.mixins import Scoped
from app.tenancy.scope import ReferenceOutOfScope, Scope, system_scope, use_scope

SCOPE_COLUMNS = frozenset({"tenant_id", "org_node_id"})
TENANT_WIDE = "tenant"
MAX_ID = 2**63 - 1
CHUNK = 1000  # ids per IN list, well below the drivers' parameter limits

Target = type | Callable[[Session, Any], type | None]


@dataclass(frozen=True)
class ReferenceColumn:
    key: str  # attribute holding the id
    target: Target
    tenant_wide: bool


@dataclass(frozen=True)
class ReferenceRelationship:
    key: str  # the relationship attribute
    field: str  # the id column it fills, named in the refusal
    target: type
    tenant_wide: bool


@dataclass(frozen=True)
class References:
    columns: tuple[ReferenceColumn, ...]
    relationships: tuple[ReferenceRelationship, ...]


_cache: weakref.WeakKeyDictionary[type, References] = weakref.WeakKeyDictionary()


def references_of(cls: type) -> References:
    """The references a scoped class writes (cached: entity classes come and go on publish, so
    the cache holds them weakly)."""
    found = _cache.get(cls)
    if found is None:
        found = _cache[cls] = _find_references(cls)
    return found


def _find_references(cls: type) -> References:
    mapper = inspect(cls)
    table = mapper.local_table.name
    columns = []
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        if prop.key in SCOPE_COLUMNS or not hasattr(column, "foreign_keys"):
            continue
        tenant_wide = _tenant_wide(table, prop.key, column.info)
        target = column.info.get("references")
        if target is None:
            target = next(
                (
                    t
                    for t in (_class_of(fk.column.table, mapper) for fk in column.foreign_keys)
                    if t
                ),
                None,
            )
        if target is not None:
            columns.append(ReferenceColumn(prop.key, target, tenant_wide))
    relationships = []
    for rel in mapper.relationships:
        if rel.direction is not MANYTOONE or rel.viewonly:
            continue
        if not issubclass(rel.mapper.class_, Scoped):
            continue
        local = next(iter(rel.local_columns))
        field = mapper.get_property_by_column(local).key
        relationships.append(
            ReferenceRelationship(
                rel.key, field, rel.mapper.class_, _tenant_wide(table, field, local.info)
            )
        )
    return References(tuple(columns), tuple(relationships))


def _tenant_wide(table: str, key: str, info: dict) -> bool:
    return info.get("reference_scope") == TENANT_WIDE or (table, key) in TENANT_WIDE_REFERENCES


def _class_of(table, mapper) -> type | None:
    """The scoped class mapped to `table`, or None when the table is not scoped (brands, cities,
    roles: global reference data anyone may point at)."""
    for registry in (mapper.registry, Model.registry):
        for candidate in registry.mappers:
            if candidate.local_table is table and issubclass(candidate.class_, Scoped):
                return candidate.class_
    return None


# --- the check ----------------------------------------------------------------------------------

# (target model, tenant-wide) → referenced id → [(writing row, field)]
Wanted = dict[tuple[type, bool], dict[int, list[tuple[Any, str]]]]


def check_references(session: Session, scope: Scope, new: Iterable, dirty: Iterable) -> None:
    """Refuse the flush when a row being inserted or updated references a record outside the
    writer's scope or tenant (missing or foreign alike)."""
    wanted: Wanted = defaultdict(lambda: defaultdict(list))
    for obj in new:
        _collect(session, obj, wanted, is_new=True)
    for obj in dirty:
        _collect(session, obj, wanted, is_new=False)
    for (target, tenant_wide), uses in wanted.items():
        tenants = _visible(session, target, sorted(uses), tenant_wide)
        for ref_id, rows in uses.items():
            for obj, field in rows:
                if ref_id not in tenants or not _same_tenant(obj, tenants[ref_id]):
                    raise ReferenceOutOfScope(field)


def _collect(session: Session, obj, wanted: Wanted, is_new: bool) -> None:
    refs = references_of(type(obj))
    state = inspect(obj)
    for ref in refs.columns:
        written = [getattr(obj, ref.key)] if is_new else state.attrs[ref.key].history.added
        values = [v for v in written or () if v is not None]
        if not values:
            continue
        target = ref.target if isinstance(ref.target, type) else ref.target(session, obj)
        for value in values:
            _want(wanted, target, ref.tenant_wide, value, obj, ref.key)
    for rel in refs.relationships:
        for related in state.attrs[rel.key].history.added or ():
            if related is None:
                continue
            identity = inspect(related).identity
            if identity is None:  # a new row of this flush: checked as a write of its own
                continue
            _want(wanted, rel.target, rel.tenant_wide, identity[0], obj, rel.field)


def _want(wanted: Wanted, target: type | None, tenant_wide: bool, value, obj, field: str):
    ref_id = _as_id(value)
    if target is None or ref_id is None:
        raise ReferenceOutOfScope(field)
    wanted[(target, tenant_wide)][ref_id].append((obj, field))


def _as_id(value) -> int | None:
    """An id the database could hold, else None (answered like a missing record, never sent to
    the database to overflow there)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, int) and 0 < value <= MAX_ID:
        return value
    return None


_NO_TENANT = object()


def _visible(session: Session, target: type, ids: list[int], tenant_wide: bool) -> dict[int, Any]:
    """id → tenant of each referenced row the writer can see. Runs through the ORM, so the
    guard adds the writer's scope; a tenant-wide reference is looked up without the org-node
    part and held to the writer's tenant by `_same_tenant`."""
    # ORM attributes, not the table's columns: the guard's criteria only reach a statement that
    # selects from the mapped class.
    mapper = inspect(target)
    key = getattr(target, mapper.get_property_by_column(mapper.primary_key[0]).key)
    tenant = _tenant_column(target)
    columns = [key] if tenant is None else [key, tenant]
    found: dict[int, Any] = {}
    with use_scope(system_scope("reference-check")) if tenant_wide else nullcontext():
        for start in range(0, len(ids), CHUNK):
            statement = select(*columns).where(key.in_(ids[start : start + CHUNK]))
            for row in session.execute(statement):
                found[row[0]] = row[1] if tenant is not None else _NO_TENANT
    return found


def _tenant_column(target: type):
    mapper = inspect(target)
    if "tenant_id" in mapper.column_attrs:
        return target.tenant_id
    if mapper.local_table.name == "tenant":
        return target.id
    return None


def _same_tenant(obj, target_tenant) -> bool:
    """A row may point at rows of its own tenant, or at rows of no tenant (the platform's shared
    configuration); a platform row (no tenant) may not point into a tenant."""
    if target_tenant is _NO_TENANT or target_tenant is None:
        return True
    return getattr(obj, "tenant_id", None) == target_tenant
