"""`make bench`: the benchmarks in turn; each prints its table and writes it to bench/results.md."""

from __future__ import annotations

import importlib
import sys
import time

from bench.common import RESULTS, write_section

BENCHMARKS = [
    ("1. Acknowledgement latency under load", "bench.ack_latency"),
    ("2. Restore-into-existing-table throughput", "bench.loader_throughput"),
    ("3. Tracking many jobs", "bench.tracking"),
    ("4. Restore pacing against a capacity-limited table", "bench.loader_pacing"),
    ("5. Coverage of a large estate", "bench.coverage_survey"),
    ("6. Export verification", "bench.verification"),
    ("7. JSON: msgspec against orjson on the loader's paths", "bench.json_codecs"),
    ("8. Bulk put against the loader", "bench.bulk_vs_loader"),
    ("9. Recovery: revert and older-than-PITR scan", "bench.recovery"),
]


def main() -> int:
    """Run every benchmark; a failing one is reported and the others still run."""
    failed = 0
    for title, module_name in BENCHMARKS:
        started = time.monotonic()
        print(f"\n=== {title} ===", flush=True)
        try:
            section = importlib.import_module(module_name).run()
        except Exception as exc:  # a benchmark that breaks must not hide the others' figures
            failed += 1
            print(f"FAILED: {type(exc).__name__}: {exc}", flush=True)
            continue
        write_section(title, section)
        print(section)
        print(f"({time.monotonic() - started:.0f} s)", flush=True)
    print(f"\nResults written to {RESULTS}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
