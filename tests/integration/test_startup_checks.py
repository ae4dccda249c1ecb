"""Every setting checked at start: `python -m bot` as a process, with everything right but one thing, stops with exit
code 2 and exactly one line on stderr that names the setting and says how to write it (no traceback, no secret).

Slack is the stand-in and AWS is moto's server, so the base environment starts (the first test proves it); each case
breaks one thing: a shape (Slack ids, bucket, region, tokens, database URL), the config file, or what answers at
start (Slack's auth.test, sts:GetCallerIdentity, the database and its lock file).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.demo.slack_standin import SlackStandIn
from tests.integration.conftest import SIGNING_SECRET
from tests.integration.test_process import AWS_SECRET, SERVING_METRICS, BotProcess, bot_env
from tests.support.databases import POSTGRES_ENV
from tests.support.postgres_cluster import HOW_TO

TOKEN = "xoxb-startup-check-token"
APP_TOKEN = "xapp-1-A0STARTUP-1-refused-app-token-not-real"
DB_PASSWORD = "startup-db-password-not-real"
PROXY_PASSWORD = "startup-proxy-password-not-real"
SECRETS = (TOKEN, APP_TOKEN, SIGNING_SECRET, AWS_SECRET, DB_PASSWORD, PROXY_PASSWORD)
ROLE = "arn:aws:iam::111111111111:role/ddb-backup-bot"
NO_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": None,
    "AWS_SECRET_ACCESS_KEY": None,
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
    "AWS_CONFIG_FILE": "/nonexistent/config",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@dataclass(frozen=True)
class Case:
    """One broken thing: the environment changed (None removes a variable), the config file, and what to expect."""

    setting: str
    said: str
    env: dict[str, str | None] = field(default_factory=dict)
    config: str | None = None
    files: dict[str, str] = field(default_factory=dict)  # relative path → "dir" or file text, made before the start


CASES = {
    # the database
    "database url not parseable": Case(
        "DDBBOT_DATABASE_URL", "not a database URL", {"DDBBOT_DATABASE_URL": "db.sqlite"}
    ),
    "database not supported": Case(
        "DDBBOT_DATABASE_URL", "`mysql` databases are not supported", {"DDBBOT_DATABASE_URL": "mysql://u@db/bot"}
    ),
    "database driver missing": Case(
        "DDBBOT_DATABASE_URL",
        "driver `psycopg2` is not installed",
        {"DDBBOT_DATABASE_URL": "postgresql+psycopg2://bot@db/bot"},
    ),
    "database unreachable": Case(
        "DDBBOT_DATABASE_URL",
        "cannot be reached (connection refused)",
        {"DDBBOT_DATABASE_URL": f"postgresql://bot:{DB_PASSWORD}@127.0.0.1:{{dead}}/bot"},
    ),
    "database folder missing": Case(
        "DDBBOT_DATABASE_URL", "does not exist", {"DDBBOT_DATABASE_URL": "sqlite:///{tmp}/missing/bot.sqlite3"}
    ),
    "database lock file blocked": Case(
        "DDBBOT_DATABASE_URL", "the lock file beside", files={"bot.sqlite3.migrate-lock": "dir"}
    ),
    "database not sqlite": Case("DDBBOT_DATABASE_URL", "not an SQLite database", files={"bot.sqlite3": "x" * 4096}),
    # Slack ids, names and the bucket
    "operators are names": Case(
        "DDBBOT_OPERATORS", "`alice`, `bob` are not Slack user ids", {"DDBBOT_OPERATORS": "alice,bob"}
    ),
    "approver is a mention": Case("DDBBOT_APPROVERS", "U012ABCDEF", {"DDBBOT_APPROVERS": "U0ALICE,@bob"}),
    "oncall is a handle": Case("DDBBOT_ONCALL", "S012ABCDEF", {"DDBBOT_ONCALL": "oncall-team"}),
    "notify channel is a name": Case(
        "DDBBOT_NOTIFY_CHANNEL", "`#backups` is not a Slack channel id", {"DDBBOT_NOTIFY_CHANNEL": "#backups"}
    ),
    "approval channel is a name": Case(
        "DDBBOT_APPROVAL_CHANNEL", "About tab", {"DDBBOT_APPROVAL_CHANNEL": "approvals"}
    ),
    "bucket name": Case("DDBBOT_EXPORT_BUCKET", "not a valid S3 bucket name", {"DDBBOT_EXPORT_BUCKET": "Bad_Bucket"}),
    # AWS
    "region unknown": Case("AWS_REGION", "`mars-1` is not an AWS region", {"AWS_REGION": "mars-1"}),
    "default region unknown": Case(
        "AWS_DEFAULT_REGION", "`eu-west` is not an AWS region", {"AWS_REGION": None, "AWS_DEFAULT_REGION": "eu-west"}
    ),
    "no aws credentials": Case("AWS_ACCESS_KEY_ID", "AWS credentials: none found", NO_CREDENTIALS),
    "aws profile missing": Case("AWS_PROFILE", "`nowhere` is not in ~/.aws/config", {"AWS_PROFILE": "nowhere"}),
    "aws unreachable": Case("AWS_ENDPOINT_URL", "cannot be reached", {"AWS_ENDPOINT_URL": "http://127.0.0.1:{dead}"}),
    # Slack
    "slack token refused": Case(
        "SLACK_BOT_TOKEN", "Slack refused the token (invalid_auth)", {"SLACK_BOT_TOKEN": "xoxb-revoked-token"}
    ),
    "slack token is a user token": Case(
        "SLACK_BOT_TOKEN", "it is not a bot token", {"SLACK_BOT_TOKEN": "xoxp-a-user-token"}
    ),
    "slack unreachable": Case(
        "HTTPS_PROXY", "cannot be reached directly", {"SLACK_API_URL": "http://127.0.0.1:{dead}/api/"}
    ),
    "slack proxy unreachable": Case(
        "HTTPS_PROXY",
        "through the proxy http://127.0.0.1:{dead}",
        {"HTTPS_PROXY": f"http://bot:{PROXY_PASSWORD}@127.0.0.1:{{dead}}", "NO_PROXY": None, "no_proxy": None},
    ),
    "app token shape": Case("SLACK_APP_TOKEN", "starts with xapp-", {"SLACK_APP_TOKEN": "xoxb-not-an-app-token"}),
    # the config file
    "config section misspelt": Case(
        "DDBBOT_CONFIG_FILE",
        "[acounts] is not a section of the config file (did you mean `accounts`?)",
        config=f'[acounts.prod]\nrole_arn = "{ROLE}"\n',
    ),
    "config key misspelt": Case(
        "DDBBOT_CONFIG_FILE",
        "[accounts.prod] has no key `externl_id` (did you mean `external_id`?)",
        config=f'[accounts.prod]\nrole_arn = "{ROLE}"\nexternl_id = "abc123"\n',
    ),
    "config region unknown": Case(
        "DDBBOT_CONFIG_FILE",
        "[accounts.prod] region: `moon-1` is not an AWS region",
        config=f'[accounts.prod]\nrole_arn = "{ROLE}"\nregion = "moon-1"\n',
    ),
    "config schedule channel is a name": Case(
        "DDBBOT_CONFIG_FILE",
        "[[schedules]] entry 1 channel: `#backups` is not a Slack channel id",
        config='[[schedules]]\ntable = "orders"\ncron = "0 2 * * *"\nchannel = "#backups"\n',
    ),
    "config table bucket": Case(
        "DDBBOT_CONFIG_FILE",
        '[tables."orders"] bucket: `Backups` is not a valid S3 bucket name',
        config='[tables."orders"]\nbucket = "Backups"\n',
    ),
    "config file missing": Case("DDBBOT_CONFIG_FILE", "does not exist", {"DDBBOT_CONFIG_FILE": "{tmp}/nowhere.toml"}),
}


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(token=TOKEN) as standin:
        yield standin


@pytest.fixture(scope="module")
def dead_port() -> Iterator[int]:
    """A port that is bound but not listening: every connection to it is refused."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


def healthy_env(tmp_path: Path, slack: SlackStandIn) -> dict[str, str]:
    """Everything right: the stand-in's token, moto's AWS (from the moto_endpoint fixture), a fresh SQLite file."""
    return bot_env(
        tmp_path,
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.api_url,
        PORT="0",
        DDBBOT_METRICS_PORT="0",
        DDBBOT_LOG_FORMAT="json",
    )


def test_the_healthy_environment_starts_and_is_ready(moto_endpoint: str, slack: SlackStandIn, tmp_path: Path) -> None:
    bot = BotProcess(healthy_env(tmp_path, slack), tmp_path)
    try:
        port = bot.port(serving=SERVING_METRICS)
        bot.wait_healthy(f"http://127.0.0.1:{port}/readyz")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=10) as response:
            report = json.loads(response.read())
        assert report["ready"] is True and set(report["checks"]) >= {"database", "schema", "slack", "aws"}
        assert bot.stop() == 0
    finally:
        bot.kill()
    passed = [entry for entry in bot.events() if entry["message"] == "bot.start_checks_passed"]
    assert passed and passed[0]["aws_account"] and passed[0]["slack_team"] == slack.team_id


@pytest.mark.parametrize("name", list(CASES))
def test_a_bad_setting_stops_the_start_with_one_line_naming_it(
    name: str, moto_endpoint: str, slack: SlackStandIn, dead_port: int, tmp_path: Path
) -> None:
    case = CASES[name]
    env = healthy_env(tmp_path, slack)
    for key, value in case.env.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value.format(tmp=tmp_path, dead=dead_port)
    if case.config is not None:
        (tmp_path / "bot.toml").write_text(case.config)
        env["DDBBOT_CONFIG_FILE"] = str(tmp_path / "bot.toml")
    for relative, content in case.files.items():
        if content == "dir":
            (tmp_path / relative).mkdir()
        else:
            (tmp_path / relative).write_text(content)

    assert_one_line_naming(env, tmp_path, case.setting, case.said.format(dead=dead_port))


def test_a_port_in_use_stops_the_bot_with_a_line_naming_it(
    moto_endpoint: str, slack: SlackStandIn, tmp_path: Path
) -> None:
    with socket.create_server(("0.0.0.0", 0)) as busy:  # the bot binds every interface
        env = {**healthy_env(tmp_path, slack), "PORT": str(busy.getsockname()[1])}
        assert_stopped_saying(
            env, tmp_path, "PORT / DDBBOT_METRICS_PORT: a port cannot be opened", error="Address already in use"
        )


def test_an_app_level_token_slack_refuses_stops_the_socket_mode_bot_with_a_line_naming_it(
    moto_endpoint: str, slack: SlackStandIn, tmp_path: Path
) -> None:
    env = {**healthy_env(tmp_path, slack), "SLACK_APP_TOKEN": APP_TOKEN}
    mark = len(slack.calls)
    assert_stopped_saying(env, tmp_path, "SLACK_APP_TOKEN: Slack refused the app-level token (invalid_auth)")
    refused = [(c.method, c.error) for c in slack.calls[mark:] if c.error]
    assert refused == [("apps.connections.open", "invalid_auth")], "Socket Mode asked Slack, and was refused"


def assert_stopped_saying(env: dict[str, str], cwd: Path, refusal: str, error: str | None = None) -> None:
    """`python -m bot` passed its start checks, then stopped with exit 2 and one `bot.start_failed` event among the
    lines of its start and stop whose problem begins with `refusal` (and whose error is `error`): no traceback, no
    secret."""
    result = subprocess.run(
        [sys.executable, "-m", "bot"], env=env, capture_output=True, timeout=90, cwd=cwd, check=False
    )
    stderr = result.stderr.decode(errors="replace")
    assert result.returncode == 2, stderr
    assert "Traceback" not in stderr
    assert not [secret for secret in SECRETS if secret in stderr]
    entries = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    (failed,) = [entry for entry in entries if entry["message"] == "bot.start_failed"]
    assert failed["problem"].startswith(refusal), failed
    assert failed.get("error") == error, failed


@pytest.mark.skipif(not os.environ.get(POSTGRES_ENV), reason=f"{POSTGRES_ENV} is not set: {HOW_TO}")
@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"database": "ddbbot_no_such_database"}, "does not exist; create it (CREATE DATABASE)"),
        ({"username": "nobody_here", "password": DB_PASSWORD}, "PostgreSQL refused the user or password"),
    ],
)
def test_a_postgresql_database_that_refuses_the_url_stops_the_start_with_one_line(
    change: dict[str, str], said: str, moto_endpoint: str, slack: SlackStandIn, tmp_path: Path
) -> None:
    url = make_url(os.environ[POSTGRES_ENV]).set(**change).render_as_string(hide_password=False)
    env = {**healthy_env(tmp_path, slack), "DDBBOT_DATABASE_URL": url}
    assert_one_line_naming(env, tmp_path, "DDBBOT_DATABASE_URL", said)


def assert_one_line_naming(env: dict[str, str], cwd: Path, setting: str, said: str) -> None:
    """`python -m bot` exits 2 with exactly one line on stderr, naming the setting, saying `said`, no secret."""
    result = subprocess.run(
        [sys.executable, "-m", "bot"], env=env, capture_output=True, timeout=90, cwd=cwd, check=False
    )

    stderr = result.stderr.decode(errors="replace")
    lines = [line for line in stderr.splitlines() if line.strip()]
    if lines and not lines[0].startswith("{"):  # a bad setting is told before logging (and its format) is set up
        lines = [json.dumps({"message": line}) for line in lines]
    assert result.returncode == 2, stderr
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    entry = json.loads(lines[0])  # DDBBOT_LOG_FORMAT=json: a JSON object (a bad setting: plain)
    if "problem" in entry:
        assert entry["message"] == "bot.start_failed"
        message = entry["problem"]
    else:
        message = entry["message"].removeprefix("ddb-backup-bot cannot start: ")
        assert message != entry["message"], entry
    assert setting in message
    assert said in message
    for secret in SECRETS:
        assert secret not in stderr
