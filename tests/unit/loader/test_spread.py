"""The spread window: batches of distinct keys that spread over partition keys, with the last line per key winning."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.loader.spread import SpreadWindow

lines = st.lists(st.tuples(st.integers(0, 60), st.integers(0, 1_000)), max_size=400)


def replay(records: list[tuple[int, int]], window_lines: int, batch: int = 25) -> list[list[tuple[int, int]]]:
    """Feed records as the loader does; each request's bytes name its key and value."""
    window = SpreadWindow(window_lines)
    written: list[list[tuple[int, int]]] = []

    def flush() -> None:
        for requests in window.batches(batch, 14 * 1024 * 1024):
            written.append([tuple(map(int, request.split(b":"))) for request, _ in requests])  # type: ignore[misc]

    for key, value in records:
        window.add(key, (f"{key}:{value}".encode(), True))
        if window.full:
            flush()
    flush()
    return written


@given(lines, st.integers(1, 120))
def test_writing_the_batches_in_order_leaves_each_key_with_its_last_line(
    records: list[tuple[int, int]], size: int
) -> None:
    batches = replay(records, max(size, 25))
    table: dict[int, int] = {}
    for batch in batches:
        assert 0 < len(batch) <= 25
        assert len({key for key, _ in batch}) == len(batch), "a batch never names a key twice"
        table.update(batch)
    assert table == dict(records)


def test_a_file_sorted_by_partition_key_is_spread_over_partitions_in_every_batch() -> None:
    records = [(n // 100, n) for n in range(2_000)]  # 20 partition keys, 100 lines each, in key order

    batches = replay([(n, n) for _, n in records], 2_000)

    for batch in batches:
        partitions = {value // 100 for _, value in batch}
        assert len(partitions) >= 12, partitions
    in_file_order = replay([(n, n) for _, n in records], 25)
    assert max(len({value // 100 for _, value in batch}) for batch in in_file_order) <= 2


def test_a_large_item_gets_a_batch_of_its_own_when_the_bytes_would_pass_the_limit() -> None:
    window = SpreadWindow(25)
    for key in range(3):
        window.add(key, (b"x" * 600, True))

    batches = list(window.batches(25, 1_000))

    assert [len(batch) for batch in batches] == [1, 1, 1]
    assert len(window) == 0
