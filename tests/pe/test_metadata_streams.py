"""metadata._Tables.parse: the five stream headers compilers write, read in one call, against the loop over the stream
headers (II.24.2.2) it stands in for: the same streams (each cut to the region), the same tables, or the same error;
on every fixture and real assembly's region, and on regions whose root and stream headers are damaged."""

from __future__ import annotations

import struct
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pe_fixtures import MANAGED, _metadata_span
from test_metadata_dnfile import FIXTURES, REAL

from iisbitness.pe import metadata


def _state(region: bytes) -> object:
    """What _Tables.parse makes of ``region``: its streams, row counts and layout, or the error it raises."""
    try:
        t = metadata._Tables.parse(region)
    except (ValueError, struct.error, IndexError) as e:
        return f"{type(e).__name__}: {e}"
    if t is None:
        return None
    return t.rows, t._strings, t._blob, t._sorted, t._offsets, [f.format for f in t._formats]


def _by_the_loop(region: bytes, monkeypatch: pytest.MonkeyPatch) -> object:
    with monkeypatch.context() as m:
        m.setattr(metadata, "_PLAIN_STREAM_NAMES", ())  # NOTE: never the names read: every region takes the loop
        return _state(region)


def _regions() -> Iterator[bytes]:
    for path in FIXTURES + REAL:
        data = path.read_bytes() if path.is_file() else b""
        try:
            start, size = _metadata_span(data)
        except (ValueError, struct.error):
            continue
        if data[start : start + 4] == b"BSJB":
            yield data[start : start + size]


REGIONS = list(_regions())


def test_every_region_reads_as_by_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = 0
    for region in REGIONS:
        assert _state(region) == _by_the_loop(region, monkeypatch)
        fast += struct.unpack_from("<H", region, 16 + struct.unpack_from("<I", region, 12)[0] + 2)[0] == 5
    assert REGIONS and fast >= len(REGIONS) // 2  # NOTE: not vacuous: most take the one-call read


@st.composite
def _damaged(draw: st.DrawFn) -> bytes:
    """A fixture's region with its root and stream headers hit (the first 160 bytes): byte flips, and 32-bit words
    (stream offsets and sizes) set to extreme values; maybe cut short."""
    data = bytes(draw(st.sampled_from(MANAGED)))
    start, size = _metadata_span(data)
    region = bytearray(data[start : start + size])
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, 159))
        if draw(st.booleans()):
            word = draw(st.sampled_from([0, 1, 0xFFFF, len(region) - 1, len(region), len(region) + 1, 0xFFFFFFFF,
                                         draw(st.integers(0, 1 << 32))]))
            region[pos : pos + 4] = (word & 0xFFFFFFFF).to_bytes(4, "little")
        else:
            region[pos] = draw(st.integers(0, 255))
    if draw(st.integers(0, 4)) == 0:
        region = region[: draw(st.integers(0, len(region)))]
    return bytes(region)


@settings(max_examples=400, deadline=None)
@given(_damaged())
def test_damaged_headers_read_as_by_the_loop(region: bytes) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert _state(region) == _by_the_loop(region, monkeypatch)
