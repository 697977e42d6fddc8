"""Override acknowledgements: a care manager has read a session given despite a warning.

Revision ID: 8e2a4c6b1d90
Revises: 5b1f0c2d7e3a
Create Date: 2026-12-01 23:30:00

"""
from alembic import op
import sqlalchemy as sa

from carelog.database import append_only_ddl, drop_append_only_ddl


# revision identifiers, used by Alembic.
revision = '8e2a4c6b1d90'
down_revision = '5b1f0c2d7e3a'
branch_labels = None
depends_on = None

TABLE = 'override_acknowledgement'


def upgrade():
    op.create_table(
        TABLE,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('version_no', sa.Integer(), nullable=False),
        sa.Column('acknowledged_by_id', sa.Integer(), nullable=False),
        sa.Column('acknowledged_at', sa.DateTime(), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ['acknowledged_by_id'], ['user.id'],
            name=op.f('fk_override_acknowledgement_acknowledged_by_id_user'),
        ),
        sa.ForeignKeyConstraint(
            ['session_id'], ['care_session.id'],
            name=op.f('fk_override_acknowledgement_session_id_care_session'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_override_acknowledgement')),
        sa.UniqueConstraint(
            'session_id', 'version_no',
            name=op.f('uq_override_acknowledgement_session_id'),
        ),
    )
    for statement in append_only_ddl(op.get_bind().dialect.name, TABLE):
        op.execute(statement)


def downgrade():
    for statement in drop_append_only_ddl(op.get_bind().dialect.name, TABLE):
        op.execute(statement)
    op.drop_table(TABLE)
