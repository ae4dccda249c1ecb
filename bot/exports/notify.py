"""The port through which background work reports to people; handlers/ implements it with Slack."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from bot.aws.pricing import Rates
from bot.models import ExportJob


class ExportNotifier(Protocol):
    """Tells channels how an export ended."""

    def export_finished(
        self, job: ExportJob, cost: Decimal | None, rates: Rates, channels: list[str], mention: str | None = None
    ) -> bool:
        """Post the result; True when it reached every channel (False: try again next cycle). `mention`: on-call
        for a failed scheduled export."""
        ...
