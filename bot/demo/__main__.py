"""`python -m bot.demo` (`make demo`): the real bot with AWS from moto and Slack from a local console.

With a terminal it is a chat console; without one (CI) it runs the scripted tour; with SLACK_* set it serves
your real workspace, still against the embedded AWS.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from bot.demo.console import Console
from bot.demo.console_session import Session
from bot.demo.logfile import log_to_file, new_log_path
from bot.demo.seeded_world import (
    ACCESS_KEY,
    BUCKET,
    STAGING,
    STAGING_ACCOUNT,
    STAGING_BUCKET,
    STAGING_ROLE,
    DemoAws,
    start_demo_aws,
    write_config,
)
from bot.demo.shutdown import Stopper, leave, leave_on_second_interrupt
from bot.demo.slack_requests import SignedSlackClient
from bot.demo.slack_standin import SlackStandIn
from bot.demo.tour import TourFailed, run_tour
from bot.errors import BotError
from bot.settings import Settings, SettingsError, load_settings
from bot.timefmt import iso
from bot.wiring.runtime import BotRuntime

REGION = "us-east-1"
NOTIFY_CHANNEL = "C0BACKUPS"
APPROVAL_CHANNEL = "C0APPROVALS"
FAKE_BOT_TOKEN = "xoxb-demo-not-a-real-token"  # noqa: S105 - deliberately fake, rejected by real Slack
_AWS_VARIABLES_DROPPED = (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
)


class EmbeddedSettings(Settings):
    """Settings from the arguments only: a developer's SLACK_*/DDBBOT_* variables must not leak into the demo."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only the values passed in."""
        return (init_settings,)


def main(argv: list[str] | None = None) -> int:
    """Start AWS and the bot, then the console, the tour or a real workspace; 0 when all went well.

    Every way out (the end, `quit`, Ctrl-C, SIGTERM) stops everything within a second (bot/demo/shutdown.py).
    """
    parser = argparse.ArgumentParser(prog="python -m bot.demo", description=__doc__)
    parser.add_argument("--verbose", action="store_true", help="log DEBUG lines too (to the log file)")
    parser.add_argument("--tour", action="store_true", help="run the scripted tour even in a terminal")
    parser.add_argument("--log-file", type=Path, help="where the logs go (default: a new file in the temp folder)")
    args = parser.parse_args(argv)
    log_file = args.log_file or new_log_path()
    log_to_file(log_file, verbose=args.verbose, secrets=[FAKE_BOT_TOKEN])
    _readable_output()
    signal.signal(signal.SIGTERM, _interrupt)
    stopper = Stopper()
    folder = Path(tempfile.mkdtemp(prefix="ddb-backup-bot-demo-"))
    try:
        return _run(args, folder, log_file, stopper)
    except KeyboardInterrupt:
        print()
        return 0
    finally:
        leave_on_second_interrupt()
        stopper.stop()
        shutil.rmtree(folder, ignore_errors=True)
        print("Stopped.")


def _run(args: argparse.Namespace, folder: Path, log_file: Path, stopper: Stopper) -> int:
    """Start AWS (moto and the stand-ins, seeded), then serve the workspace or run locally."""
    print("Starting the demo: AWS (moto and the stand-ins, with a few hours of history), the bot, Slack …", flush=True)
    _use_demo_credentials()
    aws = start_demo_aws()
    stopper.add("AWS", aws.stop)
    os.environ["AWS_ENDPOINT_URL"] = aws.url
    config = write_config(folder)
    database = folder / "demo.sqlite3"
    try:
        workspace = _workspace_settings(f"sqlite:///{database}", config)
    except (SettingsError, BotError) as exc:
        print(f"demo cannot start: {exc}", file=sys.stderr)
        return 2
    if workspace is not None:
        return _serve_workspace(workspace, database)
    interactive = sys.stdin.isatty() and not args.tour
    local = LocalDemo(aws, database, config, log_file)
    return _run_local(local, stopper, interactive=interactive)


def _readable_output() -> None:
    """Messages carry emoji and arrows; a non-UTF-8 terminal gets replacements, not a crash."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace", line_buffering=True)


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    """SIGTERM stops the demo like Ctrl-C, so everything is shut down in order."""
    raise KeyboardInterrupt


def _use_demo_credentials() -> None:
    """boto3's standard chain finds the demo's AWS through the environment, exactly as it would find AWS; a
    developer's own AWS variables and profile must not reach it."""
    for name in [*_AWS_VARIABLES_DROPPED, *(key for key in os.environ if key.startswith("AWS_ENDPOINT_URL"))]:
        os.environ.pop(name, None)
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": ACCESS_KEY,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            # moto has no Price List API; a closed local port makes the bot fall back to its embedded prices
            # at once, with a short reason instead of moto's HTML error page.
            "AWS_ENDPOINT_URL_PRICING": f"http://127.0.0.1:{_closed_port()}",
        }
    )


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --------------------------------------------------------------------------------------- real workspace


def _workspace_settings(database_url: str, config: Path) -> Settings | None:
    """The operator's settings when SLACK_* names a workspace, with the demo's bucket, database and config file
    as defaults."""
    if not os.environ.get("SLACK_BOT_TOKEN"):
        return None
    settings = load_settings()
    if settings.slack_signing_secret is None and settings.slack_app_token is None:
        print(
            "SLACK_BOT_TOKEN is set but neither SLACK_SIGNING_SECRET nor SLACK_APP_TOKEN: "
            "using the local Slack console instead of your workspace.\n"
        )
        return None
    defaults: dict[str, Any] = {}
    for name, value in (("export_bucket", BUCKET), ("database_url", database_url), ("config_file", config)):
        if name not in settings.model_fields_set:
            defaults[name] = value
    settings = settings.model_copy(update=defaults)
    settings.require_slack()
    return settings


def _serve_workspace(settings: Settings, database: Path) -> int:
    """Serve the real workspace until Ctrl-C or SIGTERM."""
    try:
        runtime = BotRuntime(settings)
    except Exception as exc:  # Bolt checks the token with auth.test at start; say why, not a traceback
        logging.getLogger(__name__).debug("demo.workspace_start_failed", exc_info=True)
        print(f"demo cannot start the bot for your workspace: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    print("ddb-backup-bot demo: your Slack workspace (SLACK_* is set), the embedded AWS.")
    print(f"  AWS:      {WORLD}")
    print(
        f"  Database: {settings.database_url}"
        + (" (deleted on exit)" if str(database) in settings.database_url else "")
    )
    if settings.socket_mode:
        print("  Slack:    Socket Mode (SLACK_APP_TOKEN): no public URL needed.")
    else:
        print(
            f"  Slack:    HTTP on port {settings.port}: point the app's slash commands and Interactivity Request URL "
            f"at https://<your public host>/slack/events (e.g. through `ngrok http {settings.port}`)."
        )
    print("In Slack, try /ddb-pitr orders, /ddb-export orders, /ddb-status, /ddb-cost orders. Ctrl-C stops.")
    try:
        runtime.serve_forever(stop)
    finally:
        runtime.stop()
    print("Stopped.")
    return 0


# ------------------------------------------------------------------------------------------ local Slack


@dataclass(frozen=True)
class LocalDemo:
    """What the local demo runs with: its AWS, database, config file and log file."""

    aws: DemoAws
    database: Path
    config: Path
    log_file: Path


def _run_local(local: LocalDemo, stopper: Stopper, *, interactive: bool) -> int:
    """The bot against the Slack stand-in, driven by the console (terminal) or the tour (no terminal)."""
    signing_secret = secrets.token_urlsafe(32)
    standin = SlackStandIn(token=FAKE_BOT_TOKEN).start()
    stopper.add("Slack stand-in", standin.stop)
    settings = EmbeddedSettings(
        slack_bot_token=FAKE_BOT_TOKEN,
        slack_signing_secret=signing_secret,
        slack_api_url=standin.api_url,
        database_url=f"sqlite:///{local.database}",
        export_bucket=BUCKET,
        notify_channel=NOTIFY_CHANNEL,
        approval_channel=APPROVAL_CHANNEL,
        operators=[],
        approvers=["U0BOB"],
        poll_seconds=1.0,
        metrics_port=0,  # the local demo needs no fixed metrics port (it may run beside another bot)
        config_file=local.config,
    )
    runtime = BotRuntime(settings, host="127.0.0.1", port=0).start()
    stopper.add("bot", runtime.stop)
    events_url = f"{runtime.url}/slack/events"
    color = interactive and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    client = SignedSlackClient(events_url, signing_secret)
    console = Console(standin, client, out=sys.stdout, color=color, tips=_tips(datetime.now(UTC)))
    console.attach()
    stopper.add("console", console.detach)
    _banner(local, standin.api_url, events_url, interactive=interactive)
    if interactive:
        Session(console).run()
        return 0
    try:
        run_tour(console, runtime.services.core.store, aws_endpoint=local.aws.url, world=local.aws)
    except TourFailed as failure:
        print(f"\nDEMO TOUR FAILED: {failure}", file=sys.stderr)
        return 1
    return 0


def _tips(now: datetime) -> list[str]:
    """Commands worth trying in this world, with times that fall inside its history."""
    hour_ago, two_hours_ago = iso(now - timedelta(hours=1)), iso(now - timedelta(hours=2))
    return [
        "Worth trying here:",
        f"  /ddb-pitr {STAGING}:orders          the same table name in the aliased account (its role is assumed)",
        f"  /ddb-export orders at={hour_ago}       the table as it was an hour ago",
        f"  /ddb-export orders since={two_hours_ago} until={hour_ago}   what changed in that hour",
        "  /ddb-cost orders                   PITR, exports and storage in dollars",
        "  /ddb-restore                       then :click a Restore… button and fill the form",
        "  /ddb-coverage                      then :click a Schedule exports button",
        "  :as bob  then  :home               bob's App Home: approve a waiting restore there",
    ]


WORLD = (
    f"moto behind the DynamoDB stand-ins (in this process): tables orders (PITR on, 4 hours of history), "
    f"customers (PITR off), bucket {BUCKET}; account `{STAGING}` ({STAGING_ACCOUNT}, role {STAGING_ROLE}) with its "
    f"own orders and bucket {STAGING_BUCKET}"
)


def _banner(local: LocalDemo, api_url: str, events_url: str, *, interactive: bool) -> None:
    print("ddb-backup-bot demo: the real bot, no Slack workspace, no AWS account.")
    print(f"  AWS:      moto behind the DynamoDB stand-ins at {local.aws.url} (in this process):")
    print(f"            orders (PITR on, written to for the last 4 hours), customers (PITR off), bucket {BUCKET};")
    print(f"            account alias `{STAGING}` ({STAGING_ACCOUNT}, an assumed role): its own orders,")
    print(f"            bucket {STAGING_BUCKET}.")
    print("            Table sizes are reported as production tables' would be (a demo choice), so costs are real")
    print("            figures at the bot's built-in list prices (no Price List API here).")
    print(f"  Config:   {local.config} (the staging account and its export bucket, as you would write it)")
    print(f"  Slack:    a local stand-in at {api_url}; commands and clicks go signed to {events_url}")
    print(f"  Database: {local.database} (deleted on exit)")
    print(f"  Logs:     {local.log_file} (everything the bot and the libraries log; kept after exit)")
    print("  People:   you are alice (U0ALICE) in #ops; bob (U0BOB) is the approver; results go to #backups.")
    if not interactive:
        print("No terminal on stdin: running the scripted tour (run `make demo` in a terminal to chat).")
    else:
        print()


if __name__ == "__main__":
    leave(main())
