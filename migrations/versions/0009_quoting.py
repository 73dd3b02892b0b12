"""quotes, orders, payments and service contracts

Revision ID: 0009_quoting
Revises: 0008_policies
Create Date: 2026-12-02 10:40:00
"""

import sqlalchemy as sa
from alembic import op

from app.tenancy.row_security import TENANT, disable_row_security, enable_row_security

revision = "0009_quoting"
down_revision = "0008_policies"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(14, 2)
# This revision's tenant tables, written out (a migration must not follow the models later).
TABLES = {
    name: TENANT
    for name in (
        "quote_session",
        "carrier_quote",
        "sales_order",
        "sales_order_item",
        "payment",
        "service_contract",
    )
}


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
    op.create_table(
        "quote_session",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reference", sa.String(32), nullable=False, unique=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customer.id"), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), sa.ForeignKey("vehicle.id")),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("carriers", sa.JSON(), nullable=False),
        sa.Column("terminal", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("ab_user.id")),
        sa.Column("created_by", sa.String(64)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime()),
        *_scope_columns(),
    )
    op.create_index("ix_quote_session_customer_id", "quote_session", ["customer_id"])
    op.create_index("ix_quote_session_vehicle_id", "quote_session", ["vehicle_id"])
    op.create_index("ix_quote_session_created_at", "quote_session", ["created_at"])
    op.create_table(
        "carrier_quote",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("quote_session.id"), nullable=False),
        sa.Column("carrier_key", sa.String(64), nullable=False),
        sa.Column("carrier_name", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("carrier_quote_ref", sa.String(64)),
        sa.Column("lines", sa.JSON()),
        sa.Column("total_premium", MONEY),
        sa.Column("vehicle_tax", MONEY),
        sa.Column("total", MONEY),
        sa.Column("last_year_total", MONEY),
        sa.Column("valid_until", sa.DateTime()),
        sa.Column("reasons", sa.JSON()),
        sa.Column("lineage", sa.JSON()),
        sa.Column("elapsed_ms", sa.Integer()),
        sa.Column("answered_at", sa.DateTime()),
        *_scope_columns(),
        sa.UniqueConstraint("session_id", "carrier_key"),
    )
    op.create_index("ix_carrier_quote_session_id", "carrier_quote", ["session_id"])
    op.create_table(
        "sales_order",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("order_no", sa.String(32), nullable=False, unique=True),
        sa.Column("quote_session_id", sa.Integer(), sa.ForeignKey("quote_session.id")),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customer.id"), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), sa.ForeignKey("vehicle.id")),
        sa.Column("salesperson_id", sa.Integer(), sa.ForeignKey("ab_user.id")),
        sa.Column("salesperson_name", sa.String(64)),
        sa.Column("terminal", sa.String(16), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("premium_total", MONEY, nullable=False),
        sa.Column("vehicle_tax_total", MONEY, nullable=False),
        sa.Column("services_total", MONEY, nullable=False),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("issue_attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(500)),
        sa.Column("created_by", sa.String(64)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("paid_at", sa.DateTime()),
        sa.Column("issued_at", sa.DateTime()),
        *_scope_columns(),
    )
    for column in ("quote_session_id", "customer_id", "vehicle_id", "created_at"):
        op.create_index(f"ix_sales_order_{column}", "sales_order", [column])
    op.create_table(
        "sales_order_item",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("order_id", sa.Integer(), sa.ForeignKey("sales_order.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("carrier_quote_id", sa.Integer(), sa.ForeignKey("carrier_quote.id")),
        sa.Column("carrier_key", sa.String(64)),
        sa.Column("line", sa.String(64), nullable=False),
        sa.Column("product_key", sa.String(64)),
        sa.Column("title", sa.String(128), nullable=False),
        sa.Column("premium", MONEY, nullable=False),
        sa.Column("vehicle_tax", MONEY, nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("business_type", sa.String(32)),
        sa.Column("idempotency_key", sa.String(64), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("details", sa.JSON()),
        sa.Column("policy_id", sa.Integer()),
        sa.Column("service_contract_id", sa.Integer()),
        sa.Column("last_error", sa.String(500)),
        *_scope_columns(),
        sa.UniqueConstraint("carrier_quote_id", "line"),
    )
    op.create_index("ix_sales_order_item_order_id", "sales_order_item", ["order_id"])
    op.create_index("ix_sales_order_item_policy_id", "sales_order_item", ["policy_id"])
    op.create_index(
        "ix_sales_order_item_service_contract_id", "sales_order_item", ["service_contract_id"]
    )
    op.create_table(
        "payment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("order_id", sa.Integer(), sa.ForeignKey("sales_order.id"), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("payment_ref", sa.String(64), nullable=False, unique=True),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("qr_payload", sa.String(512)),
        sa.Column("callbacks", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("paid_at", sa.DateTime()),
        *_scope_columns(),
    )
    op.create_index("ix_payment_order_id", "payment", ["order_id"])
    op.create_table(
        "service_contract",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("contract_no", sa.String(32), nullable=False, unique=True),
        sa.Column("order_id", sa.Integer(), sa.ForeignKey("sales_order.id")),
        sa.Column("package_key", sa.String(64), nullable=False),
        sa.Column("package_version", sa.String(32), nullable=False),
        sa.Column("title", sa.String(128), nullable=False),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customer.id"), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), sa.ForeignKey("vehicle.id")),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(64)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        *_scope_columns(),
    )
    for column in ("order_id", "customer_id", "vehicle_id"):
        op.create_index(f"ix_service_contract_{column}", "service_contract", [column])
    enable_row_security(op.get_bind(), TABLES)


def downgrade():
    disable_row_security(op.get_bind(), TABLES)
    for table in (
        "service_contract",
        "payment",
        "sales_order_item",
        "sales_order",
        "carrier_quote",
        "quote_session",
    ):
        op.drop_table(table)
