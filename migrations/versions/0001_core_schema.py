"""core schema

Revision ID: 0001_core_schema
Revises: 
Create Date: 2026-11-25 10:46:06.284433

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001_core_schema'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    # Flask-AppBuilder's models name sequences "<table>_id_seq", the names PostgreSQL gives the
    # SERIAL columns created here, so no sequence is created by hand.
    op.create_table('ab_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('label', sa.String(length=150), nullable=True),
    sa.Column('description', sa.String(length=512), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('ab_permission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('ab_register_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_name', sa.String(length=64), nullable=False),
    sa.Column('last_name', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=128), nullable=False),
    sa.Column('password', sa.String(length=256), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('registration_date', sa.DateTime(), nullable=True),
    sa.Column('registration_hash', sa.String(length=256), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email'),
    sa.UniqueConstraint('username')
    )
    op.create_table('ab_role',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('ab_view_menu',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=250), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('brand',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('maker', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code'),
    sa.UniqueConstraint('name')
    )
    op.create_table('city',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=6), nullable=False, comment='行政区划代码'),
    sa.Column('province', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code'),
    sa.UniqueConstraint('province', 'name')
    )
    op.create_table('tenant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.Enum('dealer_group', 'oem', 'intermediary', name='tenantkind', native_enum=False, length=32), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code'),
    sa.UniqueConstraint('name')
    )
    op.create_table('ab_group_role',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('role_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['ab_group.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['role_id'], ['ab_role.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('group_id', 'role_id')
    )
    with op.batch_alter_table('ab_group_role', schema=None) as batch_op:
        batch_op.create_index('idx_group_id', ['group_id'], unique=False)
        batch_op.create_index('idx_group_role_id', ['role_id'], unique=False)

    op.create_table('ab_permission_view',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('permission_id', sa.Integer(), nullable=False),
    sa.Column('view_menu_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['permission_id'], ['ab_permission.id'], ),
    sa.ForeignKeyConstraint(['view_menu_id'], ['ab_view_menu.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('permission_id', 'view_menu_id')
    )
    with op.batch_alter_table('ab_permission_view', schema=None) as batch_op:
        batch_op.create_index('idx_permission_id', ['permission_id'], unique=False)
        batch_op.create_index('idx_view_menu_id', ['view_menu_id'], unique=False)

    op.create_table('org_node',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('path', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.Enum('headquarters', 'region', 'brand_region', 'area', 'store', name='nodekind', native_enum=False, length=32), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False, comment='店代码 for stores'),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=True),
    sa.Column('city_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brand.id'], ),
    sa.ForeignKeyConstraint(['city_id'], ['city.id'], ),
    sa.ForeignKeyConstraint(['parent_id'], ['org_node.id'], ),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'code')
    )
    with op.batch_alter_table('org_node', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_node_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_org_node_path'), ['path'], unique=False)
        batch_op.create_index(batch_op.f('ix_org_node_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('ab_permission_view_role',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('permission_view_id', sa.Integer(), nullable=True),
    sa.Column('role_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['permission_view_id'], ['ab_permission_view.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['role_id'], ['ab_role.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('permission_view_id', 'role_id')
    )
    with op.batch_alter_table('ab_permission_view_role', schema=None) as batch_op:
        batch_op.create_index('idx_permission_view_id', ['permission_view_id'], unique=False)
        batch_op.create_index('idx_role_id', ['role_id'], unique=False)

    op.create_table('ab_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_name', sa.String(length=64), nullable=False),
    sa.Column('last_name', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=128), nullable=False),
    sa.Column('password', sa.String(length=256), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('last_login', sa.DateTime(), nullable=True),
    sa.Column('login_count', sa.Integer(), nullable=True),
    sa.Column('fail_login_count', sa.Integer(), nullable=True),
    sa.Column('created_on', sa.DateTime(), nullable=True),
    sa.Column('changed_on', sa.DateTime(), nullable=True),
    sa.Column('created_by_fk', sa.Integer(), nullable=True),
    sa.Column('changed_by_fk', sa.Integer(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('org_node_id', sa.Integer(), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['changed_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['org_node_id'], ['org_node.id'], ),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email'),
    sa.UniqueConstraint('username')
    )
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ab_user_org_node_id'), ['org_node_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ab_user_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('audit_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('entity', sa.String(length=64), nullable=True),
    sa.Column('record_id', sa.String(length=64), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=128), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('before', sa.Text(), nullable=True, comment='JSON of the values before'),
    sa.Column('after', sa.Text(), nullable=True, comment='JSON of the values after'),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('org_node_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['org_node_id'], ['org_node.id'], ),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_record_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_record_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_record_entity'), ['entity'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_record_org_node_id'), ['org_node_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_record_record_id'), ['record_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_record_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_record_user_id'), ['user_id'], unique=False)

    op.create_table('customer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.Enum('person', 'company', name='customerkind', native_enum=False, length=16), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=True),
    sa.Column('credit_code', sa.String(length=18), nullable=True),
    sa.Column('mobile', sa.String(length=11), nullable=True),
    sa.Column('address', sa.String(length=255), nullable=True),
    sa.Column('birthday', sa.Date(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('org_node_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_node_id'], ['org_node.id'], ),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_credit_code'), ['credit_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_id_number'), ['id_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_mobile'), ['mobile'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_org_node_id'), ['org_node_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('job_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task', sa.String(length=128), nullable=False),
    sa.Column('arguments', sa.Text(), nullable=False, comment='JSON'),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('backend', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_by', sa.String(length=128), nullable=False),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('org_node_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['org_node_id'], ['org_node.id'], ),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('job_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_record_org_node_id'), ['org_node_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_record_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_record_task'), ['task'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_record_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('ab_api_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('key_hash', sa.String(length=256), nullable=False),
    sa.Column('lookup_hash', sa.String(length=256), nullable=True),
    sa.Column('key_prefix', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('scopes', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_on', sa.DateTime(), nullable=True),
    sa.Column('expires_on', sa.DateTime(), nullable=True),
    sa.Column('revoked_on', sa.DateTime(), nullable=True),
    sa.Column('last_used_on', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('lookup_hash'),
    sa.UniqueConstraint('uuid')
    )
    with op.batch_alter_table('ab_api_key', schema=None) as batch_op:
        batch_op.create_index('idx_api_key_lookup_hash', ['lookup_hash'], unique=True)
        batch_op.create_index('idx_api_key_prefix', ['key_prefix'], unique=False)
        batch_op.create_index('idx_api_key_user_id', ['user_id'], unique=False)

    op.create_table('ab_user_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['ab_group.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'group_id')
    )
    with op.batch_alter_table('ab_user_group', schema=None) as batch_op:
        batch_op.create_index('idx_user_group_id', ['group_id'], unique=False)
        batch_op.create_index('idx_user_id', ['user_id'], unique=False)

    op.create_table('ab_user_role',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('role_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['role_id'], ['ab_role.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'role_id')
    )
    op.create_table('vehicle',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plate', sa.String(length=10), nullable=True),
    sa.Column('vin', sa.String(length=17), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('brand_id', sa.Integer(), nullable=True),
    sa.Column('model_name', sa.String(length=64), nullable=True),
    sa.Column('register_date', sa.Date(), nullable=True),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('displacement', sa.Numeric(precision=4, scale=2), nullable=True, comment='litres'),
    sa.Column('fuel', sa.Enum('petrol', 'diesel', 'hybrid', 'plugin_hybrid', 'electric', name='fueltype', native_enum=False, length=16), nullable=False),
    sa.Column('purchase_price', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('org_node_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brand.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['org_node_id'], ['org_node.id'], ),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'plate'),
    sa.UniqueConstraint('tenant_id', 'vin')
    )
    with op.batch_alter_table('vehicle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vehicle_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_vehicle_org_node_id'), ['org_node_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_vehicle_plate'), ['plate'], unique=False)
        batch_op.create_index(batch_op.f('ix_vehicle_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_vehicle_vin'), ['vin'], unique=False)

    # ### end Alembic commands ###
    make_audit_append_only()
    # The roles Flask-AppBuilder grants its own permissions to at start-up.
    op.bulk_insert(sa.table("ab_role", sa.column("name")), [{"name": "platform_admin"}, {"name": "Public"}])


AUDIT_TRIGGERS_PG = [
    """
    CREATE OR REPLACE FUNCTION audit_record_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'audit records are append-only';
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER audit_record_no_change BEFORE UPDATE OR DELETE ON audit_record
    FOR EACH ROW EXECUTE FUNCTION audit_record_append_only()
    """,
]
AUDIT_TRIGGERS_SQLITE = [
    """
    CREATE TRIGGER audit_record_no_update BEFORE UPDATE ON audit_record
    BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END
    """,
    """
    CREATE TRIGGER audit_record_no_delete BEFORE DELETE ON audit_record
    BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END
    """,
]


def make_audit_append_only():
    """The database itself refuses to change or delete an audit record."""
    dialect = op.get_bind().dialect.name
    statements = AUDIT_TRIGGERS_PG if dialect == "postgresql" else AUDIT_TRIGGERS_SQLITE
    for statement in statements:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_record_no_change ON audit_record")
        op.execute("DROP FUNCTION IF EXISTS audit_record_append_only()")
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('vehicle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vehicle_vin'))
        batch_op.drop_index(batch_op.f('ix_vehicle_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_vehicle_plate'))
        batch_op.drop_index(batch_op.f('ix_vehicle_org_node_id'))
        batch_op.drop_index(batch_op.f('ix_vehicle_customer_id'))

    op.drop_table('vehicle')
    op.drop_table('ab_user_role')
    with op.batch_alter_table('ab_user_group', schema=None) as batch_op:
        batch_op.drop_index('idx_user_id')
        batch_op.drop_index('idx_user_group_id')

    op.drop_table('ab_user_group')
    with op.batch_alter_table('ab_api_key', schema=None) as batch_op:
        batch_op.drop_index('idx_api_key_user_id')
        batch_op.drop_index('idx_api_key_prefix')
        batch_op.drop_index('idx_api_key_lookup_hash')

    op.drop_table('ab_api_key')
    with op.batch_alter_table('job_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_record_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_job_record_task'))
        batch_op.drop_index(batch_op.f('ix_job_record_status'))
        batch_op.drop_index(batch_op.f('ix_job_record_org_node_id'))

    op.drop_table('job_record')
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_customer_org_node_id'))
        batch_op.drop_index(batch_op.f('ix_customer_mobile'))
        batch_op.drop_index(batch_op.f('ix_customer_id_number'))
        batch_op.drop_index(batch_op.f('ix_customer_credit_code'))

    op.drop_table('customer')
    with op.batch_alter_table('audit_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_record_user_id'))
        batch_op.drop_index(batch_op.f('ix_audit_record_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_audit_record_record_id'))
        batch_op.drop_index(batch_op.f('ix_audit_record_org_node_id'))
        batch_op.drop_index(batch_op.f('ix_audit_record_entity'))
        batch_op.drop_index(batch_op.f('ix_audit_record_created_at'))
        batch_op.drop_index(batch_op.f('ix_audit_record_action'))

    op.drop_table('audit_record')
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ab_user_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_ab_user_org_node_id'))

    op.drop_table('ab_user')
    with op.batch_alter_table('ab_permission_view_role', schema=None) as batch_op:
        batch_op.drop_index('idx_role_id')
        batch_op.drop_index('idx_permission_view_id')

    op.drop_table('ab_permission_view_role')
    with op.batch_alter_table('org_node', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_node_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_org_node_path'))
        batch_op.drop_index(batch_op.f('ix_org_node_parent_id'))

    op.drop_table('org_node')
    with op.batch_alter_table('ab_permission_view', schema=None) as batch_op:
        batch_op.drop_index('idx_view_menu_id')
        batch_op.drop_index('idx_permission_id')

    op.drop_table('ab_permission_view')
    with op.batch_alter_table('ab_group_role', schema=None) as batch_op:
        batch_op.drop_index('idx_group_role_id')
        batch_op.drop_index('idx_group_id')

    op.drop_table('ab_group_role')
    op.drop_table('tenant')
    op.drop_table('city')
    op.drop_table('brand')
    op.drop_table('ab_view_menu')
    op.drop_table('ab_role')
    op.drop_table('ab_register_user')
    op.drop_table('ab_permission')
    op.drop_table('ab_group')
    # ### end Alembic commands ###
