"""quote fan-out speed

Revision ID: 0015_quote_speed
Revises: 0014_policy_import_speed
Create Date: 2026-12-02 16:00:00

Reserved in the chain; filled in by the change that needs it.
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0015_quote_speed"
down_revision = "0014_policy_import_speed"
branch_labels = None
depends_on = None


def upgrade():
    return None


def downgrade():
    return None
