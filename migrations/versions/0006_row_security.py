"""PostgreSQL row-level security and database roles (helper C)

Revision ID: 0006_row_security
Revises: 0005_camera_event_scope
Create Date: 2026-12-02 10:40:00

On PostgreSQL: a statement-level trigger refuses TRUNCATE on the audit table (the row triggers
of 0001 do not see it), and the tenant-owned tables of this revision get row-level security (see
app/tenancy/row_security.py). Tables added by later revisions are covered by `flask db-roles`,
which the operator runs after every upgrade, or by their own revision calling
`enable_row_security`. The roles themselves are made by `flask db-roles` / scripts/db_roles.sql:
roles belong to the whole PostgreSQL cluster and their passwords to the operator, not to a
migration. Nothing to do on SQLite, which has neither.
"""

from alembic import op

from app.tenancy.row_security import (
    OPTIONAL,
    SHARED,
    TENANT,
    allow_audit_truncate,
    disable_row_security,
    enable_row_security,
    refuse_audit_truncate,
)

revision = "0006_row_security"
down_revision = "0005_camera_event_scope"
branch_labels = None
depends_on = None

# The TenantScoped tables as of this revision, written out: a migration must not follow the
# models as they change later.
TABLES = {
    "customer": TENANT,
    "vehicle": TENANT,
    "camera": TENANT,
    "camera_event": TENANT,
    "audit_record": OPTIONAL,
    "job_record": OPTIONAL,
    "config_lineage": OPTIONAL,
    "config_pack": SHARED,
    "config_document": SHARED,
    "config_document_version": SHARED,
}


def upgrade():
    connection = op.get_bind()
    refuse_audit_truncate(connection)
    enable_row_security(connection, TABLES)


def downgrade():
    connection = op.get_bind()
    disable_row_security(connection, TABLES)
    allow_audit_truncate(connection)
