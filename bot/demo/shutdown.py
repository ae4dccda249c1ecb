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
STOP_BUDGET_SECONDS = 0.7


class Stopper:
    """Stop steps, run last-added first (like contextlib.ExitStack), each one's failure logged and passed over."""

    def __init__(self) -> None:
        self._steps: list[tuple[str, Callable[[], object]]] = []

    def add(self, name: str, step: Callable[[], object]) -> None:
        """Run `step` at stop, before every step added earlier."""
        self._steps.insert(0, (name, step))

    def stop(self, budget: float = STOP_BUDGET_SECONDS) -> bool:
        """Run the steps in a daemon thread for at most `budget` seconds; True when they all finished in time."""
        steps, self._steps = self._steps, []
        started = time.monotonic()
        thread = threading.Thread(target=_run_steps, args=(steps,), name="demo-stop", daemon=True)
        thread.start()
        thread.join(budget)
        finished = not thread.is_alive()
        log.info("demo stopped finished=%s seconds=%.3f", finished, time.monotonic() - started)
        return finished


def _run_steps(steps: list[tuple[str, Callable[[], object]]]) -> None:
    for name, step in steps:
        started = time.monotonic()
        try:
            step()
        except Exception:
            log.exception("demo stop step failed step=%s", name)
        log.debug("demo stop step step=%s seconds=%.3f", name, time.monotonic() - started)


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
