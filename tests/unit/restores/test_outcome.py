"""The one outcome check: a restore is COMPLETE only when every promised item was done and nothing was rejected;
PARTIAL whenever the numbers or the run say otherwise; UNCHECKED, said plainly, when there is nothing to compare."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.restores.outcome import (
    IMPORT_LOG_GROUP,
    ItemsDone,
    ItemsPromised,
    OutcomeCheck,
    Verdict,
    check_outcome,
    imported_items,
)

counts = st.none() | st.integers(0, 10**12)
problems = st.lists(st.text(min_size=1, max_size=40), max_size=3).map(tuple)


@given(expected=counts, done=counts, errors=st.integers(0, 10**6), more=problems)
def test_the_verdict_follows_the_numbers(
    expected: int | None, done: int | None, errors: int, more: tuple[str, ...]
) -> None:
    check = check_outcome(
        ItemsPromised(expected, "the manifest"), ItemsDone(done, "written", errors=errors, problems=more)
    )

    known = expected is not None and done is not None
    if errors or more or (known and done != expected):
        assert check.verdict == Verdict.PARTIAL and check.partial
    elif known:
        assert check.verdict == Verdict.COMPLETE and not check.partial and check.reasons == ()
    else:
        assert check.verdict == Verdict.UNCHECKED and not check.partial
        assert check.reasons[0].startswith("the item count was not compared")
    assert (check.expected, check.done, check.errors) == (expected, done, errors)
    assert set(more) <= set(check.reasons)
    assert OutcomeCheck.from_dict(check.as_dict()) == check


@given(expected=st.integers(1, 10**12), missing=st.integers(1, 10**12))
def test_a_shortfall_names_how_many_items_are_missing_and_where_the_promise_came_from(
    expected: int, missing: int
) -> None:
    done = max(0, expected - missing)
    check = check_outcome(ItemsPromised(expected, "the manifest"), ItemsDone(done, "imported"))

    assert check.partial
    assert check.reasons == (
        f"{expected - done:,} of the {expected:,} items promised (the manifest) are missing: {done:,} imported",
    )
    assert check.figures == f"{done:,} of {expected:,} items"


def test_more_items_than_promised_is_not_what_was_approved_either() -> None:
    check = check_outcome(ItemsPromised(10, "the record"), ItemsDone(12, "written"))
    assert check.partial and check.reasons == ("12 written, 2 more than the 10 promised (the record)",)


def test_rejected_items_make_an_import_partial_even_when_nothing_was_promised() -> None:
    check = check_outcome(
        ItemsPromised(None, "unknown"), ItemsDone(7, "imported", errors=3, error_log="the log group `/x`")
    )
    assert check.partial and check.figures == "7 items (nothing to compare with) · 3 rejected"
    assert check.reasons == (
        "3 item(s) were rejected and are not in the table; DynamoDB logged each one in the log group `/x`",
    )


def test_describe_import_gives_the_counts_and_the_log_group_of_the_rejected_items() -> None:
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:/custom/imports:*"
    done = imported_items({"ImportedItemCount": 8, "ErrorCount": 2, "CloudWatchLogGroupArn": arn})
    assert (done.count, done.errors) == (8, 2)
    assert done.error_log == f"the CloudWatch log group `/custom/imports` ({arn})"
    without_arn = imported_items({"ImportedItemCount": 8, "ErrorCount": 1})
    assert without_arn.error_log == f"the CloudWatch log group `{IMPORT_LOG_GROUP}`"
    assert imported_items({"ImportedItemCount": 8, "ErrorCount": 0}).error_log is None
    assert imported_items({"ImportedItemCount": "8", "ErrorCount": True}).count is None  # not a count: unknown


def test_nothing_counted_and_nothing_promised_says_both_reasons() -> None:
    check = check_outcome(ItemsPromised(None, "no manifest"), ItemsDone(None, "no count yet"))
    assert check.figures == "items not counted"
    assert check.reasons == ("the item count was not compared: no manifest; and no count yet",)
