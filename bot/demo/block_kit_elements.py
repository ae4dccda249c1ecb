"""Block Kit's element-level rules (text objects, buttons, confirm dialogs, menus and their options), for
bot/demo/block_kit_rules.py, whose docstring cites Slack's reference page for every number here."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

TEXT_OBJECT = 3000
BUTTON_TEXT, BUTTON_VALUE, BUTTON_URL = 75, 2000, 3000
ACTION_ID = 255
CONFIRM_TITLE, CONFIRM_TEXT, CONFIRM_BUTTON = 100, 300, 30
OPTION_TEXT, OPTION_VALUE, OPTION_DESCRIPTION = 75, 150, 75
PLACEHOLDER = 150
SELECT_OPTIONS, RADIO_OPTIONS, OVERFLOW_OPTIONS, OVERFLOW_MIN_OPTIONS = 100, 10, 5, 2
OPTION_GROUPS, OPTION_GROUP_LABEL = 100, 75

_TEXT_TYPES = ("plain_text", "mrkdwn")
_BUTTON_STYLES = ("primary", "danger")
_SELECTS = ("static_select", "multi_static_select")
_PICKERS = (
    "users_select",
    "multi_users_select",
    "conversations_select",
    "multi_conversations_select",
    "channels_select",
    "multi_channels_select",
    "external_select",
    "multi_external_select",
    "datepicker",
    "timepicker",
    "datetimepicker",
)


def type_of(value: Any) -> Any:
    """A block's or element's `type`, None when it is no object."""
    return value.get("type") if isinstance(value, dict) else None


class ElementCheck:
    """Collects Slack-shaped error lines (`<why> [json-pointer:<where>]`) while walking elements and text."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, pointer: str, why: str) -> None:
        self.errors.append(f"{why} [json-pointer:{pointer}]")

    def known_keys(self, value: Mapping[str, Any], allowed: Collection[str], pointer: str) -> None:
        for key in sorted(set(value) - set(allowed)):
            self.fail(f"{pointer}/{key}", f"invalid additional property: {key}")

    def unique(self, value: Any, seen: set[str], pointer: str, what: str) -> None:
        """Slack's answer to an id used twice where it must be unique (its wording is quoted in block_kit_rules)."""
        if not isinstance(value, str):
            return
        if value in seen:
            self.fail(pointer, f'`{what}` "{value}" already exists')
        seen.add(value)

    def length(self, value: str, limit: int, pointer: str, what: str) -> None:
        if len(value) > limit:
            self.fail(pointer, f"{what} must be at most {limit:,} characters, not {len(value):,}")

    def string(
        self, container: Mapping[str, Any], key: str, limit: int, pointer: str, what: str, *, required: bool = False
    ) -> None:
        value = container.get(key)
        where = f"{pointer}/{key}"
        if value is None:
            if required:
                self.fail(where, f"{what} is required")
            return
        if not isinstance(value, str) or (required and not value):
            self.fail(where, f"{what} must be a non-empty string")
            return
        self.length(value, limit, where, what)

    def text_object(
        self, value: Any, pointer: str, what: str, *, limit: int = TEXT_OBJECT, plain: bool = False
    ) -> None:
        if not isinstance(value, dict):
            self.fail(pointer, f"{what} must be a text object {{type, text}}")
            return
        kind = value.get("type")
        if kind not in _TEXT_TYPES:
            self.fail(f"{pointer}/type", f"{what} must be of type plain_text or mrkdwn, not {kind!r}")
        elif plain and kind != "plain_text":
            self.fail(f"{pointer}/type", f"{what} must be plain_text, not {kind}")
        extra = {"emoji"} if kind == "plain_text" else {"verbatim"}
        self.known_keys(value, {"type", "text", *extra}, pointer)
        text = value.get("text")
        if not isinstance(text, str) or not text:
            self.fail(f"{pointer}/text", f"{what} must have a non-empty text")
            return
        self.length(text, min(limit, TEXT_OBJECT), f"{pointer}/text", what)

    def element(self, element: Any, pointer: str) -> None:
        kind = type_of(element)
        if not isinstance(element, dict):
            self.fail(pointer, "an element must be an object")
            return
        self.string(element, "action_id", ACTION_ID, pointer, "action_id")
        if "placeholder" in element:
            self.text_object(element["placeholder"], f"{pointer}/placeholder", "a placeholder", limit=PLACEHOLDER)
        if "confirm" in element:
            self.confirm(element["confirm"], f"{pointer}/confirm")
        if kind == "button":
            self._button(element, pointer)
        elif kind in _SELECTS:
            self.options(element, pointer, SELECT_OPTIONS, plain=True)
        elif kind in ("radio_buttons", "checkboxes"):
            self.options(element, pointer, RADIO_OPTIONS, plain=False)
        elif kind == "overflow":
            self.options(element, pointer, OVERFLOW_OPTIONS, plain=True, minimum=OVERFLOW_MIN_OPTIONS)
        elif kind == "plain_text_input":
            self.string(element, "initial_value", 3000, pointer, "initial_value")
        elif kind not in _PICKERS:
            self.fail(pointer, f"failed to match all allowed schemas: unknown element type {kind!r}")

    def _button(self, element: Mapping[str, Any], pointer: str) -> None:
        known = {"type", "text", "action_id", "value", "url", "style", "confirm", "accessibility_label"}
        self.known_keys(element, known, pointer)
        self.text_object(element.get("text"), f"{pointer}/text", "button text", limit=BUTTON_TEXT, plain=True)
        self.string(element, "value", BUTTON_VALUE, pointer, "a button's value")
        self.string(element, "url", BUTTON_URL, pointer, "a button's url")
        self.string(element, "accessibility_label", BUTTON_TEXT, pointer, "a button's accessibility_label")
        style = element.get("style")
        if style is not None and style not in _BUTTON_STYLES:
            self.fail(f"{pointer}/style", f"a button's style must be primary or danger, not {style!r}")

    def confirm(self, dialog: Any, pointer: str) -> None:
        if not isinstance(dialog, dict):
            self.fail(pointer, "a confirm dialog must be an object {title, text, confirm, deny}")
            return
        self.known_keys(dialog, {"title", "text", "confirm", "deny", "style"}, pointer)
        self.text_object(dialog.get("title"), f"{pointer}/title", "a confirm title", limit=CONFIRM_TITLE, plain=True)
        self.text_object(dialog.get("text"), f"{pointer}/text", "a confirm text", limit=CONFIRM_TEXT)
        for key in ("confirm", "deny"):
            where, what = f"{pointer}/{key}", f"a confirm dialog's {key} button"
            self.text_object(dialog.get(key), where, what, limit=CONFIRM_BUTTON, plain=True)

    def options(self, element: Mapping[str, Any], pointer: str, limit: int, *, plain: bool, minimum: int = 1) -> None:
        options, groups = element.get("options"), element.get("option_groups")
        if options is not None and groups is not None:
            self.fail(pointer, "options and option_groups cannot both be specified")
        if options is None and groups is not None:
            self.option_groups(groups, f"{pointer}/option_groups", plain=plain)
        else:
            self.option_list(options, f"{pointer}/options", limit, plain=plain, minimum=minimum)
        if "initial_option" in element:
            self.option(element["initial_option"], f"{pointer}/initial_option", plain=plain)

    def option_list(self, options: Any, pointer: str, limit: int, *, plain: bool, minimum: int = 1) -> None:
        if not isinstance(options, list) or not options:
            self.fail(pointer, "options must be a non-empty array of option objects")
            return
        if not minimum <= len(options) <= limit:
            between = f"between {minimum} and {limit}" if minimum > 1 else f"at most {limit}"
            self.fail(pointer, f"{between} options are allowed here, not {len(options)}")
        for index, option in enumerate(options):
            self.option(option, f"{pointer}/{index}", plain=plain)

    def option_groups(self, groups: Any, pointer: str, *, plain: bool) -> None:
        if not isinstance(groups, list) or not groups:
            self.fail(pointer, "option_groups must be a non-empty array of option group objects")
            return
        if len(groups) > OPTION_GROUPS:
            self.fail(pointer, f"at most {OPTION_GROUPS} option groups are allowed, not {len(groups)}")
        for index, group in enumerate(groups):
            where = f"{pointer}/{index}"
            if not isinstance(group, dict):
                self.fail(where, "an option group must be an object {label, options}")
                continue
            self.known_keys(group, {"label", "options"}, where)
            label = group.get("label")
            self.text_object(label, f"{where}/label", "an option group's label", limit=OPTION_GROUP_LABEL, plain=True)
            self.option_list(group.get("options"), f"{where}/options", SELECT_OPTIONS, plain=plain)

    def option(self, option: Any, pointer: str, *, plain: bool) -> None:
        if not isinstance(option, dict):
            self.fail(pointer, "an option must be an object {text, value}")
            return
        self.known_keys(option, {"text", "value", "description", "url"}, pointer)
        self.text_object(option.get("text"), f"{pointer}/text", "an option's text", limit=OPTION_TEXT, plain=plain)
        self.string(option, "value", OPTION_VALUE, pointer, "an option's value", required=True)
        if "description" in option:
            where = f"{pointer}/description"
            self.text_object(option["description"], where, "an option's description", limit=OPTION_DESCRIPTION)
