"""carrier plugins, credentials and download work queue (helper H)

Revision ID: 0007_carriers
Revises: 0006_row_security
Create Date: 2026-12-02 10:40:00

Reserved in the chain; filled in by the change that needs it.
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0007_carriers"
down_revision = "0006_row_security"
branch_labels = None
depends_on = None


def upgrade():
    return None


def downgrade():
    return None
