"""Who may do what: operators start exports and change PITR; approvers decide restores."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Protocol

from bot.errors import NotAllowed

logger = logging.getLogger(__name__)
GROUP_CACHE_SECONDS = 300.0


class GroupDirectory(Protocol):
    """Resolves a Slack user group (S…) to its members."""

    def members(self, group_id: str) -> set[str]:
        """The user ids in the group; raises when the group cannot be read."""
        ...


class Authorizer:
    """Checks a Slack user against lists of user ids and user-group ids (groups cached for 5 minutes)."""

    def __init__(
        self,
        operators: Iterable[str],
        approvers: Iterable[str],
        directory: GroupDirectory,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.operators = tuple(operators)
        self.approvers = tuple(approvers)
        self._directory = directory
        self._clock = clock
        self._cache: dict[str, tuple[float, set[str]]] = {}
        self._lock = threading.Lock()

    def is_operator(self, user_id: str) -> bool:
        """Operators may start exports and change PITR; an empty list means everyone may."""
        return not self.operators or self._listed(user_id, self.operators)

    def is_approver(self, user_id: str) -> bool:
        """Approvers may decide restores; an empty list means nobody may."""
        return self._listed(user_id, self.approvers)

    def require_operator(self, user_id: str, action: str) -> None:
        """Raise NotAllowed with who to ask when the user is not an operator."""
        if not self.is_operator(user_id):
            raise NotAllowed(
                f"Only operators may {action}.",
                "Ask an operator, or ask whoever runs the bot to make you one.",
                ask=self.operators,
            )

    def _listed(self, user_id: str, entries: tuple[str, ...]) -> bool:
        if user_id in entries:
            return True
        return any(user_id in self._members(e) for e in entries if e.startswith("S"))

    def _members(self, group_id: str) -> set[str]:
        now = self._clock()
        with self._lock:
            cached = self._cache.get(group_id)
            if cached and now - cached[0] < GROUP_CACHE_SECONDS:
                return cached[1]
        try:
            members = self._directory.members(group_id)
        except Exception:
            logger.exception("authz: could not read user group %s", group_id)
            return set()
        with self._lock:
            self._cache[group_id] = (now, members)
        return members
