"""The stand-ins over HTTP: one moto server per worker, a fresh front and clock per test, boto3 clients on the front."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bot.demo.aws.clock import SettableClock
from bot.demo.aws.standins import AwsStandIns
from tests.support.aws_standins import BUCKET, START, TESTING, running_standins, standin_client
from tests.support.aws_world import client, start_moto


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    server, endpoint = start_moto()
    yield endpoint
    server.stop()


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(START)


@pytest.fixture
def aws(moto_server: str, clock: SettableClock) -> Iterator[AwsStandIns]:
    with running_standins(moto_server, clock) as standins:
        yield standins


@pytest.fixture
def ddb(aws: AwsStandIns) -> Any:
    return standin_client("dynamodb", aws)


@pytest.fixture
def moto_ddb(aws: AwsStandIns) -> Any:
    """A DynamoDB client straight to moto, behind the front's back (to see the live table)."""
    return client("dynamodb", aws.front.upstream, **TESTING)


@pytest.fixture
def s3(aws: AwsStandIns) -> Any:
    s3 = standin_client("s3", aws)
    s3.create_bucket(Bucket=BUCKET)
    return s3
