"""login guard: failed logins per account and source, and the session epoch of each user

Revision ID: 0004_login_guard
Revises: 0003_configuration
Create Date: 2026-12-02 10:40:00

`login_throttle` holds the failures, delay and lock of one typed user name from one client
address (the lock-out no longer lives on the user, where anyone could renew it from anywhere).
`ab_user.session_epoch` is kept in the session cookie and in API tokens at login; logout and a
password change bump it, which ends every older session and token server-side.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_login_guard"
down_revision = "0003_configuration"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "login_throttle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=256), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(), nullable=True),
        sa.Column("retry_after", sa.DateTime(), nullable=True),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username", "source", name="uq_login_throttle_key"),
    )
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_throttle_username"), ["username"], unique=False)
    with op.batch_alter_table("ab_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table("ab_user", schema=None) as batch_op:
        batch_op.drop_column("session_epoch")
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_throttle_username"))
    op.drop_table("login_throttle")
