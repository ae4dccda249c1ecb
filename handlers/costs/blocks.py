"""Block Kit for /ddb-cost: what backups of one table cost. Pure builder; the table name and the bases of the
estimates are escaped here."""

from __future__ import annotations

from bot.money import CostReport, dollars
from bot.timefmt import size
from handlers.kit import emoji
from handlers.kit.blocks import (
    FOREIGN_TEXT,
    SECTION_TEXT,
    Message,
    code,
    context,
    escape,
    estimate_label,
    listing,
    message,
    section,
)
from handlers.kit.text import plural, when


def cost_message(report: CostReport) -> Message:
    """The cost report of one table."""
    name = code(report.table.ref.display)
    pitr_state = "on" if report.pitr_enabled else "off — this is what turning it on would cost"
    lines = [
        f"*Table* {name}: {size(report.size.size_bytes)}, {plural(report.size.item_count, 'item')}",
        f"*PITR* ({pitr_state}): *{dollars(report.pitr_monthly)} per month*",
        f"*One full export*: *{dollars(report.full_export)}*",
        f"*One incremental export*: about *{dollars(report.incremental_export)}* — "
        f"{escape(report.incremental_basis, 600)}",
        f"*S3 storage of kept exports*: {size(report.retained_bytes)} → *{dollars(report.retained_monthly)} per "
        f"month* (S3 Standard; {escape(report.retained_basis, 600)})",
    ]
    blocks = [section(f"{emoji.COST} Backup costs of {name}"), section("\n".join(lines))]
    if report.recent:
        heading = "*Recent exports (actual, from BilledSizeBytes)*"
        recent = [
            f"{code(item.job.export_id, 200)} {when(item.job.ended_at)} · {size(item.job.billed_size_bytes)} billed · "
            f"*{dollars(item.cost)}*"
            for item in report.recent
        ]
        blocks.append(section(f"{heading}\n{listing(recent, 'exports', SECTION_TEXT - len(heading) - 1)}"))
    if report.size.note:
        blocks.append(context(f"{emoji.INFO} {escape(report.size.note, FOREIGN_TEXT)}"))
    blocks.append(context(estimate_label(report.basis)))
    return message(f"Backup costs of {escape(report.table.ref.display, 600)}", *blocks)
