"""The port through which background work reports to people; handlers/ implements it with Slack."""

from __future__ import annotations

from typing import Protocol

from bot.background.notes import Delivery, NoteStamp
from bot.models import ExportJob
from bot.money import ExportPrice


class ExportNotifier(Protocol):
    """Tells a channel how an export ended."""

    def export_finished(
        self, job: ExportJob, price: ExportPrice, stamp: NoteStamp, mention: str | None = None
    ) -> Delivery:
        """Post the result with what it cost (`price`, computed by the caller) to `stamp.target`, once. `mention`:
        on-call for a failed scheduled export."""
        ...
