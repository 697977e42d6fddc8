"""When a tablet saved an entry it sent later (offline): care_session_version.saved_on_tablet_at.

Revision ID: f1a3c5e7b9d2
Revises: d9f1b3c5e7a9
Create Date: 2026-12-02 08:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f1a3c5e7b9d2'
down_revision = 'd9f1b3c5e7a9'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN on both databases: the table's append-only triggers stay as they are.
    op.add_column(
        'care_session_version', sa.Column('saved_on_tablet_at', sa.DateTime(), nullable=True)
    )


def downgrade():
    op.drop_column('care_session_version', 'saved_on_tablet_at')
