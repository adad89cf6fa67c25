"""index on episode.updated_at

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 15:10:00
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every search asks for max(updated_at) to know whether the episodes' metadata changed
    # (app/search/metadata.py): without an index that reads every episode row.
    op.create_index(op.f("ix_episode_updated_at"), "episode", ["updated_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_episode_updated_at"), table_name="episode")
