"""configuration engine registry and effective dates (helper G)

Revision ID: 0010_configuration_registry
Revises: 0009_quoting
Create Date: 2026-12-02 10:40:00

Reserved in the chain; filled in by the change that needs it.
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0010_configuration_registry"
down_revision = "0009_quoting"
branch_labels = None
depends_on = None


def upgrade():
    return None


def downgrade():
    return None
