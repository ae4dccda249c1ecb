"""Schedules that cover many tables: every table of an account (`*`, `prod:*`) or those carrying a tag
(`tag:backup=daily`, `prod:tag:backup=daily`), found again at every fire, so tables created later are included.

Each table's export is its own, with its own ClientToken (schedule, table, fire), so a fire that is run again
(after a crash, or to start what had to wait) starts nothing twice. DynamoDB runs at most 300 exports at once per
account: a fire starts what fits and leaves the rest queued for the next housekeeping pass.

A table whose tags cannot be read (denied, or deleted between ListTables and DescribeTable) is kept with the reason,
never allowed to sink the others: the fire names it and tries it again on its own (bot.schedules.fanout).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from bot.aws.accounts import Place
from bot.aws.errors import translate
from bot.aws.tables import TableRef
from bot.core import Core
from bot.errors import AwsError, BotError, UsageError

TAG = re.compile(r"^tag:(?P<key>[^=]{1,128})=(?P<value>.{0,256})$")
SELECTOR_HELP = (
    "A schedule can cover many tables: `*` (every table of the bot's account), `prod:*` (every table of the "
    "account aliased `prod`), `tag:backup=daily` or `prod:tag:backup=daily` (the tables carrying that tag)."
)
EXPORTS_IN_FLIGHT_PER_ACCOUNT = 300  # DynamoDB's limit of concurrent ExportTableToPointInTime per account
NOT_FOUND = frozenset({"ResourceNotFoundException", "TableNotFoundException"})


@dataclass(frozen=True)
class TableSelector:
    """Which tables a many-table schedule covers."""

    alias: str | None
    tag: tuple[str, str] | None  # (key, value); None: every table

    @property
    def key(self) -> str:
        """The selector as written canonically (`prod:*`, `tag:backup=daily`), stored as the schedule's table."""
        what = f"tag:{self.tag[0]}={self.tag[1]}" if self.tag else "*"
        return f"{self.alias}:{what}" if self.alias else what

    def table_text(self, name: str) -> str:
        """A matching table as commands name it."""
        return f"{self.alias}:{name}" if self.alias else name


def parse_selector(text: str, aliases: Collection[str]) -> TableSelector | None:
    """The selector `text` writes, None when it names one table; UsageError for an unknown alias or a bad tag."""
    if text == "*" or text.startswith("tag:"):
        alias, rest = "", text
    elif ":" in text and not text.startswith("arn:"):
        alias, rest = text.split(":", 1)
        if rest != "*" and not rest.startswith("tag:"):
            return None
    else:
        return None
    if alias and alias not in aliases:
        known = ", ".join(f"`{a}`" for a in sorted(aliases)) or "none are configured"
        raise UsageError(f"`{alias}` is not an account alias (known: {known}). {SELECTOR_HELP}")
    if rest == "*":
        return TableSelector(alias or None, None)
    match = TAG.fullmatch(rest)
    if match is None:
        raise UsageError(f"`{text}` is not a tag selector. {SELECTOR_HELP}")
    return TableSelector(alias or None, (match["key"], match["value"]))


@dataclass(frozen=True)
class Selection:
    """The tables a selector covers now (as commands name them, sorted), and those whose tags could not be read
    (name → why, as people read it): they may be covered, so they are tried again on their own."""

    tables: tuple[str, ...]
    unreadable: tuple[tuple[str, str], ...] = ()


def matching_tables(core: Core, selector: TableSelector) -> Selection:
    """The tables the selector covers now; BotError (saying what to fix) when the account's tables cannot be listed.
    A table whose tags cannot be read is in `unreadable`, never an error for the others."""
    place = core.aws.place_of(TableRef("-", alias=selector.alias))
    client = core.aws.dynamodb(place)
    try:
        names = [n for page in client.get_paginator("list_tables").paginate() for n in page["TableNames"]]
    except Exception as exc:
        raise translate(exc, "dynamodb:ListTables", f"Tables of {_account(place)}") from exc
    if selector.tag is None:
        return Selection(tuple(sorted(selector.table_text(n) for n in names)))
    tables, unreadable = [], []
    for name in names:
        try:
            if table_tagged(core, selector, name):
                tables.append(selector.table_text(name))
        except BotError as error:
            unreadable.append((selector.table_text(name), unreadable_reason(error)))
    return Selection(tuple(sorted(tables)), tuple(sorted(unreadable)))


def table_tagged(core: Core, selector: TableSelector, name: str) -> bool:
    """Whether table `name` (as DynamoDB names it) carries the selector's tag now; BotError when it cannot be told."""
    if selector.tag is None:
        return True
    place = core.aws.place_of(TableRef("-", alias=selector.alias))
    client = core.aws.dynamodb(place)
    try:
        arn = client.describe_table(TableName=name)["Table"]["TableArn"]
    except Exception as exc:
        raise translate(exc, "dynamodb:DescribeTable", f"Table `{name}` ({place.region})") from exc
    try:
        page = client.list_tags_of_resource(ResourceArn=arn)
        tags = list(page.get("Tags", []))
        while page.get("NextToken"):
            page = client.list_tags_of_resource(ResourceArn=arn, NextToken=page["NextToken"])
            tags += page.get("Tags", [])
    except Exception as exc:
        raise translate(exc, "dynamodb:ListTagsOfResource", f"Table `{name}` ({place.region})") from exc
    return any(t["Key"] == selector.tag[0] and t["Value"] == selector.tag[1] for t in tags)


def unreadable_reason(error: BotError) -> str:
    """Why a table's tags could not be read, as people read it (a table gone since ListTables says so)."""
    if isinstance(error, AwsError) and error.code in NOT_FOUND:
        return "it was listed, then not found when its tags were read (deleted since?)."
    return error.message + (f" {error.fix}" if error.fix else "")


def _account(place: Place) -> str:
    return f"account `{place.alias}` ({place.region})" if place.alias else f"this account ({place.region})"
