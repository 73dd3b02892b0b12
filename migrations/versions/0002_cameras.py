"""cameras: the registry of gate cameras and the events they send (issue 11)

Revision ID: 0002_cameras
Revises: 0001_core_schema
Create Date: 2026-11-25 11:32:37.274201

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002_cameras'
down_revision = '0001_core_schema'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('camera',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False, comment="camera_code in the agent's config"),
    sa.Column('key_id', sa.String(length=40), nullable=False),
    sa.Column('secret', sa.String(length=128), nullable=False, comment='the token; never shown again'),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('heartbeat_seconds', sa.Integer(), nullable=False),
    sa.Column('last_heartbeat_at', sa.DateTime(), nullable=True),
    sa.Column('agent_version', sa.String(length=32), nullable=True),
    sa.Column('spool_depth', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('org_node_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_node_id'], ['org_node.id'], ),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_id'),
    sa.UniqueConstraint('tenant_id', 'code')
    )
    with op.batch_alter_table('camera', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_camera_org_node_id'), ['org_node_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_camera_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('camera_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False, comment="the agent's id, stable on retries"),
    sa.Column('camera_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('plate', 'code', name='eventkind', native_enum=False, length=16), nullable=False),
    sa.Column('text', sa.String(length=512), nullable=False, comment='plate (normalised) or code text'),
    sa.Column('colour', sa.String(length=16), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('seen_at', sa.DateTime(), nullable=False, comment='UTC'),
    sa.Column('received_at', sa.DateTime(), nullable=False, comment='UTC'),
    sa.Column('vehicle_id', sa.Integer(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('walk_in', sa.Boolean(), nullable=False),
    sa.Column('image_jpeg', sa.LargeBinary(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('org_node_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['camera_id'], ['camera.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['org_node_id'], ['org_node.id'], ),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.ForeignKeyConstraint(['vehicle_id'], ['vehicle.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'event_id')
    )
    with op.batch_alter_table('camera_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_camera_event_camera_id'), ['camera_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_camera_event_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_camera_event_org_node_id'), ['org_node_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_camera_event_seen_at'), ['seen_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_camera_event_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_camera_event_vehicle_id'), ['vehicle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_camera_event_walk_in'), ['walk_in'], unique=False)



def downgrade():
    with op.batch_alter_table('camera_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_camera_event_walk_in'))
        batch_op.drop_index(batch_op.f('ix_camera_event_vehicle_id'))
        batch_op.drop_index(batch_op.f('ix_camera_event_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_camera_event_seen_at'))
        batch_op.drop_index(batch_op.f('ix_camera_event_org_node_id'))
        batch_op.drop_index(batch_op.f('ix_camera_event_customer_id'))
        batch_op.drop_index(batch_op.f('ix_camera_event_camera_id'))

    op.drop_table('camera_event')
    with op.batch_alter_table('camera', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_camera_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_camera_org_node_id'))

    op.drop_table('camera')
