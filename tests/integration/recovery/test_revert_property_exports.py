"""The revert property end to end on the AWS side: for random histories written through the DynamoDB stand-ins at the
times they happened, and random windows (one incremental export, or two consecutive ones split at a random moment),
the bot reads the stand-in's exports into its repair actions (`window_actions`: records read, merged, keys left as
found dropped) and the conditional writer applies them to the live table. Every key then is as it was at `since`, or,
where it was changed after `until`, as it is now and reported as a conflict; keys the window did not touch are left
alone. Unlike test_revert_property.py, nothing here models what an export holds: the stand-in lays it out as AWS
documents it, and the bot reads it.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.credentials
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.demo.aws.exports import ExportPacing
from bot.demo.aws.standins import AwsStandIns, start_standins
from bot.loader.endpoint import DynamoDbEndpoint
from bot.recovery.actions import Outcome
from bot.recovery.diff import same_item
from bot.recovery.exporting import RecoveryExport
from bot.recovery.keys import KeyAttribute, KeySchema
from bot.recovery.models import Kind, Preparation, Source, State
from bot.recovery.reading import window_actions
from bot.recovery.writer import ConditionalWriter
from tests.integration.recovery.conftest import ShiftedClock
from tests.support.aws_world import client, reset_moto
from tests.support.schedules import wait_until

SCHEMA = KeySchema(KeyAttribute("pk", "S"))
BUCKET = "revert-property"
KEYS = range(5)
STEP = timedelta(minutes=5)  # one unit of the history; writes happen a minute into their unit
START = timedelta(minutes=200)  # the table is created (PITR on) this long before now; unit 0 is 10 minutes later
TABLES = itertools.count()
TESTING = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@dataclass(frozen=True)
class Write:
    unit: int
    key: int
    value: dict[str, Any] | None  # None: deleted


values = st.one_of(
    st.none(),
    st.fixed_dictionaries({"v": st.sampled_from([{"S": "a"}, {"S": "b"}, {"N": "1"}, {"N": "1.50"}, {"SS": ["x"]}])}),
    st.fixed_dictionaries({"v": st.just({"S": "a"}), "w": st.just({"L": [{"N": "2"}]})}),
)
histories = st.lists(st.builds(Write, st.integers(0, 20), st.sampled_from(KEYS), values), min_size=4, max_size=24).map(
    lambda writes: sorted(writes, key=lambda w: w.unit)
)
windows = st.tuples(st.integers(0, 14), st.integers(3, 8), st.booleans(), st.integers(0, 100))


@dataclass
class World:
    standins: AwsStandIns
    clock: ShiftedClock
    ddb: Any
    s3: Any


@pytest.fixture(scope="module")
def world(moto_server: str) -> Iterator[World]:
    reset_moto(moto_server)
    clock = ShiftedClock()
    with start_standins(moto_server, clock=clock, export_pacing=ExportPacing(describes=1)) as standins:
        s3 = client("s3", standins.url, **TESTING)
        s3.create_bucket(Bucket=BUCKET)
        yield World(standins, clock, client("dynamodb", standins.url, **TESTING), s3)


def image(key: int, value: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if value is None else {"pk": {"S": f"k{key}"}, **value}


def state_before(history: list[Write], unit: int) -> dict[int, dict[str, Any] | None]:
    """Each key's item at the start of `unit` (writes happen a minute into theirs)."""
    return {w.key: image(w.key, w.value) for w in history if w.unit < unit}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories, window=windows)
def test_revert_from_the_stand_in_s_exports_restores_the_window_or_reports_a_conflict(
    world: World, history: list[Write], window: tuple[int, int, bool, int]
) -> None:
    since, length, split, cut = window
    until = since + length
    table = f"revert-exports-{next(TABLES)}"
    now = datetime.now(UTC).replace(microsecond=0)
    unit_time = lambda unit: now - START + timedelta(minutes=10) + unit * STEP  # noqa: E731
    write_history(world, table, history, now, unit_time)
    parts = [(since, until)] if not split or length < 6 else [(since, since + 3 + cut % (length - 5)), None]
    if parts[-1] is None:
        parts[-1] = (parts[0][1], until)  # two consecutive incrementals, each at least 15 minutes
    exports = [incremental(world, table, unit_time(a), unit_time(b)) for a, b in parts]  # type: ignore[misc]
    now_before = {k: live(world.ddb, table, k) for k in KEYS}
    actions = window_actions(world.s3, preparation(table, unit_time(since), unit_time(until), exports))
    endpoint = DynamoDbEndpoint(world.standins.url, "us-east-1", botocore.credentials.Credentials("testing", "testing"))
    writer = ConditionalWriter(endpoint, table, SCHEMA, halt=threading.Event())
    try:
        judged = writer.apply(actions) if actions else []
        outcomes = {action.key["pk"]["S"]: j.outcome for action, j in zip(actions, judged, strict=True)}
    finally:
        writer.close()
    old, new = state_before(history, since), state_before(history, until)
    touched = {w.key for w in history if since <= w.unit < until}
    for k in KEYS:
        after = live(world.ddb, table, k)
        if k not in touched or same_item(old.get(k), new.get(k)):
            assert same_item(after, now_before[k]), f"k{k}: the window left it as it found it, yet it changed"
            assert f"k{k}" not in outcomes, f"k{k} needed nothing, yet it was in the plan"
        elif same_item(now_before[k], new.get(k)):
            assert same_item(after, old.get(k)), f"k{k} is still as the window left it"
            assert outcomes[f"k{k}"] == Outcome.WRITTEN
        else:
            assert any(w.key == k and w.unit >= until for w in history), f"k{k} differs, yet nothing changed it later"
            assert outcomes[f"k{k}"] in {Outcome.CONFLICT, Outcome.UNCHANGED}
            expected_outcome = Outcome.UNCHANGED if same_item(now_before[k], old.get(k)) else Outcome.CONFLICT
            assert outcomes[f"k{k}"] == expected_outcome, f"k{k}"
            assert same_item(after, now_before[k]), f"k{k}'s later change was overwritten"


def write_history(world: World, table: str, history: list[Write], now: datetime, unit_time: Any) -> None:
    world.clock.at(datetime.now(UTC) - (now - START))
    world.ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    world.ddb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    try:
        for n, write in enumerate(history):  # 10 ms apart within a unit: the stand-in refuses a clock going back
            world.clock.at(datetime.now(UTC) - (unit_time(write.unit) + timedelta(minutes=1, milliseconds=10 * n)))
            if write.value is None:
                world.ddb.delete_item(TableName=table, Key={"pk": {"S": f"k{write.key}"}})
            else:
                world.ddb.put_item(TableName=table, Item=image(write.key, write.value))
    finally:
        world.clock.at(timedelta(0))


def incremental(world: World, table: str, since: datetime, until: datetime) -> RecoveryExport:
    """An incremental export of [since, until) with both images, followed until it is done."""
    arn = world.ddb.describe_table(TableName=table)["Table"]["TableArn"]
    started = world.ddb.export_table_to_point_in_time(
        TableArn=arn,
        S3Bucket=BUCKET,
        S3Prefix=table,
        ExportFormat="DYNAMODB_JSON",
        ExportType="INCREMENTAL_EXPORT",
        IncrementalExportSpecification={
            "ExportFromTime": since,
            "ExportToTime": until,
            "ExportViewType": "NEW_AND_OLD_IMAGES",
        },
    )["ExportDescription"]

    def done() -> bool:
        status = world.ddb.describe_export(ExportArn=started["ExportArn"])["ExportDescription"]["ExportStatus"]
        assert status != "FAILED"
        return status == "COMPLETED"

    wait_until(done, "the incremental export", timeout=180)  # for a hang: a loaded machine took over 60 s
    return RecoveryExport(
        started["ExportArn"], BUCKET, table, None, "INCREMENTAL_EXPORT", window_from=since, window_to=until
    )


def preparation(table: str, since: datetime, until: datetime, exports: list[RecoveryExport]) -> Preparation:
    return Preparation(
        id="v-property",
        kind=Kind.REVERT,
        state=State.EXPORTING,
        source=Source.PITR,
        requested_by="U0ALICE",
        channel_id=None,
        table=table,
        table_name=table,
        table_arn=f"arn:aws:dynamodb:us-east-1:123456789012:table/{table}",
        account_alias=None,
        region="us-east-1",
        schema=SCHEMA,
        since=since,
        until=until,
        exports=tuple(exports),
    )


def live(ddb: Any, table: str, key: int) -> dict[str, Any] | None:
    found = ddb.get_item(TableName=table, Key={"pk": {"S": f"k{key}"}}, ConsistentRead=True).get("Item")
    return dict(found) if found else None
