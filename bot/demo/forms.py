"""A modal's input blocks as a form the console can show, fill and submit: what a person sees in Slack, and the
`view.state.values` Slack sends with the `view_submission` (each element type with its own key, as Slack writes it).

Pure data: `Form.of(view)` reads the fields with their initial values, `choose` fills one from typed text (a
choice by its number, value or label), `state_values` is the submission's state, `lines` the text to print.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.demo.render import clean_plain, render_message

TEXT_INPUTS = frozenset({"plain_text_input", "email_text_input", "url_text_input", "number_input"})
SINGLE_CHOICES = frozenset({"static_select", "radio_buttons"})
MULTI_CHOICES = frozenset({"checkboxes", "multi_static_select"})
# Elements whose value is an id or a date typed as text: the key Slack sends it under, and its initial value's key.
TYPED_VALUES = {
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "users_select": "selected_user",
    "conversations_select": "selected_conversation",
    "channels_select": "selected_channel",
}
INITIAL_KEYS = {
    "datepicker": "initial_date",
    "timepicker": "initial_time",
    "users_select": "initial_user",
    "conversations_select": "initial_conversation",
    "channels_select": "initial_channel",
}
NO_VALUE = "—"


class FormRefused(ValueError):
    """Typed text a field cannot take; the message says what it takes."""


@dataclass(frozen=True)
class Option:
    """One choice of a select, radio or checkbox group."""

    value: str
    text: str

    def as_slack(self) -> dict[str, Any]:
        return {"text": {"type": "plain_text", "text": self.text, "emoji": True}, "value": self.value}


@dataclass
class Field:
    """One input block: what it is called, what it takes, what is in it now."""

    number: int
    block_id: str
    action_id: str
    kind: str
    label: str
    optional: bool
    hint: str
    placeholder: str
    options: tuple[Option, ...]
    value: str | None = None  # text, a date, an id, or the chosen option's value
    chosen: tuple[str, ...] = ()  # the values chosen in a multiple choice

    def choose(self, text: str) -> None:
        """Fill the field from what the person typed; FormRefused when it is not one of the choices."""
        typed = text.strip()
        if self.kind in SINGLE_CHOICES:
            self.value = self._option(typed).value if typed else None
        elif self.kind in MULTI_CHOICES:
            parts = [part for part in (p.strip() for p in typed.split(",")) if part]
            self.chosen = tuple(self._option(part).value for part in parts)
        elif self.kind in TEXT_INPUTS or self.kind in TYPED_VALUES:
            self.value = typed or None
        else:
            raise FormRefused(f"field {{{self.number}}} ({self.kind}) cannot be filled from the console")

    def _option(self, typed: str) -> Option:
        if typed.isdigit() and 1 <= int(typed) <= len(self.options):
            return self.options[int(typed) - 1]
        lowered = typed.lower()
        for option in self.options:
            if lowered in {option.value.lower(), option.text.lower()}:
                return option
        starting = [option for option in self.options if option.text.lower().startswith(lowered)]
        if len(starting) == 1:
            return starting[0]
        choices = ", ".join(f"{n}) {option.text}" for n, option in enumerate(self.options, start=1))
        raise FormRefused(f"field {{{self.number}}} takes one of: {choices}")

    def state(self) -> dict[str, Any]:
        """The element's entry in `view.state.values[block_id]`, as Slack sends it."""
        if self.kind in SINGLE_CHOICES:
            option = next((o for o in self.options if o.value == self.value), None)
            return {"type": self.kind, "selected_option": option.as_slack() if option else None}
        if self.kind in MULTI_CHOICES:
            return {
                "type": self.kind,
                "selected_options": [o.as_slack() for o in self.options if o.value in self.chosen],
            }
        if self.kind in TYPED_VALUES:
            return {"type": self.kind, TYPED_VALUES[self.kind]: self.value}
        return {"type": self.kind, "value": self.value}

    def shown(self) -> str:
        """What the field shows now: `(•) New table  ( ) Existing table`, `[On-demand ▾]`, `[orders-copy]`."""
        if self.kind == "radio_buttons" or self.kind == "checkboxes":
            picked = {self.value} if self.kind == "radio_buttons" else set(self.chosen)
            marks = ("(•)", "( )") if self.kind == "radio_buttons" else ("[x]", "[ ]")
            return "  ".join(
                f"{n}) {marks[0] if o.value in picked else marks[1]} {o.text}"
                for n, o in enumerate(self.options, start=1)
            )
        if self.kind in SINGLE_CHOICES or self.kind in MULTI_CHOICES:
            texts = [o.text for o in self.options if o.value == self.value or o.value in self.chosen]
            listed = ", ".join(f"{n}) {o.text}" for n, o in enumerate(self.options, start=1))
            return f"[{', '.join(texts) or self.placeholder or 'choose'} ▾]  choices: {listed}"
        if self.value:
            return f"[{self.value}]"
        return f"[{'e.g. ' + self.placeholder if self.placeholder else NO_VALUE}]"


@dataclass
class Form:
    """A modal as the console shows it: its fields, and the errors Slack shows under them after a submission."""

    view_id: str
    user: str
    view: dict[str, Any]
    fields: list[Field]
    errors: dict[str, str] = field(default_factory=dict)  # block_id → the bot's message

    @classmethod
    def of(cls, view_id: str, user: str, view: Mapping[str, Any]) -> Form:
        """The form of a modal, each field holding its initial value."""
        fields: list[Field] = []
        for block in _list(view.get("blocks")):
            element = block.get("element")
            if block.get("type") == "input" and isinstance(element, Mapping):
                fields.append(_field(len(fields) + 1, block, element))
        return cls(view_id, user, copy.deepcopy(dict(view)), fields)

    @property
    def title(self) -> str:
        return _plain(self.view.get("title")) or "Form"

    @property
    def submit_label(self) -> str:
        return _plain(self.view.get("submit")) or "Submit"

    @property
    def close_label(self) -> str:
        return _plain(self.view.get("close")) or "Cancel"

    @property
    def callback_id(self) -> str:
        return str(self.view.get("callback_id") or "")

    @property
    def private_metadata(self) -> str:
        return str(self.view.get("private_metadata") or "")

    def field(self, number: int) -> Field:
        """Field {number}; FormRefused naming the fields there are."""
        if not 1 <= number <= len(self.fields):
            raise FormRefused(f"the form has fields {{1}} to {{{len(self.fields)}}}" if self.fields else "no fields")
        return self.fields[number - 1]

    def missing(self) -> list[Field]:
        """Required fields left empty: Slack itself refuses to submit those (the bot never sees the submission)."""
        return [f for f in self.fields if not f.optional and f.value is None and not f.chosen]

    def state_values(self) -> dict[str, Any]:
        """`view.state.values`: `{block_id: {action_id: element state}}`."""
        return {f.block_id: {f.action_id: f.state()} for f in self.fields}

    def lines(self, owner: str) -> list[str]:
        """The modal as text: title, the other blocks as Slack renders them, each field numbered with its error."""
        lines = [f"┌─ {self.title} ─ a form only {owner} sees"]
        fields = iter(self.fields)
        for block in _list(self.view.get("blocks")):
            if block.get("type") == "input" and isinstance(block.get("element"), Mapping):
                lines += _field_lines(next(fields), self.errors)
            else:
                lines += [f"│ {line}" for line in render_message("", [block]).lines]
        lines.append(f"└─ [{self.submit_label}] :submit    [{self.close_label}] :cancel")
        return lines


def _field(number: int, block: Mapping[str, Any], element: Mapping[str, Any]) -> Field:
    kind = str(element.get("type") or "")
    options = tuple(_option(o) for o in _list(element.get("options")))
    initial = element.get("initial_option")
    value: str | None = None
    if isinstance(initial, Mapping):
        value = str(initial.get("value") or "") or None
    elif kind in TEXT_INPUTS:
        value = str(element.get("initial_value") or "") or None
    elif kind in INITIAL_KEYS:
        found = element.get(INITIAL_KEYS[kind])
        value = str(found) if found else None
    chosen = tuple(str(o.get("value") or "") for o in _list(element.get("initial_options")))
    return Field(
        number=number,
        block_id=str(block.get("block_id") or ""),
        action_id=str(element.get("action_id") or ""),
        kind=kind,
        label=_plain(block.get("label")),
        optional=bool(block.get("optional")),
        hint=_plain(block.get("hint")),
        placeholder=_plain(element.get("placeholder")),
        options=options,
        value=value,
        chosen=chosen,
    )


def _field_lines(field_: Field, errors: Mapping[str, str]) -> list[str]:
    optional = " (optional)" if field_.optional else ""
    lines = [f"│ {{{field_.number}}} {field_.label}{optional}: {field_.shown()}"]
    if field_.hint:
        lines.append(f"│       {field_.hint}")
    if field_.block_id in errors:
        lines.append(f"│       ⚠ {errors[field_.block_id]}")
    return lines


def _option(option: Mapping[str, Any]) -> Option:
    return Option(str(option.get("value") or ""), _plain(option.get("text")))


def _plain(value: Any) -> str:
    if not isinstance(value, Mapping):
        return ""
    return clean_plain(str(value.get("text") or ""))


def _list(value: Any) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]
