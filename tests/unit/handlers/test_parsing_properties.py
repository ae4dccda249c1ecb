"""Any text a person can type into a slash command is either understood or answered with a usage error saying how
to write it; and options written with any values, quoted as a shell would, read back exactly."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import UsageError
from handlers.costs.parsing import parse_cost
from handlers.exports.parsing import EXPORT_HELP, parse_export, parse_status
from handlers.kit.parsing import split_options, tokenize
from handlers.pitr.parsing import parse_pitr
from handlers.restores.parsing import parse_restore
from handlers.schedules.parsing import parse_schedule
from scheduler.cron import ApsCronCalendar

ALIASES = ("prod", "staging")
CALENDAR = ApsCronCalendar()
PARSERS: dict[str, Callable[[str], Any]] = {
    "/ddb-pitr": lambda text: parse_pitr(text, ALIASES),
    "/ddb-export": lambda text: parse_export(text, ALIASES),
    "/ddb-status": lambda text: parse_status(text, ALIASES),
    "/ddb-cost": lambda text: parse_cost(text, ALIASES),
    "/ddb-restore": lambda text: parse_restore(text, ALIASES),
    "/ddb-schedule": lambda text: parse_schedule(text, CALENDAR, ALIASES),
}
PIECES = st.sampled_from(
    [
        "orders",
        "prod:orders",
        "nosuch:orders",
        "arn:aws:dynamodb:us-east-1:123456789012:table/orders",
        "s3://b/p",
        "to=",
        "into=x",
        "key=pk:S",
        "at=2026-01-01T00:00:00Z",
        "at=latest",
        "bucket=b",
        "owner=1",
        "format=ION",
        "type=incremental",
        'cron="0 2 * * *"',
        "cron='* *'",
        "tz=UTC",
        "add",
        "list",
        "remove",
        "run",
        "enable",
        "help",
        "=",
        "==",
        '"',
        "'",
        "“",
        "‘",
        "<!channel>",
        "\\",
        " ",
        "\t",
        "é",
        "\x00",
    ]
)
TEXTS = st.one_of(st.text(max_size=60), st.lists(PIECES, max_size=8).map(" ".join))


@pytest.mark.parametrize("command", sorted(PARSERS))
@given(text=TEXTS)
def test_any_text_is_understood_or_refused_with_how_to_write_it(command: str, text: str) -> None:
    message: str | None = None
    try:
        PARSERS[command](text)
    except UsageError as error:
        message = error.message
    assert message is None or message.strip(), "an error says what is wrong"


OPTION_KEYS = ("bucket", "prefix", "owner", "format")
VALUES = st.text(st.characters(blacklist_characters="“”\x00", blacklist_categories=("Cs",)), min_size=1, max_size=30)
WORDS = st.text(st.characters(blacklist_characters="=“”\x00", blacklist_categories=("Cs",)), min_size=1, max_size=20)


@given(
    words=st.lists(WORDS, max_size=3),
    options=st.dictionaries(st.sampled_from(OPTION_KEYS), VALUES, max_size=4),
)
def test_options_quoted_as_a_shell_would_read_back_exactly(words: list[str], options: dict[str, str]) -> None:
    text = " ".join([*map(shlex.quote, words), *(shlex.quote(f"{k}={v}") for k, v in options.items())])
    found_words, found_options = split_options(tokenize(text, EXPORT_HELP), OPTION_KEYS, EXPORT_HELP)
    assert (found_words, found_options) == (words, options)


@given(key=st.sampled_from(OPTION_KEYS), first=VALUES, second=VALUES)
def test_an_option_given_twice_is_refused_whatever_its_values(key: str, first: str, second: str) -> None:
    tokens = [f"{key}={first}", f"{key.upper()}={second}"]
    with pytest.raises(UsageError, match=re.escape(f"`{key}=` is given twice")):
        split_options(tokens, OPTION_KEYS, EXPORT_HELP)
