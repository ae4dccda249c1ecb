"""Warnings about who may act: everyone (no operators), nobody may approve (no approvers, only empty groups, fewer
people than the approvals a restore needs). A group that cannot be read is unknown, never taken for empty. And the
remembered checks behind /readyz: asked again after a minute when they passed, after seconds when they failed."""

from __future__ import annotations

from bot.authz import Authorizer
from bot.wiring.health import Remembered


class Groups:
    """User groups by id; any other id cannot be read (as when usergroups:read is missing)."""

    def __init__(self, groups: dict[str, set[str]]) -> None:
        self.groups = groups
        self.asked = 0

    def members(self, group_id: str) -> set[str]:
        self.asked += 1
        if group_id not in self.groups:
            raise RuntimeError("missing_scope")
        return self.groups[group_id]


def warnings(operators: list[str], approvers: list[str], required: int = 1, **groups: set[str]) -> tuple[str, ...]:
    return Authorizer(operators, approvers, Groups(groups)).access_warnings(required)


def test_no_operators_means_everyone_may_act_and_no_approvers_means_no_restore() -> None:
    found = warnings([], [])
    assert len(found) == 2
    assert found[0].startswith("DDBBOT_OPERATORS is empty, so everyone in the workspace may start exports")
    assert found[1].startswith("DDBBOT_APPROVERS is empty, so nobody may approve restores")


def test_approvers_in_empty_groups_or_too_few_for_the_approvals_needed_are_warned_about() -> None:
    assert "holds 0 people" in warnings(["U0ALICE"], ["S0EMPTY"], S0EMPTY=set())[0]
    assert "holds 2 people" in warnings(["U0ALICE"], ["U0BOB", "S0DBAS"], 3, S0DBAS={"U0BOB", "U0CAROL"})[0]
    assert warnings(["U0ALICE"], ["U0BOB", "S0DBAS"], 2, S0DBAS={"U0BOB", "U0CAROL"}) == ()


def test_a_group_that_cannot_be_read_is_named_but_not_taken_for_an_empty_one() -> None:
    found = warnings(["S0OPS"], ["S0UNREADABLE", "U0BOB"], 2, S0OPS={"U0ALICE"})
    assert found == (
        "DDBBOT_APPROVERS: the user group S0UNREADABLE cannot be read, so its members are not recognised; check the "
        "id, and that the app has the usergroups:read scope.",
    ), "no 'holds 1 people': the group's members are unknown"


def test_a_sound_setup_has_no_warning() -> None:
    assert warnings(["U0ALICE", "S0SRE"], ["U0BOB"], S0SRE={"U0CAROL"}) == ()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_remembered_check_is_asked_again_after_its_time_sooner_when_it_failed() -> None:
    clock, answers, asked = Clock(), ["down", None, None], []

    def check() -> str | None:
        asked.append(clock.now)
        return answers[len(asked) - 1]

    remembered = Remembered(check, lambda problem: problem is None, ok_seconds=60, failed_seconds=10, clock=clock)
    assert remembered() == "down"
    clock.now = 9
    assert remembered() == "down" and asked == [0]
    clock.now = 10
    assert remembered() is None and asked == [0, 10]
    clock.now = 69
    assert remembered() is None and asked == [0, 10]
    clock.now = 70
    assert remembered() is None and asked == [0, 10, 70]
