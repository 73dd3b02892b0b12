"""Low-code entities: an `entity` document becomes a real table, an ORM class under the tenant
guard, and (through the generic views) a screen and a REST API — without code or restart.

Tables are named `x_<name>` for platform entities and `x<tenant id>_<name>` for a tenant's own,
so two tenants' entities never share a schema. Schema changes never lose data silently: a
removed field must be listed in `dropped_fields` (keep or discard its data), a retyped field
must say `migrate.from_type`, a renamed one `renamed_from`.
"""

from __future__ import annotations

import datetime
import decimal
import re
from dataclasses import dataclass, field
from typing import Any

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    inspect,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import registry as orm_registry

from app.audit.models import utcnow
from app.configuration.field_types import (  # noqa: F401 (FieldError and limits re-exported)
    STRING_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    FieldError,
    field_type,
    max_length,
)
from app.identifiers import InvalidIdentifier
from app.organisation.models import OrgNode, Tenant
from app.tenancy.mixins import TenantScoped
from app.tenancy.row_security import TENANT, enable_row_security
from app.timebounds import OutOfRange

SYSTEM_COLUMNS = ("id", "tenant_id", "org_node_id", "created_at", "created_by", "changed_at")


def column_type(spec: dict):
    """The column of a field, by its type (app.configuration.field_types)."""
    return field_type(spec["type"]).column(spec)


ENTITY_TABLE = re.compile(r"^x\d*_")


def is_entity_table(name: str) -> bool:
    """Entity tables are created by publishing documents, not by Alembic revisions."""
    return bool(ENTITY_TABLE.match(name))


def include_in_migrations(obj, name, type_, reflected, compare_to) -> bool:
    return not (type_ == "table" and is_entity_table(name))


def table_name(name: str, tenant_id: int | None) -> str:
    return f"x_{name}" if tenant_id is None else f"x{tenant_id}_{name}"


@dataclass
class EntityDefinition:
    name: str
    tenant_id: int | None
    body: dict[str, Any]
    version_id: int | None = None

    @property
    def table(self) -> str:
        return table_name(self.name, self.tenant_id)

    @property
    def fields(self) -> list[dict]:
        return self.body["fields"]

    def field(self, name: str) -> dict | None:
        return next((f for f in self.fields if f["name"] == name), None)

    @property
    def column_fields(self) -> list[dict]:
        """Fields stored in a column of the entity's table (not child tables, not files)."""
        return [f for f in self.fields if field_type(f["type"]).has_column]

    @property
    def table_fields(self) -> list[dict]:
        return [f for f in self.fields if f["type"] == "table"]

    @property
    def file_fields(self) -> list[dict]:
        return [f for f in self.fields if field_type(f["type"]).storage == "files"]

    def child_table_name(self, name: str) -> str:
        return f"{self.table}__{name}"

    def child(self, name: str) -> ChildDefinition:
        """The child table of the `table` field `name`."""
        return ChildDefinition(self, self.field(name))

    @property
    def states(self) -> dict | None:
        return self.body.get("states")

    def label(self, lang: str = "zh") -> str:
        return self.body["label"].get(lang) or self.body["label"]["zh"]


# PostgreSQL's identifiers stop at 63 characters; a child table's name must fit.
MAX_TABLE_NAME = 63


@dataclass
class ChildDefinition:
    """The rows of a `table` field: a table `<parent table>__<field>` of their own, each row
    with its parent's id, its position and the parent's tenant and org node."""

    parent: EntityDefinition
    spec: dict

    @property
    def name(self) -> str:
        return self.spec["name"]

    @property
    def table(self) -> str:
        return self.parent.child_table_name(self.name)

    @property
    def fields(self) -> list[dict]:
        return self.spec["fields"]

    @property
    def column_fields(self) -> list[dict]:
        return self.fields

    @property
    def tenant_id(self) -> int | None:
        return self.parent.tenant_id

    def field(self, name: str) -> dict | None:
        return next((f for f in self.fields if f["name"] == name), None)

    def label(self, lang: str = "zh") -> str:
        return self.spec["label"].get(lang) or self.spec["label"]["zh"]


def _scope_columns() -> list[Column]:
    return [
        Column("id", Integer, primary_key=True),
        Column("tenant_id", Integer, ForeignKey(Tenant.__table__.c.id), index=True, nullable=False),
        Column(
            "org_node_id", Integer, ForeignKey(OrgNode.__table__.c.id), index=True, nullable=False
        ),
    ]


def _field_column(spec: dict, definition) -> Column:
    info = {"references": reference_target(spec, definition)} if spec.get("target") else {}
    return Column(spec["name"], column_type(spec), index=bool(spec.get("index")), info=info)


def build_child_table(child: ChildDefinition, metadata: MetaData, parent: Table) -> Table:
    columns = [
        *_scope_columns(),
        Column(
            "parent_id",
            Integer,
            ForeignKey(parent.c.id, ondelete="CASCADE"),
            index=True,
            nullable=False,
        ),
        Column("position", Integer, nullable=False, default=0),
    ]
    columns += [_field_column(spec, child.parent) for spec in child.fields]
    return Table(child.table, metadata, *columns)


def build_table(definition: EntityDefinition, metadata: MetaData) -> Table:
    columns = [
        *_scope_columns(),
        Column("created_at", DateTime, default=utcnow),
        Column("created_by", String(128)),
        Column("changed_at", DateTime, default=utcnow, onupdate=utcnow),
    ]
    constraints = []
    for spec in definition.column_fields:
        columns.append(_field_column(spec, definition))
        if spec.get("unique"):
            constraints.append(
                UniqueConstraint(
                    "tenant_id", spec["name"], name=f"uq_{definition.table}_{spec['name']}"
                )
            )
    return Table(definition.table, metadata, *columns, *constraints)


def reference_target(spec: dict, definition: EntityDefinition):
    """What a reference field points at, for the tenant guard (app/tenancy/references.py): a
    core model, or a callable finding the target entity's model for the writing row's tenant.
    The column has no foreign key (entity tables come and go), so this is its only check."""
    from app.customers.models import Customer, Vehicle
    from app.security.models import DealerUser

    core = {"customer": Customer, "vehicle": Vehicle, "org_node": OrgNode, "user": DealerUser}
    target = spec["target"]
    if target in core:
        return core[target]

    def entity_model(session, row):
        from app.configuration.runtime import REGISTRY

        found = REGISTRY.get(session, target, getattr(row, "tenant_id", definition.tenant_id))
        return found.model if found is not None else None

    return entity_model


def build_model(definition: EntityDefinition) -> type:
    """A mapped class for the entity, in a registry of its own (rebuilt on every publish). Its
    `__children__` maps each `table` field to the mapped class of its rows."""
    metadata = MetaData()
    table = build_table(definition, metadata)
    mapper_registry = orm_registry(metadata=metadata)
    base = mapper_registry.generate_base()

    def mapped(name: str, mapped_table: Table, entity) -> type:
        namespace = {
            "__table__": mapped_table,
            # The table carries the scope columns; naming them here stops the mixin adding its own.
            "tenant_id": mapped_table.c.tenant_id,
            "org_node_id": mapped_table.c.org_node_id,
            "__entity__": entity,
            "__repr__": lambda self: f"{entity.name}#{self.id}",
        }
        return type(name, (TenantScoped, base), namespace)

    model = mapped(f"Entity_{definition.table}", table, definition)
    model.__children__ = {}
    for spec in definition.table_fields:
        child = definition.child(spec["name"])
        child_table = build_child_table(child, metadata, table)
        model.__children__[spec["name"]] = mapped(f"Entity_{child.table}", child_table, child)
    return model


# --- schema changes ----------------------------------------------------------------------------


@dataclass
class TableChange:
    action: str  # create_table, add_column, rename_column, retype_column, drop_column, keep_column
    column: str | None = None
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.action} {self.column or ''} {self.detail}".strip()


@dataclass
class TablePlan:
    table: str
    changes: list[TableChange] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)


def plan_changes(old: EntityDefinition | None, new: EntityDefinition) -> TablePlan:
    """What publishing `new` over `old` does to the table, or why it is refused."""
    plan = TablePlan(new.table)
    if new.body.get("scoped", True) is False:
        plan.refusals.append("unscoped entities are not supported: every record has a tenant")
        return plan
    for spec in new.table_fields:
        child = new.child(spec["name"])
        if len(child.table) > MAX_TABLE_NAME:
            plan.refusals.append(
                f"field {spec['name']!r}: its table {child.table} is longer than "
                f"{MAX_TABLE_NAME} characters; use a shorter entity or field name"
            )
    if old is None:
        plan.changes.append(TableChange("create_table", detail=f"{len(new.fields)} fields"))
        for spec in new.table_fields:
            plan.changes.append(TableChange("create_child_table", spec["name"]))
        return plan
    old_fields = {f["name"]: f for f in old.fields}
    new_fields = {f["name"]: f for f in new.fields}
    renamed_from = {f["renamed_from"]: f["name"] for f in new.fields if f.get("renamed_from")}
    dropped = {d["name"]: d.get("data", "keep") for d in new.body.get("dropped_fields", [])}
    for name, spec in new_fields.items():
        source = spec.get("renamed_from")
        storage = field_type(spec["type"]).storage
        previous = old_fields.get(name) or (old_fields.get(source) if source else None)
        if previous is not None and field_type(previous["type"]).storage != storage:
            plan.refusals.append(
                f"field {name!r} cannot change from {previous['type']} to {spec['type']}: "
                "add a new field and drop the old one"
            )
            continue
        if storage == "rows":
            if previous is None:
                plan.changes.append(TableChange("create_child_table", name))
            elif source and name not in old_fields:
                plan.refusals.append(f"table field {name!r} cannot be renamed")
            else:
                _plan_child(plan, previous, spec)
            continue
        if storage == "files":
            if previous is None:
                plan.changes.append(TableChange("add_files", name, spec["type"]))
            continue
        if name in old_fields:
            _plan_retype(plan, old_fields[name], spec)
        elif source and source in old_fields:
            plan.changes.append(TableChange("rename_column", source, f"→ {name}"))
            _plan_retype(plan, old_fields[source], spec)
        else:
            plan.changes.append(TableChange("add_column", name, spec["type"]))
    for name, spec in old_fields.items():
        if name in new_fields or name in renamed_from:
            continue
        storage = field_type(spec["type"]).storage
        if name not in dropped:
            plan.refusals.append(
                f"field {name!r} was removed: list it in dropped_fields with data: keep or discard"
            )
        elif storage == "files":
            continue  # the files stay in entity_attachment, unseen
        elif dropped[name] == "discard":
            action = "drop_child_table" if storage == "rows" else "drop_column"
            plan.changes.append(TableChange(action, name, "its data is discarded"))
        else:
            plan.changes.append(TableChange("keep_column", name, "hidden, its data kept"))
    return plan


def _plan_child(plan: TablePlan, old: dict, new: dict) -> None:
    """A child table gains fields; removing or retyping one is refused (v1)."""
    old_fields = {f["name"]: f for f in old["fields"]}
    new_fields = {f["name"]: f for f in new["fields"]}
    for name in old_fields:
        if name not in new_fields:
            plan.refusals.append(
                f"field {new['name']}.{name} was removed: fields of a table field cannot be "
                "removed (make it optional and stop showing it instead)"
            )
    for name, spec in new_fields.items():
        if name not in old_fields:
            plan.changes.append(TableChange("add_child_column", f"{new['name']}.{name}"))
        elif old_fields[name]["type"] != spec["type"] or repr(
            column_type(old_fields[name])
        ) != repr(column_type(spec)):
            plan.refusals.append(
                f"field {new['name']}.{name} changes type: fields of a table field cannot be "
                "retyped; add a new one"
            )


def _plan_retype(plan: TablePlan, old: dict, new: dict) -> None:
    if old["type"] == new["type"] and repr(column_type(old)) == repr(column_type(new)):
        return
    migrate = new.get("migrate") or {}
    if migrate.get("from_type") != old["type"]:
        plan.refusals.append(
            f"field {new['name']!r} changes type {old['type']} → {new['type']}: say "
            f"migrate: {{from_type: {old['type']}}} to convert its values"
        )
        return
    plan.changes.append(TableChange("retype_column", new["name"], f"{old['type']} → {new['type']}"))


def apply_changes(
    connection: Connection, old: EntityDefinition | None, new: EntityDefinition, plan: TablePlan
) -> None:
    """Run the plan's DDL on `connection`, inside its transaction."""
    operations = Operations(MigrationContext.configure(connection))
    metadata = MetaData()
    target = build_table(new, metadata)
    children = {
        spec["name"]: build_child_table(new.child(spec["name"]), metadata, target)
        for spec in new.table_fields
    }
    for change in plan.changes:
        if change.action == "create_table":
            target.create(connection)
            # PostgreSQL: behind row-level security, FORCEd since the app role creating the
            # table owns it (app/tenancy/row_security.py); nothing on SQLite.
            enable_row_security(connection, {new.table: TENANT}, force=True)
        elif change.action == "create_child_table":
            child = children[change.column]
            child.create(connection)
            enable_row_security(connection, {child.name: TENANT}, force=True)
        elif change.action == "add_child_column":
            field_name, column_name = change.column.split(".", 1)
            child = children[field_name]
            column = child.c[column_name]
            operations.add_column(child.name, Column(column_name, column.type, nullable=True))
        elif change.action == "drop_child_table":
            child_name = new.child_table_name(change.column)
            operations.drop_table(child_name)
        elif change.action == "add_column":
            column = target.c[change.column]
            operations.add_column(new.table, Column(change.column, column.type, nullable=True))
        elif change.action == "rename_column":
            new_name = change.detail.removeprefix("→ ").strip()
            operations.alter_column(new.table, change.column, new_column_name=new_name)
        elif change.action == "retype_column":
            with operations.batch_alter_table(new.table) as batch:
                batch.alter_column(change.column, type_=target.c[change.column].type)
        elif change.action == "drop_column":
            with operations.batch_alter_table(new.table) as batch:
                batch.drop_column(change.column)


def table_exists(connection: Connection, name: str) -> bool:
    return inspect(connection).has_table(name)


# --- values ------------------------------------------------------------------------------------


def coerce_value(spec: dict, raw: Any) -> Any:
    """A submitted value as the field's type (app.configuration.field_types), or FieldError
    naming the field."""
    name, kind = spec["name"], spec["type"]
    if raw is None or raw == "":
        if spec.get("required"):
            raise FieldError(name, "is required", "必填")
        return None
    type_ = field_type(kind)
    try:
        return type_.parse(spec, raw)
    except FieldError:
        raise
    except InvalidIdentifier as exc:
        raise FieldError(name, str(exc), exc.message("zh")) from exc
    except OutOfRange as exc:  # years 1900-2200: app.timebounds says why
        raise FieldError(name, exc.message, exc.chinese) from exc
    except (ValueError, decimal.InvalidOperation) as exc:
        raise FieldError(
            name, f"not a valid {kind}: {raw!r}", f"不是有效的{type_.zh or kind}：{raw!r}"
        ) from exc


def default_value(spec: dict) -> Any:
    default = spec.get("default")
    if default is None:
        return None
    if default == "today" and spec["type"] == "date":
        return datetime.date.today()
    return coerce_value({**spec, "required": False}, default)


def to_json(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return value
