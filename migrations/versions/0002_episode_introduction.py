"""episode introduction words and caption count

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 12:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The folded words of an episode's first minutes, kept so that linking the guests an
    # introduction names reads one column instead of folding caption lines on every ingest.
    # Left empty here: filled from the caption lines the first time it is needed.
    op.add_column("episode", sa.Column("introduction", sa.Text(), nullable=True))
    # How many caption lines an episode has: the home page sums it instead of counting millions of rows.
    op.add_column("episode", sa.Column("caption_count", sa.Integer(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE episode SET caption_count = "
        "(SELECT COUNT(*) FROM caption_line WHERE caption_line.episode_id = episode.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("episode", schema=None) as batch_op:
        batch_op.drop_column("caption_count")
        batch_op.drop_column("introduction")
