"""What the bot checks before it serves: Slack answers auth.test with the bot token, AWS says who the credentials
are (sts:GetCallerIdentity) in a region DynamoDB runs in, and the database opens and takes the schema. Each failure
is one sentence that starts with the setting to fix and says how (StartupError); `python -m bot` prints it and
exits 2. The same probes, quicker and without raising, tell /readyz whether Slack and AWS still answer.

Order: Slack and AWS first, the database last, so a bot that could not run anyway never migrates a database.
"""

from __future__ import annotations

import logging
import os
import urllib.error
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
)
from botocore.exceptions import ConnectionError as AwsConnectionError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bot.aws.accounts import DEFAULT_REGION
from bot.aws.errors import error_code
from bot.aws.names import region_problem
from bot.db import URL_EXAMPLES, engine_url, make_engine
from bot.errors import BotError
from bot.schema_migrations import SchemaTooNew
from bot.settings import Settings
from bot.wiring.schema import create_schema

logger = logging.getLogger(__name__)
PROBE_SECONDS = 3
# One quick attempt: the start reports what is wrong at once, and /readyz must answer within a probe's timeout.
STS_PROBE = Config(connect_timeout=PROBE_SECONDS, read_timeout=PROBE_SECONDS, retries={"total_max_attempts": 1})
REFUSED_BOT_FIX = (
    "copy the Bot User OAuth Token (xoxb-…) from your app's OAuth & Permissions page, and reinstall the app if it "
    "was removed from the workspace."
)
SLACK_OUTAGES = {"ratelimited", "fatal_error", "internal_error", "service_unavailable", "request_timeout"}
CREDENTIAL_SOURCES = {
    "env": "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    "shared-credentials-file": "AWS_PROFILE's keys in ~/.aws/credentials",
    "config-file": "AWS_PROFILE's keys in ~/.aws/config",
}
NO_CREDENTIALS = (
    "AWS credentials: none found. Run the bot with an IAM role (ECS task role, EC2 instance profile or EKS service "
    "account), or set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."
)


class StartupError(BotError):
    """A setting the bot cannot run with; the message starts with the setting's name and says how to fix it."""


@dataclass(frozen=True)
class SlackIdentity:
    """Who the bot token is (auth.test), for the log and /readyz."""

    team_id: str
    bot_user_id: str


@dataclass(frozen=True)
class AwsIdentity:
    """Who the AWS credentials are (sts:GetCallerIdentity), for the log and /readyz."""

    account: str
    arn: str
    region: str


# ---------------------------------------------------------------------------------------------------- Slack


def slack_probe_client(settings: Settings) -> WebClient:
    """A WebClient for auth.test only: same token, API URL and proxy as the bot's own, one attempt, short timeout,
    and silent: every failure comes back as one sentence, so its own log lines would only repeat it."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    silent = logging.Logger("slack-probe", level=logging.CRITICAL + 1)  # outside the logging tree: nothing reaches it
    return WebClient(
        token=token, base_url=settings.slack_api_url, timeout=PROBE_SECONDS, retry_handlers=[], logger=silent
    )


def check_slack(client: WebClient) -> SlackIdentity:
    """auth.test with the bot token; raises StartupError naming SLACK_BOT_TOKEN, SLACK_API_URL or the proxy."""
    try:
        answer = client.auth_test()
    except SlackApiError as error:
        raise StartupError(_slack_refusal(client, error)) from None
    except (urllib.error.URLError, OSError) as error:
        raise StartupError(_slack_unreachable(client, error)) from None
    return SlackIdentity(str(answer.get("team_id") or ""), str(answer.get("user_id") or ""))


def socket_mode_refusal(error: SlackApiError) -> str:
    """Why Socket Mode could not connect (apps.connections.open refused the app-level token)."""
    code = str(error.response.get("error") or error.response.status_code)
    return (
        f"SLACK_APP_TOKEN: Slack refused the app-level token ({code}); generate one with the connections:write scope "
        "under Basic Information → App-Level Tokens, and turn Socket Mode on in the app's settings."
    )


def _slack_refusal(client: WebClient, error: SlackApiError) -> str:
    code = str(error.response.get("error") or "") if isinstance(error.response.data, dict) else ""
    if error.response.status_code >= 500 or code in SLACK_OUTAGES:
        return (
            f"SLACK_API_URL: Slack's Web API at {client.base_url} answered auth.test with "
            f"{code or error.response.status_code}; it is having trouble: start again in a few minutes."
        )
    if not code or code.startswith("Received a response in a non-JSON format"):
        return (
            f"SLACK_API_URL: {client.base_url} does not answer like Slack's Web API (HTTP {error.response.status_code} "
            "to auth.test); unset it to use https://slack.com/api/."
        )
    return f"SLACK_BOT_TOKEN: Slack refused the token ({code}); {REFUSED_BOT_FIX}"


def _slack_unreachable(client: WebClient, error: OSError) -> str:
    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    said = getattr(reason, "strerror", None) or type(reason).__name__
    route = f"through the proxy {_without_credentials(client.proxy)}" if client.proxy else "directly (no proxy is set)"
    return (
        f"HTTPS_PROXY / HTTP_PROXY / NO_PROXY: Slack's Web API at {client.base_url} cannot be reached {route}: "
        f"{said}. Check the network; if outbound HTTPS goes through a proxy, set HTTPS_PROXY to it (and leave Slack "
        "out of NO_PROXY); SLACK_API_URL must be Slack's (https://slack.com/api/) unless you test."
    )


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    if not (parts.username or parts.password):
        return url
    host = f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname or "")
    return urlunsplit(parts._replace(netloc=host))


# ------------------------------------------------------------------------------------------------------ AWS


def aws_session(settings: Settings) -> boto3.Session:
    """The bot's own boto3 session (the standard chain), with a profile that exists and a usable region."""
    try:
        session = boto3.Session()
    except ProfileNotFound:
        raise StartupError(
            f"AWS_PROFILE: the profile `{settings.aws_profile}` is not in ~/.aws/config or ~/.aws/credentials; "
            "name a profile that is there, or unset AWS_PROFILE."
        ) from None
    region = session.region_name
    if region and (problem := region_problem(region)):
        raise StartupError(f"AWS_PROFILE: the region of profile `{settings.aws_profile or 'default'}`: {problem}")
    return session


def check_aws(session: boto3.Session, settings: Settings) -> AwsIdentity:
    """sts:GetCallerIdentity with the bot's credentials; raises StartupError naming the credentials to fix."""
    region = session.region_name or DEFAULT_REGION
    try:
        sts: Any = session.client("sts", region_name=region, config=STS_PROBE)
        identity = sts.get_caller_identity()
    except NoCredentialsError:
        raise StartupError(NO_CREDENTIALS) from None
    except PartialCredentialsError as error:
        raise StartupError(
            f"{error.kwargs.get('cred_var', 'AWS_SECRET_ACCESS_KEY')}: missing; AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY are set together (or neither, with a role or AWS_PROFILE)."
        ) from None
    except (AwsConnectionError, HTTPClientError) as error:  # refused, timed out, dropped, or the proxy
        raise StartupError(_aws_unreachable(settings, region, error)) from None
    except ClientError as error:
        raise StartupError(_aws_refusal(session, error)) from None
    except BotoCoreError as error:
        raise StartupError(
            f"{_credential_source(session)}: the credentials could not be loaded ({type(error).__name__}); for an SSO "
            "profile run `aws sso login`, otherwise check the profile or the role the bot runs with."
        ) from None
    return AwsIdentity(str(identity["Account"]), str(identity["Arn"]), region)


def _aws_unreachable(settings: Settings, region: str, error: BotoCoreError) -> str:
    endpoint = getattr(error, "kwargs", {}).get("endpoint_url") or f"STS in {region}"
    if settings.aws_endpoint_url:
        return (
            f"AWS_ENDPOINT_URL: {endpoint} cannot be reached ({type(error).__name__}); correct it, or unset it to "
            "use AWS's own endpoints."
        )
    return (
        f"HTTPS_PROXY / HTTP_PROXY / NO_PROXY: AWS ({endpoint}) cannot be reached ({type(error).__name__}). Check the "
        "network, and the proxy settings if outbound HTTPS goes through a proxy."
    )


def _aws_refusal(session: boto3.Session, error: ClientError) -> str:
    code, source = error_code(error), _credential_source(session)
    if code in {"ExpiredToken", "ExpiredTokenException", "RequestExpired"}:
        return f"{source}: the credentials have expired ({code}); renew them (and AWS_SESSION_TOKEN with them)."
    if code == "SignatureDoesNotMatch":
        return f"{source}: the secret key does not belong to the access key ({code}); copy both again."
    if code in {"InvalidClientTokenId", "UnrecognizedClientException", "InvalidToken", "AuthFailure"}:
        return f"{source}: AWS does not know these credentials ({code}); use an active access key or role."
    return f"{source}: AWS refused sts:GetCallerIdentity ({code}); check these credentials."


def _credential_source(session: boto3.Session) -> str:
    credentials = session.get_credentials()
    method = credentials.method if credentials is not None else ""
    return CREDENTIAL_SOURCES.get(method, f"AWS credentials ({method or 'unknown source'})")


# ------------------------------------------------------------------------------------------------- database


def open_database(settings: Settings) -> Engine:
    """The engine, with the database at this code's schema; raises StartupError naming DDBBOT_DATABASE_URL."""
    url = engine_url(settings.database_url)
    shown = make_url(settings.database_url).render_as_string(hide_password=True)  # as written, without the password
    if url.get_backend_name() == "sqlite" and url.database not in {None, "", ":memory:"}:
        _require_sqlite_folder(str(url.database), shown)
    engine = make_engine(settings.database_url)
    try:
        create_schema(engine)
    except SchemaTooNew as error:
        engine.dispose()
        raise StartupError(f"DDBBOT_DATABASE_URL: {error}") from None
    except DBAPIError as error:
        engine.dispose()
        raise StartupError(f"DDBBOT_DATABASE_URL: {_database_refusal(error, url.get_backend_name(), shown)}") from None
    except OSError as error:
        engine.dispose()
        raise StartupError(
            f"DDBBOT_DATABASE_URL: the lock file beside {shown} cannot be created ({error.strerror}); the folder must "
            "be writable by the bot."
        ) from None
    return engine


def _require_sqlite_folder(path: str, shown: str) -> None:
    """SQLite creates the file, its WAL and the migration lock file beside it: the folder must exist, writable."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise StartupError(
            f"DDBBOT_DATABASE_URL: the folder {folder} of {shown} does not exist; create it or write {URL_EXAMPLES}."
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StartupError(
            f"DDBBOT_DATABASE_URL: the bot may not write in {folder} (the folder of {shown}), where SQLite keeps the "
            "file, its journal and a lock file; make the folder writable by the bot's user."
        )


def _database_refusal(error: DBAPIError, backend: str, shown: str) -> str:
    """What the driver said, as the fix it asks for (the driver's own text stays in no message). psycopg gives no
    SQLSTATE for a refused connection, so the server's words are matched."""
    said = str(error.orig).lower()
    if backend == "sqlite":
        if "not a database" in said:
            return f"{shown} is not an SQLite database file; point it at the bot's database or a new file."
        return f"{shown} cannot be opened; the file and its folder must be readable and writable by the bot."
    if 'database "' in said and "does not exist" in said:
        return f"the database named in {shown} does not exist; create it (CREATE DATABASE) or correct the name."
    if any(words in said for words in _AUTHENTICATION_FAILURES):
        return f"PostgreSQL refused the user or password of {shown}; check both in the URL."
    if "pg_hba.conf" in said:
        return f"PostgreSQL does not let this host connect to {shown} (pg_hba.conf); allow it there."
    reason = next((why for words, why in _CONNECT_FAILURES if any(w in said for w in words)), "no connection")
    return (
        f"PostgreSQL at {shown} cannot be reached ({reason}); check the host and port, and that this host may "
        "connect (firewall, security group)."
    )


_AUTHENTICATION_FAILURES = ("password authentication failed", "no password supplied", 'role "', "authentication")
_CONNECT_FAILURES = (
    (("could not translate host name", "name or service not known", "nodename nor servname"), "unknown host name"),
    (("connection refused",), "connection refused"),
    (("timeout", "timed out"), "timed out"),
)
