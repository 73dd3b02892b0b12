"""status monitoring, gateways and incidents

Revision ID: 0011_monitoring
Revises: 0010_configuration_registry
Create Date: 2026-12-02 16:00:00

The latest reading of every monitored target (monitor_status) and the incidents the probes open
and close (monitor_incident). Platform targets have no tenant (read by every tenant, written only
by the platform: row rule SHARED, like the configuration's platform documents); a tenant's
targets (its carriers, its camera agents) are its own.
"""

import sqlalchemy as sa
from alembic import op

from app.tenancy.row_security import SHARED, disable_row_security, enable_row_security

revision = "0011_monitoring"
down_revision = "0010_configuration_registry"
branch_labels = None
depends_on = None

TABLES = {"monitor_status": SHARED, "monitor_incident": SHARED}


def _scope_columns():
    return [
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenant.id"), index=True),
        sa.Column("org_node_id", sa.Integer(), sa.ForeignKey("org_node.id"), index=True),
    ]


def upgrade():
    op.create_table(
        "monitor_status",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(255), nullable=False, unique=True),
        sa.Column("kind", sa.String(32), nullable=False, index=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("label", sa.String(255), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("latency_ms", sa.Integer()),
        sa.Column("provinces", sa.JSON(), nullable=False),
        sa.Column("reportable", sa.Boolean(), nullable=False),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        *_scope_columns(),
    )
    op.create_table(
        "monitor_incident",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(255), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False, index=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("label", sa.String(255), nullable=False),
        sa.Column("provinces", sa.JSON(), nullable=False),
        sa.Column("reportable", sa.Boolean(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False, index=True),
        sa.Column("closed_at", sa.DateTime(), index=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("closing_detail", sa.Text(), nullable=False),
        sa.Column("threshold_minutes", sa.Integer()),
        sa.Column("breached_at", sa.DateTime()),
        *_scope_columns(),
    )
    enable_row_security(op.get_bind(), TABLES)


def downgrade():
    disable_row_security(op.get_bind(), TABLES)
    op.drop_table("monitor_incident")
    op.drop_table("monitor_status")
