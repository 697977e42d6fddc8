"""Enrolled ward tablets, PINs for a quick switch on them, and each sign-in session's tablet
and method (password or PIN).

Revision ID: b8d0f2a4c6e8
Revises: e7b9d1f3a5c8
Create Date: 2026-12-02 05:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8d0f2a4c6e8'
down_revision = 'e7b9d1f3a5c8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'tablet',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('ward_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('enrolled_by_id', sa.Integer(), nullable=False),
        sa.Column('enrolled_at', sa.DateTime(), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(), nullable=False),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_by_id', sa.Integer(), nullable=True),
        sa.Column('revoke_reason', sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(['enrolled_by_id'], ['user.id'], name=op.f('fk_tablet_enrolled_by_id_user')),
        sa.ForeignKeyConstraint(['revoked_by_id'], ['user.id'], name=op.f('fk_tablet_revoked_by_id_user')),
        sa.ForeignKeyConstraint(['ward_id'], ['ward.id'], name=op.f('fk_tablet_ward_id_ward')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tablet')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_tablet_token_hash')),
    )
    op.create_index(op.f('ix_tablet_ward_id'), 'tablet', ['ward_id'], unique=False)
    op.add_column('user', sa.Column('pin_hash', sa.String(length=200), nullable=True))
    op.add_column(
        'user', sa.Column('pin_failures', sa.Integer(), server_default='0', nullable=False)
    )
    with op.batch_alter_table('login_session') as batch_op:
        batch_op.add_column(sa.Column('tablet_id', sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column('method', sa.String(length=10), server_default='password', nullable=False)
        )
        batch_op.add_column(sa.Column('ends_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(
            op.f('fk_login_session_tablet_id_tablet'), 'tablet', ['tablet_id'], ['id']
        )
        batch_op.create_index('ix_login_session_tablet_user', ['tablet_id', 'user_id'])


def downgrade():
    with op.batch_alter_table('login_session') as batch_op:
        batch_op.drop_index('ix_login_session_tablet_user')
        batch_op.drop_constraint(op.f('fk_login_session_tablet_id_tablet'), type_='foreignkey')
        batch_op.drop_column('ends_at')
        batch_op.drop_column('method')
        batch_op.drop_column('tablet_id')
    with op.batch_alter_table('user') as batch_op:
        batch_op.drop_column('pin_failures')
        batch_op.drop_column('pin_hash')
    op.drop_index(op.f('ix_tablet_ward_id'), table_name='tablet')
    op.drop_table('tablet')
