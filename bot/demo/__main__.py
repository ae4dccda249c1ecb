"""`python -m bot.demo` (`make demo`): the real bot with AWS from moto and Slack from a local console.

With a terminal it is a chat console; without one (CI) it runs the scripted tour; with SLACK_* set it serves
your real workspace, still against the embedded AWS.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from bot.demo.console import Console
from bot.demo.slack_requests import SignedSlackClient
from bot.demo.slack_standin import SlackStandIn
from bot.demo.tour import TourFailed, run_tour
from bot.demo.world import build_world, start_moto
from bot.errors import BotError
from bot.logs import configure_logging
from bot.settings import Settings, SettingsError, load_settings
from bot.wiring.runtime import BotRuntime

DEMO_BUCKET = "acme-ddb-backups"
REGION = "us-east-1"
NOTIFY_CHANNEL = "C0BACKUPS"
APPROVAL_CHANNEL = "C0APPROVALS"
FAKE_BOT_TOKEN = "xoxb-demo-not-a-real-token"  # noqa: S105 - deliberately fake, rejected by real Slack
QUIET_LOGGERS = ("werkzeug", "botocore", "boto3", "urllib3", "moto", "slack_bolt", "slack_sdk")
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
    """Start moto and the bot, then the console, the tour or a real workspace; 0 when all went well."""
    parser = argparse.ArgumentParser(prog="python -m bot.demo", description=__doc__)
    parser.add_argument("--verbose", action="store_true", help="show the bot's INFO logs")
    parser.add_argument("--tour", action="store_true", help="run the scripted tour even in a terminal")
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    _readable_output()
    signal.signal(signal.SIGTERM, _interrupt)

    with tempfile.TemporaryDirectory(prefix="ddb-backup-bot-demo-") as folder:
        database = Path(folder) / "demo.sqlite3"
        moto, endpoint = start_moto()
        try:
            _use_embedded_aws(endpoint)
            _aws_shaped_export_arns()
            build_world(endpoint, bucket=DEMO_BUCKET)
            try:
                workspace = _workspace_settings(f"sqlite:///{database}")
            except (SettingsError, BotError) as exc:
                print(f"demo cannot start: {exc}", file=sys.stderr)
                return 2
            if workspace is not None:
                return _serve_workspace(workspace, endpoint, database)
            interactive = sys.stdin.isatty() and not args.tour
            return _run_local(endpoint, database, interactive=interactive)
        except KeyboardInterrupt:
            print("\nStopped.")
            return 0
        finally:
            moto.stop()


def _configure_logging(verbose: bool) -> None:
    """WARNING by default: the bot's INFO lines would bury the conversation."""
    configure_logging("text", level=logging.INFO if verbose else logging.WARNING, secrets=[FAKE_BOT_TOKEN])
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    if not verbose:
        # The console itself reports a request nobody handles (HTTP 404). Bolt copies the root level onto its
        # loggers, so setting theirs would not hold: filter at the handler instead.
        for handler in logging.getLogger().handlers:
            handler.addFilter(_quiet_bolt)


def _quiet_bolt(record: logging.LogRecord) -> bool:
    """Keep Bolt's errors, drop its warnings and hints."""
    return not record.name.startswith("slack_bolt") or record.levelno >= logging.ERROR


def _readable_output() -> None:
    """Messages carry emoji and arrows; a non-UTF-8 terminal gets replacements, not a crash."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace", line_buffering=True)


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    """SIGTERM stops the demo like Ctrl-C, so everything is shut down in order."""
    raise KeyboardInterrupt


def _use_embedded_aws(endpoint: str) -> None:
    """boto3's standard chain finds moto through the environment, exactly as it would find AWS."""
    for name in [*_AWS_VARIABLES_DROPPED, *(key for key in os.environ if key.startswith("AWS_ENDPOINT_URL_"))]:
        os.environ.pop(name, None)
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "demo",
            "AWS_SECRET_ACCESS_KEY": "demo",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            # moto has no Price List API; a closed local port makes the bot fall back to its embedded prices
            # at once, with a short reason instead of moto's HTML error page.
            "AWS_ENDPOINT_URL_PRICING": f"http://127.0.0.1:{_closed_port()}",
        }
    )


def _aws_shaped_export_arns() -> None:
    """moto 5 names exports `table/<table ARN>/import/<uuid>`; AWS's `table/<name>/export/<ms>-<hex>` form lets
    `/ddb-status <export id>` work in the demo as it does on AWS (moto runs in this process, so patch it here).
    """
    from moto.dynamodb.models.table_export import TableExport

    original_init = TableExport.__init__
    if getattr(original_init, "__name__", "") == "aws_shaped_init":
        return

    def aws_shaped_init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        export_id = f"{int(time.time() * 1000):014d}-{secrets.token_hex(4)}"
        self.arn = (
            f"arn:{self.partition}:dynamodb:{self.region_name}:{self.account_id}:table/{self.table.name}"
            f"/export/{export_id}"
        )

    TableExport.__init__ = aws_shaped_init  # type: ignore[method-assign]


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --------------------------------------------------------------------------------------- real workspace


def _workspace_settings(database_url: str) -> Settings | None:
    """The operator's settings when SLACK_* names a workspace, with the demo's bucket and database as defaults."""
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
    if "export_bucket" not in settings.model_fields_set:
        defaults["export_bucket"] = DEMO_BUCKET
    if "database_url" not in settings.model_fields_set:
        defaults["database_url"] = database_url
    settings = settings.model_copy(update=defaults)
    settings.require_slack()
    return settings


def _serve_workspace(settings: Settings, endpoint: str, database: Path) -> int:
    """Serve the real workspace until Ctrl-C or SIGTERM."""
    try:
        runtime = BotRuntime(settings)
    except Exception as exc:  # Bolt checks the token with auth.test at start; say why, not a traceback
        logging.getLogger(__name__).debug("workspace start failed", exc_info=True)
        print(f"demo cannot start the bot for your workspace: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    print("ddb-backup-bot demo: your Slack workspace (SLACK_* is set), the embedded AWS.")
    print(f"  AWS:      moto at {endpoint}: tables orders (PITR on), customers (PITR off); bucket {DEMO_BUCKET}")
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


def _run_local(endpoint: str, database: Path, *, interactive: bool) -> int:
    """The bot against the Slack stand-in, driven by the console (terminal) or the tour (no terminal)."""
    signing_secret = secrets.token_urlsafe(32)
    standin = SlackStandIn(token=FAKE_BOT_TOKEN).start()
    runtime: BotRuntime | None = None
    console: Console | None = None
    try:
        settings = EmbeddedSettings(
            slack_bot_token=FAKE_BOT_TOKEN,
            slack_signing_secret=signing_secret,
            slack_api_url=standin.api_url,
            database_url=f"sqlite:///{database}",
            export_bucket=DEMO_BUCKET,
            notify_channel=NOTIFY_CHANNEL,
            approval_channel=APPROVAL_CHANNEL,
            operators=[],
            approvers=["U0BOB"],
            poll_seconds=1.0,
            metrics_port=0,  # the local demo needs no fixed metrics port (it may run beside another bot)
        )
        runtime = BotRuntime(settings, host="127.0.0.1", port=0).start()
        events_url = f"{runtime.url}/slack/events"
        color = interactive and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        console = Console(standin, SignedSlackClient(events_url, signing_secret), out=sys.stdout, color=color)
        console.attach()
        _banner(endpoint, standin.api_url, events_url, database, interactive=interactive)
        if interactive:
            console.run()
            return 0
        try:
            run_tour(console, runtime.services.core.store, aws_endpoint=endpoint)
        except TourFailed as failure:
            print(f"\nDEMO TOUR FAILED: {failure}", file=sys.stderr)
            return 1
        return 0
    finally:
        if console is not None:
            console.detach()
        if runtime is not None:
            runtime.stop()
        standin.stop()


def _banner(endpoint: str, api_url: str, events_url: str, database: Path, *, interactive: bool) -> None:
    print("ddb-backup-bot demo: the real bot, no Slack workspace, no AWS account.")
    print(f"  AWS:      moto at {endpoint} (in this process): tables orders (PITR on), customers (PITR off),")
    print(f"            bucket {DEMO_BUCKET}; prices are the bot's embedded list prices (no Price List API here).")
    print(f"  Slack:    a local stand-in at {api_url}; commands and clicks go signed to {events_url}")
    print(f"  Database: {database} (deleted on exit)")
    print("  People:   you are alice (U0ALICE) in #ops; bob (U0BOB) is the approver; results go to #backups.")
    if not interactive:
        print("No terminal on stdin: running the scripted tour (run `make demo` in a terminal to chat).")
    else:
        print()


if __name__ == "__main__":
    sys.exit(main())
