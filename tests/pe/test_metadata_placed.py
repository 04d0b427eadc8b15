"""metadata._placed (the row layouts and where each table starts) and metadata._rows, against the rule they stand for
written out plainly (ECMA-335 II.24.2.6: a coded index takes 4 bytes when a table it may point into has 2^(16 - tag
bits) rows or more, a table index when its table has 2^16 rows or more), for row counts around every threshold."""

from __future__ import annotations

import itertools
import operator

from hypothesis import given, settings
from hypothesis import strategies as st

from iisbitness.pe import metadata

_EDGES = sorted({0, 1, 2047, 2048, 2049, 8191, 8192, 16383, 16384, 32767, 32768, 65535, 65536, 65537, 1 << 20})


def _plainly(rows: list[int], heap_sizes: int, tables_at: int) -> tuple[tuple[object, ...], list[int]]:
    """What _placed gives, by the rule: each coded index's width from the largest of its tables."""
    coded = tuple(2 if max(rows[t] for t in targets) < limit else 4 for limit, targets in metadata._CODED_LIMITS)
    big = sum(1 << t for t in range(metadata._ASSEMBLYREF + 1) if rows[t] >= 1 << 16)
    formats, sizes = metadata._layout(heap_sizes & 7, coded, big)
    return formats, list(itertools.accumulate(map(operator.mul, sizes, rows), initial=tables_at))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_EDGES), st.integers(0, 1 << 17)), min_size=64, max_size=64),
       st.integers(0, 7), st.integers(0, 1 << 12))
def test_placed_as_the_rule_says(rows: list[int], heap_sizes: int, tables_at: int) -> None:
    assert metadata._placed(rows, heap_sizes, tables_at) == _plainly(rows, heap_sizes, tables_at)


@given(st.sampled_from(sorted(metadata._CODED_BY_TABLE)), st.sampled_from(_EDGES), st.integers(0, 7))
def test_one_large_table(table: int, count: int, heap_sizes: int) -> None:
    """One table at a threshold, every other empty: each coded index that may point into it widens exactly there."""
    rows = [0] * 64
    rows[table] = count
    assert metadata._placed(rows, heap_sizes, 0) == _plainly(rows, heap_sizes, 0)


@given(st.integers(0, (1 << 64) - 1), st.data())
def test_rows_spread_over_the_tables(valid: int, data: st.DataObject) -> None:
    present = [t for t in range(64) if valid >> t & 1]
    counts = data.draw(st.lists(st.integers(0, 1 << 20), min_size=len(present), max_size=len(present)))
    expected = [0] * 64
    for t, n in zip(present, counts, strict=True):
        expected[t] = n
    assert metadata._rows(valid, tuple(counts)) == expected
