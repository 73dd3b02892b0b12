"""camera events unique per camera (helper E)

Revision ID: 0005_camera_event_scope
Revises: 0004_login_guard
Create Date: 2026-12-02 10:40:00

An event id is the camera agent's own (a uuid4, stable on retries), so it identifies an event
only together with its camera. Unique per tenant, a camera of one store could suppress another
store's events by sending their ids first. The unique constraint moves from
(tenant_id, event_id) to (camera_id, event_id).

The old constraint was created unnamed: PostgreSQL named it itself (found by reflection here),
SQLite keeps no name, so the SQLite table is rebuilt (batch mode) with a naming convention that
gives the reflected constraint a name to drop.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_camera_event_scope"
down_revision = "0004_login_guard"
branch_labels = None
depends_on = None

TABLE = "camera_event"
NEW_NAME = "uq_camera_event_camera_id_event_id"
OLD_COLUMNS = ["tenant_id", "event_id"]
NEW_COLUMNS = ["camera_id", "event_id"]
# Only used on SQLite, to name the reflected unnamed constraints of the rebuilt table.
SQLITE_CONVENTION = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}


def _unique_named(columns: list[str]) -> str | None:
    """The name of the table's unique constraint on exactly these columns, as the database
    reports it (None on SQLite, which keeps no names for unnamed constraints)."""
    inspector = sa.inspect(op.get_bind())
    for constraint in inspector.get_unique_constraints(TABLE):
        if constraint["column_names"] == columns:
            return constraint["name"]
    return None


def _swap(old_columns: list[str], new_columns: list[str], new_name: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        old_name = "uq_camera_event_" + "_".join(old_columns)
        with op.batch_alter_table(
            TABLE, recreate="always", naming_convention=SQLITE_CONVENTION
        ) as batch_op:
            batch_op.drop_constraint(old_name, type_="unique")
            batch_op.create_unique_constraint(new_name, new_columns)
        return
    old_name = _unique_named(old_columns)
    if old_name is None:
        raise RuntimeError(f"no unique constraint on {TABLE}({', '.join(old_columns)})")
    op.drop_constraint(old_name, TABLE, type_="unique")
    op.create_unique_constraint(new_name, TABLE, new_columns)


def upgrade():
    _swap(OLD_COLUMNS, NEW_COLUMNS, NEW_NAME)


def downgrade():
    # Fails (and changes nothing) if two cameras of a tenant have since sent the same event id.
    _swap(NEW_COLUMNS, OLD_COLUMNS, "uq_camera_event_tenant_id_event_id")
