"""Index versions by day with the columns the ward board sums up (an index-only scan).

Replaces the plain occurred_at index, of which it is an extension: every query that used that
one can use this one.

Revision ID: 5b1f0c2d7e3a
Revises: 1c642cf627a6
Create Date: 2026-12-01 23:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5b1f0c2d7e3a'
down_revision = '1c642cf627a6'
branch_labels = None
depends_on = None

COLUMNS = ['occurred_at', 'session_id', 'version_no', 'outcome', 'kind', 'sleep_after_status']


def upgrade():
    # Plain CREATE/DROP INDEX, not a batch: a batch may rebuild the table on SQLite and lose the
    # append-only triggers of care_session_version.
    op.create_index('ix_care_session_version_by_day', 'care_session_version', COLUMNS)
    op.drop_index('ix_care_session_version_occurred_at', table_name='care_session_version')


def downgrade():
    op.create_index(
        'ix_care_session_version_occurred_at', 'care_session_version', ['occurred_at']
    )
    op.drop_index('ix_care_session_version_by_day', table_name='care_session_version')
