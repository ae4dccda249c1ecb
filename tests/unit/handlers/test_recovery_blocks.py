"""The restore messages of repairs and the recovery commands' help stay within Slack's limits whatever they are given
(the checks of test_block_kit_limits.py, which also runs the recovery builders' own cases), and item values appear
only where they belong."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.recovery.models import Kind
from bot.recovery.views import item_view
from bot.restores.models import (
    RestoreMode,
)
from handlers.kit import blocks
from handlers.recovery import blocks as recovery_blocks
from handlers.recovery.parsing import ITEM_HELP, RECOVER_HELP, REVERT_HELP
from handlers.restores import blocks as restore_blocks
from tests.support.recovery_cases import Case, actions, outcome, preparation, request
from tests.unit.handlers.test_block_kit_limits import (
    MAXIMAL,
    Given,
    foreign_text,
    limit_errors,
    stray_control_sequences,
)

RESTORE_CASES: list[Case] = (
    [lambda g, m=m: restore_blocks.approval_request(request(g, m)) for m in (RestoreMode.RECOVER, RestoreMode.REVERT)]
    + [
        lambda g, m=m: restore_blocks.finished_note(request(g, m), outcome(g))
        for m in (RestoreMode.RECOVER, RestoreMode.REVERT)
    ]
    + [lambda g, h=h: blocks.help_message(h) for h in (ITEM_HELP, RECOVER_HELP, REVERT_HELP)]
)
ALL = RESTORE_CASES  # the recovery builders' own cases run with every builder's, in test_block_kit_limits.py


@pytest.mark.parametrize("case", ALL)
def test_with_maximal_inputs_every_recovery_message_stays_within_slacks_limits(case: Case) -> None:
    payload = case(MAXIMAL)
    assert limit_errors("", payload) == []
    assert stray_control_sequences(payload, MAXIMAL) == []


@given(text=foreign_text(6), rows=st.integers(0, 30))
def test_for_any_text_no_recovery_message_breaks_a_limit_or_lets_foreign_text_notify(text: str, rows: int) -> None:
    g = Given(name="orders", text=text, user="U0ALICE", rows=rows)
    for case in ALL:
        payload = case(g)
        assert limit_errors("", payload) == []
        assert stray_control_sequences(payload, g) == []


def test_values_appear_in_the_private_answer_and_nowhere_else() -> None:
    g = Given(name="orders", text="SECRET-4111", user="U0ALICE", rows=2)
    private = json.dumps(recovery_blocks.items_message(item_view(preparation(g), actions(g)), offer_restore=True))
    assert "then" in private and "Restore this version" in private
    thread = json.dumps(recovery_blocks.approval_thread(preparation(g, Kind.REVERT), request(g)))
    assert "Show the items (private)" in thread and "then" not in thread
