"""The port through which background work reports to people; handlers/ implements it with Slack."""

from __future__ import annotations

from typing import Protocol

from bot.models import ExportJob
from bot.money import ExportPrice


class ExportNotifier(Protocol):
    """Tells channels how an export ended."""

    def export_finished(
        self, job: ExportJob, price: ExportPrice, channels: list[str], mention: str | None = None
    ) -> bool:
        """Post the result with what it cost (`price`, computed by the caller); True when it reached every channel
        (False: try again next cycle). `mention`: on-call for a failed scheduled export."""
        ...
