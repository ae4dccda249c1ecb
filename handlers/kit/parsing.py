"""What every command's parser is made of: its help, the help request, shell-like words, key=value options and
table names. Each command's own usage lives with its surface and feeds both `help` and parse errors."""

from __future__ import annotations

import re
import shlex
from collections.abc import Collection
from dataclasses import dataclass

from bot.aws.tables import parse_table_ref
from bot.errors import UsageError
from bot.words import nearest


@dataclass(frozen=True)
class CommandHelp:
    """What a command does and how to write it."""

    command: str
    summary: str
    usage: tuple[str, ...]
    examples: tuple[str, ...]

    @property
    def usage_text(self) -> str:
        """The usage lines, one per form."""
        return "\n".join(self.usage)


TABLE_HINT = "a table: `orders`, `<account alias>:orders` or the table's ARN"


@dataclass(frozen=True)
class HelpRequest:
    """The user asked for help, or gave no arguments to a command that needs some."""

    help: CommandHelp


def tokenize(text: str, help_: CommandHelp, *, curly_single_quotes: bool = False) -> list[str]:
    """Split like a shell, so values may be quoted; unbalanced quotes are a usage error. Slack's curly double
    quotes count as quotes; curly single quotes too when asked (an apostrophe in a prefix would otherwise quote)."""
    text = text.replace("“", '"').replace("”", '"')
    if curly_single_quotes:
        text = text.replace("‘", "'").replace("’", "'")
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise UsageError(f"Could not read the command: {exc} (check the quotes).", help_.usage_text) from None


def split_options(
    tokens: list[str],
    allowed: Collection[str],
    help_: CommandHelp,
    *,
    literal_prefixes: tuple[str, ...] = (),
    key_pattern: re.Pattern[str] | None = None,
    strip_values: bool = False,
    subject: str | None = None,
) -> tuple[list[str], dict[str, str]]:
    """Separate positional words from key=value options, refusing unknown or repeated options.

    A token starting with one of `literal_prefixes` (e.g. `s3://`), or whose key does not match `key_pattern`, is a
    word even when it holds a `=`. `subject` names what takes the options in errors (default: the command).
    """
    words: list[str] = []
    options: dict[str, str] = {}
    for token in tokens:
        key, equals, value = token.partition("=")
        if not equals or token.startswith(literal_prefixes) or (key_pattern and not key_pattern.fullmatch(key)):
            words.append(token)
            continue
        key = key.lower()
        value = value.strip() if strip_values else value
        if key not in allowed:
            known = ", ".join(f"`{k}=`" for k in allowed) or "no options"
            guess = nearest(key, allowed)
            hint = f" Did you mean `{guess}=`?" if guess else ""
            raise UsageError(
                f"Unknown option `{key}=`.{hint} {subject or help_.command} takes {known}.", help_.usage_text
            )
        if key in options:
            raise UsageError(f"`{key}=` is given twice; give it once.", help_.usage_text)
        if not value:
            raise UsageError(f"`{key}=` has no value.", help_.usage_text)
        options[key] = value
    return words, options


def yes_or_no(text: str, option: str, help_: CommandHelp) -> bool:
    """`true` or `false` (as `keep=`, `force=`, `confirm=` take them); a usage error otherwise."""
    value = text.strip().lower()
    if value not in {"true", "false"}:
        raise UsageError(f"`{option}=` is `true` or `false`, not `{text[:40]}`.", help_.usage_text)
    return value == "true"


def wants_help(tokens: list[str]) -> bool:
    """`help`, `-h` or `--help` anywhere in the text."""
    return any(t.lower() in {"help", "-h", "--help"} for t in tokens)


def table_word(word: str, help_: CommandHelp, aliases: Collection[str]) -> str:
    """`word` when it names a table (a usage error in `help_`'s words when not)."""
    try:
        parse_table_ref(word, set(aliases))
    except UsageError as exc:
        raise UsageError(exc.message, help_.usage_text) from None
    return word


def no_extra_words(words: list[str], expected: int, help_: CommandHelp) -> None:
    """A usage error naming what follows the `expected` words."""
    if len(words) > expected:
        extra = " ".join(words[expected:])
        raise UsageError(f"I don't understand `{extra}`.", help_.usage_text)
