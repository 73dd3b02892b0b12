"""status monitoring, gateways and incidents

Revision ID: 0011_monitoring
Revises: 0010_configuration_registry
Create Date: 2026-12-02 16:00:00

Reserved in the chain; filled in by the change that needs it.
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0011_monitoring"
down_revision = "0010_configuration_registry"
branch_labels = None
depends_on = None


def upgrade():
    return None


def downgrade():
    return None
