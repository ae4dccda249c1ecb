"""Watches a running restore for an operator's cancel (`/ddb-restore cancel`), on whichever replica holds its claim.

The cancel is a row change (bot.restores.store.request_cancel), so the replica running the restore, not the one that
took the command, notices it: this watcher reads the row every poll and sets `withdrawn` (the executor then stops
the work its own way: CancelBulkOperation, the loader at the next batch) and `stop` (every write stops). `stop` is
also set when the claim halts (the bot stops, or the claim was lost), so the loader watches one event for both.
"""

from __future__ import annotations

import logging
import threading
import time
from types import TracebackType
from typing import Protocol

logger = logging.getLogger(__name__)
HALT_TICK = 0.05


class CancelRecord(Protocol):
    """Where the cancel is recorded (RestoreStore implements it)."""

    def cancel_requested(self, request_id: str) -> bool:
        """True once an operator asked to cancel the request."""
        ...


class CancelWatch:
    """A daemon thread per running restore; used as a context manager around the executor's run. The first look is
    made before the run starts, so a restore cancelled while it waited for a replica never starts its work."""

    def __init__(self, record: CancelRecord, request_id: str, halt: threading.Event, every: float) -> None:
        self._record = record
        self._request_id = request_id
        self._halt = halt
        self._every = every
        self.withdrawn = threading.Event()
        self.stop = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="restore-cancel-watch", daemon=True)

    def __enter__(self) -> CancelWatch:
        self._look()
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._done.set()
        self._thread.join(timeout=self._every + 1.0)

    def _watch(self) -> None:
        """Mirror the halt at once (the loader stops within a tick of it); read the row every `every` seconds."""
        next_look = time.monotonic() + self._every
        while not self._done.is_set():
            if self._halt.wait(HALT_TICK):
                self.stop.set()
                self._done.wait()
                return
            if not self.withdrawn.is_set() and time.monotonic() >= next_look:
                self._look()
                next_look = time.monotonic() + self._every

    def _look(self) -> None:
        try:
            cancelled = self._record.cancel_requested(self._request_id)
        except Exception:
            logger.warning("restore.cancel_check_failed", extra={"restore_id": self._request_id})
            return
        if cancelled:
            logger.info("restore.cancel_seen", extra={"restore_id": self._request_id})
            self.withdrawn.set()
            self.stop.set()
