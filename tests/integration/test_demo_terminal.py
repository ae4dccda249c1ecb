"""`make demo` in a real terminal (a tmux pane): a person types commands, opens the Restore… form and submits it,
opens App Home, and presses Ctrl-C while a command's work is still running. The pane must show no traceback and no
WARNING line, and the process must end within about a second of Ctrl-C."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TMUX = shutil.which("tmux")
START_SECONDS = 90.0  # the world is seeded and the bot started before the first prompt (slow on a loaded machine)
STEP_SECONDS = 30.0
STOP_SECONDS = 1.5  # "within about a second" of Ctrl-C, with room for a loaded machine; the time is printed
PROMPT = "@#ops> "

pytestmark = pytest.mark.skipif(
    TMUX is None, reason="tmux is not installed (apt-get install tmux); .ci/run installs it"
)


class Pane:
    """A tmux session of its own running one command, read with capture-pane and driven with send-keys."""

    def __init__(self, command: str) -> None:
        assert TMUX is not None
        self.tmux = TMUX
        self.name = f"ddbbot-demo-{uuid.uuid4().hex[:8]}"
        self._run("new-session", "-d", "-s", self.name, "-x", "200", "-y", "50")
        self._run("set-option", "-t", self.name, "remain-on-exit", "on")
        self._run("respawn-pane", "-k", "-t", self.name, command)
        self.pid = int(self._run("display-message", "-p", "-t", self.name, "#{pane_pid}").strip())

    def _run(self, *args: str) -> str:
        done = subprocess.run([self.tmux, *args], capture_output=True, text=True, timeout=10, check=True)
        return done.stdout

    def text(self) -> str:
        """Everything the pane showed (its whole history)."""
        return self._run("capture-pane", "-p", "-J", "-t", self.name, "-S", "-100000")

    def type(self, line: str) -> None:
        self._run("send-keys", "-t", self.name, "-l", line)
        self._run("send-keys", "-t", self.name, "Enter")

    def ctrl_c(self) -> None:
        self._run("send-keys", "-t", self.name, "C-c")

    def dead(self) -> tuple[bool, int | None]:
        state = self._run("display-message", "-p", "-t", self.name, "#{pane_dead} #{pane_dead_status}").split()
        return state[0] == "1", int(state[1]) if len(state) > 1 and state[1].isdigit() else None

    def exit_status(self, timeout: float = 10) -> int | None:
        """The dead pane's exit status. tmux marks a pane dead when its terminal closes, which can come before it has
        reaped the process and knows the status, and a tmux server whose SIGCHLD is blocked (as under some job
        runners) never reaps it: then the status is read from the zombie's /proc/<pid>/stat (field 52, exit_code,
        as waitpid(2) reports it). None for a death by signal, or when neither says within `timeout`."""
        deadline = time.monotonic() + timeout
        while (status := self.dead()[1]) is None and time.monotonic() < deadline:
            status = _zombie_exit_status(self.pid)
            if status is not None:
                return status
            time.sleep(0.01)
        return status

    def death(self) -> str:
        """How tmux saw the pane end: status, signal and time (for a failure's message)."""
        return self._run(
            "display-message",
            "-p",
            "-t",
            self.name,
            "dead=#{pane_dead} status=#{pane_dead_status} signal=#{pane_dead_signal} time=#{pane_dead_time}",
        ).strip()

    def wait_for(self, pattern: str, timeout: float = STEP_SECONDS, since: int = 0) -> re.Match[str]:
        """The first match of `pattern` in what the pane showed after character `since`."""
        deadline = time.monotonic() + timeout
        while True:
            shown = self.text()
            found = re.compile(pattern).search(shown, since)
            if found:
                return found
            if time.monotonic() > deadline or self.dead()[0]:
                raise AssertionError(f"{pattern!r} not shown within {timeout:.0f}s; the pane shows:\n{shown[-4000:]}")
            time.sleep(0.1)

    def close(self) -> None:
        subprocess.run([self.tmux, "kill-session", "-t", self.name], capture_output=True, timeout=10, check=False)


@pytest.fixture
def pane(tmp_path: Path) -> Iterator[tuple[Pane, Path]]:
    log_file = tmp_path / "demo.log"
    variables = " ".join(
        f"-u {name}" for name in os.environ if name.startswith(("SLACK_", "DDBBOT_", "AWS_")) and name.isidentifier()
    )
    command = (
        f"cd {shlex.quote(str(ROOT))} && exec env {variables} NO_COLOR=1 "
        f"{shlex.quote(sys.executable)} -m bot.demo --log-file {shlex.quote(str(log_file))}"
    )
    running = Pane(command)
    try:
        yield running, log_file
    finally:
        running.close()


def test_the_console_in_a_terminal_opens_the_form_and_app_home_and_stops_within_a_second_of_ctrl_c(
    pane: tuple[Pane, Path],
) -> None:
    terminal, log_file = pane
    terminal.wait_for(re.escape(PROMPT), START_SECONDS)
    assert f"Logs:     {log_file}" in terminal.text()

    terminal.type("/ddb-export orders")
    terminal.wait_for(r"Export `[^`]+` of `orders` COMPLETED")
    terminal.type("/ddb-restore")
    restore = terminal.wait_for(r"\[(\d+)\] Restore…")
    terminal.type(f":click {restore.group(1)}")
    form = terminal.wait_for(r"┌─ Restore an export ─ a form only alice sees")
    terminal.type(":submit")
    terminal.wait_for(r"⚠ Please complete this required field", since=form.end())
    terminal.type(":set 1 orders-from-terminal")
    terminal.type(":submit")
    terminal.wait_for(r"Restore request `r-[0-9a-f]+` is waiting for 1 approval")
    terminal.type(":as bob")
    terminal.type(":home")
    home = terminal.wait_for(r"\[Home tab of bob\]")
    terminal.wait_for(r"Waiting for approval[\s\S]*`orders-from-terminal`[\s\S]*\[\d+\] Approve", since=home.start())

    terminal.type("/ddb-export staging:orders")
    terminal.wait_for(r"Export `[^`]+` of `staging:orders` started")  # its work (the tracker) is still running
    stopped = time.monotonic()
    terminal.ctrl_c()
    while not terminal.dead()[0]:
        assert time.monotonic() - stopped < 10, "the demo did not end within 10 s of Ctrl-C"
        time.sleep(0.01)
    took = time.monotonic() - stopped
    print(f"\nthe demo ended {took:.2f}s after Ctrl-C")

    shown = terminal.text()
    assert terminal.exit_status() == 0, f"{terminal.death()}\n{shown[-2000:]}"
    assert took < STOP_SECONDS, f"the demo took {took:.2f}s to end after Ctrl-C"
    assert "Traceback" not in shown and "WARNING" not in shown, shown
    assert shown.rstrip().endswith("Stopped.") or "Stopped.\n" in shown, shown[-1000:]
    assert " demo.stopped seconds=" in log_file.read_text(encoding="utf-8")


def _zombie_exit_status(pid: int) -> int | None:
    """The exit code of an exited, unreaped process (state Z), None otherwise or when it died by a signal."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    if fields[0] != "Z" or len(fields) < 50:
        return None
    waited = int(fields[49])  # field 52 of stat(5); fields[0] is field 3
    return (waited >> 8) & 0xFF if waited & 0x7F == 0 else None
