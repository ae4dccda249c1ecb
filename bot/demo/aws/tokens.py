"""ClientToken idempotency as the export and bulk APIs document it: within 8 hours, the same token with the same
parameters returns what the first request started; with other parameters it is refused (each API names its own
error: ExportConflictException for exports, IdempotentParameterMismatchException for bulk put)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.demo.aws.clock import Clock
from bot.demo.aws.front import AwsError

VALIDITY = timedelta(hours=8)


@dataclass(frozen=True)
class _Use:
    parameters: str
    result: str
    at: datetime


class ClientTokens:
    """Remembers which request each token started, per account, for `VALIDITY` on the stand-in clock."""

    def __init__(self, clock: Clock, conflict_code: str, conflict_message: str) -> None:
        self.clock = clock
        self.conflict_code = conflict_code
        self.conflict_message = conflict_message
        self._uses: dict[tuple[str, str], _Use] = {}
        self._lock = threading.Lock()

    def once(self, account: str, token: str | None, parameters: dict[str, Any], start: Callable[[], str]) -> str:
        """The id the token's first request started, or `start()`'s for a new token (run under the lock, so two
        identical requests at once start one thing)."""
        fingerprint = json.dumps(parameters, sort_keys=True, default=str)
        with self._lock:
            now = self.clock()
            use = self._uses.get((account, token)) if token else None
            if use is not None and now - use.at < VALIDITY:
                if use.parameters != fingerprint:
                    raise AwsError(self.conflict_code, self.conflict_message)
                return use.result
            result = start()
            if token:
                self._uses[(account, token)] = _Use(fingerprint, result, now)
            return result

    def clear(self) -> None:
        with self._lock:
            self._uses.clear()
