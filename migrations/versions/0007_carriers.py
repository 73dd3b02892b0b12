"""carrier plugins, credentials and download work queue (helper H)

Revision ID: 0007_carriers
Revises: 0006_row_security
Create Date: 2026-12-02 10:40:00

carrier_credential: a carrier document's secrets, encrypted (write-only; referred to as
secret:<id>). carrier_download_item: rows of carriers' policy, statement and claim downloads that
could not be matched to our records, waiting to be resolved. Written by hand for PostgreSQL and
SQLite.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_carriers"
down_revision = "0006_row_security"
branch_labels = None
depends_on = None


def _scope_columns():
    return [
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenant.id"), nullable=False),
        sa.Column("org_node_id", sa.Integer(), sa.ForeignKey("org_node.id"), nullable=False),
    ]


def _scope_indexes(table):
    op.create_index(f"ix_{table}_tenant_id", table, ["tenant_id"])
    op.create_index(f"ix_{table}_org_node_id", table, ["org_node_id"])


def upgrade():
    op.create_table(
        "carrier_credential",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("carrier_key", sa.String(128), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False, comment="Fernet token; never shown"),
        sa.Column(
            "fingerprint",
            sa.String(16),
            nullable=False,
            comment="keyed hash prefix, to tell two apart",
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("replaced_at", sa.DateTime(), nullable=True),
        *_scope_columns(),
        sa.UniqueConstraint(
            "tenant_id", "carrier_key", "name", name="uq_carrier_credential_tenant_key_name"
        ),
    )
    _scope_indexes("carrier_credential")
    op.create_index("ix_carrier_credential_carrier_key", "carrier_credential", ["carrier_key"])

    op.create_table(
        "carrier_download_item",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "kind",
            sa.Enum(
                "policy", "statement", "claim", name="downloadkind", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("carrier_key", sa.String(128), nullable=False),
        sa.Column(
            "reference",
            sa.String(128),
            nullable=False,
            comment="policy no., claim no. or line key",
        ),
        sa.Column("summary", sa.String(255), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False, comment="the downloaded row as JSON"),
        sa.Column("reason", sa.String(255), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "unmatched",
                "resolved",
                "ignored",
                name="downloadstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("resolved_by", sa.String(128), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("note", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        *_scope_columns(),
        sa.UniqueConstraint(
            "tenant_id",
            "carrier_key",
            "kind",
            "reference",
            name="uq_carrier_download_item_reference",
        ),
    )
    _scope_indexes("carrier_download_item")
    op.create_index(
        "ix_carrier_download_item_carrier_key", "carrier_download_item", ["carrier_key"]
    )
    op.create_index("ix_carrier_download_item_status", "carrier_download_item", ["status"])


def downgrade():
    op.drop_table("carrier_download_item")
    op.drop_table("carrier_credential")
