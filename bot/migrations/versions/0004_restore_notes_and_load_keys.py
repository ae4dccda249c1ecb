"""Restore requests keep what planning found that approvers must weigh (`notes`), and the loader's checkpoints are
kept by the load (its exports and target: `load_key`) instead of by the request, so a failed load asked for again
continues after the files already written.

Checkpoints written before this revision were kept by request id, which no load key ever equals: they are
dropped. A load running across the upgrade writes its finished files again, which is harmless (puts and deletes
replayed in order leave the same items).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-09 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("restore_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notes", sa.JSON(), nullable=True))
    op.execute(sa.text("DELETE FROM load_checkpoints"))
    with op.batch_alter_table("load_checkpoints", schema=None) as batch_op:
        batch_op.alter_column("restore_id", new_column_name="load_key", existing_type=sa.Text(), nullable=False)


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM load_checkpoints"))
    with op.batch_alter_table("load_checkpoints", schema=None) as batch_op:
        batch_op.alter_column("load_key", new_column_name="restore_id", existing_type=sa.Text(), nullable=False)
    with op.batch_alter_table("restore_requests", schema=None) as batch_op:
        batch_op.drop_column("notes")
