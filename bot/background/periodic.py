"""A daemon thread that runs one function every `interval` seconds, sooner when poked; stops cleanly."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)


class PeriodicJob:
    """Background job (start/stop) calling `work` in a loop; a failing cycle is logged, the loop goes on."""

    def __init__(
        self, name: str, interval: float, work: Callable[[], object], wake: threading.Event | None = None
    ) -> None:
        self.name = name
        self.interval = interval
        self._work = work
        self._stop = threading.Event()
        self._wake = wake if wake is not None else threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def stopping(self) -> threading.Event:
        """Set once stop() was called; long work can watch it."""
        return self._stop

    def poke(self) -> None:
        """Run a cycle soon instead of waiting for the interval (setting the `wake` event given does the same)."""
        self._wake.set()

    def start(self) -> None:
        """Run cycles in a daemon thread until stop()."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current cycle, waiting up to `timeout` seconds."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._work()
            except Exception:
                logger.exception("periodic.cycle_failed", extra={"job": self.name})
            self._wake.wait(self.interval)
            self._wake.clear()
