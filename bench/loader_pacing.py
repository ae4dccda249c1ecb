"""Benchmark 4: the `into=` loader against a table with limited capacity: how much of it (or of the ceiling) it uses,
how many items it sends again, and that it never exceeds the ceiling over any 5 seconds.

The sink (`tests.support.ddb_sink --capacity N [--partition-capacity 1000]`) is a table that takes N write units a
second with one second of burst and reports ConsumedCapacity; loads run in child processes as in benchmark 2. The
unlimited run is compared with the loader of another revision (default `main`, taken with `git archive`) on the
same machine in the same run, since the machine is shared and earlier figures are not comparable.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.common import ROOT, figure, row, share, start_moto_process, stop, table
from bench.loader_throughput import (
    BUCKET,
    CONCURRENCY,
    RUN_TIMEOUT_S,
    Export,
    Sink,
    _child_env,
    _s3,
    generate_exports,
)

TITLE = "4. Restore pacing against a capacity-limited table"
ITEMS = 1_000_000
SORTED_ITEMS_PER_PK = 2_000  # the partition worst case: runs of 2,000 items per partition key, in key order
PARTITION_UNITS = 1000.0
GOAL_USED, GOAL_RESENT = 0.95, 0.02


@dataclass(frozen=True)
class Case:
    name: str
    capacity: float | None
    ceiling: float | None = None  # write units/s given to the loader (rate=N/s, or P % of the capacity)
    sorted_export: bool = False
    partition_units: float | None = None
    spread_lines: int = 20_000
    baseline: bool = False


@dataclass(frozen=True)
class Outcome:
    case: Case
    items: int
    wall_s: float
    consumed_units: int
    active_s: float
    busiest_5s_units: int
    received: int
    written: int
    throttled_calls: int
    calls: int
    correct: bool

    @property
    def units_per_s(self) -> float:
        return self.consumed_units / self.active_s if self.active_s else 0.0

    @property
    def limit(self) -> float | None:
        return self.case.ceiling or self.case.capacity

    @property
    def used(self) -> float | None:
        return self.units_per_s / self.limit if self.limit else None

    @property
    def resent(self) -> float:
        return (self.received - self.written) / self.items

    @property
    def peak_5s(self) -> float:
        return self.busiest_5s_units / 5.0

    def cells(self) -> list[str]:
        limit = self.limit
        return row(
            self.case.name,
            self.items,
            self.wall_s,
            figure(self.items / self.wall_s, 0),
            figure(self.units_per_s, 0),
            share(self.used),
            figure(self.peak_5s, 0) + (f" ({share(self.peak_5s / limit)})" if limit else ""),
            share(self.resent, 2),
            f"{figure(self.throttled_calls)} of {figure(self.calls)}",
            "0 / 0" if self.correct else "**wrong**",
        )


def measure(case: Case, export: Export, s3_endpoint: str, workdir: str, root: Path) -> Outcome:
    """One load in a child process (of `root`'s code) against a fresh capacity-limited sink."""
    extra: list[str] = []
    if case.capacity:
        extra += ["--capacity", str(case.capacity)]
    if case.partition_units:
        extra += ["--partition-capacity", str(case.partition_units)]
    sink = Sink(extra)
    try:
        spec = {
            "s3": s3_endpoint,
            "sink": sink.url,
            "location": export.location.__dict__,
            "concurrency": CONCURRENCY,
            "workdir": workdir,
            "ceiling": case.ceiling,
            "spread_lines": case.spread_lines,
        }
        env = _child_env()
        env["PYTHONPATH"] = str(root)
        done = subprocess.run(
            [sys.executable, "-m", "bench.loader_throughput", "--load", json.dumps(spec)],
            capture_output=True,
            cwd=root,
            env=env,
            timeout=RUN_TIMEOUT_S * 3,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"the {case.name} load failed:\n{done.stderr.decode()[-3000:]}")
        result = json.loads(done.stdout.decode().strip().splitlines()[-1])
        stats = sink.stats()
    finally:
        sink.close()
    return Outcome(
        case=case,
        items=export.items,
        wall_s=result["wall_s"],
        consumed_units=stats.get("consumed_units", 0),
        active_s=stats.get("active_seconds", 0.0),
        busiest_5s_units=stats.get("busiest_5s_units", 0),
        received=stats["items_received"],
        written=stats["items_written"],
        throttled_calls=stats["throttled"] + stats["calls_with_unprocessed"],
        calls=stats["calls"],
        correct=stats["key_checksum"] == export.checksum and stats["distinct_keys"] == export.items,
    )


def baseline_tree(revision: str, workdir: str) -> Path | None:
    """The code of `revision` (git archive), to run its loader as the unlimited baseline; None without git."""
    target = Path(workdir) / "baseline"
    target.mkdir()
    try:
        archive = subprocess.run(["git", "archive", revision], cwd=ROOT, capture_output=True, check=True, timeout=60)
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return target


def cases(items: int) -> list[Case]:
    """The runs the issue asks for, at 10,000 and 40,000 write units a second."""
    del items
    return [
        Case("capacity 10,000/s, no ceiling", 10_000.0),
        Case("capacity 10,000/s, rate=50%", 10_000.0, ceiling=5_000.0),
        Case("capacity 40,000/s, no ceiling", 40_000.0),
        Case(
            "capacity 10,000/s, sorted by key, 1,000/s per partition",
            10_000.0,
            sorted_export=True,
            partition_units=PARTITION_UNITS,
        ),
        Case(
            "same, file order (no spread window)",
            10_000.0,
            sorted_export=True,
            partition_units=PARTITION_UNITS,
            spread_lines=1,
        ),
        Case("unlimited sink, this revision", None),
        Case("unlimited sink, baseline revision", None, baseline=True),
    ]


def run(items: int = ITEMS, revision: str = "main", only: Sequence[str] = ()) -> str:
    """Run the cases and return the Markdown section."""
    started = time.perf_counter()
    workdir = tempfile.mkdtemp(prefix="bench-pacing-")
    moto = None
    outcomes: list[Outcome] = []
    notes: list[str] = []
    try:
        moto, endpoint = start_moto_process()
        _s3(endpoint).create_bucket(Bucket=BUCKET)
        (plain,), _ = generate_exports(endpoint, [items], workdir)
        (ordered,), _ = generate_exports(endpoint, [items], workdir, items_per_pk=SORTED_ITEMS_PER_PK)
        baseline = baseline_tree(revision, workdir)
        for case in cases(items):
            if only and not any(word in case.name for word in only):
                continue
            if case.baseline and baseline is None:
                notes.append(f"The baseline run was skipped: `git archive {revision}` failed.")
                continue
            root = baseline if case.baseline and baseline is not None else ROOT
            export = ordered if case.sorted_export else plain
            outcome = measure(case, export, endpoint, workdir, root)
            outcomes.append(outcome)
            print(" | ".join(str(c) for c in outcome.cells()), flush=True)
    finally:
        if moto is not None:
            stop(moto)
        shutil.rmtree(workdir, ignore_errors=True)
    return report(outcomes, revision, time.perf_counter() - started, notes)


def report(outcomes: Sequence[Outcome], revision: str, total_s: float, notes: Sequence[str]) -> str:
    """The Markdown section: the table, then each goal with its numbers."""
    headers = ["run", "items", "wall s", "items/s", "units/s consumed", "of capacity/ceiling"]
    headers += ["busiest 5 s, units/s", "items sent again", "throttled calls", "lost / extra"]
    lines = [
        "Loads of one full export (16 gzip files, ~300-byte items: 1 write unit each) from moto's S3 into the sink "
        "limited to the capacity shown (token bucket, 1 s of burst; ConsumedCapacity reported). *Units/s consumed* "
        "is over the sink's active time; *busiest 5 s* is the most units it took in any 5 seconds, divided by 5. "
        "*Items sent again*: items received minus items written, as a share of the export. *Throttled calls*: "
        "calls answered with UnprocessedItems or ProvisionedThroughputExceededException. The sorted export has "
        f"runs of {SORTED_ITEMS_PER_PK} items per partition key in key order, with a {PARTITION_UNITS:,.0f} units/s "
        "limit per partition key.",
        "",
        table(headers, [o.cells() for o in outcomes]),
        "",
        "Goals:",
        "",
    ]
    lines += goal_lines(outcomes, revision)
    lines += ["", *notes, f"Whole benchmark, generation included: {total_s:.0f} s."]
    return "\n".join(lines)


def goal_lines(outcomes: Sequence[Outcome], revision: str) -> list[str]:
    """Each goal, met or not, with the figures behind it."""
    limited = [o for o in outcomes if o.limit and o.case.spread_lines > 1]
    lines = []
    for outcome in limited:
        met = (outcome.used or 0) >= GOAL_USED and outcome.resent <= GOAL_RESENT
        under = outcome.case.ceiling is None or outcome.peak_5s <= outcome.case.ceiling
        lines.append(
            f"- {outcome.case.name}: ≥ 95 % used and ≤ 2 % sent again: **{'met' if met else 'not met'}** "
            f"({outcome.used:.1%}, {outcome.resent:.2%})"
            + (
                f"; never above the ceiling over 5 s: **{'met' if under else 'not met'}** "
                f"({outcome.peak_5s:,.0f} ≤ {outcome.case.ceiling:,.0f})"
                if outcome.case.ceiling
                else ""
            )
        )
    unlimited = {o.case.baseline: o for o in outcomes if o.limit is None}
    if True in unlimited and False in unlimited:
        ours, base = unlimited[False], unlimited[True]
        ratio = (ours.items / ours.wall_s) / (base.items / base.wall_s)
        lines.append(
            f"- Unlimited sink within 10 % of the baseline ({revision}): **{'met' if ratio >= 0.9 else 'not met'}** "
            f"({ours.items / ours.wall_s:,.0f} vs {base.items / base.wall_s:,.0f} items/s, {ratio:.0%})"
        )
    wrong = [o.case.name for o in outcomes if not o.correct]
    lines.append(f"- 0 lost, 0 extra in every run: **{'met' if not wrong else 'not met: ' + ', '.join(wrong)}**")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=ITEMS, help="items per export (default 1,000,000)")
    parser.add_argument("--baseline", default="main", help="git revision whose loader the unlimited run is compared to")
    parser.add_argument("--only", nargs="*", default=(), help="run only the cases whose name contains one of these")
    args = parser.parse_args()
    print(run(args.items, args.baseline, args.only))


if __name__ == "__main__":
    main()
