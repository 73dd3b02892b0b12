"""login guard (security helper A)

Revision ID: 0004_login_guard
Revises: 0003_configuration
Create Date: 2026-12-02 10:40:00

Reserved in the chain; filled in by the change that needs it.
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0004_login_guard"
down_revision = "0003_configuration"
branch_labels = None
depends_on = None


def upgrade():
    return None


def downgrade():
    return None
