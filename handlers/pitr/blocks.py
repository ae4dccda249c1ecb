"""Block Kit for point-in-time recovery: its status (or the result of turning it on) with what it costs per month.
Pure builders; the table name and AWS's notes are escaped here."""

from __future__ import annotations

from bot.money import dollars
from bot.pitr import PitrReport
from bot.timefmt import iso, size
from handlers.kit.blocks import FOREIGN_TEXT, Message, code, context, escape, estimate_label, message, section


def pitr_message(report: PitrReport) -> Message:
    """PITR status (or the result of turning it on) with its monthly cost."""
    table, window = report.table, report.window
    name = code(table.ref.display)
    if window.enabled:
        head = f":white_check_mark: PITR is *on* for {name}" + (" (just turned on)" if report.changed else "")
        body = (
            f"Recovery period: *{window.recovery_days} days*\nEarliest restorable: {iso(window.earliest)}\n"
            f"Latest restorable: {iso(window.latest)}"
        )
    else:
        head = f":warning: PITR is *off* for {name}"
        body = f"Turn it on with {code(f'/ddb-pitr {table.ref.display} enable [days=1-35]')}."
    cost = (
        f"PITR costs about *{dollars(report.monthly_cost)} per month* for {size(report.size.size_bytes)} "
        f"({report.size.item_count:,} items), whatever the recovery period."
    )
    blocks = [section(f"{head}\n{body}"), section(cost)]
    if report.size.note:
        blocks.append(context(escape(report.size.note, FOREIGN_TEXT)))
    blocks.append(context(f"{escape(table.place.region, 100)} · {estimate_label(report.rates)}"))
    return message(head, *blocks)
