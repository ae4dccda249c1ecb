"""A key's state older than the PITR window, from the exports the bot knows: the newest full export at or before the
time asked for, then the incrementals that continue it without a hole, as far as they reach without passing it.

An incremental export gives each key's state at its window's END, so the state can be known only at an export's
own time: the answer is the state at the latest such time at or before the one asked for (`as_of`), and says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.models import ExportFormat, ExportJob, ExportStatus, ExportType
from bot.recovery.exporting import DONE, RecoveryExport


@dataclass(frozen=True)
class KnownChain:
    """The exports to read, oldest first, and the moment whose state they give."""

    exports: tuple[ExportJob, ...]
    as_of: datetime

    @property
    def billed_bytes(self) -> int:
        """What the exports held when DynamoDB billed them (the data a scan reads, before gzip)."""
        return sum(job.billed_size_bytes or 0 for job in self.exports)

    def recovery_exports(self) -> tuple[RecoveryExport, ...]:
        """As the preparation records them."""
        return tuple(
            RecoveryExport(
                arn=job.export_arn,
                bucket=job.bucket,
                prefix=job.s3_prefix,
                owner=job.bucket_owner,
                export_type=job.export_type.value,
                export_time=job.export_time,
                window_from=job.export_from,
                window_to=job.export_to,
                status=DONE,
                billed_bytes=job.billed_size_bytes,
                item_count=job.item_count,
            )
            for job in self.exports
        )


def chain_before(jobs: Iterable[ExportJob], table_arn: str, at: datetime) -> KnownChain | None:
    """The chain of the table's finished DynamoDB JSON exports that reaches furthest without passing `at`."""
    usable = [
        job
        for job in jobs
        if job.table_arn == table_arn
        and job.status == ExportStatus.COMPLETED
        and job.export_format == ExportFormat.DYNAMODB_JSON
    ]
    fulls = [job for job in usable if job.export_type == ExportType.FULL and job.export_time and job.export_time <= at]
    if not fulls:
        return None
    full = max(fulls, key=lambda job: job.export_time or at)
    end = full.export_time or at
    chain = [full]
    windows = sorted(
        (job for job in usable if job.export_type == ExportType.INCREMENTAL and job.export_from and job.export_to),
        key=lambda job: (job.export_from, job.export_to),
    )
    while True:
        step = max(
            (job for job in windows if job.export_from <= end < job.export_to <= at),  # type: ignore[operator]
            key=lambda job: job.export_to,  # type: ignore[arg-type,return-value]
            default=None,
        )
        if step is None or step.export_to is None:
            return KnownChain(tuple(chain), end)
        chain.append(step)
        end = step.export_to
