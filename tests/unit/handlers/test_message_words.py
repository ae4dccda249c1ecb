"""Every builder speaks the same words (handlers/kit/text.py, handlers/kit/emoji.py): run every case of
test_block_kit_limits, with big numbers and with lists of one, and scan what Slack would render for what a person
should never read: "(s)", a setting's name, a number of 1,000 or more without its separator, "1 items", a Slack id
that is not a mention; and read the source of handlers/ for an emoji that is not from the vocabulary."""

from __future__ import annotations

import ast
import re
from dataclasses import replace
from pathlib import Path

import pytest

from handlers.kit import emoji
from tests.unit.handlers.test_block_kit_limits import (
    ALL_CASES,
    APPROVERS,
    CASE_IDS,
    CHANNELS,
    MAXIMAL,
    Case,
    Given,
    rendered_texts,
)

ROOT = Path(__file__).resolve().parents[3]
ONE = replace(MAXIMAL, rows=1)  # lists of one: "1 exports" would show here
SLACK_TOKEN = re.compile(r"<[^<>\s][^<>]*>")  # mentions, channel links, dates: Slack renders them
CODE = re.compile(r"```.*?```|`[^`]*`", re.S)  # identifiers (export ids, account ids) are shown as code
UNFORMATTED = re.compile(r"(?<![\w.,:/$^#@+-])\d{4,}(?![\w,.:/%-])")
ONE_MANY = re.compile(r"(?<![\w.,-])1 (?!of\b)[a-z]+s\b")
KNOWN_IDS = ("U0ALICE", *APPROVERS, *CHANNELS, "S0ONCALL")
EMOJI = re.compile(r"(?<![\w`*\])]):[a-z][a-z0-9_+-]*:(?![\w])")


def readable(text: str) -> str:
    """What a person reads as words: Slack's tokens and code spans taken out."""
    return CODE.sub(" ", SLACK_TOKEN.sub(" ", text))


def wrong_words(payload: dict[str, object], g: Given) -> list[str]:
    found = []
    for text in rendered_texts(payload):
        if "(s)" in text:
            found.append(f"'(s)' in {text[:120]!r}")
        if "DDBBOT_" in text:
            found.append(f"a setting's name in {text[:120]!r}")
        words = readable(text.replace(g.text, " ").replace(g.name, " "))
        found += [f"unformatted number {m!r} in {words[:160]!r}" for m in UNFORMATTED.findall(words)]
        found += [f"{m!r} in {words[:160]!r}" for m in ONE_MANY.findall(words)]
        found += [f"raw Slack id {i} in {words[:160]!r}" for i in KNOWN_IDS if re.search(rf"\b{i}\b", words)]
    return found


@pytest.mark.parametrize(("name", "index", "case"), ALL_CASES, ids=CASE_IDS)
def test_no_builder_says_s_in_brackets_a_setting_a_bare_number_or_a_raw_id(name: str, index: int, case: Case) -> None:
    assert wrong_words(case(MAXIMAL), MAXIMAL) == []
    assert wrong_words(case(ONE), ONE) == []


def test_the_scan_finds_each_kind_of_wrong_word() -> None:
    payload = {
        "text": "3 approval(s) · 43281 items · ask for DDBBOT_APPROVERS · from U0ALICE · 1 items",
        "blocks": [],
    }
    found = " ".join(wrong_words(payload, MAXIMAL))
    for needle in ("'(s)'", "'43281'", "setting's name", "raw Slack id U0ALICE", "'1 items'"):
        assert needle in found
    fine = {"text": "43,281 items · `123456789012` · <@U0ALICE> · <!date^1773104400^{time}|2026-03-10T01:00:00Z>"}
    assert wrong_words(fine, MAXIMAL) == []


def emoji_literals(path: Path) -> list[str]:
    """`:name:` in the string literals of one module (f-string parts included)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found += [f"{path.relative_to(ROOT)}:{node.lineno} {m}" for m in EMOJI.findall(node.value)]
    return found


def test_every_emoji_in_handlers_comes_from_the_vocabulary() -> None:
    vocabulary = ROOT / "handlers" / "kit" / "emoji.py"
    found = [
        hit for path in sorted((ROOT / "handlers").rglob("*.py")) if path != vocabulary for hit in emoji_literals(path)
    ]
    assert found == []


def test_the_vocabulary_gives_each_meaning_its_own_emoji() -> None:
    values = [v for k, v in vars(emoji).items() if k.isupper()]
    assert len(values) == len(set(values))


OPERATOR_ONLY = {
    "ConfigError",
    "SchemaTooNew",
    "StartupError",
}  # read by whoever runs the bot (start, /readyz), never in Slack


def user_facing_errors() -> set[str]:
    """The names of BotError and its subclasses a Slack user may read, found in bot/ by walking the classes."""
    bases = {"BotError"}
    classes = [
        node
        for path in sorted((ROOT / "bot").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef)
    ]
    grown = True
    while grown:
        found = {c.name for c in classes if any(getattr(b, "id", None) in bases for b in c.bases)}
        grown = not found <= bases
        bases |= found
    return bases - OPERATOR_ONLY


def test_no_error_a_user_reads_says_s_in_brackets_or_names_a_setting() -> None:
    names = user_facing_errors()
    found = []
    for path in sorted([*(ROOT / "bot").rglob("*.py"), *(ROOT / "handlers").rglob("*.py")]):
        if path.is_relative_to(ROOT / "bot" / "demo"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            called = getattr(node, "func", None)
            if not (isinstance(node, ast.Call) and getattr(called, "id", getattr(called, "attr", None)) in names):
                continue
            for part in ast.walk(node):
                text = part.value if isinstance(part, ast.Constant) and isinstance(part.value, str) else ""
                if "(s)" in text or "DDBBOT_" in text:
                    found.append(f"{path.relative_to(ROOT)}:{part.lineno} {text[:80]!r}")
    assert "UsageError" in names and "PreconditionFailed" in names and "ExportFilesChanged" in names
    assert found == []
