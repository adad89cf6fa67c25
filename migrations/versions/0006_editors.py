"""editors, their sessions, and failed sign-ins for the rate limit

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 18:10:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "editor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("editor", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_editor_name"), ["name"], unique=True)

    # The session's token is kept as its SHA-256 only; deleting an editor ends their sessions.
    op.create_table(
        "editor_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("editor_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["editor_id"], ["editor.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("editor_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_editor_session_editor_id"), ["editor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_editor_session_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_editor_session_token_hash"), ["token_hash"], unique=True)

    # Counted by name and by address over the last minutes, by every worker process alike.
    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("attempted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_attempt_address"), ["address"], unique=False)
        batch_op.create_index(batch_op.f("ix_login_attempt_attempted_at"), ["attempted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_login_attempt_name"), ["name"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_attempt_name"))
        batch_op.drop_index(batch_op.f("ix_login_attempt_attempted_at"))
        batch_op.drop_index(batch_op.f("ix_login_attempt_address"))
    op.drop_table("login_attempt")
    with op.batch_alter_table("editor_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_editor_session_token_hash"))
        batch_op.drop_index(batch_op.f("ix_editor_session_expires_at"))
        batch_op.drop_index(batch_op.f("ix_editor_session_editor_id"))
    op.drop_table("editor_session")
    with op.batch_alter_table("editor", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_editor_name"))
    op.drop_table("editor")
