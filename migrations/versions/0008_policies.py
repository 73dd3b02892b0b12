"""the policy book (helper I)

Revision ID: 0008_policies
Revises: 0007_carriers
Create Date: 2026-12-02 10:40:00

Policies, their coverage lines, endorsements and generated documents; the vehicle facts the
tariff asks for (交强险 class, tonnage, new car, usage). Written by hand for PostgreSQL and SQLite.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_policies"
down_revision = "0007_carriers"
branch_labels = None
depends_on = None

LINES = (
    "compulsory_motor",
    "commercial_motor",
    "driver_passenger_accident",
    "accident_health",
    "term_life",
)
BUSINESS_TYPES = ("new", "renewal", "transfer", "combined_first", "combined_other")
SOURCES = ("desk", "import", "carrier_download", "renewal")
TERMINALS = ("pc", "phone", "import", "carrier_download")
STATUSES = ("pending_confirmation", "in_force", "cancelled", "expired", "refused")
ENDORSEMENT_KINDS = ("change_plate", "change_owner", "change_coverage", "cancel")
ENDORSEMENT_STATUSES = ("pending_confirmation", "effective", "refused")
DOCUMENT_KINDS = ("e_policy", "endorsement")
USAGES = ("private", "non_commercial", "commercial")


def _enum(values, name, length=32):
    return sa.Enum(*values, name=name, native_enum=False, length=length)


def _money(name, nullable=False):
    return sa.Column(name, sa.Numeric(12, 2), nullable=nullable)


def _scope_columns():
    return [
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenant.id"), nullable=False),
        sa.Column("org_node_id", sa.Integer(), sa.ForeignKey("org_node.id"), nullable=False),
    ]


def _scope_indexes(table):
    op.create_index(f"ix_{table}_tenant_id", table, ["tenant_id"])
    op.create_index(f"ix_{table}_org_node_id", table, ["org_node_id"])


def upgrade():
    with op.batch_alter_table("vehicle", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "vehicle_class",
                sa.String(16),
                nullable=False,
                server_default="家庭自用汽车",
                comment="交强险车辆种类",
            )
        )
        batch_op.add_column(sa.Column("tonnage", sa.Numeric(6, 2), nullable=True, comment="t"))
        batch_op.add_column(
            sa.Column(
                "is_new",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
                comment="新车 (not registered)",
            )
        )
        batch_op.add_column(
            sa.Column(
                "usage", _enum(USAGES, "vehicleusage", 16), nullable=False, server_default="private"
            )
        )

    op.create_table(
        "policy",
        sa.Column("id", sa.Integer(), primary_key=True),
        *_scope_columns(),
        sa.Column("policy_no", sa.String(40), nullable=False),
        sa.Column("carrier_key", sa.String(64), nullable=False, comment="carrier document key"),
        sa.Column("carrier_name", sa.String(64), nullable=False, comment="snapshot"),
        sa.Column("line", _enum(LINES, "policyline"), nullable=False),
        sa.Column("product_key", sa.String(64), nullable=True),
        sa.Column("product_version", sa.String(32), nullable=True),
        sa.Column("business_type", _enum(BUSINESS_TYPES, "businesstype"), nullable=False),
        sa.Column("history_type", _enum(BUSINESS_TYPES, "businesstype"), nullable=False),
        sa.Column("source", _enum(SOURCES, "policysource"), nullable=False),
        sa.Column("issuing_terminal", _enum(TERMINALS, "issuingterminal"), nullable=False),
        sa.Column("status", _enum(STATUSES, "policystatus"), nullable=False),
        sa.Column("compulsory_only", sa.Boolean(), nullable=False),
        sa.Column("salesperson_id", sa.Integer(), sa.ForeignKey("ab_user.id"), nullable=True),
        sa.Column("salesperson_name", sa.String(64), nullable=True),
        sa.Column("practitioner_no", sa.String(40), nullable=True, comment="执业证编号"),
        sa.Column(
            "customer_id",
            sa.Integer(),
            sa.ForeignKey("customer.id"),
            nullable=True,
            comment="投保人",
        ),
        sa.Column("insured_name", sa.String(128), nullable=False),
        sa.Column("insured_id_number", sa.String(18), nullable=True),
        sa.Column("insured_mobile", sa.String(11), nullable=True),
        sa.Column("vehicle_id", sa.Integer(), sa.ForeignKey("vehicle.id"), nullable=True),
        sa.Column("vehicle_is_new", sa.Boolean(), nullable=False),
        sa.Column("plate", sa.String(10), nullable=True),
        sa.Column("vin", sa.String(17), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=True, comment="UTC"),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True, comment="UTC"),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True, comment="UTC"),
        _money("premium_incl_tax"),
        _money("premium_excl_tax"),
        _money("vat_amount"),
        sa.Column("vehicle_tax", sa.Numeric(12, 2), nullable=False, comment="车船税"),
        sa.Column("sum_insured", sa.Numeric(14, 2), nullable=True),
        sa.Column("renews_policy_id", sa.Integer(), sa.ForeignKey("policy.id"), nullable=True),
        sa.Column("previous_carrier_key", sa.String(64), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("quote_ref", sa.String(64), nullable=True),
        sa.Column(
            "lineage",
            sa.JSON(),
            nullable=True,
            comment="document versions, explain and rule trace summary",
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=True),
        sa.UniqueConstraint("tenant_id", "carrier_key", "policy_no", name="uq_policy_number"),
    )
    _scope_indexes("policy")
    for name, columns in (
        ("ix_policy_policy_no", ["policy_no"]),
        ("ix_policy_vin", ["vin"]),
        ("ix_policy_salesperson_id", ["salesperson_id"]),
        ("ix_policy_customer_id", ["customer_id"]),
        ("ix_policy_vehicle_id", ["vehicle_id"]),
        ("ix_policy_renews_policy_id", ["renews_policy_id"]),
        ("ix_policy_order_id", ["order_id"]),
        ("ix_policy_tenant_end_date", ["tenant_id", "end_date"]),
        ("ix_policy_tenant_start_date", ["tenant_id", "start_date"]),
        ("ix_policy_tenant_issued_at", ["tenant_id", "issued_at"]),
        ("ix_policy_tenant_created_at", ["tenant_id", "created_at"]),
        ("ix_policy_tenant_carrier", ["tenant_id", "carrier_key"]),
        ("ix_policy_tenant_status", ["tenant_id", "status"]),
        ("ix_policy_tenant_plate", ["tenant_id", "plate"]),
        ("ix_policy_tenant_insured", ["tenant_id", "insured_name"]),
    ):
        op.create_index(name, "policy", columns)

    op.create_table(
        "policy_coverage",
        sa.Column("id", sa.Integer(), primary_key=True),
        *_scope_columns(),
        sa.Column(
            "policy_id",
            sa.Integer(),
            sa.ForeignKey("policy.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("sum_insured", sa.Numeric(14, 2), nullable=True),
        _money("premium_incl_tax"),
        _money("premium_excl_tax"),
    )
    _scope_indexes("policy_coverage")
    op.create_index("ix_policy_coverage_policy_id", "policy_coverage", ["policy_id"])

    op.create_table(
        "endorsement",
        sa.Column("id", sa.Integer(), primary_key=True),
        *_scope_columns(),
        sa.Column(
            "policy_id",
            sa.Integer(),
            sa.ForeignKey("policy.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("endorsement_no", sa.String(48), nullable=False),
        sa.Column("kind", _enum(ENDORSEMENT_KINDS, "endorsementkind"), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        _money("premium_change_incl_tax"),
        _money("premium_change_excl_tax"),
        _money("vehicle_tax_change"),
        sa.Column("reason", sa.String(255), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True, comment="before / after"),
        sa.Column("status", _enum(ENDORSEMENT_STATUSES, "endorsementstatus"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=True),
        sa.UniqueConstraint("policy_id", "endorsement_no", name="uq_endorsement_number"),
    )
    _scope_indexes("endorsement")
    op.create_index("ix_endorsement_policy_id", "endorsement", ["policy_id"])
    op.create_index("ix_endorsement_endorsement_no", "endorsement", ["endorsement_no"])
    op.create_index(
        "ix_endorsement_tenant_effective", "endorsement", ["tenant_id", "effective_date"]
    )
    op.create_index("ix_endorsement_tenant_created", "endorsement", ["tenant_id", "created_at"])

    op.create_table(
        "policy_document",
        sa.Column("id", sa.Integer(), primary_key=True),
        *_scope_columns(),
        sa.Column(
            "policy_id",
            sa.Integer(),
            sa.ForeignKey("policy.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", _enum(DOCUMENT_KINDS, "documentkind"), nullable=False),
        sa.Column("filename", sa.String(128), nullable=False),
        sa.Column("storage_key", sa.String(255), nullable=False, comment="path under STORAGE_PATH"),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=True),
    )
    _scope_indexes("policy_document")
    op.create_index("ix_policy_document_policy_id", "policy_document", ["policy_id"])


def downgrade():
    op.drop_table("policy_document")
    op.drop_table("endorsement")
    op.drop_table("policy_coverage")
    op.drop_table("policy")
    with op.batch_alter_table("vehicle", schema=None) as batch_op:
        batch_op.drop_column("usage")
        batch_op.drop_column("is_new")
        batch_op.drop_column("tonnage")
        batch_op.drop_column("vehicle_class")
