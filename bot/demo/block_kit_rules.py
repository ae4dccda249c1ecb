"""Slack's Block Kit rules, checked the way Slack checks them: the stand-in refuses what breaks one (`invalid_blocks`
for messages, `invalid_arguments` for views) and the builder tests use the same validator, so the rules have one
implementation. Each error line is Slack's shape, `<why> [json-pointer:<where>]`, and says which limit and by how much.
Blocks, messages and views are checked here; elements, text objects and options in bot/demo/block_kit_elements.py.

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

from collections.abc import Mapping
from typing import Any

from bot.demo.block_kit_elements import ElementCheck, type_of

MESSAGE, MODAL, HOME = "message", "modal", "home"
MESSAGE_BLOCKS, VIEW_BLOCKS = 50, 100
MESSAGE_TEXT = 40_000
SECTION_TEXT, SECTION_FIELDS, SECTION_FIELD_TEXT = 3000, 10, 2000
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
INPUT_LABEL, INPUT_HINT = 2000, 2000
BLOCK_ID = 255
VIEW_TITLE, VIEW_BUTTON = 24, 24
PRIVATE_METADATA, CALLBACK_ID = 3000, 255

_BLOCK_KEYS = {
    "section": {"type", "block_id", "text", "fields", "accessory", "expand"},
    "context": {"type", "block_id", "elements"},
    "actions": {"type", "block_id", "elements"},
    "header": {"type", "block_id", "text"},
    "divider": {"type", "block_id"},
    "input": {"type", "block_id", "label", "element", "hint", "optional", "dispatch_action"},
    "image": {"type", "block_id", "image_url", "alt_text", "title", "slack_file"},
}
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
        if isinstance(blocks, list) and "submit" not in view and any(type_of(b) == "input" for b in blocks):
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


class _Check(ElementCheck):
    """Collects Slack-shaped error lines (`<why> [json-pointer:<where>]`) while walking Block Kit."""

    def __init__(self) -> None:
        super().__init__()
        self.block_ids: set[str] = set()  # one message or view: Slack wants each block_id once in it

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
        kind = type_of(block)
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
            if type_of(element) == "image":
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
