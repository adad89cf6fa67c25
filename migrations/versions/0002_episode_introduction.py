"""episode introduction words

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 12:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The folded words of an episode's first minutes, kept so that linking the guests an
    # introduction names reads one column instead of folding caption lines on every ingest.
    # Left empty here: filled from the caption lines the first time it is needed.
    op.add_column('episode', sa.Column('introduction', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('episode', schema=None) as batch_op:
        batch_op.drop_column('introduction')
