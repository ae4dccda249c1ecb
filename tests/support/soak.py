"""`python -m tests.support.soak`: the whole suite, again and again, in random order, on a busy machine.

`make soak` runs this. It starts `--load` CPU-bound processes (a busy machine is where timing assumptions break),
then runs the suite `--runs` times as `make test` does (a throwaway PostgreSQL cluster, `pytest -n <workers> --dist
loadfile`), each in a fresh random order (pytest-randomly, a new seed per run). It prints each run's seed and result,
keeps each run's output in a log folder, stops the load processes however it ends (an error, Ctrl-C, SIGTERM), and
exits non-zero if any run failed. A failure is replayed in the same order with
`make test PYTEST_ARGS='-p randomly --randomly-seed=<seed>'`.
"""

from __future__ import annotations

import argparse
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

BUSY_LOOP = "while True: pass"
_SUMMARY = re.compile(r"^=*\s*(\d+ (passed|failed|error).*) in [\d.]+s.*$")


@dataclass(frozen=True)
class RunResult:
    """One run of the suite: its order's seed, exit status, the tests that failed and pytest's summary line."""

    number: int
    seed: int
    returncode: int
    failed: tuple[str, ...]
    summary: str
    seconds: float
    log: Path

    @property
    def passed(self) -> bool:
        return self.returncode == 0


def suite_command(seed: int, workers: int, extra: Sequence[str]) -> list[str]:
    """What `make test` runs after lint and typecheck, in the order of `seed`."""
    python = sys.executable
    pytest = [python, "-m", "pytest", "-q", "-n", str(workers), "--dist", "worksteal"]
    return [
        python,
        "-m",
        "tests.support.postgres_cluster",
        "--",
        *pytest,
        "-p",
        "randomly",
        f"--randomly-seed={seed}",
        *extra,
    ]


def run_suite(number: int, seed: int, workers: int, extra: Sequence[str], logs: Path) -> RunResult:
    """One run of the whole suite; its output goes to `logs/run-<number>-seed-<seed>.log`."""
    log = logs / f"run-{number:02d}-seed-{seed}.log"
    started = time.monotonic()
    with log.open("wb") as out:
        suite = subprocess.Popen(suite_command(seed, workers, extra), stdout=out, stderr=subprocess.STDOUT)
        try:
            returncode = suite.wait()
        except BaseException:
            _interrupt(suite)
            raise
    text = log.read_text(errors="replace").splitlines()
    failed = tuple(line.split()[1] for line in text if line.startswith(("FAILED ", "ERROR ")) and len(line.split()) > 1)
    summary = next((m.group(1) for line in reversed(text) if (m := _SUMMARY.match(line))), f"exit status {returncode}")
    return RunResult(number, seed, returncode, failed, summary, time.monotonic() - started, log)


def _interrupt(suite: subprocess.Popen[bytes]) -> None:
    """Stop a run as Ctrl-C would (SIGINT), so its PostgreSQL cluster is stopped and removed too; kill it if that
    takes more than a minute."""
    suite.send_signal(signal.SIGINT)
    try:
        suite.wait(60)
    except subprocess.TimeoutExpired:
        suite.kill()
        suite.wait()


@contextmanager
def cpu_load(processes: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`processes` busy loops for the duration; each is stopped (by its own pid) on the way out, however it goes."""
    started: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(processes):
            started.append(subprocess.Popen([sys.executable, "-c", BUSY_LOOP], stdin=subprocess.DEVNULL))
        yield started
    finally:
        for process in started:
            process.terminate()
        for process in started:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _stop_on_signals() -> None:
    """SIGTERM and SIGHUP end the soak as Ctrl-C does, so the load processes are stopped on the way out. SIGINT is
    handled even when it came ignored (a shell starts background jobs so): a run then inherits the default, and
    stops its PostgreSQL cluster when `_interrupt` sends it one."""

    def interrupt(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)


def soak(runs: int, load: int, workers: int, extra: Sequence[str], logs: Path, results: list[RunResult]) -> None:
    """`runs` runs of the suite beside `load` busy loops, each added to `results` and printed as it ends."""
    seeds = random.SystemRandom()
    print(f"soak: {runs} runs of the suite, {load} CPU-bound load processes beside it; logs in {logs}", flush=True)
    with cpu_load(load) as busy:
        print(f"soak: load processes {' '.join(str(p.pid) for p in busy) or '(none)'}", flush=True)
        for number in range(1, runs + 1):
            seed = seeds.randrange(2**32)
            print(f"soak: run {number}/{runs} seed {seed} ...", flush=True)
            result = run_suite(number, seed, workers, extra, logs)
            results.append(result)
            verdict = "passed" if result.passed else "FAILED"
            print(f"soak: run {number}/{runs} seed {seed} {verdict}: {result.summary} ({result.seconds:.0f} s)")
            for test in result.failed:
                print(f"soak:     {test}")
            if not result.passed:
                print(f"soak:     log {result.log}")
            sys.stdout.flush()


def report(results: Sequence[RunResult]) -> int:
    """The runs in one table; 0 when every run passed."""
    failed = [r for r in results if not r.passed]
    print(f"\nsoak: {len(results) - len(failed)} of {len(results)} runs passed")
    for result in results:
        print(
            f"  run {result.number:2d}  seed {result.seed:10d}  {'passed' if result.passed else 'FAILED'}  {result.summary}"
        )
    for result in failed:
        print(
            f"soak: replay run {result.number} in its order: make test PYTEST_ARGS='-p randomly "
            f"--randomly-seed={result.seed}'"
        )
    return 1 if failed or not results else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10, help="how many times to run the suite (default 10)")
    parser.add_argument("--load", type=int, default=2, help="CPU-bound processes to run beside it (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="pytest-xdist workers, as `make test` (default 2)")
    parser.add_argument("--logs", type=Path, help="folder for each run's output (default: a new temporary folder)")
    parser.add_argument("pytest_args", nargs="*", help="more pytest arguments, after `--`")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.load < 0 or args.workers < 1:
        parser.error("--runs and --workers must be at least 1, --load at least 0")
    logs = args.logs or Path(tempfile.mkdtemp(prefix="ddbbot-soak-"))
    logs.mkdir(parents=True, exist_ok=True)
    _stop_on_signals()
    results: list[RunResult] = []
    try:
        soak(args.runs, args.load, args.workers, args.pytest_args, logs, results)
    except KeyboardInterrupt:
        print("\nsoak: interrupted; the load processes are stopped", file=sys.stderr)
        report(results)
        return 130
    return report(results)


if __name__ == "__main__":
    sys.exit(main())
