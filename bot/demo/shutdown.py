"""Stopping the demo within a second of Ctrl-C, without a traceback.

The bot's own stop waits for what is in flight (up to 5 s for a request, as long as it takes for a command's work,
the work runner's claims, moto's server): right for a service whose work matters, wrong for a demo whose database
is a temporary file and whose AWS lives in this process. So the demo runs its stop steps in order in a background
thread, gives them a budget, and then ends the process at once (`leave`), whatever is still finishing: nothing of
the demo outlives it, and the log file is flushed first.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import NoReturn

log = logging.getLogger(__name__)
STOP_BUDGET_SECONDS = 0.5


class Stopper:
    """Stop steps, all at once (each part stops on its own: the bot, the Slack stand-in, AWS), each one's failure
    logged and passed over."""

    def __init__(self) -> None:
        self._steps: list[tuple[str, Callable[[], object]]] = []

    def add(self, name: str, step: Callable[[], object]) -> None:
        """Run `step` at stop."""
        self._steps.append((name, step))

    def stop(self, budget: float = STOP_BUDGET_SECONDS) -> bool:
        """Run the steps in daemon threads for at most `budget` seconds; True when they all finished in time."""
        steps, self._steps = self._steps, []
        started = time.monotonic()
        log.info("demo.stopping", extra={"steps": [name for name, _ in steps]})
        threads = [
            threading.Thread(target=_run_step, args=step, name=f"demo-stop-{step[0]}", daemon=True) for step in steps
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(0.0, started + budget - time.monotonic()))
        unfinished = [thread.name.removeprefix("demo-stop-") for thread in threads if thread.is_alive()]
        log.info("demo.stopped", extra={"seconds": round(time.monotonic() - started, 3), "unfinished": unfinished})
        return not unfinished


def _run_step(name: str, step: Callable[[], object]) -> None:
    started = time.monotonic()
    try:
        step()
    except Exception:
        log.exception("demo.stop_step_failed", extra={"step": name})
    log.info("demo.stop_step_done", extra={"step": name, "seconds": round(time.monotonic() - started, 3)})


def leave_on_second_interrupt() -> None:
    """While the demo stops, a second Ctrl-C ends it at once."""
    signal.signal(signal.SIGINT, _leave_now)


def _leave_now(signum: int, _frame: FrameType | None) -> None:
    leave(130)


def leave(code: int) -> NoReturn:
    """Flush the output and the log file, then end the process without waiting for threads still finishing."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed or broken stdout must not keep us here
            stream.flush()
    logging.shutdown()
    os._exit(code)
