"""PostgreSQL row-level security: the second wall behind the ORM guard.

The ORM guard (`guard.py`) scopes every ORM statement; SQL written by hand does not pass through
it. On PostgreSQL every tenant-owned table also carries a row-level security policy comparing the
row's `tenant_id` with the setting `dealercover.tenant_id`, so even a raw `SELECT * FROM
customer` issued in a tenant's scope returns that tenant's rows only.

- **The setting follows the scope, statement by statement.** Before each statement the engine
  hook below compares the current scope with what this transaction's connection was last told
  and, when they differ, sets `dealercover.tenant_id` and `dealercover.bypass` with
  `set_config(..., true)` (SET LOCAL: it ends with the transaction). Setting it only when a
  transaction begins would not do: one transaction often crosses scopes (a request looks its
  user up in the platform scope, then works in the user's; the entity registry refreshes in the
  platform scope inside a user's transaction).
- **Who sees what.** A tenant's scope sees and writes its tenant's rows; the platform's
  unrestricted scope (`system_scope()`: CLI, migrations' data steps, identity look-ups) sets the
  bypass; no scope at all sees nothing, as with the ORM guard. Shared configuration tables
  (`SharedScoped`) also let everyone read the platform's rows (tenant_id NULL); tables whose
  tenant is optional (audit, jobs) accept a new row without a tenant from anyone.
- **Limits, said plainly.** The settings are ordinary session settings: SQL that can run `SET`
  can also choose its tenant. This wall catches hand-written SQL and ORM bugs that forget the
  scope; it is no defence against SQL injection, which parameter binding is. The table owner is
  not subject to row security unless the table is FORCEd: the app must connect as the app role
  made by `flask db-roles`, not as the owner. Entity tables, created at run time by the app role
  itself (which therefore owns them), are FORCEd.
- **SQLite** has no row-level security: every function here is a no-op there.

`enable_row_security` is run by migration 0006 for the tenant tables of that revision, by
`flask db-roles` for every tenant table in the metadata (tables added by later revisions are
covered when the operator runs it) and by the configuration engine for each entity table it
creates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from sqlalchemy import Engine, event, inspect
from sqlalchemy.engine import Connection

from app.tenancy.scope import current_scope

TENANT_SETTING = "dealercover.tenant_id"
BYPASS_SETTING = "dealercover.bypass"

# How a table's rows without a tenant are treated (see the module's docstring).
TENANT = "tenant"  # every row has a tenant
SHARED = "shared"  # rows without a tenant are the platform's, read by every tenant
OPTIONAL = "optional"  # rows without a tenant are the platform's; anyone may add one (audit)

POLICY = "dc_tenant_rows"
SHARED_POLICY = "dc_shared_rows"
PLATFORM_POLICY = "dc_platform_rows"

_BYPASS = f"COALESCE(current_setting('{BYPASS_SETTING}', true), '') = 'on'"
_OWN_TENANT = f"tenant_id = NULLIF(current_setting('{TENANT_SETTING}', true), '')::integer"
_VISIBLE = f"({_BYPASS} OR {_OWN_TENANT})"

ROLES_SQL = Path(__file__).resolve().parents[2] / "scripts" / "db_roles.sql"
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _is_postgresql(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- policies -----------------------------------------------------------------------------------


def policy_statements(table: str, rule: str = TENANT, force: bool = False) -> list[str]:
    """The statements that put `table` behind row-level security (idempotent)."""
    if rule not in (TENANT, SHARED, OPTIONAL):
        raise ValueError(f"unknown row rule {rule!r} for {table}")
    name = _ident(table)
    statements = [
        f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {name} {'FORCE' if force else 'NO FORCE'} ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {POLICY} ON {name}",
        f"DROP POLICY IF EXISTS {SHARED_POLICY} ON {name}",
        f"DROP POLICY IF EXISTS {PLATFORM_POLICY} ON {name}",
        f"CREATE POLICY {POLICY} ON {name} USING {_VISIBLE} WITH CHECK {_VISIBLE}",
    ]
    if rule == SHARED:
        statements.append(
            f"CREATE POLICY {SHARED_POLICY} ON {name} FOR SELECT USING (tenant_id IS NULL)"
        )
    if rule == OPTIONAL:
        statements.append(
            f"CREATE POLICY {PLATFORM_POLICY} ON {name} FOR INSERT WITH CHECK (tenant_id IS NULL)"
        )
    return statements


def enable_row_security(
    connection: Connection, tables: Mapping[str, str], force: bool = False
) -> list[str]:
    """Put each table (name → TENANT, SHARED or OPTIONAL) behind row-level security. Returns the
    tables done; does nothing on SQLite."""
    if not _is_postgresql(connection):
        return []
    for table, rule in sorted(tables.items()):
        for statement in policy_statements(table, rule, force):
            connection.exec_driver_sql(statement)
    return sorted(tables)


def disable_row_security(connection: Connection, tables: Iterable[str]) -> None:
    if not _is_postgresql(connection):
        return
    for table in tables:
        name = _ident(table)
        for policy in (POLICY, SHARED_POLICY, PLATFORM_POLICY):
            connection.exec_driver_sql(f"DROP POLICY IF EXISTS {policy} ON {name}")
        connection.exec_driver_sql(f"ALTER TABLE {name} NO FORCE ROW LEVEL SECURITY")
        connection.exec_driver_sql(f"ALTER TABLE {name} DISABLE ROW LEVEL SECURITY")


def row_rule(cls: type) -> str:
    """The row rule of a tenant-scoped model class."""
    from app.tenancy.mixins import SharedScoped

    if issubclass(cls, SharedScoped):
        return SHARED
    return OPTIONAL if getattr(cls, "__scope_optional__", False) else TENANT


def tenant_tables() -> dict[str, str]:
    """Every table of a `TenantScoped` model in the metadata, with its row rule."""
    from flask_appbuilder import Model

    from app.tenancy.mixins import TenantScoped

    return {
        mapper.local_table.name: row_rule(mapper.class_)
        for mapper in Model.registry.mappers
        if issubclass(mapper.class_, TenantScoped)
    }


def entity_tables(connection: Connection) -> list[str]:
    """The entity tables the configuration engine created (x_name, x<tenant>_name)."""
    return sorted(n for n in inspect(connection).get_table_names() if re.match(r"^x\d*_", n))


def tables_without_row_security(connection: Connection, tables: Iterable[str]) -> list[str]:
    """Those of `tables` that exist and have no row-level security or no tenant policy."""
    if not _is_postgresql(connection):
        return []
    rows = connection.exec_driver_sql(
        "SELECT c.relname, c.relrowsecurity, EXISTS (SELECT 1 FROM pg_policy p "
        f"WHERE p.polrelid = c.oid AND p.polname = '{POLICY}') "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind = 'r'"
    ).all()
    protected = {name for name, enabled, has_policy in rows if enabled and has_policy}
    existing = {name for name, _, _ in rows}
    return sorted(t for t in tables if t in existing and t not in protected)


# --- the audit table ----------------------------------------------------------------------------

AUDIT_TRUNCATE_STATEMENTS = [
    """
    CREATE OR REPLACE FUNCTION audit_record_no_truncate() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'audit records are append-only: TRUNCATE is refused';
    END;
    $$ LANGUAGE plpgsql
    """,
    "DROP TRIGGER IF EXISTS audit_record_no_truncate ON audit_record",
    """
    CREATE TRIGGER audit_record_no_truncate BEFORE TRUNCATE ON audit_record
    FOR EACH STATEMENT EXECUTE FUNCTION audit_record_no_truncate()
    """,
]


def refuse_audit_truncate(connection: Connection) -> None:
    """The row triggers refusing UPDATE and DELETE (migration 0001) do not see TRUNCATE; this
    statement-level trigger refuses it, for every role, the owner included."""
    if _is_postgresql(connection):
        for statement in AUDIT_TRUNCATE_STATEMENTS:
            connection.exec_driver_sql(statement)


def allow_audit_truncate(connection: Connection) -> None:
    if _is_postgresql(connection):
        connection.exec_driver_sql(
            "DROP TRIGGER IF EXISTS audit_record_no_truncate ON audit_record"
        )
        connection.exec_driver_sql("DROP FUNCTION IF EXISTS audit_record_no_truncate()")


# --- database roles -----------------------------------------------------------------------------


def check_role_name(name: str) -> str:
    if not _ROLE_NAME.match(name):
        raise ValueError(
            f"role name {name!r}: lower-case letters, digits and _ (at most 63, no digit first)"
        )
    return name


def apply_database_roles(
    connection: Connection,
    owner: str,
    app_role: str,
    passwords: Mapping[str, str] | None = None,
) -> dict[str, list[str]]:
    """Create (or bring up to date) the owner and app roles and their rights
    (scripts/db_roles.sql), refuse TRUNCATE on the audit table, and put every tenant table of the
    metadata and every entity table behind row-level security. Run as a superuser, on the
    database the app uses. Idempotent."""
    if not _is_postgresql(connection):
        raise RuntimeError("database roles and row-level security are for PostgreSQL only")
    check_role_name(owner), check_role_name(app_role)
    if owner == app_role:
        raise ValueError("the owner and the app must be two roles")
    connection.exec_driver_sql(
        "SELECT set_config('dealercover.owner_role', %(owner)s, false), "
        "set_config('dealercover.app_role', %(app)s, false)",
        {"owner": owner, "app": app_role},
    )
    cursor = connection.connection.dbapi_connection.cursor()
    for block in role_blocks():
        cursor.execute(block)  # no parameters: the blocks' format('%I') stay as written
    for role, password in (passwords or {}).items():
        _set_password(connection, check_role_name(role), password)
    refuse_audit_truncate(connection)
    existing = set(inspect(connection).get_table_names())
    tables = {name: rule for name, rule in tenant_tables().items() if name in existing}
    done = enable_row_security(connection, tables)
    forced = enable_row_security(connection, dict.fromkeys(entity_tables(connection), TENANT), True)
    return {"tenant_tables": done, "entity_tables": forced}


def role_blocks() -> list[str]:
    """The DO blocks of scripts/db_roles.sql (the psql script operators may run themselves; its
    variables are passed here through the session settings it reads)."""
    text = ROLES_SQL.read_text(encoding="utf-8")
    return re.findall(r"^DO \$\$.*?^\$\$;", text, flags=re.DOTALL | re.MULTILINE)


def _set_password(connection: Connection, role: str, password: str) -> None:
    """Send the password hashed (SCRAM) when the driver can, so it is not in the server log."""
    if not password:
        return
    raw = connection.connection.dbapi_connection
    pgconn = getattr(raw, "pgconn", None)
    if pgconn is not None:
        secret = pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256")
        literal = secret.decode()
    else:
        literal = password
    quoted = "'" + literal.replace("'", "''") + "'"
    connection.exec_driver_sql(f"ALTER ROLE {_ident(role)} PASSWORD {quoted}")


# --- the settings, per statement ----------------------------------------------------------------

_STATE = "dealercover_row_scope"
_SET_SETTINGS = (
    f"SELECT set_config('{TENANT_SETTING}', %s, true), set_config('{BYPASS_SETTING}', %s, true)"
)
_installed = False


def wanted_settings() -> tuple[str, str]:
    """(tenant id, bypass) for the current scope."""
    scope = current_scope()
    if scope is None:
        return "", "off"
    if scope.unrestricted:
        return "", "on"
    return ("" if scope.tenant_id is None else str(scope.tenant_id)), "off"


def _before_cursor_execute(conn, cursor, statement, parameters, context, executemany) -> None:
    if conn.dialect.name != "postgresql":
        return
    wanted = wanted_settings()
    if conn.info.get(_STATE) == wanted:
        return
    # A cursor of its own: the statement's cursor may be a server-side one (stream_results).
    with cursor.connection.cursor() as setter:
        setter.execute(_SET_SETTINGS, wanted)
    conn.info[_STATE] = wanted


def _forget(conn, *args) -> None:
    """A new transaction, or a savepoint rolled back: the settings must be made again."""
    conn.info.pop(_STATE, None)


def install_row_settings() -> None:
    """Make every PostgreSQL statement carry the current scope's settings (once per process)."""
    global _installed
    if _installed:
        return
    event.listen(Engine, "before_cursor_execute", _before_cursor_execute)
    for name in ("begin", "commit", "rollback", "rollback_savepoint"):
        event.listen(Engine, name, _forget)
    _installed = True
