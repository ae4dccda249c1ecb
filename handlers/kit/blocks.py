"""Block Kit primitives every surface builds with: escaping, shortening, Slack's limits, sections, buttons, the
standard answers (help, errors, working) and the on-call mention. Data in, message dict (`text` + `blocks`) out.

Everything built here keeps to Slack's Block Kit limits by construction: long foreign text is shortened with an
ellipsis (never inside an escape, a mention or a code span), lists are summarised ("… and 76 more exports")
instead of being cut mid-line, and the lines a person must see are placed first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.errors import BotError, UsageError
from bot.money import PriceBasis
from handlers.kit import emoji
from handlers.kit.parsing import CommandHelp

Message = dict[str, Any]
Block = dict[str, Any]
View = dict[str, Any]

# Slack's limits (Block Kit reference; the Slack stand-in checks every message against them independently).
SECTION_TEXT = 3000
TEXT_OBJECT = 3000
CONTEXT_ELEMENTS = 10
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
CONFIRM_TITLE, CONFIRM_TEXT, CONFIRM_BUTTON = 100, 300, 30
# Our own budgets, well inside those: a notification is read at a glance (Slack would take 40,000), and one AWS
# message or user-supplied string shown inline never crowds out the lines around it.
NOTIFICATION_TEXT = 3000
FOREIGN_TEXT = 1000
ELLIPSIS = "…"
USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")
GROUP_ID = re.compile(r"S[A-Z0-9]{2,30}")


def escape(text: object, limit: int | None = None) -> str:
    """Escape mrkdwn control characters in user- or AWS-supplied text (shortened to `limit` once escaped)."""
    escaped = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped if limit is None else shorten(escaped, limit)


def code(text: object, limit: int = FOREIGN_TEXT) -> str:
    """Inline code span for identifiers (escaped; backticks removed so they cannot break out), at most `limit`."""
    return "`" + shorten(escape(text).replace("`", "'"), max(limit - 2, 2)) + "`"


def shorten(markdown: str, limit: int) -> str:
    """`markdown` in at most `limit` characters: cut with an ellipsis, never inside an escape (`&amp;`) or a
    mention (`<@U1>`), and closing a code span or block the cut would leave open."""
    if len(markdown) <= limit:
        return markdown
    budget = limit - len(ELLIPSIS)
    while budget > 0:
        cut = _safe_cut(markdown[:budget]).rstrip()
        closing = _closing(cut)
        if len(cut) + len(ELLIPSIS) + len(closing) <= limit:
            return cut + ELLIPSIS + closing
        budget -= len(closing)
    return ELLIPSIS[:limit]


def _safe_cut(cut: str) -> str:
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    angle = cut.rfind("<")
    if angle != -1 and ">" not in cut[angle:]:
        cut = cut[:angle]
    return cut


def _closing(cut: str) -> str:
    if cut.count("```") % 2:
        return "```"
    return "`" if cut.replace("```", "").count("`") % 2 else ""


def more(count: int, noun: str) -> str:
    """The line that stands for what a list leaves out."""
    return f"{ELLIPSIS} and {count:,} more {noun}"


def listing(lines: Sequence[str], noun: str, limit: int = SECTION_TEXT, separator: str = "\n") -> str:
    """As many whole items as fit in `limit`, then `… and N more <noun>` for the rest (never an item cut in half;
    only a single item longer than the whole budget is shortened). Lines by default; `separator=", "` inline."""
    if not lines:
        return ""
    reserve = len(more(len(lines), noun)) + len(separator)
    shown: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        line = shorten(line, max(limit - reserve, 1))
        added = len(line) + (len(separator) if shown else 0)
        left_after = len(lines) - index - 1
        if used + added + (reserve if left_after else 0) > limit:
            break
        shown.append(line)
        used += added
    if len(shown) < len(lines):
        shown.append(more(len(lines) - len(shown), noun))
    return separator.join(shown)


def mrkdwn(text: str, limit: int = TEXT_OBJECT) -> dict[str, str]:
    """A mrkdwn text object within `limit`."""
    return {"type": "mrkdwn", "text": shorten(text, limit) or " "}


def plain(text: str, limit: int = TEXT_OBJECT) -> dict[str, str]:
    """A plain_text object within `limit` (bot-made text only: plain_text is not escaped)."""
    return {"type": "plain_text", "text": shorten(text, limit) or " "}


def section(markdown: str) -> Block:
    """A mrkdwn section within Slack's 3,000 characters (put what must be seen first; the end may be cut)."""
    return {"type": "section", "text": mrkdwn(markdown, SECTION_TEXT)}


def context(*markdown: str) -> Block:
    """Small grey text under a message: up to 10 elements, the last one saying how many more were left out."""
    parts = list(markdown) or [" "]
    if len(parts) > CONTEXT_ELEMENTS:
        parts = [*parts[: CONTEXT_ELEMENTS - 1], more(len(parts) - CONTEXT_ELEMENTS + 1, "notes")]
    return {"type": "context", "elements": [mrkdwn(part) for part in parts]}


def button(text: str, action_id: str, value: str, *, style: str | None = None, confirm: Block | None = None) -> Block:
    """A button whose label fits Slack's 75 characters."""
    element: Block = {"type": "button", "action_id": action_id, "text": plain(text, BUTTON_TEXT), "value": value}
    if style:
        element["style"] = style
    if confirm:
        element["confirm"] = confirm
    return element


def row_action(action_id: str, row: int) -> str:
    """The action_id of the `row`-th of several like buttons (one per table): Slack refuses a message whose block
    holds one action_id twice (`invalid_blocks`), so each is numbered and the listener matches them all."""
    return f"{action_id}:{row}"


def row_actions(action_id: str) -> re.Pattern[str]:
    """What a listener matches: `action_id` numbered by row_action, or alone (messages posted before numbering)."""
    return re.compile(rf"^{re.escape(action_id)}(:\d+)?$")


def confirm_dialog(title: str, markdown: str, confirm: str, deny: str) -> Block:
    """A confirmation dialog within Slack's limits: title 100, text 300, buttons 30."""
    return {
        "title": plain(title, CONFIRM_TITLE),
        "text": mrkdwn(markdown, CONFIRM_TEXT),
        "confirm": plain(confirm, CONFIRM_BUTTON),
        "deny": plain(deny, CONFIRM_BUTTON),
    }


def fit_blocks(blocks: Sequence[Block], limit: int = MESSAGE_BLOCKS) -> list[Block]:
    """At most `limit` blocks: the buttons (actions blocks) always stay, and what does not fit is summarised in a
    final context block."""
    if len(blocks) <= limit:
        return list(blocks)
    actions = [block for block in blocks if block.get("type") == "actions"]
    others = [block for block in blocks if block.get("type") != "actions"]
    room = max(limit - len(actions) - 1, 0)
    left_out = len(others) - room
    return [*others[:room], context(f"{more(left_out, 'parts')} not shown (Slack shows {limit} blocks)."), *actions]


def message(text: str, *blocks: Block) -> Message:
    """A message: its notification `text` (mrkdwn the caller escaped, shortened here) and at most 50 blocks."""
    return {"text": shorten(text, NOTIFICATION_TEXT), "blocks": fit_blocks(blocks, MESSAGE_BLOCKS)}


def mention_user(user: str) -> str:
    """A deliberate mention of a Slack user id (U…/W…); anything else is shown as escaped text."""
    return f"<@{user}>" if USER_ID.fullmatch(user) else escape(user, 100)


def mention(who: str | None) -> str:
    """A Slack mention of DDBBOT_ONCALL: a user group (S…), a user (U…/W…), or its text escaped."""
    if not who:
        return ""
    if who.startswith("<") and who.endswith(">"):
        return who  # the operator wrote the mention itself in DDBBOT_ONCALL: deliberate, kept as written
    if GROUP_ID.fullmatch(who):
        return f"<!subteam^{who}>"
    return mention_user(who)


def estimate_label(basis: PriceBasis) -> str:
    """Every dollar figure carries this label."""
    return f"Estimates at list prices for {escape(basis.region, 100)} ({escape(basis.source, FOREIGN_TEXT)})."


def help_message(help_: CommandHelp) -> Message:
    """`<command> help`, and what a bare command shows."""
    usage = escape("\n".join(help_.usage))
    examples = escape("\n".join(help_.examples))
    head = f"{escape(help_.command)}: {escape(help_.summary)}"
    return message(
        head,
        section(f"*{escape(help_.command)}* — {escape(help_.summary)}"),
        section(f"*Usage*\n```{usage}```"),
        section(f"*Examples*\n```{examples}```"),
    )


def error_message(error: BotError) -> Message:
    """A refusal or failure the user can act on: what went wrong, then what to fix (both always shown)."""
    lines = error_lines(error)
    lines[0] = f"{emoji.WARN} {lines[0]}"
    blocks = [section("\n".join(lines))]
    if isinstance(error, UsageError) and error.usage:
        blocks.append(section(f"*Usage*\n```{escape(error.usage, SECTION_TEXT - 20)}```"))
    return message(lines[0], *blocks)


def error_lines(error: BotError) -> list[str]:
    """What went wrong, what to fix, and who can help (as mentions), each escaped and bounded: every surface that
    shows a refusal shows these."""
    lines = [escape(error.message, FOREIGN_TEXT)]
    if error.fix:
        lines.append(escape(error.fix, FOREIGN_TEXT))
    if error.ask:
        lines.append("Who can help: " + listing([mention(who) for who in error.ask], "people", 1000, ", "))
    return lines


def unexpected_error(reference: str) -> Message:
    """An unexpected failure: no details, a reference to find it in the logs."""
    text = (
        f"{emoji.BROKEN} Something went wrong on my side (reference {code(reference, 40)}). Nothing more was started."
    )
    return message(text, section(text))


def answer_refused(reference: str) -> Message:
    """Plain text (no blocks: Slack refused the answer's blocks) saying the answer could not be shown."""
    return message(
        f"{emoji.BROKEN} Something went wrong on my side: Slack refused to show my answer "
        f"(reference {code(reference, 40)}). Please tell the bot's operators."
    )


def plain_fallback(result: Message, reference: str) -> Message:
    """A message's text alone, for when Slack refused its blocks: what happened still reaches the channel."""
    note = f" (Details could not be shown: Slack refused them; reference {code(reference, 40)}.)"
    return message(shorten(result["text"], NOTIFICATION_TEXT - len(note)) + note)


def working(text: str) -> Message:
    """The immediate acknowledgement shown while AWS is asked."""
    return message(f"{emoji.RUNNING} {escape(text, FOREIGN_TEXT)}")


def oncall_section(
    result: Message, oncall: str, what: str = "a scheduled export", happened: str = " failed"
) -> Message:
    """A failed scheduled export's (or drill's: `what`; or what `happened` to it) result with on-call mentioned (in
    the notification text too)."""
    who = mention(oncall)
    if not who:
        return result
    blocks = [*result["blocks"], section(f"{who} {what}{happened}; please take a look.")]
    return message(f"{shorten(result['text'], NOTIFICATION_TEXT - len(who) - 1)} {who}", *blocks)
