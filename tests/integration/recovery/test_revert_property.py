"""For random histories and random windows, a revert leaves every key either as it was at `since` or, where it was
changed after `until`, as it is now and reported as a conflict; keys the window did not touch are left alone.

A model of the history gives what an incremental export of [since, until) holds (each key written in the window once:
its state before `since`, its state at `until`), and moto's server is the live table the conditional writer repairs.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from typing import Any

import botocore.credentials
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.loader.endpoint import DynamoDbEndpoint
from bot.recovery.actions import Outcome, RepairAction
from bot.recovery.diff import same_item
from bot.recovery.keys import KeyAttribute, KeySchema
from bot.recovery.writer import ConditionalWriter
from tests.support.aws_world import client, reset_moto

SCHEMA = KeySchema(KeyAttribute("pk", "S"))
TABLES = itertools.count()


@dataclass(frozen=True)
class Write:
    at: int
    key: int
    value: dict[str, Any] | None  # None: deleted


values = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {"v": st.sampled_from([{"S": "a"}, {"S": "b"}, {"N": "1"}, {"N": "1E0"}, {"SS": ["x", "y"]}])}
    ),
    st.fixed_dictionaries({"v": st.just({"S": "a"}), "w": st.just({"L": [{"N": "2"}]})}),
)
histories = st.lists(st.builds(Write, st.integers(0, 30), st.integers(0, 5), values), max_size=25).map(
    lambda writes: sorted(writes, key=lambda w: w.at)
)


def image(key: int, value: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if value is None else {"pk": {"S": f"k{key}"}, **value}


def state_before(history: list[Write], moment: int) -> dict[int, dict[str, Any] | None]:
    state: dict[int, dict[str, Any] | None] = {}
    for write in history:
        if write.at < moment:
            state[write.key] = image(write.key, write.value)
    return state


@pytest.fixture(scope="module")
def local_ddb(moto_server: str) -> Any:
    reset_moto(moto_server)
    return client("dynamodb", moto_server, aws_access_key_id="testing", aws_secret_access_key="testing")


@settings(max_examples=30)
@given(history=histories, window=st.tuples(st.integers(0, 31), st.integers(1, 20)))
def test_revert_restores_the_window_or_reports_a_later_change_as_a_conflict(
    local_ddb: Any, history: list[Write], window: tuple[int, int]
) -> None:
    since, until = window[0], window[0] + window[1]
    table = f"revert-{next(TABLES)}"
    local_ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for write in history:  # the table as it is now: every write of the history, in order
        if write.value is None:
            local_ddb.delete_item(TableName=table, Key={"pk": {"S": f"k{write.key}"}})
        else:
            local_ddb.put_item(TableName=table, Item=image(write.key, write.value))
    old, new = state_before(history, since), state_before(history, until)
    touched = sorted({w.key for w in history if since <= w.at < until})
    later = {w.key for w in history if w.at >= until}
    now_before = {k: _live(local_ddb, table, k) for k in range(6)}
    actions = [
        RepairAction(seq, {"pk": {"S": f"k{k}"}}, f"k{k}", expected=new.get(k), target=old.get(k))
        for seq, k in enumerate(touched)
    ]
    endpoint = DynamoDbEndpoint(
        local_ddb.meta.endpoint_url, "us-east-1", botocore.credentials.Credentials("testing", "testing")
    )
    writer = ConditionalWriter(endpoint, table, SCHEMA, halt=threading.Event())
    try:
        outcomes = {touched[j.seq]: j.outcome for j in writer.apply(actions)}
    finally:
        writer.close()
    for k in range(6):
        after = _live(local_ddb, table, k)
        if k not in touched:
            assert same_item(after, now_before[k]), f"k{k} was not in the window, yet it changed"
        elif same_item(now_before[k], new.get(k)) or same_item(now_before[k], old.get(k)):
            assert same_item(after, old.get(k)), f"k{k} is still as the window left it"
            assert outcomes[k] in {Outcome.WRITTEN, Outcome.UNCHANGED}
        else:
            assert k in later, f"k{k} differs from the window's end, though nothing changed it after until"
            assert outcomes[k] == Outcome.CONFLICT
            assert same_item(after, now_before[k]), f"k{k}'s later change was overwritten"
    local_ddb.delete_table(TableName=table)


def _live(ddb: Any, table: str, key: int) -> dict[str, Any] | None:
    found = ddb.get_item(TableName=table, Key={"pk": {"S": f"k{key}"}}, ConsistentRead=True).get("Item")
    return dict(found) if found else None
