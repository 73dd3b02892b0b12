"""entity engine: child tables, attachments, states

Revision ID: 0012_entity_engine
Revises: 0011_monitoring
Create Date: 2026-12-02 16:00:00

Reserved in the chain; filled in by the change that needs it.
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0012_entity_engine"
down_revision = "0011_monitoring"
branch_labels = None
depends_on = None


def upgrade():
    return None


def downgrade():
    return None
