"""The demo stops within its budget whatever a part does, and its logs (and tracebacks of any thread) go to the log
file, never to the terminal."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.demo.shutdown import Stopper

LOGGING_SCRIPT = """
import logging, sys, threading, warnings
from pathlib import Path
from bot.demo.logfile import log_to_file
log_to_file(Path(sys.argv[1]), verbose=False, secrets=["xoxb-demo-not-a-real-token"])
logging.getLogger("bot.anything").warning("a warning with xoxb-demo-not-a-real-token inside")
logging.getLogger("werkzeug").info("127.0.0.1 - - a request line")
warnings.warn("a library's deprecation")
thread = threading.Thread(target=lambda: 1 / 0, name="worker")
thread.start()
thread.join()
print("console output")
"""


def test_a_step_that_hangs_does_not_hold_the_stop_and_the_others_still_run(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.demo.shutdown")
    stopper = Stopper()
    ran: list[str] = []
    release = threading.Event()
    stopper.add("hangs", lambda: release.wait(10))
    stopper.add("fails", lambda: 1 / 0)
    stopper.add("quick", lambda: ran.append("quick"))

    started = time.monotonic()
    finished = stopper.stop(budget=0.3)
    took = time.monotonic() - started
    release.set()

    assert not finished and took < 0.6, took
    assert ran == ["quick"]
    failed = [r.__dict__["step"] for r in caplog.records if r.getMessage() == "demo.stop_step_failed"]
    (stopped,) = [r for r in caplog.records if r.getMessage() == "demo.stopped"]
    assert failed == ["fails"] and stopped.__dict__["unfinished"] == ["hangs"]


def test_stop_reports_finished_when_every_step_ended_in_time() -> None:
    stopper = Stopper()
    stopper.add("quick", lambda: None)
    assert stopper.stop(budget=1.0)


def test_logs_warnings_and_thread_tracebacks_go_to_the_file_and_nothing_to_the_terminal(tmp_path: Path) -> None:
    log_file = tmp_path / "demo.log"
    result = subprocess.run(
        [sys.executable, "-c", LOGGING_SCRIPT, str(log_file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(__file__).resolve().parents[3],
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == "console output\n" and result.stderr == ""
    logged = log_file.read_text()
    assert "WARNING bot.anything a warning with *** inside" in logged, "secrets are masked in the file too"
    assert "a library's deprecation" in logged
    assert "demo.thread_crashed thread_name=worker" in logged and "ZeroDivisionError" in logged
    assert "a request line" not in logged, "moto's request lines are noise even in the file"
