"""Where a preparation's state comes from: the exports it starts inside the PITR window (a filtered full export of
the key at `at`; the window's incrementals), named by ClientTokens derived from the preparation, so starting them
again after a crash finds the same exports rather than new ones."""

from __future__ import annotations

from bot.aws.table_info import TableInfo
from bot.core import Core
from bot.recovery.exporting import RecoveryExport, destination, start_filtered_export, start_incremental_export, windows
from bot.recovery.models import Kind, Preparation
from bot.recovery.where import filter_expression


def start_exports(core: Core, info: TableInfo, preparation: Preparation) -> tuple[RecoveryExport, ...]:
    """Start (or find again) the preparation's exports."""
    moment = preparation.created_at or core.clock()
    where = destination(core, info, preparation.id, moment)
    if preparation.kind == Kind.REVERT:
        assert preparation.since is not None
        assert preparation.until is not None
        filter_ = filter_expression(preparation.where) if preparation.where else None
        return tuple(
            start_incremental_export(core, info, where, window, client_token(preparation, n), filter_)
            for n, window in enumerate(windows(preparation.since, preparation.until))
        )
    assert preparation.key is not None
    assert preparation.at is not None
    return (start_filtered_export(core, info, where, preparation.key, preparation.at, client_token(preparation, 0)),)


def client_token(preparation: Preparation, n: int) -> str:
    """The n-th export's ClientToken: the same preparation always starts the same export."""
    return f"ddbbot-recovery-{preparation.id}-{n}"
