"""Restores can be cancelled while they run and asked for again: the operator who cancelled a running restore and
when (its runner watches for it and stops the work), and the request a retry asks again for.

Requests stored before keep NULL in all three: not cancelled, not a retry.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-10 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("restore_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancel_requested_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("cancel_requested_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("retry_of", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("restore_requests", schema=None) as batch_op:
        batch_op.drop_column("retry_of")
        batch_op.drop_column("cancel_requested_at")
        batch_op.drop_column("cancel_requested_by")
