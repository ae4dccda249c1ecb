"""Block Kit for picking an export to restore: the list with Restore… buttons and the form behind them.

Pure functions (data in, dict out); every user- or AWS-supplied text is escaped here.
"""

from __future__ import annotations

import json
from datetime import datetime

from bot.models import ExportJob, ExportStatus, ExportType, export_id_of
from bot.timefmt import iso, size
from handlers.kit.blocks import Block, Message, View, button, code, context, escape, message, more, plain, section
from handlers.kit.text import plural, when

OPEN_FORM_ACTION = "restore_open_form"
FORM_CALLBACK = "restore_form"
FORM_TARGET, FORM_MODE, FORM_KEY, FORM_BILLING = "restore_target", "restore_mode", "restore_key", "restore_billing"
FORM_FIELD = "value"
MAX_LISTED = 15
VIEW_TITLE = 24  # a modal's title, submit and close (Slack's modal view reference)
OPTION_TEXT = 75
BUTTON_VALUE = 2000


def export_choices(title: str, jobs: list[ExportJob], table: str | None = None) -> Message:
    """Recent completed exports, each with a Restore… button that opens the form (`table`: the one table listed,
    named in the hint when it has none)."""
    completed = [job for job in jobs if job.status == ExportStatus.COMPLETED]
    done = completed[:MAX_LISTED]
    heading = escape(title, 600)
    if not done:
        text = f"{heading}: no completed exports."
        make = f"`/ddb-export {escape(table, 600)}`" if table else "`/ddb-export` and the table's name"
        return message(text, section(f"*{heading}*\nNo completed exports. Make one with {make}."))
    blocks: list[Block] = [section(f"*{heading}* — pick one to restore (another person must approve)")]
    for job in done:
        kind = "incremental" if job.export_type == ExportType.INCREMENTAL else "full"
        moment = job.export_time or job.export_to or job.ended_at
        line = (
            f"{code(job.export_id, 200)} {code(job.table_key, 600)} ({kind}) · as of {when(moment)} · "
            f"{plural(job.item_count or 0, 'item')} · {size(job.billed_size_bytes)}"
        )
        if len(job.export_arn) <= BUTTON_VALUE:
            blocks.append({**section(line), "accessory": button("Restore…", OPEN_FORM_ACTION, job.export_arn)})
        else:  # a button cannot carry it (no real ARN is this long): the command still can
            blocks.append(section(f"{line} · restore it with `/ddb-restore`"))
    if len(completed) > len(done):
        blocks.append(context(f"{more(len(completed) - len(done), 'completed exports')}: name a table to see its own."))
    return message(f"{heading}: {plural(len(done), 'completed export')}", *blocks)


def restore_form(source: str, channel_id: str | None) -> View:
    """The modal behind Restore…: target table and mode (key and billing only matter for a new table).

    `source` is a Restore… button's value, what `/ddb-restore` takes before the target: an AWS export ARN, or
    `<table> at=<time>` from the catalogue's answer (the chain is picked again when the request is made). Either
    fits the 3,000 characters of private_metadata.
    """
    metadata = json.dumps({"source": source, "channel": channel_id})
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "private_metadata": metadata,
        "title": plain("Restore an export", VIEW_TITLE),
        "submit": plain("Ask for approval", VIEW_TITLE),
        "close": plain("Cancel", VIEW_TITLE),
        "blocks": [
            section(f"{source_label(source)}. The restore runs only after another person approves it."),
            {
                "type": "input",
                "block_id": FORM_TARGET,
                "label": plain("Target table"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": FORM_FIELD,
                    "placeholder": plain("orders-restored"),
                },
            },
            {
                "type": "input",
                "block_id": FORM_MODE,
                "label": plain("Mode"),
                "element": {
                    "type": "radio_buttons",
                    "action_id": FORM_FIELD,
                    "initial_option": _option("to", "New table (ImportTable)"),
                    "options": [
                        _option("to", "New table (ImportTable)"),
                        _option("into", "Existing table (write the items into it)"),
                    ],
                },
            },
            {
                "type": "input",
                "block_id": FORM_KEY,
                "optional": True,
                "label": plain("Key schema, only if the source table is gone"),
                "element": {"type": "plain_text_input", "action_id": FORM_FIELD, "placeholder": plain("pk:S,sk:S")},
            },
            {
                "type": "input",
                "block_id": FORM_BILLING,
                "optional": True,
                "label": plain("Billing of a new table"),
                "element": {
                    "type": "static_select",
                    "action_id": FORM_FIELD,
                    "initial_option": _option("on-demand", "On-demand"),
                    "options": [_option("on-demand", "On-demand"), _option("provisioned", "Provisioned")],
                },
            },
        ],
    }


def chain_source(table: str, at: datetime) -> str:
    """A Restore… button's value for a table as of a time (the catalogue's answer): `/ddb-restore`'s own words."""
    return f"{table} at={iso(at)}"


def source_label(source: str) -> str:
    """What the form restores, in words: the export's id, or the table and the time."""
    table, marker, at = source.partition(" at=")
    if marker:
        return f"{code(table, 600)} as of {code(at, 100)} (a full export and the incrementals after it)"
    return f"Export {code(export_id_of(source), 200)}"


def _option(value: str, text: str) -> Block:
    return {"text": plain(text, OPTION_TEXT), "value": value}
