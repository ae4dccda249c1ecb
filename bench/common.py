"""Shared pieces of the benchmarks: processes on ephemeral ports, percentiles, and the results file."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.md"


def free_port() -> int:
    """An ephemeral port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_moto_process() -> tuple[subprocess.Popen[bytes], str]:
    """moto's server as its own process, so it does not share the benchmark's interpreter."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    wait_for_http(f"{endpoint}/moto-api/data.json", process)
    return process, endpoint


def wait_for_http(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """Poll until the URL answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate and reap a child process."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, round(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def machine() -> str:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {platform.system()}"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def write_section(title: str, body: str) -> None:
    """Replace (or add) one benchmark's section in bench/results.md, stamped with the machine and date."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = f"## {title}\n\n_Measured {stamp} on {machine()}._\n\n{body}\n"
    existing = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\nWritten by `make bench`.\n\n"
    parts = existing.split("\n## ")
    head, sections = parts[0], {p.split("\n", 1)[0]: "## " + p for p in parts[1:]}
    sections[title] = section
    RESULTS.write_text(head.rstrip() + "\n\n" + "\n".join(s.rstrip() + "\n" for s in sections.values()))


def figure(value: float | None, digits: int = 1) -> str:
    """One figure of a results table: thousands separated, `digits` decimals for a float (an int as it is), and —
    where there is none (None, or NaN for a figure that could not be measured)."""
    if value is None or value != value:
        return "—"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def share(value: float | None, digits: int = 1) -> str:
    """A fraction as a percentage of a results table (— where there is none)."""
    return "—" if value is None or value != value else f"{value:.{digits}%}"


def row(*cells: object) -> list[str]:
    """A results table's row: each number (or None) as `figure` writes it (one decimal), anything else as its text;
    a cell that needs other decimals is given as `figure(value, digits)`."""
    numbers = (c is None or (isinstance(c, int | float) and not isinstance(c, bool)) for c in cells)
    return [figure(c) if number else str(c) for c, number in zip(cells, numbers, strict=True)]  # type: ignore[arg-type]
