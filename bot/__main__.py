"""`python -m bot` / `ddb-backup-bot`: settings → services → serve, until SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from types import FrameType

from bot.errors import BotError
from bot.settings import SettingsError, load_settings
from bot.wiring.runtime import BotRuntime

LOG_FORMAT = "time=%(asctime)s level=%(levelname)s logger=%(name)s msg=%(message)s"


def main() -> int:
    """Run the bot; exit 2 with one clear line when a setting is missing or bad."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    try:
        settings = load_settings()
        settings.require_slack()
        runtime = BotRuntime(settings)
    except (SettingsError, BotError) as exc:
        print(f"ddb-backup-bot cannot start: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger("bot").info("signal=%s received, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        runtime.serve_forever(stop)
    finally:
        runtime.stop()
    logging.getLogger("bot").info("stopped cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
