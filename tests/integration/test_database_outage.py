"""The database unreachable for a while (PostgreSQL behind a proxy that cuts the line): the process stays up,
/readyz says why it should get no traffic, commands are answered with what happened instead of a crash, and once
the database is back everything works again without a restart: commands, the lease, the export tracker."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.demo.slack_standin import SlackStandIn
from bot.wiring.runtime import BotRuntime
from tests.integration.conftest import OPS, SIGNING_SECRET, BotFactory
from tests.support.databases import POSTGRES_ENV, fresh_database
from tests.support.postgres_cluster import HOW_TO
from tests.support.restore_flow import export_table, wait_until
from tests.support.slack_requests import SignedSlackClient
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.skipif(not os.environ.get(POSTGRES_ENV), reason=f"{POSTGRES_ENV} is not set: {HOW_TO}")


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def proxied_database(tmp_path: Path) -> Iterator[tuple[str, TcpProxy]]:
    with fresh_database("postgresql", tmp_path) as url:
        parsed = make_url(url)
        proxy = TcpProxy((parsed.host or "127.0.0.1", parsed.port or 5432))
        try:
            yield parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), proxy
        finally:
            proxy.close()


def test_a_database_outage_is_survived_and_recovered_from_without_a_restart(
    start_bot: BotFactory, slack: SlackStandIn, proxied_database: tuple[str, TcpProxy]
) -> None:
    url, proxy = proxied_database
    bot: BotRuntime = start_bot(database_url=url)
    signed = SignedSlackClient(f"{bot.url}/slack/events", SIGNING_SECRET)
    assert get(f"{bot.metrics_url}/readyz")[0] == 200

    proxy.cut()
    status, body = get(f"{bot.metrics_url}/readyz")
    assert status == 503 and "database" in body.lower()
    assert get(f"{bot.url}/healthz") == (200, "ok\n"), "the process itself is alive"
    response = signed.command("/ddb-status", "orders", response_url=slack.response_url(OPS))
    assert response.status == 200, "Slack gets its ack"
    answer = slack.wait_for(lambda m: m.via == "response_url" and m.channel == OPS, timeout=60)
    said = answer.text + json.dumps(answer.blocks)
    assert "Traceback" not in said and "OperationalError" not in said and "psycopg" not in said
    assert "went wrong" in said or "database" in said.lower()

    proxy.restore()
    wait_until(lambda: get(f"{bot.metrics_url}/readyz")[0] == 200, "the replica to be ready again", 60)
    job = export_table(bot, signed, slack, "orders")  # the tracker, the lease and the store all came back
    assert job.item_count == 3
