"""A drill whose proof meets an AWS error it did not expect (DescribeTable throttled through every retry) still
deletes its throwaway table through the tagged deletion, and says so; when the deletion is refused too, the result
says plainly which table is left behind and the command that deletes it. AWS is moto behind AwsFaultProxy, which
answers the chosen calls with AWS's errors."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.aws.accounts import CLIENT_CONFIG
from bot.demo.slack_standin import PostedMessage, SlackStandIn
from bot.drills.models import DrillStatus
from bot.drills.store import DrillStore
from bot.wiring.runtime import BotRuntime
from tests.integration.conftest import SIGNING_SECRET, BotFactory
from tests.integration.drills.test_drill import OPERATOR, completed_export, drill, drill_tables, result_in
from tests.support.aws_proxy import AwsFaultProxy, Fault
from tests.support.slack_requests import SignedSlackClient

OPS = "C0OPS"
# every try of one call: botocore's `max_attempts` counts the retries after the first
ATTEMPTS = 1 + int(CLIENT_CONFIG.retries["max_attempts"])  # type: ignore[index]
THROTTLED = Fault(400, "ThrottlingException", "Rate of requests exceeds the allowed throughput.")
DENIED = Fault(400, "AccessDeniedException", "User is not authorized to perform: dynamodb:DeleteTable")
DrillWith = Callable[["ProofFaults"], tuple[BotRuntime, PostedMessage]]


class ProofFaults:
    """Lets the drill table's first DescribeTable through (the import's wait for ACTIVE), throttles every attempt
    of the next call (the proof's), then lets DescribeTable through again; refuses DeleteTable when asked."""

    def __init__(self, *, refuse_delete: bool) -> None:
        self.refuse_delete = refuse_delete
        self.describes = 0
        self.throttled = 0
        self.refused_deletes = 0
        self._lock = threading.Lock()

    def __call__(self, operation: str, body: bytes) -> Fault | None:
        if b"-drill-" not in body:
            return None
        with self._lock:
            if operation == "DeleteTable" and self.refuse_delete:
                self.refused_deletes += 1
                return DENIED
            if operation != "DescribeTable":
                return None
            self.describes += 1
            if 2 <= self.describes <= 1 + ATTEMPTS:
                self.throttled += 1
                return THROTTLED
        return None


@pytest.fixture
def drill_with(
    start_bot: BotFactory, world: str, monkeypatch: pytest.MonkeyPatch, slack: SlackStandIn, s3: Any
) -> Iterator[Callable[[ProofFaults], tuple[BotRuntime, PostedMessage]]]:
    """Runs `/ddb-drill orders` on a bot whose DynamoDB calls pass through an AwsFaultProxy deciding with `faults`."""
    fronts: list[AwsFaultProxy] = []

    def run(faults: ProofFaults) -> tuple[BotRuntime, PostedMessage]:
        fronts.append(AwsFaultProxy(world, faults))
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", fronts[-1].url)
        bot = start_bot(operators=[OPERATOR])
        signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
        completed_export(bot, signed, slack, s3)
        drill(signed, slack, "orders")
        return bot, result_in(slack, OPS)

    yield run
    for front in fronts:
        front.close()


def test_a_drill_whose_proof_is_throttled_fails_saying_why_and_still_deletes_its_table(
    drill_with: DrillWith, ddb: Any
) -> None:
    faults = ProofFaults(refuse_delete=False)
    bot, result = drill_with(faults)

    shown = str(result.blocks)
    assert "failed" in result.text
    assert "AWS is limiting dynamodb:DescribeTable right now" in shown, shown[:2000]
    assert "Drill table deleted." in shown
    assert faults.throttled == ATTEMPTS, "every attempt of the proof's call was throttled"
    assert drill_tables(ddb) == [], "the throwaway table is gone"
    (stored,) = DrillStore(bot.services.engine).history("orders")
    assert stored.status == DrillStatus.FAILED and stored.result.deleted and not stored.result.left_behind


def test_when_the_deletion_is_refused_too_the_result_names_the_table_left_behind_and_how_to_delete_it(
    drill_with: DrillWith, ddb: Any
) -> None:
    faults = ProofFaults(refuse_delete=True)
    bot, result = drill_with(faults)

    (table,) = drill_tables(ddb)
    fate = next(b["text"]["text"] for b in result.blocks if "NOT deleted" in str(b))
    assert fate.startswith(":warning: Drill table NOT deleted. Left behind: ")
    assert f"`{table}` — delete it with `aws dynamodb delete-table --table-name {table} --region us-east-1`" in fate
    assert "AWS denied dynamodb:DeleteTable" in fate
    assert faults.refused_deletes == 1
    (stored,) = DrillStore(bot.services.engine).history("orders")
    assert stored.result.left_behind and not stored.result.deleted
