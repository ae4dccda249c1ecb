"""/readyz includes Slack and AWS: a replica whose Slack or AWS stops answering is not ready, the JSON detail names
what to fix (never a secret), and it is ready again soon after the cause is gone. The settings that let everyone
act or nobody approve are warned about in /readyz, the log and everyone's App Home; an account alias whose role
cannot be assumed is a warning, and the bot serves the other accounts."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest

from bot.authz import Authorizer
from bot.aws.accounts import AwsAccounts
from bot.config import Account
from bot.db import make_engine
from bot.demo.slack_standin import SlackStandIn
from bot.wiring.health import FAILED_SECONDS, OK_SECONDS, build_health
from bot.wiring.operations import Readiness, operations_app
from bot.wiring.schema import create_schema
from bot.wiring.startup import STS_PROBE, slack_probe_client
from handlers.kit.slack_port import SlackGroups
from tests.integration.conftest import SIGNING_SECRET, BotFactory, bot_settings
from tests.integration.home.test_app_home import published_home
from tests.support.aws_proxy import AwsFaultProxy, Fault
from tests.support.slack_requests import SignedSlackClient
from tests.support.tcp_proxy import TcpProxy

AWS_SECRET = "testing"  # what the moto_endpoint fixture sets: it must not show in /readyz
ROLE = "arn:aws:iam::111111111111:role/ddb-backup-bot"


class Clock:
    """The monotonic clock the remembered checks read, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def front(url: str) -> TcpProxy:
    parts = urlsplit(url)
    return TcpProxy((parts.hostname or "127.0.0.1", parts.port or 80))


@pytest.fixture
def lines(
    moto_endpoint: str, slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TcpProxy, TcpProxy]]:
    """AWS and Slack each behind a line that can be cut."""
    aws, to_slack = front(moto_endpoint), front(slack.api_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{aws.port}")
    yield aws, to_slack
    aws.close()
    to_slack.close()


def readyz(
    tmp_path: Path, slack: SlackStandIn, clock: Clock, **overrides: Any
) -> Callable[[], tuple[str, dict[str, Any]]]:
    """The /readyz of a replica built as bootstrap builds it, answered in-process."""
    settings = bot_settings(tmp_path, slack, **overrides)
    engine = make_engine(settings.database_url)
    create_schema(engine)
    session = boto3.Session()
    probe = slack_probe_client(settings)
    authorizer = Authorizer(settings.operators, settings.approvers, SlackGroups(probe))
    health = build_health(settings, session, probe, AwsAccounts(session, {}), authorizer, clock=clock)
    app = operations_app(Readiness(engine, None, health))

    def ask() -> tuple[str, dict[str, Any]]:
        answered: list[str] = []
        body = b"".join(
            app({"PATH_INFO": "/readyz", "REQUEST_METHOD": "GET"}, lambda status, _h: answered.append(status))
        )
        return answered[0], json.loads(body)

    return ask


def test_readyz_is_not_ready_while_aws_or_slack_does_not_answer_and_says_which(
    lines: tuple[TcpProxy, TcpProxy], slack: SlackStandIn, tmp_path: Path
) -> None:
    aws, to_slack = lines
    clock = Clock()
    slack_url = f"http://127.0.0.1:{to_slack.port}/api/"
    ask = readyz(tmp_path, slack, clock, slack_api_url=slack_url, operators=["U0ALICE"], approvers=["U0BOB"])
    status, report = ask()
    assert status == "200 OK" and report == {
        "ready": True,
        "checks": {"database": "ok", "schema": "ok", "slack": "ok", "aws": "ok"},
        "warnings": [],
    }

    aws.cut()
    assert ask()[0] == "200 OK", "a passed check is remembered for a while: /readyz is asked every few seconds"
    clock.now += OK_SECONDS
    status, report = ask()
    assert status == "503 Service Unavailable" and not report["ready"]
    assert report["checks"]["slack"] == "ok"
    assert report["checks"]["aws"].startswith("AWS_ENDPOINT_URL: ") and "cannot be reached" in report["checks"]["aws"]

    aws.restore()
    clock.now += FAILED_SECONDS
    assert ask()[0] == "200 OK", "a failed check is asked again sooner"
    to_slack.cut()
    clock.now += OK_SECONDS
    status, report = ask()
    assert status == "503 Service Unavailable"
    assert report["checks"]["aws"] == "ok"
    assert "Slack's Web API" in report["checks"]["slack"] and "HTTPS_PROXY" in report["checks"]["slack"]
    assert AWS_SECRET not in json.dumps(report) and SIGNING_SECRET not in json.dumps(report)

    to_slack.restore()
    clock.now += FAILED_SECONDS
    assert ask()[0] == "200 OK"


def test_readyz_names_credentials_that_aws_refuses(moto_endpoint: str, slack: SlackStandIn, tmp_path: Path) -> None:
    refused = Fault(403, "InvalidClientTokenId", "The security token included in the request is invalid.")
    with (
        AwsFaultProxy(
            moto_endpoint, lambda operation, _body: refused if operation == "GetCallerIdentity" else None
        ) as proxy,
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setenv("AWS_ENDPOINT_URL", proxy.url)
        status, report = readyz(tmp_path, slack, Clock())()
    assert status == "503 Service Unavailable"
    assert report["checks"]["aws"].startswith("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: ")
    assert "InvalidClientTokenId" in report["checks"]["aws"]


def test_who_may_act_and_approve_is_warned_about_in_readyz_the_log_and_everyones_home_tab(
    start_bot: BotFactory, slack: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING", logger="bot.wiring.bootstrap")
    bot = start_bot()  # no operators, no approvers
    warned = [r.__dict__["warning"] for r in caplog.records if r.getMessage() == "bot.start_warning"]
    assert len(warned) == 2
    assert warned[0].startswith("DDBBOT_OPERATORS is empty, so everyone in the workspace may")
    assert warned[1].startswith("DDBBOT_APPROVERS is empty, so nobody may approve restores")
    assert _readyz(bot.metrics_url)["warnings"] == warned

    mark = len(slack.calls)
    signed = _signed(bot.url)
    signed.event({"type": "app_home_opened", "user": "U0ANYONE", "channel": "D0HOME", "tab": "home"})
    home = json.dumps(published_home(slack, "U0ANYONE", mark), ensure_ascii=False)
    assert "Settings to fix" in home and "Nobody is named an operator, so everyone" in home
    assert "Nobody is named an approver, so no restore can be approved" in home
    assert "DDBBOT_" not in home, "a setting's name means nothing to a Slack user"


def test_approvers_who_cannot_give_enough_approvals_are_warned_about_and_a_sound_setup_is_not(
    start_bot: BotFactory, slack: SlackStandIn
) -> None:
    slack.set_usergroup("S0NOBODY", [])
    empty_group = start_bot(operators=["U0ALICE"], approvers=["S0NOBODY"])
    assert _readyz(empty_group.metrics_url)["warnings"] == [
        "DDBBOT_APPROVERS holds 0 people (its user groups included) and a restore needs 1 distinct approver "
        "(DDBBOT_REQUIRED_APPROVALS), so no restore can be approved; add approvers or lower DDBBOT_REQUIRED_APPROVALS."
    ]
    too_few = start_bot(operators=["U0ALICE"], approvers=["U0BOB"], required_approvals=2)
    assert "holds 1 person" in _readyz(too_few.metrics_url)["warnings"][0]

    sound = start_bot(operators=["U0ALICE"], approvers=["U0BOB"])
    assert _readyz(sound.metrics_url)["warnings"] == []
    mark = len(slack.calls)
    _signed(sound.url).event({"type": "app_home_opened", "user": "U0ALICE", "channel": "D0HOME", "tab": "home"})
    assert "Settings to fix" not in json.dumps(published_home(slack, "U0ALICE", mark))


def test_an_account_alias_whose_role_cannot_be_assumed_is_a_warning_and_the_bot_serves_on(
    world: str, start_bot: BotFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    denied = Fault(403, "AccessDenied", f"User is not authorized to perform: sts:AssumeRole on resource: {ROLE}")
    config = tmp_path / "accounts.toml"
    config.write_text(f'[accounts.prod]\nrole_arn = "{ROLE}"\nexternal_id = "not-what-the-trust-policy-says"\n')
    with AwsFaultProxy(world, lambda operation, _body: denied if operation == "AssumeRole" else None) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        bot = start_bot(config_file=config, operators=["U0ALICE"], approvers=["U0BOB"])
        report = _readyz(bot.metrics_url)
    assert report["ready"] is True, "one broken account does not stop the bot serving the others"
    assert len(report["warnings"]) == 1
    assert report["warnings"][0].startswith(f"Account alias `prod`: I cannot assume {ROLE} (AccessDenied).")
    assert "not-what-the-trust-policy-says" not in json.dumps(report)


def test_an_account_alias_whose_role_answers_is_not_warned_about(moto_endpoint: str) -> None:
    accounts = AwsAccounts(boto3.Session(), {"prod": Account("prod", ROLE)})
    assert accounts.unreachable("prod", STS_PROBE) is None


def _readyz(url: str) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=20) as response:
            return dict(json.loads(response.read()))
    except urllib.error.HTTPError as error:
        return dict(json.loads(error.read()))


def _signed(url: str) -> SignedSlackClient:
    return SignedSlackClient(f"{url}/slack/events", SIGNING_SECRET)
