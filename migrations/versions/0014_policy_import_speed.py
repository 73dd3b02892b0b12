"""policy import at scale

Revision ID: 0014_policy_import_speed
Revises: 0013_people
Create Date: 2026-12-02 16:00:00

Drops `ix_policy_tenant_carrier` (tenant_id, carrier_key): the unique key `uq_policy_number`
(tenant_id, carrier_key, policy_no) begins with the same two columns and serves every query the
index served. Besides costing every insert one more index to maintain, the duplicate misled the
planner when statistics are stale (in the middle of a large import): it looked a chunk's keys up
through the two-column index and filtered the tenant's whole book per key, where the unique key
finds each in one probe (docs/policies.md, "Importing at scale").
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op

revision = "0014_policy_import_speed"
down_revision = "0013_people"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("ix_policy_tenant_carrier", table_name="policy")


def downgrade():
    op.create_index("ix_policy_tenant_carrier", "policy", ["tenant_id", "carrier_key"])
