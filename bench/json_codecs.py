"""Benchmark 7: one JSON library, and which. msgspec and orjson both served JSON; this measures each where the bot
uses JSON, to keep one.

- The loader's hot path, once per export line: a full export's line read into the PutRequest it becomes and the
  key the per-batch dedup uses. msgspec: the bot's `ExportLineReader` (validates the line and forwards the item's
  own bytes, `msgspec.Raw`). orjson: the same outcome the way orjson allows, parsing the line into Python objects,
  checking its shape, taking the key, serialising the item again.
- Once per BatchWriteItem answer: an answer that leaves 25 puts unprocessed, decoded and each request encoded
  again for the retry (orjson.loads/dumps against msgspec.json.decode/encode, untyped like orjson).

Each figure is the least CPU time of this thread (`time.thread_time`, so time spent waiting for a core on a shared
machine is not counted) over several passes on the same lines, in microseconds per line or per answer.
`python -m bench.json_codecs` runs it alone.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import msgspec
import orjson

from bench.common import figure, row, table, write_section
from bot.loader.keys import comparable
from bot.loader.lines import ExportLineReader
from tests.support.export_fixtures import sample_items

TITLE = "7. JSON: msgspec against orjson on the loader's paths"
KEYS = ("pk", "sk")
LINES = 50_000
ANSWERS = 400
PASSES = 7


def orjson_read(line: bytes) -> tuple[bytes, Hashable]:
    """What ExportLineReader.read does, with orjson: parse, check the shape, take the key, serialise the item."""
    record = orjson.loads(line)
    if not isinstance(record, dict) or record.keys() != {"Item"} or not isinstance(record["Item"], dict):
        raise ValueError("not a record of a full export")
    item = record["Item"]
    key = []
    for name in KEYS:
        value = item[name]
        if not isinstance(value, dict) or len(value) != 1:
            raise ValueError(f"the key attribute {name} holds more than one type")
        ((kind, text),) = value.items()
        if kind not in {"S", "N", "B"} or not isinstance(text, str):
            raise ValueError(f"the key attribute {name} is not S, N or B")
        key.append(text if kind == "S" else comparable(name, kind, text))
    return orjson.dumps({"PutRequest": {"Item": item}}), tuple(key)


def fastest(work: Callable[[], object], passes: int = PASSES) -> float:
    """The least thread CPU time of `passes` runs of `work`, in seconds."""
    times = []
    for _ in range(passes):
        started = time.thread_time()
        work()
        times.append(time.thread_time() - started)
    return min(times)


def measure_lines(lines: Sequence[bytes]) -> dict[str, float]:
    """µs per line for each reader; both readers must agree on every key."""
    reader = ExportLineReader(KEYS)
    assert [reader.read(line)[1] for line in lines] == [orjson_read(line)[1] for line in lines]
    return {
        "msgspec (ExportLineReader)": fastest(lambda: [reader.read(line) for line in lines]) / len(lines) * 1e6,
        "orjson (parse, check, serialise)": fastest(lambda: [orjson_read(line) for line in lines]) / len(lines) * 1e6,
    }


def batch_answer() -> bytes:
    """A BatchWriteItem answer that leaves 25 puts unprocessed and reports the consumed capacity."""
    requests = [{"PutRequest": {"Item": item}} for item in sample_items(25, seed=7)]
    consumed = [{"TableName": "target", "CapacityUnits": 3}]
    answer = {"UnprocessedItems": {"target": requests}, "ConsumedCapacity": consumed}
    return orjson.dumps(answer)


def measure_answers(answer: bytes) -> dict[str, float]:
    """µs per answer: decode it, encode each unprocessed request again."""

    def with_orjson() -> list[bytes]:
        return [orjson.dumps(r) for r in orjson.loads(answer)["UnprocessedItems"]["target"]]

    def with_msgspec() -> list[bytes]:
        return [msgspec.json.encode(r) for r in msgspec.json.decode(answer)["UnprocessedItems"]["target"]]

    assert with_orjson() == with_msgspec()

    def per_answer(decode_and_encode: Callable[[], Any]) -> float:
        return fastest(lambda: [decode_and_encode() for _ in range(ANSWERS)]) / ANSWERS * 1e6

    return {"msgspec.json.decode + encode": per_answer(with_msgspec), "orjson.loads + dumps": per_answer(with_orjson)}


def run() -> str:
    """Measure, and say which library the figures keep."""
    lines = [orjson.dumps({"Item": item}) + b"\n" for item in sample_items(LINES)]
    size = statistics.mean(len(line) for line in lines)
    per_line = measure_lines(lines)
    answer = batch_answer()
    per_answer = measure_answers(answer)
    ours, theirs = per_line["msgspec (ExportLineReader)"], per_line["orjson (parse, check, serialise)"]
    answer_ms, answer_oj = per_answer["msgspec.json.decode + encode"], per_answer["orjson.loads + dumps"]
    rows = [
        row(
            f"export line → PutRequest and key ({LINES:,} lines of {size:.0f} bytes)",
            figure(ours, 2),
            figure(theirs, 2),
        ),
        row(f"BatchWriteItem answer, 25 unprocessed puts ({len(answer):,} bytes)", answer_ms, answer_oj),
    ]
    return "\n\n".join(
        [
            table(["CPU µs per line / per answer (least of 7 passes)", "msgspec", "orjson"], rows),
            f"On the hot path msgspec takes {ours / theirs:.0%} of orjson's CPU per line ({theirs / ours:.1f}× "
            "faster), and only msgspec can forward the item's own bytes (`msgspec.Raw`) instead of serialising "
            f"it again. A BatchWriteItem answer costs {answer_ms:.0f} µs with msgspec against {answer_oj:.0f} µs "
            "with orjson, once per 25 items, beside a network round trip of milliseconds. So the bot keeps msgspec "
            "alone: the answers, the delete requests of incremental exports and the verification sample use "
            "msgspec.json too, and orjson left the bot's dependencies (the dev extra keeps it for this benchmark "
            "and as the tests' JSON, independent of the code under test).",
        ]
    )


if __name__ == "__main__":
    section = run()
    write_section(TITLE, section)
    print(section)
