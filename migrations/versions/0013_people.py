"""employees hand-over, licence gate and reminders

Revision ID: 0013_people
Revises: 0012_entity_engine
Create Date: 2026-12-02 16:00:00

- `customer.owner_id`: the user a customer is assigned to (客户归属), one of the assignments the
  hand-over moves (app/handover).
- `handover_record`: one row per hand-over of a user's assigned records to a successor.
- `notice`: in-app notices to one user (licence expiry reminders and the like, app/notices).
"""

import sqlalchemy as sa
from alembic import op

from app.tenancy.row_security import TENANT, disable_row_security, enable_row_security

revision = "0013_people"
down_revision = "0012_entity_engine"
branch_labels = None
depends_on = None

# This revision's tenant tables, written out (a migration must not follow the models later).
TABLES = {"handover_record": TENANT, "notice": TENANT}


def _scope_columns():
    return [
        sa.Column(
            "tenant_id", sa.Integer(), sa.ForeignKey("tenant.id"), nullable=False, index=True
        ),
        sa.Column(
            "org_node_id", sa.Integer(), sa.ForeignKey("org_node.id"), nullable=False, index=True
        ),
    ]


def upgrade():
    with op.batch_alter_table("customer") as batch:
        batch.add_column(
            sa.Column(
                "owner_id",
                sa.Integer(),
                sa.ForeignKey("ab_user.id", name="fk_customer_owner_id"),
                nullable=True,
            )
        )
        batch.create_index("ix_customer_owner_id", ["owner_id"])
    op.create_table(
        "handover_record",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("leaver_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=False),
        sa.Column("leaver_name", sa.String(128), nullable=False),
        sa.Column("successor_id", sa.Integer(), sa.ForeignKey("ab_user.id")),
        sa.Column("successor_name", sa.String(128)),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("login_stopped", sa.Boolean(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(255)),
        sa.Column("created_by", sa.String(128)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        *_scope_columns(),
    )
    op.create_index("ix_handover_record_leaver_id", "handover_record", ["leaver_id"])
    op.create_table(
        "notice",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(255)),
        sa.Column("due_date", sa.Date()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime()),
        *_scope_columns(),
        sa.UniqueConstraint("user_id", "dedupe_key", name="uq_notice_user_key"),
    )
    op.create_index("ix_notice_user_id", "notice", ["user_id"])
    enable_row_security(op.get_bind(), TABLES)


def downgrade():
    disable_row_security(op.get_bind(), TABLES)
    op.drop_table("notice")
    op.drop_table("handover_record")
    with op.batch_alter_table("customer") as batch:
        batch.drop_index("ix_customer_owner_id")
        batch.drop_column("owner_id")
