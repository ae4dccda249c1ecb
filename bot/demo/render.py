"""Slack messages (text + Block Kit) as terminal text, so the demo console shows what Slack would show.

Pure functions: buttons get numbers from `first_button` on, and come back with what a click needs to send.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

BUTTON_SEPARATOR = "  "
DIVIDER = "─" * 40

EMOJI = {
    "white_check_mark": "✅",
    "heavy_check_mark": "✔",
    "warning": "⚠️",
    "x": "❌",
    "rocket": "🚀",
    "hourglass_flowing_sand": "⏳",
    "hourglass": "⌛",
    "moneybag": "💰",
    "information_source": "ℹ️",
    "repeat": "🔁",
    "boom": "💥",
    "grey_question": "❔",
    "lock": "🔒",
    "bell": "🔔",
    "calendar": "📅",
    "clock3": "🕒",
    "no_entry": "⛔",
    "no_entry_sign": "🚫",
    "hammer_and_wrench": "🛠️",
    "floppy_disk": "💾",
    "inbox_tray": "📥",
    "outbox_tray": "📤",
    "eyes": "👀",
    "tada": "🎉",
}

_CODE_PARTS = re.compile(r"(```.*?```|`[^`\n]*`)", re.DOTALL)
_ANGLE = re.compile(r"<([^<>\n]+)>")
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_EMOJI = re.compile(r":([a-z0-9_+-]+):")


@dataclass(frozen=True)
class Button:
    """A pressable button: everything a signed `block_actions` click on it needs."""

    number: int
    label: str
    action_id: str
    value: str
    block_id: str
    message_ts: str
    channel: str
    url: str | None = None
    confirm: str | None = None
    view_id: str = ""  # a button of a view (the Home tab): clicked with the view, not a message
    owner: str = ""  # whose Home tab it is on (only they can click it)


@dataclass(frozen=True)
class Rendered:
    """A message as lines of text, and the buttons numbered in it."""

    lines: list[str]
    buttons: list[Button]

    @property
    def text(self) -> str:
        """The lines joined, ready to print."""
        return "\n".join(self.lines)


def render_message(
    text: str,
    blocks: Iterable[Mapping[str, Any]] | None,
    *,
    message_ts: str = "",
    channel: str = "",
    first_button: int = 1,
    emoji: bool = True,
) -> Rendered:
    """Render what Slack shows: the blocks when there are any, else the notification text."""
    renderer = _Renderer(message_ts, channel, first_button, emoji)
    block_list = list(blocks or [])
    if not block_list:
        return Rendered(clean_mrkdwn(text, emoji=emoji).splitlines() or [""], [])
    for block in block_list:
        renderer.block(block)
    return Rendered(renderer.lines, renderer.buttons)


def render_view(view: Mapping[str, Any], *, owner: str, first_button: int = 1, emoji: bool = True) -> Rendered:
    """Render a Home tab (or any view's blocks): its buttons are clicked as `owner`, in the view."""
    renderer = _Renderer("", "", first_button, emoji, view_id=str(view.get("id") or ""), owner=owner)
    blocks = view.get("blocks")
    for block in blocks if isinstance(blocks, list) else []:
        if isinstance(block, Mapping):
            renderer.block(block)
    return Rendered(renderer.lines, renderer.buttons)


def render_payload(
    payload: Mapping[str, Any], *, channel: str = "", first_button: int = 1, emoji: bool = True
) -> Rendered:
    """Render a message body as the bot sends it (an ack or a response_url post: `text`, `blocks`)."""
    text = payload.get("text")
    blocks = payload.get("blocks")
    return render_message(
        text if isinstance(text, str) else "",
        blocks if isinstance(blocks, list) else None,
        channel=channel,
        first_button=first_button,
        emoji=emoji,
    )


def clean_mrkdwn(text: str, *, emoji: bool = True) -> str:
    """Slack mrkdwn made readable: mentions and links spelled out, entities unescaped, `*bold*` plain."""
    parts = _CODE_PARTS.split(text)
    cleaned: list[str] = []
    for index, part in enumerate(parts):
        is_code = index % 2 == 1
        if is_code and part.startswith("```"):
            before = "" if not cleaned or cleaned[-1].endswith("\n") or not "".join(cleaned) else "\n"
            after = "\n" if index + 1 < len(parts) and parts[index + 1] and parts[index + 1][0] != "\n" else ""
            cleaned.append(before + _code_block(part) + after)
        elif is_code:
            cleaned.append(unescape(part))
        else:
            cleaned.append(_prose(part, emoji=emoji))
    return "".join(cleaned)


def clean_plain(text: str, *, emoji: bool = True) -> str:
    """plain_text objects: only emoji codes are interpreted by Slack."""
    return _emoji(text) if emoji else text


def unescape(text: str) -> str:
    """Slack's three escaped characters back to themselves (`&amp;` last, so `&amp;lt;` stays `&lt;`)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _prose(text: str, *, emoji: bool) -> str:
    text = _ANGLE.sub(lambda match: _angle(match.group(1)), text)
    text = _BOLD.sub(r"\1", text)
    if emoji:
        text = _emoji(text)
    return unescape(text)


def _code_block(part: str) -> str:
    body = unescape(part[3:-3]).strip("\n")
    return "\n".join(f"    {line}" for line in body.splitlines())


def _angle(inner: str) -> str:
    """`<@U1>`, `<#C1|ops>`, `<!subteam^S1>`, `<!here>`, `<!date^…|fallback>`, `<url|label>`."""
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return f"@{label or target[1:]}"
    if target.startswith("#"):
        return f"#{label or target[1:]}"
    if target.startswith("!subteam^"):
        return label if label.startswith("@") else f"@{label or target.removeprefix('!subteam^')}"
    if target.startswith("!date^"):
        return label or target
    if target.startswith("!"):
        return f"@{label or target[1:]}"
    if label:
        return f"{label} ({target})"
    return target


def _emoji(text: str) -> str:
    return _EMOJI.sub(lambda match: EMOJI.get(match.group(1), match.group(0)), text)


class _Renderer:
    """Walks the blocks, collecting lines and numbering buttons."""

    def __init__(
        self, message_ts: str, channel: str, first_button: int, emoji: bool, *, view_id: str = "", owner: str = ""
    ) -> None:
        self.message_ts = message_ts
        self.channel = channel
        self.view_id = view_id
        self.owner = owner
        self.next_number = first_button
        self.emoji = emoji
        self.lines: list[str] = []
        self.buttons: list[Button] = []

    def block(self, block: Mapping[str, Any]) -> None:
        kind = block.get("type")
        block_id = str(block.get("block_id") or "")
        if kind == "section":
            self._section(block, block_id)
        elif kind == "context":
            parts = [self._element_text(element) for element in _list(block.get("elements"))]
            self._add("  " + "  ".join(part for part in parts if part))
        elif kind == "actions":
            parts = [self._element(element, block_id) for element in _list(block.get("elements"))]
            self._add(BUTTON_SEPARATOR.join(part for part in parts if part))
        elif kind == "header":
            title = self._text_object(block.get("text"))
            self._add(title)
            self._add("═" * min(len(title), 60))
        elif kind == "divider":
            self._add(DIVIDER)
        elif kind == "input":
            label = self._text_object(block.get("label"))
            element = block.get("element")
            shown = self._element(element, block_id) if isinstance(element, Mapping) else ""
            optional = " (optional)" if block.get("optional") else ""
            self._add(f"{label}{optional}: {shown}")
            hint = self._text_object(block.get("hint"))
            if hint:
                self._add(f"  {hint}")
        elif kind == "image":
            self._add(f"[image: {block.get('alt_text') or block.get('image_url') or ''}]")
        elif kind == "rich_text":
            self._add(_rich_text(block))
        else:
            self._add(f"[{kind} block]")

    def _section(self, block: Mapping[str, Any], block_id: str) -> None:
        text = self._text_object(block.get("text"))
        accessory = block.get("accessory")
        shown = self._element(accessory, block_id) if isinstance(accessory, Mapping) else ""
        if text:
            self._add(text)
        for field in _list(block.get("fields")):
            self._add("  " + self._text_object(field))
        if shown:
            self._add(f"  {shown}")

    def _element(self, element: Mapping[str, Any], block_id: str) -> str:
        kind = element.get("type")
        if kind == "button":
            return self._button(element, block_id)
        if kind == "overflow":
            labels = [self._text_object(option.get("text")) for option in _list(element.get("options"))]
            return f"[menu: {', '.join(labels)}]"
        if kind in {"static_select", "external_select", "users_select", "conversations_select", "channels_select"}:
            chosen = element.get("initial_option")
            label = self._text_object(chosen.get("text")) if isinstance(chosen, Mapping) else ""
            return f"[select: {label or self._text_object(element.get('placeholder')) or '…'}]"
        if kind == "plain_text_input":
            initial = element.get("initial_value")
            placeholder = self._text_object(element.get("placeholder"))
            return f"[text: {initial or placeholder or '…'}]"
        if kind in {"datepicker", "timepicker", "datetimepicker"}:
            initial = element.get("initial_date") or element.get("initial_time") or ""
            return f"[{kind}: {initial or '…'}]"
        if kind in {"checkboxes", "radio_buttons"}:
            labels = [self._text_object(option.get("text")) for option in _list(element.get("options"))]
            return f"[{kind}: {' / '.join(labels)}]"
        return self._element_text(element) or f"[{kind}]"

    def _button(self, element: Mapping[str, Any], block_id: str) -> str:
        label = self._text_object(element.get("text"))
        confirm = element.get("confirm")
        button = Button(
            number=self.next_number,
            label=label,
            action_id=str(element.get("action_id") or ""),
            value=str(element.get("value") or ""),
            block_id=block_id,
            message_ts=self.message_ts,
            channel=self.channel,
            url=str(element["url"]) if element.get("url") else None,
            confirm=self._confirm_text(confirm) if isinstance(confirm, Mapping) else None,
            view_id=self.view_id,
            owner=self.owner,
        )
        self.next_number += 1
        self.buttons.append(button)
        return f"[{button.number}] {label}"

    def _confirm_text(self, confirm: Mapping[str, Any]) -> str:
        parts = [self._text_object(confirm.get("title")), self._text_object(confirm.get("text"))]
        return " — ".join(part for part in parts if part)

    def _element_text(self, element: Mapping[str, Any]) -> str:
        kind = element.get("type")
        if kind in {"mrkdwn", "plain_text"}:
            return self._text_object(element)
        if kind == "image":
            return f"[image: {element.get('alt_text') or ''}]"
        return ""

    def _text_object(self, value: Any) -> str:
        if not isinstance(value, Mapping):
            return ""
        text = str(value.get("text") or "")
        if value.get("type") == "plain_text":
            return clean_plain(text, emoji=self.emoji)
        return clean_mrkdwn(text, emoji=self.emoji)

    def _add(self, text: str) -> None:
        self.lines.extend(text.splitlines() or [""])


def _list(value: Any) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def _rich_text(block: Mapping[str, Any]) -> str:
    """The characters of a rich_text block, formatting dropped."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            if node.get("type") == "text":
                out.append(str(node.get("text") or ""))
            elif node.get("type") == "user":
                out.append(f"@{node.get('user_id', '')}")
            elif node.get("type") == "link":
                out.append(str(node.get("text") or node.get("url") or ""))
            walk(node.get("elements"))
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(block.get("elements"))
    return "".join(out)
