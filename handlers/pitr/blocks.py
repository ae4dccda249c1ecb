"""Block Kit for point-in-time recovery: its status (or what turning it on did) with what it costs per month.
Pure builders; the table name and AWS's notes are escaped here."""

from __future__ import annotations

from bot.money import dollars
from bot.pitr import PitrChange, PitrReport
from bot.timefmt import size
from handlers.kit import emoji
from handlers.kit.blocks import FOREIGN_TEXT, Message, code, context, escape, estimate_label, message, section
from handlers.kit.text import plural, when

DONE = {
    PitrChange.TURNED_ON: " (just turned on)",
    PitrChange.ALREADY_ON: " (it already was: nothing was changed)",
}


def pitr_message(report: PitrReport) -> Message:
    """PITR status (or what `enable` did: turned on, already on, period changed) with its monthly cost."""
    table, window = report.table, report.window
    name = code(table.ref.display)
    if window.enabled:
        head = f"{emoji.OK} PITR is *on* for {name}" + DONE.get(report.change, "")
        if report.change == PitrChange.PERIOD_CHANGED:
            head += f" (recovery period changed from {plural(report.previous_days, 'day')})"
        body = (
            f"Recovery period: *{plural(window.recovery_days, 'day')}*\nEarliest restorable: {when(window.earliest)}\n"
            f"Latest restorable: {when(window.latest)}"
        )
    else:
        head = f"{emoji.WARN} PITR is *off* for {name}"
        body = f"Turn it on with {code(f'/ddb-pitr {table.ref.display} enable [days=1-35]')}."
    cost = (
        f"PITR costs about *{dollars(report.monthly_cost)} per month* for {size(report.size.size_bytes)} "
        f"({plural(report.size.item_count, 'item')}), whatever the recovery period."
    )
    blocks = [section(f"{head}\n{body}"), section(cost)]
    if report.size.note:
        blocks.append(context(escape(report.size.note, FOREIGN_TEXT)))
    blocks.append(context(f"{escape(table.place.region, 100)} · {estimate_label(report.rates)}"))
    return message(head, *blocks)
