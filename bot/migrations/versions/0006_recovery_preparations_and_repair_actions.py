"""/ddb-item, /ddb-recover and /ddb-revert: their preparations (the exports followed, where each stands) and the
repair actions (one per key: the state it must find, the state it writes, the dry run's and the run's verdicts).

Revision ID: 0006
Revises: 0007
Create Date: 2026-12-07 20:22:59.662384
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0007"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)  # what bot.db.UtcDateTime stores


def upgrade() -> None:
    op.create_table(
        "recovery_preparations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=True),
        sa.Column("table_text", sa.String(length=1024), nullable=False),
        sa.Column("table_name", sa.String(length=255), nullable=False),
        sa.Column("table_arn", sa.String(length=1024), nullable=False),
        sa.Column("account_alias", sa.String(length=64), nullable=True),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("key_schema", sa.JSON(), nullable=False),
        sa.Column("item_key", sa.JSON(), nullable=True),
        sa.Column("at", UTC_TIME, nullable=True),
        sa.Column("as_of", UTC_TIME, nullable=True),
        sa.Column("since", UTC_TIME, nullable=True),
        sa.Column("until", UTC_TIME, nullable=True),
        sa.Column("where_filter", sa.Text(), nullable=True),
        sa.Column("rate", sa.JSON(), nullable=True),
        sa.Column("exports", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=True),
        sa.Column("failure", sa.Text(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("recovery_preparations", schema=None) as batch_op:
        batch_op.create_index("ix_recovery_preparations_state", ["state"], unique=False)
    op.create_table(
        "recovery_actions",
        sa.Column("preparation_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("item_key", sa.JSON(), nullable=False),
        sa.Column("key_text", sa.Text(), nullable=False),
        sa.Column("expected", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("target", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("deletes", sa.Boolean(), nullable=False),
        sa.Column("dry", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("preparation_id", "seq"),
    )


def downgrade() -> None:
    op.drop_table("recovery_actions")
    with op.batch_alter_table("recovery_preparations", schema=None) as batch_op:
        batch_op.drop_index("ix_recovery_preparations_state")
    op.drop_table("recovery_preparations")
