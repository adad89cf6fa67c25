"""episode show inferred from its first minutes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Whether the episode's show was heard in its first minutes rather than named by its description
    # or a sidecar; the page says so. Episodes ingested before were never inferred: false. sa.false()
    # is written 0 for SQLite and false for PostgreSQL.
    op.add_column("episode", sa.Column("show_inferred", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("episode", schema=None) as batch_op:
        batch_op.drop_column("show_inferred")
