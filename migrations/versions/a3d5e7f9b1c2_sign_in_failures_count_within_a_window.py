"""Failed sign-ins count within a sliding window, from the last success, lock or unlock; a
password set by someone else is replaced by its owner at the next sign-in.

Revision ID: a3d5e7f9b1c2
Revises: 8e2a4c6b1d90
Create Date: 2026-12-02 00:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3d5e7f9b1c2'
down_revision = '8e2a4c6b1d90'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('user', sa.Column('failures_counted_from', sa.DateTime(), nullable=True))
    op.add_column(
        'user',
        sa.Column('must_choose_password', sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_index('ix_sign_in_failure_username_at', 'sign_in_failure', ['username', 'at'])


def downgrade():
    op.drop_index('ix_sign_in_failure_username_at', table_name='sign_in_failure')
    with op.batch_alter_table('user') as batch_op:
        batch_op.drop_column('must_choose_password')
        batch_op.drop_column('failures_counted_from')
