"""Each session keeps its current version's time, outcome, kind, night-after sleep and reason for
not done beside the version's number, indexed by time, so that the ward board and the overview
sum weeks of sessions from one index (PostgreSQL otherwise looked up each version's session).

Revision ID: e7b9d1f3a5c8
Revises: c4e6a8b0d2f1
Create Date: 2026-12-02 02:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7b9d1f3a5c8'
down_revision = 'c4e6a8b0d2f1'
branch_labels = None
depends_on = None

COLUMNS = (
    ('current_occurred_at', sa.DateTime(), 'occurred_at'),
    ('current_outcome', sa.String(14), 'outcome'),
    ('current_kind', sa.String(12), 'kind'),
    ('current_sleep_after_status', sa.String(14), 'sleep_after_status'),
    ('current_not_done_reason', sa.String(10), 'not_done_reason'),
)


def upgrade():
    for name, kind, _ in COLUMNS:
        op.add_column('care_session', sa.Column(name, kind, nullable=True))
    # Every existing session, from its current version (the same statement on both databases).
    op.execute(
        "UPDATE care_session SET "
        + ", ".join(
            f"{name} = (SELECT v.{source} FROM care_session_version v "
            "WHERE v.session_id = care_session.id AND v.version_no = care_session.current_version)"
            for name, _, source in COLUMNS
        )
    )
    op.create_index(
        'ix_care_session_current_by_day',
        'care_session',
        ['current_occurred_at', 'resident_id', 'current_outcome', 'current_kind',
         'current_sleep_after_status', 'current_not_done_reason'],
    )


def downgrade():
    op.drop_index('ix_care_session_current_by_day', table_name='care_session')
    # Plain DROP COLUMN (SQLite 3.35 and later): a batch copy of the table would lose its
    # append-only triggers.
    for name, _, _ in reversed(COLUMNS):
        op.execute(f'ALTER TABLE care_session DROP COLUMN {name}')
