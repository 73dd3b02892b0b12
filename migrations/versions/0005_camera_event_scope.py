"""camera events unique per camera (helper E)

Revision ID: 0005_camera_event_scope
Revises: 0004_login_guard
Create Date: 2026-12-02 10:40:00

Reserved in the chain; filled in by the change that needs it.
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = "0005_camera_event_scope"
down_revision = "0004_login_guard"
branch_labels = None
depends_on = None


def upgrade():
    return None


def downgrade():
    return None
