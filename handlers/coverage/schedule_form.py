"""The Schedule exports button of a coverage row and the modal behind it: a nightly full export to the default
bucket, prefilled; submitted through the same validation and store as `/ddb-schedule add`."""

from __future__ import annotations

import json
from typing import Any

from handlers.kit.blocks import Block, View, button, code, plain, row_action, section

SCHEDULE_ACTION = "coverage_schedule"
SCHEDULE_CALLBACK = "coverage_schedule_form"
FORM_CRON, FORM_TYPE, FORM_BUCKET = "schedule_cron", "schedule_type", "schedule_bucket"
FORM_FIELD = "value"
NIGHTLY = "0 2 * * *"
KEY_BUDGET = 1000  # a table key is at most 319 characters (63 for the alias, 255 for the name): never cut for real
VIEW_TITLE = 24
METADATA = 3000


def schedule_button(table_key: str, row: int) -> Block:
    """The `row`-th row's button (its value is the table as `/ddb-schedule add` takes it)."""
    return button(f"Schedule exports: {table_key}", row_action(SCHEDULE_ACTION, row), table_key)


def schedule_form(table_key: str, channel_id: str | None, default_bucket: str | None) -> View:
    """The modal: cron (nightly by default), full or incremental, and the bucket (the default one prefilled)."""
    bucket: dict[str, Any] = {"type": "plain_text_input", "action_id": FORM_FIELD, "placeholder": plain("acme-backups")}
    if default_bucket:
        bucket["initial_value"] = default_bucket
    return {
        "type": "modal",
        "callback_id": SCHEDULE_CALLBACK,
        "private_metadata": _metadata(table_key, channel_id),
        "title": plain("Schedule exports", VIEW_TITLE),
        "submit": plain("Add the schedule", VIEW_TITLE),
        "close": plain("Cancel", VIEW_TITLE),
        "blocks": [
            section(f"Exports of {code(table_key, 600)}, reported to the notification channel."),
            {
                "type": "input",
                "block_id": FORM_CRON,
                "label": plain("When (cron, UTC)"),
                "element": {"type": "plain_text_input", "action_id": FORM_FIELD, "initial_value": NIGHTLY},
            },
            {
                "type": "input",
                "block_id": FORM_TYPE,
                "label": plain("Export type"),
                "element": {
                    "type": "radio_buttons",
                    "action_id": FORM_FIELD,
                    "initial_option": _option("full", "Full export"),
                    "options": [_option("full", "Full export"), _option("incremental", "Incremental (changes)")],
                },
            },
            {
                "type": "input",
                "block_id": FORM_BUCKET,
                "optional": True,
                "label": plain("S3 bucket (empty: the default)"),
                "element": bucket,
            },
        ],
    }


def _metadata(table_key: str, channel_id: str | None) -> str:
    """The table and channel within the 3,000 characters of private_metadata (real keys always fit whole)."""
    key = table_key[:KEY_BUDGET]
    while len(text := json.dumps({"table": key, "channel": channel_id}, ensure_ascii=False)) > METADATA:
        key = key[: len(key) // 2]
    return text


def _option(value: str, text: str) -> Block:
    return {"text": plain(text, 75), "value": value}
