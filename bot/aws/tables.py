"""How users name a table: `orders`, `prod:orders`, or its full ARN."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.errors import UsageError

TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
TABLE_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):dynamodb:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):table/(?P<name>[^/]+)$"
)
ALIASED = re.compile(r"^(?P<alias>[a-z0-9][a-z0-9_-]{0,62}):(?P<name>[^:]+)$")
TABLE_FORMS = "a table name (3–255 of A–Z a–z 0–9 _ . -), `<account alias>:<name>`, or the table's ARN"


@dataclass(frozen=True)
class TableRef:
    """A table as the user named it, resolved to name + where to find it."""

    name: str
    alias: str | None = None
    region: str | None = None
    account_id: str | None = None
    partition: str | None = field(default=None, compare=False)  # from an ARN: aws, aws-cn, aws-us-gov…

    @property
    def key(self) -> str:
        """Stable text form used in the store and in per-table config: `alias:name` or `name`."""
        if self.alias:
            return f"{self.alias}:{self.name}"
        if self.account_id and self.region:
            return f"arn:aws:dynamodb:{self.region}:{self.account_id}:table/{self.name}"
        return self.name

    @property
    def display(self) -> str:
        """How the bot writes the table in messages."""
        return self.key if self.alias else self.name


def parse_table_ref(text: str, known_aliases: frozenset[str] | set[str] = frozenset()) -> TableRef:
    """Parse a table reference, saying which form was expected when it is none of them."""
    text = text.strip()
    arn = TABLE_ARN.match(text)
    if arn:
        _check_name(arn["name"])
        return TableRef(arn["name"], region=arn["region"], account_id=arn["account"], partition=arn["partition"])
    aliased = ALIASED.match(text)
    if aliased:
        if aliased["alias"] not in known_aliases:
            listed = ", ".join(sorted(known_aliases)) or "none are set up (ask whoever runs the bot to add one)"
            raise UsageError(f"Unknown account alias `{aliased['alias']}`. Known aliases: {listed}.")
        _check_name(aliased["name"])
        return TableRef(aliased["name"], alias=aliased["alias"])
    _check_name(text)
    return TableRef(text)


def _check_name(name: str) -> None:
    if not TABLE_NAME.match(name):
        reason = "is too short" if len(name) < 3 else "is too long" if len(name) > 255 else "has other characters"
        raise UsageError(f"`{name}` is not a valid DynamoDB table name: it {reason}. Give {TABLE_FORMS}.")
