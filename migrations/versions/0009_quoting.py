"""quotes, orders and payments (helper J)

Revision ID: 0009_quoting
Revises: 0008_policies
Create Date: 2026-12-02 10:40:00

Reserved in the chain; filled in by the change that needs it.
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0009_quoting"
down_revision = "0008_policies"
branch_labels = None
depends_on = None


def upgrade():
    return None


def downgrade():
    return None
