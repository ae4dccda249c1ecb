"""Slack's Block Kit rules, checked the way Slack checks them: the stand-in refuses what breaks one (`invalid_blocks`
for messages, `invalid_arguments` for views) and the builder tests use the same validator, so the rules have one
implementation. Each error line is Slack's shape, `<why> [json-pointer:<where>]`, and says which limit and by how much.

Hand-written because no library checks Block Kit as Slack's API does: slack_sdk.models checks lengths and counts
but neither unique ids nor unknown fields (tests/support/slack_models.py cross-checks the builders with it too).

Each number below is Slack's own, from its Block Kit reference (https://docs.slack.dev/reference/block-kit/...):
- blocks/section-block: text 1 to 3,000; up to 10 fields of at most 2,000 each; block_id 255, "unique for each
  message and each iteration of a message" (the same words on every block's page).
- blocks/header-block: plain_text, 150.   blocks/context-block: up to 10 elements.
- blocks/actions-block: up to 25 elements.   blocks/input-block: label and hint 2,000.
- block-elements/button-element: text plain_text 75, value 2,000, url 3,000, accessibility_label 75, action_id 255
  and "unique among all other action_ids in the containing block" (the same words on every element's page). Slack
  refuses a repeated one with invalid_blocks: `action_id` "x" already exists [json-pointer:/blocks/0/elements/1/
  action_id] (as quoted in github.com/ColeMurray/background-agents pull 868); a repeated block_id is answered the
  same way here.
- block-elements/select-menu-element: options up to 100, or option_groups up to 100 (composition-objects/
  option-group-object: label 75, up to 100 options each), never both; placeholder 150.
- block-elements/overflow-menu-element: "up to five option objects"; api.slack.com's element reference also said
  "minimum is 2".   block-elements/radio-button-group-element and checkboxes-element: up to 10 options.
- composition-objects/option-object: text 75, value 150, description 75.
- composition-objects/confirmation-dialog-object: title 100, text 300, confirm and deny 30.
- composition-objects/text-object: type plain_text or mrkdwn, 1 to 3,000 characters.
- views/modal-views: title, submit and close plain_text 24, up to 100 blocks, private_metadata 3,000,
  callback_id 255, submit required with an input block; views/home-tab-views: up to 100 blocks.
- messages: up to 50 blocks (reference/methods/chat.postMessage); `text` posted up to 40,000 characters, longer is
  cut with the warning message_truncated (api.slack.com/changelog/2018-04-truncating-really-long-messages).
Lengths are counted in code points.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

MESSAGE, MODAL, HOME = "message", "modal", "home"
MESSAGE_BLOCKS, VIEW_BLOCKS = 50, 100
MESSAGE_TEXT = 40_000
TEXT_OBJECT = 3000
SECTION_TEXT, SECTION_FIELDS, SECTION_FIELD_TEXT = 3000, 10, 2000
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
INPUT_LABEL, INPUT_HINT = 2000, 2000
BUTTON_TEXT, BUTTON_VALUE, BUTTON_URL = 75, 2000, 3000
ACTION_ID, BLOCK_ID = 255, 255
CONFIRM_TITLE, CONFIRM_TEXT, CONFIRM_BUTTON = 100, 300, 30
OPTION_TEXT, OPTION_VALUE, OPTION_DESCRIPTION = 75, 150, 75
PLACEHOLDER = 150
VIEW_TITLE, VIEW_BUTTON = 24, 24
PRIVATE_METADATA, CALLBACK_ID = 3000, 255
SELECT_OPTIONS, RADIO_OPTIONS, OVERFLOW_OPTIONS, OVERFLOW_MIN_OPTIONS = 100, 10, 5, 2
OPTION_GROUPS, OPTION_GROUP_LABEL = 100, 75

_TEXT_TYPES = ("plain_text", "mrkdwn")
_BUTTON_STYLES = ("primary", "danger")
_BLOCK_KEYS = {
    "section": {"type", "block_id", "text", "fields", "accessory", "expand"},
    "context": {"type", "block_id", "elements"},
    "actions": {"type", "block_id", "elements"},
    "header": {"type", "block_id", "text"},
    "divider": {"type", "block_id"},
    "input": {"type", "block_id", "label", "element", "hint", "optional", "dispatch_action"},
    "image": {"type", "block_id", "image_url", "alt_text", "title", "slack_file"},
}
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
_VIEW_KEYS = {
    "type",
    "title",
    "blocks",
    "close",
    "submit",
    "private_metadata",
    "callback_id",
    "clear_on_close",
    "notify_on_close",
    "external_id",
    "submit_disabled",
}


def message_errors(message: Mapping[str, Any]) -> list[str]:
    """Every limit a message (`text` and `blocks`, as a builder returns it) breaks; [] when Slack takes it whole.

    Unlike the stand-in's answer to a post, a `text` over 40,000 characters counts here: Slack would cut it.
    """
    errors: list[str] = []
    text = message.get("text")
    if text is not None and not isinstance(text, str):
        errors.append("text must be a string [json-pointer:/text]")
    elif isinstance(text, str) and len(text) > MESSAGE_TEXT:
        errors.append(
            f"msg_too_long: text must be at most {MESSAGE_TEXT:,} characters, not {len(text):,} (Slack cuts the rest)"
            " [json-pointer:/text]"
        )
    blocks = message.get("blocks")
    errors += block_kit_errors([] if blocks is None else blocks, surface=MESSAGE)
    if not text and not blocks:
        errors.append("no_text: a message needs text or blocks [json-pointer:/text]")
    return errors


def view_errors(view: Mapping[str, Any], *, surface: str = MODAL, pointer: str = "/view") -> list[str]:
    """Every limit a modal or Home tab view breaks; [] when Slack would open it."""
    check = _Check()
    kind = view.get("type")
    expected = HOME if surface == HOME else MODAL
    if kind != expected:
        check.fail(f"{pointer}/type", f"view type must be {expected!r}, not {kind!r}")
    check.known_keys(view, _VIEW_KEYS, pointer)
    if expected == MODAL:
        check.text_object(view.get("title"), f"{pointer}/title", "a modal's title", limit=VIEW_TITLE, plain=True)
        for key in ("submit", "close"):
            if key in view:
                check.text_object(view[key], f"{pointer}/{key}", f"a modal's {key}", limit=VIEW_BUTTON, plain=True)
        blocks = view.get("blocks")
        if isinstance(blocks, list) and "submit" not in view and any(_type_of(b) == "input" for b in blocks):
            check.fail(f"{pointer}/submit", "a modal with an input block needs a submit button")
    check.string(view, "private_metadata", PRIVATE_METADATA, pointer, "private_metadata")
    check.string(view, "callback_id", CALLBACK_ID, pointer, "callback_id")
    check.blocks(view.get("blocks"), f"{pointer}/blocks", VIEW_BLOCKS, required=True)
    return check.errors


def block_kit_errors(blocks: Any, *, surface: str = MESSAGE, pointer: str = "/blocks") -> list[str]:
    """Every limit a `blocks` array breaks on `surface` (message: 50 blocks; modal, home: 100)."""
    check = _Check()
    check.blocks(blocks, pointer, MESSAGE_BLOCKS if surface == MESSAGE else VIEW_BLOCKS)
    return check.errors


def _type_of(value: Any) -> Any:
    return value.get("type") if isinstance(value, dict) else None


class _Check:
    """Collects Slack-shaped error lines (`<why> [json-pointer:<where>]`) while walking Block Kit."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.block_ids: set[str] = set()  # one message or view: Slack wants each block_id once in it

    def fail(self, pointer: str, why: str) -> None:
        self.errors.append(f"{why} [json-pointer:{pointer}]")

    def known_keys(self, value: Mapping[str, Any], allowed: Collection[str], pointer: str) -> None:
        for key in sorted(set(value) - set(allowed)):
            self.fail(f"{pointer}/{key}", f"invalid additional property: {key}")

    def unique(self, value: Any, seen: set[str], pointer: str, what: str) -> None:
        """Slack's answer to an id used twice where it must be unique (the action_id wording, quoted above)."""
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

    def blocks(self, blocks: Any, pointer: str, limit: int, *, required: bool = False) -> None:
        if blocks is None and not required:
            return
        if not isinstance(blocks, list):
            self.fail(pointer, "blocks must be a JSON array of block objects")
            return
        if len(blocks) > limit:
            self.fail(pointer, f"no more than {limit} blocks are allowed here, not {len(blocks)}")
        for index, block in enumerate(blocks):
            self.block(block, f"{pointer}/{index}")

    def block(self, block: Any, pointer: str) -> None:
        kind = _type_of(block)
        if kind not in _BLOCK_KEYS:
            self.fail(pointer, f"failed to match all allowed schemas: unknown block type {kind!r}")
            return
        self.known_keys(block, _BLOCK_KEYS[kind], pointer)
        self.string(block, "block_id", BLOCK_ID, pointer, "block_id")
        self.unique(block.get("block_id"), self.block_ids, f"{pointer}/block_id", "block_id")
        getattr(self, f"_{kind}")(block, pointer)

    def _section(self, block: Mapping[str, Any], pointer: str) -> None:
        if "text" not in block and "fields" not in block:
            self.fail(pointer, "a section needs text or fields")
        if "text" in block:
            self.text_object(block["text"], f"{pointer}/text", "section text", limit=SECTION_TEXT)
        fields = block.get("fields")
        if fields is not None:
            if not isinstance(fields, list) or not fields:
                self.fail(f"{pointer}/fields", "section fields must be a non-empty array of text objects")
            else:
                if len(fields) > SECTION_FIELDS:
                    self.fail(f"{pointer}/fields", f"a section has at most {SECTION_FIELDS} fields, not {len(fields)}")
                for index, item in enumerate(fields):
                    where = f"{pointer}/fields/{index}"
                    self.text_object(item, where, "a section field", limit=SECTION_FIELD_TEXT)
        if "accessory" in block:
            self.element(block["accessory"], f"{pointer}/accessory")

    def _context(self, block: Mapping[str, Any], pointer: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self.fail(f"{pointer}/elements", "a context block needs a non-empty array of elements")
            return
        if len(elements) > CONTEXT_ELEMENTS:
            self.fail(
                f"{pointer}/elements", f"a context block has at most {CONTEXT_ELEMENTS} elements, not {len(elements)}"
            )
        for index, element in enumerate(elements):
            where = f"{pointer}/elements/{index}"
            if _type_of(element) == "image":
                self.string(element, "alt_text", 2000, where, "an image's alt_text", required=True)
            else:
                self.text_object(element, where, "context text")

    def _actions(self, block: Mapping[str, Any], pointer: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self.fail(f"{pointer}/elements", "an actions block needs a non-empty array of elements")
            return
        if len(elements) > ACTIONS_ELEMENTS:
            self.fail(
                f"{pointer}/elements", f"an actions block has at most {ACTIONS_ELEMENTS} elements, not {len(elements)}"
            )
        action_ids: set[str] = set()  # Slack wants each action_id once in its block
        for index, element in enumerate(elements):
            self.element(element, f"{pointer}/elements/{index}")
            if isinstance(element, dict):
                self.unique(element.get("action_id"), action_ids, f"{pointer}/elements/{index}/action_id", "action_id")

    def _header(self, block: Mapping[str, Any], pointer: str) -> None:
        self.text_object(block.get("text"), f"{pointer}/text", "header text", limit=HEADER_TEXT, plain=True)

    def _divider(self, block: Mapping[str, Any], pointer: str) -> None:
        """Nothing to check beyond the block_id."""

    def _image(self, block: Mapping[str, Any], pointer: str) -> None:
        self.string(block, "alt_text", 2000, pointer, "an image's alt_text", required=True)

    def _input(self, block: Mapping[str, Any], pointer: str) -> None:
        self.text_object(block.get("label"), f"{pointer}/label", "an input's label", limit=INPUT_LABEL, plain=True)
        if "hint" in block:
            self.text_object(block["hint"], f"{pointer}/hint", "an input's hint", limit=INPUT_HINT, plain=True)
        if "element" not in block:
            self.fail(f"{pointer}/element", "an input block needs an element")
        else:
            self.element(block["element"], f"{pointer}/element")

    def element(self, element: Any, pointer: str) -> None:
        kind = _type_of(element)
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
