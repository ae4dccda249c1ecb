"""Benchmark 5: export verification (`/ddb-verify`'s check): MB/s and items/s of an export read from moto's S3, and
the peak RSS of the process doing it, at two sizes, to show memory stays flat in the export's size.

moto's server runs as its own process; the export is written there as `write_full_export` lays one out (16 files),
then each verification runs in a child process of its own so its peak RSS is the verification's alone.
`python -m bench.verification --sizes 100000` runs one size by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import boto3

from bench.common import ROOT, figure, row, start_moto_process, stop, table, write_section
from bot.loader.lines import ExportLineReader
from bot.models import ExportLocation
from bot.verification.verify import verify_export
from tests.support.export_fixtures import sample_items, write_full_export

TITLE = "5. Export verification"
SIZES = (100_000, 1_000_000)
FILES = 16
BUCKET = "bench-verify"


@dataclass(frozen=True)
class Measured:
    """One verification's figures."""

    items: int
    files: int
    compressed_mb: float
    seconds: float
    peak_rss_mb: float
    ok: bool


def s3_client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def child(endpoint: str, prefix: str, export_id: str) -> None:
    """Verify one export and print the figures as JSON (run in its own process)."""
    location = ExportLocation(BUCKET, prefix, export_id)
    started = time.monotonic()
    outcome = verify_export(s3_client(endpoint), location, None, ExportLineReader(("pk", "sk")))
    seconds = time.monotonic() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "items": outcome.items,
                "files": outcome.files,
                "compressed_mb": outcome.bytes / 2**20,
                "seconds": seconds,
                "peak_rss_mb": peak_kb / 1024,
                "ok": outcome.ok,
            }
        )
    )


def measure(endpoint: str, size: int) -> tuple[Measured, float]:
    """Write an export of `size` items, then verify it in a child process; also returns the generation time."""
    s3 = s3_client(endpoint)
    started = time.monotonic()
    location = write_full_export(s3, BUCKET, f"bench/{size}", sample_items(size, seed=size), files=FILES)
    generated = time.monotonic() - started
    output = subprocess.run(
        [sys.executable, "-m", "bench.verification", "--child", endpoint, location.prefix or "", location.export_id],
        check=True,
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ).stdout
    return Measured(**json.loads(output.splitlines()[-1])), generated


def run(sizes: tuple[int, ...] = SIZES) -> str:
    """Every size in turn; the results as a Markdown section."""
    process, endpoint = start_moto_process()
    rows, generation = [], 0.0
    try:
        s3_client(endpoint).create_bucket(Bucket=BUCKET)
        for size in sizes:
            measured, generated = measure(endpoint, size)
            generation += generated
            rows.append(
                row(
                    size,
                    measured.files,
                    measured.compressed_mb,
                    measured.seconds,
                    measured.compressed_mb / measured.seconds,
                    figure(measured.items / measured.seconds, 0),
                    figure(measured.peak_rss_mb, 0),
                    "yes" if measured.ok and measured.items == size else "NO",
                )
            )
            print(rows[-1], flush=True)
    finally:
        stop(process)
    header = ["items", "files", "gzip MB", "seconds", "MB/s", "items/s", "peak RSS MB", "OK, all items"]
    return (
        "One `verify_export` (manifests and their .md5, every file streamed once: MD5, gzip, item count, each line "
        "read by the loader's line reader) of a full export in moto's S3 (a separate process), in a child process "
        "whose peak RSS is measured. Items mix every DynamoDB type (~300 bytes each).\n\n"
        + table(header, rows)
        + f"\n\nGenerating the exports (not measured above): {generation:.0f} s."
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=3, metavar=("ENDPOINT", "PREFIX", "EXPORT_ID"))
    parser.add_argument("--sizes", type=int, nargs="+")
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    section = run(tuple(args.sizes) if args.sizes else SIZES)
    write_section(TITLE, section)
    print(section)


if __name__ == "__main__":
    main()
