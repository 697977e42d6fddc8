"""Resident photos: kept for good (append-only), the one shown named on the resident's record.

Revision ID: d9f1b3c5e7a9
Revises: b8d0f2a4c6e8
Create Date: 2026-12-02 05:30:00

"""
from alembic import op
import sqlalchemy as sa

from carelog.database import append_only_ddl, drop_append_only_ddl


# revision identifiers, used by Alembic.
revision = 'd9f1b3c5e7a9'
down_revision = 'b8d0f2a4c6e8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'resident_photo',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('resident_id', sa.Integer(), nullable=False),
        sa.Column('jpeg', sa.LargeBinary(), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('agreed_by', sa.String(length=20), nullable=False),
        sa.Column('added_by_id', sa.Integer(), nullable=False),
        sa.Column('added_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "agreed_by IN ('resident','representative')",
            name=op.f('ck_resident_photo_agreed_by'),
        ),
        sa.ForeignKeyConstraint(
            ['added_by_id'], ['user.id'], name=op.f('fk_resident_photo_added_by_id_user')
        ),
        sa.ForeignKeyConstraint(
            ['resident_id'], ['resident.id'], name=op.f('fk_resident_photo_resident_id_resident')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_resident_photo')),
    )
    op.create_index(
        op.f('ix_resident_photo_resident_id'), 'resident_photo', ['resident_id'], unique=False
    )
    for statement in append_only_ddl(op.get_bind().dialect.name, 'resident_photo'):
        op.execute(statement)
    # A plain ADD COLUMN on both: a batch copy of resident would have to drop a table that
    # every clinical table refers to.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(
            'ALTER TABLE resident ADD COLUMN photo_id INTEGER '
            'CONSTRAINT fk_resident_photo_id_resident_photo REFERENCES resident_photo (id)'
        )
    else:
        op.add_column('resident', sa.Column('photo_id', sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f('fk_resident_photo_id_resident_photo'),
            'resident', 'resident_photo', ['photo_id'], ['id'],
        )


def downgrade():
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(
            op.f('fk_resident_photo_id_resident_photo'), 'resident', type_='foreignkey'
        )
    op.execute('ALTER TABLE resident DROP COLUMN photo_id')
    for statement in drop_append_only_ddl(op.get_bind().dialect.name, 'resident_photo'):
        op.execute(statement)
    op.drop_index(op.f('ix_resident_photo_resident_id'), table_name='resident_photo')
    op.drop_table('resident_photo')
