"""Who may do what: operators start exports and change PITR; approvers decide restores."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from bot.errors import NotAllowed
from bot.words import plural

logger = logging.getLogger(__name__)
GROUP_CACHE_SECONDS = 300.0


class GroupDirectory(Protocol):
    """Resolves a Slack user group (S…) to its members."""

    def members(self, group_id: str) -> set[str]:
        """The user ids in the group; raises when the group cannot be read."""
        ...


@dataclass(frozen=True)
class SetupWarning:
    """Something the settings allow that is probably not meant, said to each reader in their words: `operator`
    names the setting and how to write it (the log, /readyz: whoever runs the bot reads them), `people` says what it
    means for everyone in Slack (App Home), with no setting's name: only whoever runs the bot can change it."""

    operator: str
    people: str


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

    def access_warnings(self, required_approvals: int) -> tuple[SetupWarning, ...]:
        """What the lists allow that is probably not meant: everyone may act, or no restore can be approved.

        Groups that cannot be read count as unknown, never as empty: the warning is only given when it is certain.
        """
        found = []
        if not self.operators:
            found.append(
                SetupWarning(
                    "DDBBOT_OPERATORS is empty, so everyone in the workspace may start exports, turn on PITR, request "
                    "restores and change schedules; set it to the user ids (U…) and user-group ids (S…) who may.",
                    "Nobody is named an operator, so everyone in the workspace may start exports, turn on PITR, "
                    "request restores and change schedules.",
                )
            )
        if not self.approvers:
            found.append(
                SetupWarning(
                    "DDBBOT_APPROVERS is empty, so nobody may approve restores and no restore can run; set it to the "
                    "user ids (U…) or user-group ids (S…) who may approve.",
                    "Nobody is named an approver, so no restore can be approved and none can run.",
                )
            )
        elif (approvers := self._people(self.approvers)) is not None and len(approvers) < required_approvals:
            found.append(
                SetupWarning(
                    f"DDBBOT_APPROVERS holds {plural(len(approvers), 'person', 'people')} (its user groups included) "
                    f"and a restore needs {plural(required_approvals, 'distinct approver')} "
                    "(DDBBOT_REQUIRED_APPROVALS), so no restore can be approved; add approvers or lower "
                    "DDBBOT_REQUIRED_APPROVALS.",
                    f"A restore needs {plural(required_approvals, 'distinct approver')} and only "
                    f"{plural(len(approvers), 'person', 'people')} may approve, so no restore can be approved.",
                )
            )
        for setting, role, entries in (
            ("DDBBOT_OPERATORS", "operators", self.operators),
            ("DDBBOT_APPROVERS", "approvers", self.approvers),
        ):
            unread = ", ".join(e for e in entries if e.startswith("S") and self._group(e) is None)
            if unread:
                found.append(
                    SetupWarning(
                        f"{setting}: the user group {unread} cannot be read, so its members are not recognised; "
                        "check the id, and that the app has the usergroups:read scope.",
                        f"A user group of the {role} (`{unread}`) cannot be read, so its members are not "
                        f"recognised as {role}.",
                    )
                )
        return tuple(found)

    def _people(self, entries: tuple[str, ...]) -> set[str] | None:
        """Everyone the entries name, groups resolved; None when a group cannot be read."""
        people = {e for e in entries if not e.startswith("S")}
        for group in (e for e in entries if e.startswith("S")):
            members = self._group(group)
            if members is None:
                return None
            people |= members
        return people

    def _listed(self, user_id: str, entries: tuple[str, ...]) -> bool:
        if user_id in entries:
            return True
        return any(user_id in (self._group(e) or set()) for e in entries if e.startswith("S"))

    def _group(self, group_id: str) -> set[str] | None:
        """The group's members (cached), None when it cannot be read."""
        now = self._clock()
        with self._lock:
            cached = self._cache.get(group_id)
            if cached and now - cached[0] < GROUP_CACHE_SECONDS:
                return cached[1]
        try:
            members = self._directory.members(group_id)
        except Exception:
            logger.exception("authz.group_unreadable", extra={"group_id": group_id})
            return None
        with self._lock:
            self._cache[group_id] = (now, members)
        return members
