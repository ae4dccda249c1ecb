"""The demo's logs go to a file, never to the terminal: the console is a conversation, and a library's warning or a
traceback (moto answering an operation it lacks, which the bot handles) printed over the prompt reads as a failure.

Every record (the bot's, Bolt's, moto's, werkzeug's, botocore's), Python warnings, and exceptions that escape a
thread go to one text file; the banner says where. Secrets are masked as in production.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import threading
from pathlib import Path
from types import TracebackType

from bot.logs import configure_logging

# Request lines of moto's HTTP server, botocore's and APScheduler's own chatter: noise even in a log file.
QUIET_LOGGERS = ("werkzeug", "botocore", "boto3", "urllib3", "s3transfer", "apscheduler")
log = logging.getLogger(__name__)


def new_log_path() -> Path:
    """A fresh file in the system's temporary folder, kept after the demo ends so it can be read."""
    handle, name = tempfile.mkstemp(prefix="ddb-backup-bot-demo-", suffix=".log")
    with open(handle, "w", encoding="utf-8"):
        pass
    return Path(name)


def log_to_file(path: Path, *, verbose: bool, secrets: list[str]) -> None:
    """Send every log record and every uncaught exception of any thread to `path` (INFO; DEBUG when verbose)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stream = path.open("a", encoding="utf-8", errors="replace", buffering=1)
    configure_logging("text", level=logging.DEBUG if verbose else logging.INFO, secrets=secrets, stream=stream)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    threading.excepthook = _thread_exception
    sys.unraisablehook = _unraisable


def _thread_exception(args: threading.ExceptHookArgs) -> None:
    """A thread that dies of an exception: logged, not printed over the console."""
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "?"
    exc_info: tuple[type[BaseException], BaseException, TracebackType | None] | None = None
    if args.exc_value is not None:
        exc_info = (args.exc_type, args.exc_value, args.exc_traceback)
    log.error("demo.thread_crashed", extra={"thread_name": name}, exc_info=exc_info)


def _unraisable(args: sys.UnraisableHookArgs) -> None:
    """An exception Python could not raise (in a finaliser, at exit): logged, not printed."""
    exc_info: tuple[type[BaseException], BaseException, TracebackType | None] | None = None
    if args.exc_value is not None:
        exc_info = (args.exc_type, args.exc_value, args.exc_traceback)
    log.error("demo.unraisable_exception", extra={"where": args.err_msg or repr(args.object)}, exc_info=exc_info)
