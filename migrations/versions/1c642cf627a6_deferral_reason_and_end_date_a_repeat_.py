"""Deferral reason and end date; a repeat session the nurse confirmed.

Revision ID: 1c642cf627a6
Revises: 6dfbcc460b91
Create Date: 2026-12-01 20:10:04.143878

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1c642cf627a6'
down_revision = '6dfbcc460b91'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN, not a batch: a batch may rebuild the table on SQLite and lose the
    # append-only triggers of care_session_version.
    op.add_column(
        'care_session_version',
        sa.Column('repeat_confirmed', sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column('resident', sa.Column('defer_reason', sa.String(length=200), nullable=True))
    op.add_column('resident', sa.Column('defer_until', sa.Date(), nullable=True))



def downgrade():
    op.drop_column('resident', 'defer_until')
    op.drop_column('resident', 'defer_reason')
    op.drop_column('care_session_version', 'repeat_confirmed')

