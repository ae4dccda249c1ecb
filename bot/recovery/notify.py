"""The port through which recoveries tell people what they found; handlers/recovery/notifier.py implements it with
Slack. Values go only to the requester (a direct message); the approval thread gets keys, counts and a button."""

from __future__ import annotations

from typing import Protocol

from bot.recovery.models import Preparation
from bot.recovery.views import ItemView
from bot.restores.models import RestoreRequest


class RecoveryNotifier(Protocol):
    """Delivery failures are logged, never raised: the store is the truth, and the answer can be asked for again."""

    def answered(self, view: ItemView) -> None:
        """`/ddb-item`'s answer, with the items' values, to the requester alone."""
        ...

    def requested(self, preparation: Preparation, request: RestoreRequest) -> None:
        """A repair was put up for approval: tell the requester, and offer approvers the items (privately) in the
        approval message's thread."""
        ...

    def failed(self, preparation: Preparation, reason: str) -> None:
        """The preparation could not finish: tell the requester why and what to do."""
        ...
