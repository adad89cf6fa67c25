"""caption line speaker and the person it names

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 17:30:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Who speaks on each caption line, as the file names them (a WebVTT voice, a WhisperX label, a
    # "JULIEN PILLOT :" prefix), and the person that name was matched to. Lines ingested before
    # have neither: null. SQLite cannot add a named reference in place: batch mode copies the table.
    with op.batch_alter_table("caption_line", schema=None) as batch_op:
        batch_op.add_column(sa.Column("speaker", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("person_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_caption_line_person_id_person", "person", ["person_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_index(batch_op.f("ix_caption_line_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("caption_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_caption_line_person_id"))
        batch_op.drop_constraint("fk_caption_line_person_id_person", type_="foreignkey")
        batch_op.drop_column("person_id")
        batch_op.drop_column("speaker")
