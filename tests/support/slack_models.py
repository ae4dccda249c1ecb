"""Slack's own models as a second judge of what the builders render (ARCHITECTURE.md principle 19).

Every block is parsed with `slack_sdk.models.blocks.Block.parse` (a view with `slack_sdk.models.views.View`) and
rendered back with `to_dict()`, which runs every validator slack_sdk has on the way down (lengths, counts, styles).
Whatever slack_sdk does not know (a block type, an element type, a field) is dropped or changed by that round trip,
so a round trip that differs from the payload is reported too: the bot sent something Slack's SDK cannot describe.
slack_sdk checks neither unique ids nor a message's 50 blocks: bot/demo/block_kit_rules.py does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.demo.block_kit_rules import MESSAGE


def slack_sdk_refusals(payload: Mapping[str, Any], surface: str = MESSAGE) -> list[str]:
    """What slack_sdk.models refuses or cannot describe in a message (`text` + `blocks`) or a view; [] when none."""
    if surface != MESSAGE:
        return _round_trip(lambda: View(**payload).to_dict(), payload, "/view")
    refusals: list[str] = []
    for index, block in enumerate(payload.get("blocks") or []):
        refusals += _round_trip(lambda block=block: _parsed(block).to_dict(), block, f"/blocks/{index}")
    return refusals


def _parsed(block: Mapping[str, Any]) -> Block:
    parsed = Block.parse(dict(block))
    if parsed is None:
        raise LookupError(f"slack_sdk knows no block of type {block.get('type')!r}")
    return parsed


def _round_trip(render: Any, original: Mapping[str, Any], where: str) -> list[str]:
    try:
        rendered = render()
    except Exception as error:  # slack_sdk raises SlackObjectFormationError, and TypeError for unknown arguments
        return [f"{where}: {type(error).__name__}: {error}"]
    return [f"{where}{difference}" for difference in differences(original, rendered)]


def differences(sent: Any, rendered: Any, path: str = "") -> list[str]:
    """Where slack_sdk's rendering differs from what was sent (a dropped field, a changed value)."""
    if isinstance(sent, Mapping) and isinstance(rendered, Mapping):
        found = [f"{path}/{key}: not known to slack_sdk (dropped)" for key in sent if key not in rendered]
        found += [f"{path}/{key}: added by slack_sdk" for key in rendered if key not in sent]
        for key in sent:
            if key in rendered:
                found += differences(sent[key], rendered[key], f"{path}/{key}")
        return found
    if isinstance(sent, list) and isinstance(rendered, list):
        if len(sent) != len(rendered):
            return [f"{path}: {len(sent)} items sent, {len(rendered)} rendered"]
        return [
            d
            for index, pair in enumerate(zip(sent, rendered, strict=True))
            for d in differences(*pair, f"{path}/{index}")
        ]
    return [] if sent == rendered else [f"{path}: {str(sent)[:60]!r} rendered as {str(rendered)[:60]!r}"]
