"""moto's server as the demo and the tests run it (bot.demo.world): an acknowledged DynamoDB write is never lost.

Raw moto loses one when two requests write under the same new partition key at once and one of them is switched
out inside moto's `defaultdict` between missing the key and storing the partition's new dict. `PausingHash` makes
that interleaving happen every time, not by luck: moto hashes the key in Python (`DynamoType.__hash__`), so the
first request is held at its second hash of the marked key (the store of the new dict) while a second request
runs. Against raw moto the second request's item is answered as written and then gone; through `start_moto` the
second request waits for the first, and both items are there.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.server import ThreadedMotoServer

from bot.demo.world import client, create_table, start_moto
from tests.support.aws_standins import TESTING

FIRST, SECOND = "1", "2"
HELD_AT_HASH = 2  # moto 5.2's PutItem: the lookup `items[pk]` that misses, then the store of the partition's dict


class PausingHash:
    """`DynamoType.__hash__` that holds the first thread to hash `mark` at its `HELD_AT_HASH`th hash of it until
    `resume` is set (or `patience` runs out), and counts other threads' hashes of `mark` meanwhile."""

    def __init__(self, mark: str, patience: float = 60.0) -> None:
        self.mark = mark
        self.patience = patience
        self.paused = threading.Event()
        self.resume = threading.Event()
        self.others_while_paused = 0
        self._holding = False
        self._first: int | None = None
        self._hashes = 0
        self._lock = threading.Lock()
        self._original: Callable[[DynamoType], int] = DynamoType.__hash__

    @property
    def holding(self) -> bool:
        """True while the first request is held."""
        with self._lock:
            return self._holding

    def __call__(self, value: DynamoType) -> int:
        if value.type == "S" and value.value == self.mark and self._should_hold():
            self.paused.set()
            self.resume.wait(self.patience)
            with self._lock:
                self._holding = False
        return self._original(value)

    def _should_hold(self) -> bool:
        with self._lock:
            thread = threading.get_ident()
            self._first = thread if self._first is None else self._first
            if thread != self._first:
                self.others_while_paused += self._holding
                return False
            self._hashes += 1
            self._holding = self._hashes == HELD_AT_HASH
            return self._holding


@dataclass
class Race:
    """What the two racing writes saw: whether the second was answered while the first was held, whether another
    request reached moto's items then, and the sort keys the partition holds afterwards."""

    second_answered_while_first_held: bool
    others_while_paused: int
    stored: set[str]


@pytest.fixture
def pausing_hash(monkeypatch: pytest.MonkeyPatch) -> PausingHash:
    hook = PausingHash(f"race#{uuid.uuid4()}")
    monkeypatch.setattr(DynamoType, "__hash__", lambda value: hook(value))
    return hook


@pytest.fixture
def raw_moto() -> Iterator[str]:
    """moto's own threaded server, as moto ships it."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def world_moto() -> Iterator[str]:
    """moto as the demo and the tests start it."""
    server, endpoint = start_moto()
    yield endpoint
    server.stop()


def _table(endpoint: str) -> str:
    name = f"race-{uuid.uuid4().hex[:12]}"  # both servers share moto's in-process backend
    create_table(client("dynamodb", endpoint, **TESTING), name, pitr=False, items=[])
    return name


def _write(endpoint: str, table: str, pk: str, sk: str, answers: dict[str, Any]) -> None:
    """One BatchWriteItem, as the loader sends them; its answer is kept under `sk`."""
    request = {"PutRequest": {"Item": {"pk": {"S": pk}, "sk": {"S": sk}}}}
    answers[sk] = client("dynamodb", endpoint, **TESTING).batch_write_item(RequestItems={table: [request]})


def _race(endpoint: str, hook: PausingHash, *, second_waits: float, while_held: Callable[[], None]) -> Race:
    """The first write held inside moto, the second sent then (given `second_waits` seconds to be answered), and
    `while_held` called; then the first is let go and the partition read back."""
    table, answers = _table(endpoint), dict[str, Any]()
    first = threading.Thread(target=_write, args=(endpoint, table, hook.mark, FIRST, answers))
    second = threading.Thread(target=_write, args=(endpoint, table, hook.mark, SECOND, answers))
    first.start()
    assert hook.paused.wait(30), "the first write reached moto's store of the partition's new dict"
    second.start()
    second.join(second_waits)
    answered_while_held = not second.is_alive()
    while_held()
    hook.resume.set()
    first.join(30)
    second.join(30)
    assert {sk: answer["UnprocessedItems"] for sk, answer in answers.items()} == {FIRST: {}, SECOND: {}}
    query = client("dynamodb", endpoint, **TESTING).query(
        TableName=table, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": hook.mark}}
    )
    return Race(answered_while_held, hook.others_while_paused, {item["sk"]["S"] for item in query["Items"]})


def test_raw_moto_loses_a_write_it_acknowledged_when_two_requests_create_one_partition_at_once(
    raw_moto: str, pausing_hash: PausingHash
) -> None:
    race = _race(raw_moto, pausing_hash, second_waits=30, while_held=lambda: None)

    assert race.second_answered_while_first_held, "moto answered the second write while the first was inside"
    assert race.others_while_paused > 0
    assert race.stored == {FIRST}, "the second write, acknowledged, is gone: why start_moto serialises DynamoDB"


def test_moto_as_the_tests_run_it_keeps_every_acknowledged_write_under_one_new_partition(
    world_moto: str, pausing_hash: PausingHash
) -> None:
    still_held_after_s3: list[bool] = []

    def other_services_answer() -> None:
        client("s3", world_moto, **TESTING).list_buckets()
        still_held_after_s3.append(pausing_hash.holding)

    race = _race(world_moto, pausing_hash, second_waits=1.0, while_held=other_services_answer)

    assert not race.second_answered_while_first_held, "the second DynamoDB write waited for the first"
    assert race.others_while_paused == 0
    assert race.stored == {FIRST, SECOND}
    assert still_held_after_s3 == [True], "S3 answered while a DynamoDB request was inside moto"
