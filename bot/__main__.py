"""`python -m bot` / `ddb-backup-bot`: settings → services → serve, until SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from types import FrameType

from slack_sdk.errors import SlackApiError

from bot.errors import BotError
from bot.logs import configure_logging
from bot.settings import SettingsError, load_settings
from bot.wiring.runtime import BotRuntime
from bot.wiring.startup import socket_mode_refusal

logger = logging.getLogger("bot")


def main() -> int:
    """Run the bot; exit 2 with one line naming the setting to fix when a setting is missing or bad, or the config
    file, Slack, AWS or the database does not work with it."""
    try:
        settings = load_settings()
        settings.require_slack()
    except SettingsError as exc:
        print(f"ddb-backup-bot cannot start: {exc}", file=sys.stderr)  # before logging is set up: plain text
        return 2
    configure_logging(settings.log_format, level=getattr(logging, settings.log_level), secrets=settings.secret_values())
    try:
        runtime = BotRuntime(settings)
    except BotError as exc:
        logger.error("bot.start_failed", extra={"problem": str(exc)})
        return 2
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        logger.info("bot.signal_received", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        runtime.serve_forever(stop)
    except SlackApiError as error:  # Socket Mode: apps.connections.open refused the app-level token
        logger.error("bot.start_failed", extra={"problem": socket_mode_refusal(error)})
        return 2
    except OSError as error:  # the HTTP or metrics port cannot be bound
        logger.error(
            "bot.start_failed",
            extra={
                "problem": "PORT / DDBBOT_METRICS_PORT: a port cannot be opened; choose a free port, or 0 to let the "
                "system pick one.",
                "error": error.strerror or type(error).__name__,
            },
        )
        return 2
    finally:
        runtime.stop()
    logger.info("bot.stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
