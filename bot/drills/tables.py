"""The drill's throwaway table: its name, its tag, and the only deletion the bot ever does.

A drill table is named `<table>-drill-<UTC yyyymmddHHMM>` and tagged `ddb-backup-bot:drill=<drill id>`. Before
deleting, both are checked on the table as it is now (ListTagsOfResource), so a mistake in the bot can never delete
a table the team owns; the IAM policy enforces the same tag condition on DeleteTable.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from bot.aws.errors import translate
from bot.errors import PreconditionFailed

DRILL_TAG = "ddb-backup-bot:drill"
DRILL_NAME = re.compile(r"^(?P<source>[A-Za-z0-9_.-]{3,237})-drill-(?P<stamp>\d{12})$")
MAX_SOURCE = 255 - len("-drill-yyyymmddHHMM")


class DrillTableRefused(PreconditionFailed):
    """The bot was asked to delete a table that is not one of its drill tables."""


def drill_table_name(source: str, moment: datetime) -> str:
    """`orders-drill-202612021530`; a source name too long to fit is shortened."""
    return f"{source[:MAX_SOURCE]}-drill-{moment:%Y%m%d%H%M}"


def delete_drill_table(client: Any, name: str, drill_id: str) -> None:
    """DeleteTable, only for a table named like a drill table and tagged with this drill's id; else
    DrillTableRefused and nothing is deleted."""
    if DRILL_NAME.match(name) is None:
        raise DrillTableRefused(f"`{name}` is not a drill table name (`<table>-drill-<yyyymmddHHMM>`): not deleted.")
    try:
        arn = client.describe_table(TableName=name)["Table"]["TableArn"]
        tags = client.list_tags_of_resource(ResourceArn=arn).get("Tags", [])
    except Exception as exc:
        raise translate(exc, "dynamodb:ListTagsOfResource", f"Drill table `{name}`") from exc
    if {"Key": DRILL_TAG, "Value": drill_id} not in [{"Key": t.get("Key"), "Value": t.get("Value")} for t in tags]:
        raise DrillTableRefused(f"`{name}` does not carry the tag `{DRILL_TAG}={drill_id}`: not deleted.")
    try:
        client.delete_table(TableName=name)
    except Exception as exc:
        raise translate(exc, "dynamodb:DeleteTable", f"Drill table `{name}`") from exc
