"""PostgreSQL row-level security and database roles (helper C)

Revision ID: 0006_row_security
Revises: 0005_camera_event_scope
Create Date: 2026-12-02 10:40:00

Reserved in the chain; filled in by the change that needs it.
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0006_row_security"
down_revision = "0005_camera_event_scope"
branch_labels = None
depends_on = None


def upgrade():
    return None


def downgrade():
    return None
