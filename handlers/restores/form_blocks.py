"""Block Kit for picking an export to restore: the list with Restore… buttons and the form behind them.

Pure functions (data in, dict out); every user- or AWS-supplied text is escaped here.
"""

from __future__ import annotations

import json
from typing import Any

from bot.models import ExportJob, ExportStatus, ExportType
from bot.timefmt import iso, size
from handlers.blocks import Message, code, escape, message, section

OPEN_FORM_ACTION = "restore_open_form"
FORM_CALLBACK = "restore_form"
FORM_TARGET, FORM_MODE, FORM_KEY, FORM_BILLING = "restore_target", "restore_mode", "restore_key", "restore_billing"
FORM_FIELD = "value"
MAX_LISTED = 15


def export_choices(title: str, jobs: list[ExportJob]) -> Message:
    """Recent completed exports, each with a Restore… button that opens the form."""
    done = [job for job in jobs if job.status == ExportStatus.COMPLETED][:MAX_LISTED]
    if not done:
        text = f"{title}: no completed exports."
        return message(text, section(f"*{escape(title)}*\nNo completed exports. Make one with `/ddb-export <table>`."))
    blocks: list[dict[str, Any]] = [section(f"*{escape(title)}* — pick one to restore (another person must approve)")]
    for job in done:
        kind = "incremental" if job.export_type == ExportType.INCREMENTAL else "full"
        moment = job.export_time or job.export_to or job.ended_at
        line = (
            f"{code(job.export_id)} {code(job.table_key)} ({kind}) · as of {iso(moment)} · "
            f"{job.item_count or 0:,} items · {size(job.billed_size_bytes)}"
        )
        blocks.append(
            {
                **section(line),
                "accessory": {
                    "type": "button",
                    "action_id": OPEN_FORM_ACTION,
                    "text": {"type": "plain_text", "text": "Restore…"},
                    "value": job.export_arn,
                },
            }
        )
    return message(f"{title}: {len(done)} completed exports", *blocks)


def restore_form(export_arn: str, export_id: str, channel_id: str | None) -> dict[str, Any]:
    """The modal behind Restore…: target table and mode (key and billing only matter for a new table)."""
    metadata = json.dumps({"export": export_arn, "channel": channel_id})
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "private_metadata": metadata,
        "title": {"type": "plain_text", "text": "Restore an export"},
        "submit": {"type": "plain_text", "text": "Ask for approval"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            section(f"Export {code(export_id)}. The restore runs only after another person approves it."),
            {
                "type": "input",
                "block_id": FORM_TARGET,
                "label": {"type": "plain_text", "text": "Target table"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": FORM_FIELD,
                    "placeholder": _plain("orders-restored"),
                },
            },
            {
                "type": "input",
                "block_id": FORM_MODE,
                "label": {"type": "plain_text", "text": "Mode"},
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
                "label": {"type": "plain_text", "text": "Key schema, only if the source table is gone"},
                "element": {"type": "plain_text_input", "action_id": FORM_FIELD, "placeholder": _plain("pk:S,sk:S")},
            },
            {
                "type": "input",
                "block_id": FORM_BILLING,
                "optional": True,
                "label": {"type": "plain_text", "text": "Billing of a new table"},
                "element": {
                    "type": "static_select",
                    "action_id": FORM_FIELD,
                    "initial_option": _option("on-demand", "On-demand"),
                    "options": [_option("on-demand", "On-demand"), _option("provisioned", "Provisioned")],
                },
            },
        ],
    }


def _option(value: str, text: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


def _plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}
