"""revisions of an episode, the machine text of a corrected line, the count of transcript edits

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 18:30:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every editor's change, kept with the episode; an undo names the revision it undoes.
    op.create_table(
        "revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("author", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("before", sa.Text(), nullable=False),
        sa.Column("after", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("undoes", sa.Integer(), nullable=True),
        sa.Column("undone_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["episode_id"], ["episode.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["undoes"], ["revision.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["undone_by"], ["revision.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("revision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_revision_episode_id"), ["episode_id"], unique=False)

    # The machine's text of a line an editor corrected (null: never corrected); plain columns, added
    # in place without copying the table.
    with op.batch_alter_table("caption_line", schema=None) as batch_op:
        batch_op.add_column(sa.Column("original_text", sa.Text(), nullable=True))
    with op.batch_alter_table("episode", schema=None) as batch_op:
        batch_op.add_column(sa.Column("transcript_edits", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("episode", schema=None) as batch_op:
        batch_op.drop_column("transcript_edits")
    with op.batch_alter_table("caption_line", schema=None) as batch_op:
        batch_op.drop_column("original_text")
    with op.batch_alter_table("revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revision_episode_id"))
    op.drop_table("revision")
