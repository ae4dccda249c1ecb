"""The port through which recoveries tell people what they found; handlers/recovery/notifier.py implements it with
Slack. Values go only to the requester (a direct message); the approval thread gets keys, counts and a button."""

from __future__ import annotations

from typing import Protocol

from bot.background.notes import Delivery, NoteStamp
from bot.recovery.models import Preparation
from bot.recovery.views import ItemView
from bot.restores.models import RestoreRequest


class RecoveryNotifier(Protocol):
    """Each message goes to one destination (`stamp.target`) and returns how its delivery went: the note records,
    retries and reports each destination on its own (bot.background.notes)."""

    def answered(self, view: ItemView, stamp: NoteStamp) -> Delivery:
        """`/ddb-item`'s answer, with the items' values, to the requester alone."""
        ...

    def requested(self, preparation: Preparation, request: RestoreRequest, stamp: NoteStamp) -> Delivery:
        """A repair was put up for approval: the requester is told where it waits (their direct messages), or
        approvers are offered the items (privately) in the approval message's thread."""
        ...

    def failed(self, preparation: Preparation, reason: str, stamp: NoteStamp) -> Delivery:
        """The preparation could not finish: tell the requester why and what to do."""
        ...
