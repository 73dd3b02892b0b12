"""the policy book (helper I)

Revision ID: 0008_policies
Revises: 0007_carriers
Create Date: 2026-12-02 10:40:00

Reserved in the chain; filled in by the change that needs it.
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0008_policies"
down_revision = "0007_carriers"
branch_labels = None
depends_on = None


def upgrade():
    return None


def downgrade():
    return None
