"""What `/ddb-schedule run` says when no export was started: never "nothing to do" for a fire that is not over."""

from __future__ import annotations

import pytest

from bot.schedules.runs import UNFINISHED_HERE, _reason


@pytest.mark.parametrize("ran", ["failed", "lost", "deferred"])
def test_a_fire_whose_work_did_not_end_here_is_said_to_be_on_its_way(ran: str) -> None:
    assert _reason(None, ran) == UNFINISHED_HERE


@pytest.mark.parametrize("ran", ["done", "given_up"])
def test_a_fire_that_ended_without_an_export_and_without_a_word_says_nothing_more(ran: str) -> None:
    assert _reason(None, ran) is None
