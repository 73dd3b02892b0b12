"""entity engine: child tables, attachments, states

Revision ID: 0012_entity_engine
Revises: 0011_monitoring
Create Date: 2026-12-02 16:00:00

Files of entity records' attachment and photo fields. Child tables of entities are created by
publishing their documents (app.configuration.entities), not here.
"""

import sqlalchemy as sa
from alembic import op

from app.tenancy.row_security import TENANT, disable_row_security, enable_row_security

revision = "0012_entity_engine"
down_revision = "0011_monitoring"
branch_labels = None
depends_on = None

TABLES = {"entity_attachment": TENANT}


def upgrade():
    op.create_table(
        "entity_attachment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("record_table", sa.String(64), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(128), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("storage_key", sa.String(255), nullable=False, comment="path under STORAGE_PATH"),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(128)),
        sa.Column(
            "tenant_id", sa.Integer(), sa.ForeignKey("tenant.id"), nullable=False, index=True
        ),
        sa.Column(
            "org_node_id", sa.Integer(), sa.ForeignKey("org_node.id"), nullable=False, index=True
        ),
    )
    op.create_index("ix_entity_attachment_record_table", "entity_attachment", ["record_table"])
    op.create_index("ix_entity_attachment_record_id", "entity_attachment", ["record_id"])
    enable_row_security(op.get_bind(), TABLES)


def downgrade():
    disable_row_security(op.get_bind(), TABLES)
    op.drop_table("entity_attachment")
