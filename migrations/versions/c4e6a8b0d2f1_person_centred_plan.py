"""The person-centred plan on the resident's record: preferred days, times and hand, what the
person likes and dislikes, what helps, how they show discomfort, and communication needs.

Revision ID: c4e6a8b0d2f1
Revises: a3d5e7f9b1c2
Create Date: 2026-12-02 02:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e6a8b0d2f1'
down_revision = 'a3d5e7f9b1c2'
branch_labels = None
depends_on = None

COLUMNS = (
    ('plan_days', sa.String(30)),
    ('plan_times', sa.String(30)),
    ('plan_hand', sa.String(5)),
    ('plan_likes', sa.Text()),
    ('plan_dislikes', sa.Text()),
    ('plan_at_ease', sa.Text()),
    ('plan_discomfort', sa.Text()),
    ('communication_hearing', sa.String(300)),
    ('communication_sight', sa.String(300)),
    ('communication_language', sa.String(300)),
    ('communication_understanding', sa.String(300)),
)


def upgrade():
    for name, kind in COLUMNS:
        op.add_column('resident', sa.Column(name, kind, nullable=True))


def downgrade():
    # Plain DROP COLUMN (SQLite 3.35 and later): a batch copy of the table would lose any
    # trigger on it.
    for name, _ in reversed(COLUMNS):
        op.execute(f'ALTER TABLE resident DROP COLUMN {name}')
