"""One result per target of fanned-out work: `work_targets`, the tables of a many-table fire and the channels of a
message, each with its own state, attempts and reason under its work's (kind, key).

Work in flight at the upgrade needs no rows: a many-table fire still waiting lays its targets out from its queued
tables when next taken, and a message lays out its channels when next posted.

Revision ID: 0005
Revises: 0008
Create Date: 2026-12-06 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0008"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)  # what bot.db.UtcDateTime stores


def upgrade() -> None:
    op.create_table(
        "work_targets",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=600), nullable=False),
        sa.Column("target", sa.String(length=600), nullable=False),
        sa.Column("edition", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("available_at", UTC_TIME, nullable=True),
        sa.Column("tried_at", UTC_TIME, nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("reported", sa.String(length=16), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", "target"),
    )


def downgrade() -> None:
    op.drop_table("work_targets")
