"""The scan's straight-through read of a plain .NET image (``classify._plain``, ``metadata.plain_references``, issue 25)
against the general readers it stands in for (``classify._image_and`` with ``references_from_source``, themselves
cross-checked against pefile and dnfile): the same PeImage and AssemblyReferences, field for field, or no answer (the
general readers then read the file).

On every fixture and real assembly; on mutated and truncated copies, with the whole region read and with only its
parts read (the limits lowered so that the fixtures, all small, take the path of a large region); and the bytes it
reads stay bounded.
"""

from __future__ import annotations

import os
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pe_fixtures import BIN, metadata_mutated
from test_metadata_dnfile import FIXTURES, REAL, REPO
from test_property import mutated

from iisbitness.pe import classify, metadata, source
from iisbitness.pe.classify import read_image_and_references
from iisbitness.pe.metadata import references_from_source
from iisbitness.pe.source import Source
from iisbitness.pe.types import ImageKind

PARTS = [
    pytest.param(({}, 4096), id="as-shipped"),
    pytest.param(({"PLAIN_WHOLE": 0}, 4096), id="parts"),
    pytest.param(({"PLAIN_WHOLE": 0, "_PLAIN_FIRST": 64, "_PLAIN_GAP": 0, "_PLAIN_NAME": 8}, 768), id="small-parts"),
    pytest.param(({"PLAIN_WHOLE": 0, "_PLAIN_FIRST": 200, "_PLAIN_GAP": 64, "_PLAIN_NAME": 40}, 1024), id="mid-parts"),
]
"""How plain_references is made to read: as shipped; a region of any size read in parts; and with little read
first, names read one by one and a short head (``Source.head``), so that each structure may lie past what was
read. Each with the Source's head length."""


def _general(data: bytes, path: str) -> object:
    return classify._image_and(Source.from_bytes(data), path, references_from_source)


def _plain(data: bytes, path: str, head: int) -> object:
    return classify._plain(Source(data[:head], len(data), data=data), path)


def _same(data: bytes, path: str = "<bytes>", head: int = 4096) -> bool:
    """The straight read gives what the general readers give, or nothing; True when it gave an answer."""
    plain = _plain(data, path, head)
    if plain is not None:
        assert plain == _general(data, path)
    return plain is not None


@pytest.fixture
def limits(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    changes, head = request.param
    for name, value in changes.items():
        monkeypatch.setattr(metadata, name, value)
    yield head


@pytest.mark.parametrize("limits", PARTS, indirect=True)
def test_fixtures_and_real_assemblies_read_as_the_general_readers(limits: int) -> None:
    files = [p for p in FIXTURES + REAL if p.is_file()]
    plain = sum(_same(p.read_bytes(), str(p), limits) for p in files)
    # NOTE: most of them are plain: an answer of None everywhere would pass the check above. Not counted: ReadyToRun
    # images (never plain) and reference assemblies (Mono's *-api folders), left to the general reader, which walks
    # their attributes for the marker; and so is an assembly that names ReferenceAssemblyAttribute (mscorlib). With
    # a short head (small-parts, mid-parts: 768 and 1,024 bytes) an image whose headers lie past it is left too (86%)
    managed = sum(1 for p in files if (got := _general(p.read_bytes(), str(p)))[1] is not None  # type: ignore[index]
                  and not got[1].is_reference_assembly and got[0].kind is not ImageKind.READY_TO_RUN)  # type: ignore[index]
    assert plain >= 0.85 * managed, (plain, managed)


@pytest.mark.parametrize("path", FIXTURES, ids=[str(p.relative_to(REPO)) for p in FIXTURES])
def test_scan_read_of_each_fixture_file(path: Path) -> None:
    """Through a file (the head read, the size asked of the OS): the same as reading the headers and the references
    with the general readers."""
    assert read_image_and_references(path) == classify._read_image_and(path, references_from_source)


@pytest.mark.skipif(not REAL, reason="no real assemblies here (apt-get install mono-runtime)")
def test_scan_read_of_every_real_assembly_file() -> None:
    differ = [p for p in REAL if read_image_and_references(p) != classify._read_image_and(p, references_from_source)]
    assert not differ, differ[:5]


@pytest.mark.parametrize("limits", PARTS, indirect=True)
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.one_of(metadata_mutated(), mutated()))
def test_mutated_images_read_as_the_general_readers(limits: int, data: bytes) -> None:
    _same(data, head=limits)


def _large_real() -> list[bytes]:
    """Real assemblies whose metadata region is longer than PLAIN_WHOLE (read in parts as shipped)."""
    found = []
    for p in sorted(REAL, key=lambda p: p.stat().st_size):
        if 200_000 < p.stat().st_size < 3_000_000 and len(found) < 4:
            data = p.read_bytes()
            src = Source.from_bytes(data)
            headers = classify.parse_headers(src)
            if classify.has_clr_header(headers) and classify.read_cor20(src, headers).metadata[1] > metadata.PLAIN_WHOLE:
                found.append(data)
    return found


LARGE = _large_real()


@st.composite
def large_mutated(draw: st.DrawFn) -> bytes:
    """A large real assembly with bytes changed where the straight read looks: the root and stream headers, the
    #~ header and row counts, the rows up to AssemblyRef, and #Strings (or anywhere in the region); maybe cut."""
    data = bytearray(draw(st.sampled_from(LARGE)))
    src = Source.from_bytes(bytes(data))
    headers = classify.parse_headers(src)
    rva, size = classify.read_cor20(src, headers).metadata
    start = headers.rva_to_offset(rva)
    tables = metadata._Tables.parse(bytes(data[start : start + size]))
    assert tables is not None
    spots = [(0, 160), (tables._offsets[0] - 300, tables._offsets[0]),
             (tables._offsets[metadata._MODULEREF], tables._offsets[metadata._ASSEMBLYREF + 1]),
             (tables._strings[0], tables._strings[0] + tables._strings[1]), (0, size)]
    for _ in range(draw(st.integers(1, 4))):
        lo, hi = draw(st.sampled_from(spots))
        pos = start + draw(st.integers(max(0, lo), max(0, hi - 1)))
        if draw(st.booleans()) and pos + 4 <= len(data):
            word = draw(st.sampled_from([0, 1, 0xFFFF, 0x10000, 0xFFFFFFFF, draw(st.integers(0, 1 << 32))]))
            data[pos : pos + 4] = (word & 0xFFFFFFFF).to_bytes(4, "little")
        elif pos < len(data):
            data[pos] = draw(st.integers(0, 255))
    if draw(st.integers(0, 4)) == 0:
        data = data[: start + draw(st.integers(0, size))]
    return bytes(data)


@pytest.mark.skipif(not LARGE, reason="no real assembly with a metadata region over 64 KB here (mono-runtime)")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(large_mutated())
def test_mutated_large_regions_read_in_parts_as_the_general_readers(data: bytes) -> None:
    _same(data)


def _bytes_read(path: Path) -> int:
    read = [0]
    pread = source._pread

    def counting(fd: int, size: int, offset: int) -> bytes:
        data = pread(fd, size, offset)
        read[0] += len(data)
        return data

    source._pread = counting
    try:
        read_image_and_references(path)
    finally:
        source._pread = pread
    return read[0]


def test_a_hostile_metadata_size_reads_no_more_than_the_file() -> None:
    """A COR20 header claiming a 64 MB metadata region, in a small file: no more is read than the file holds."""
    for data in (p.read_bytes() for p in FIXTURES if p.suffix == ".dll"):
        src = Source.from_bytes(data)
        headers = classify.parse_headers(src)
        if not classify.has_clr_header(headers):
            continue
        at = headers.rva_to_offset(headers.directory(14)[0])
        hostile = bytearray(data)
        hostile[at + 12 : at + 16] = (metadata.MAX_METADATA_FILE).to_bytes(4, "little")
        fd, name = tempfile.mkstemp(prefix="iisbitness-scan-read-")
        try:
            os.write(fd, bytes(hostile))
            os.close(fd)
            assert _bytes_read(Path(name)) <= 2 * len(data)
            _same(bytes(hostile))
        finally:
            os.unlink(name)
        return
    pytest.fail("no managed fixture")


@pytest.mark.skipif(not LARGE, reason="no real assembly with a metadata region over 64 KB here (mono-runtime)")
def test_a_large_region_is_read_in_parts() -> None:
    """Of a real assembly with a large metadata region (not ReadyToRun, which the general readers read), at most
    half the region is read, and the same answer."""
    plain = 0
    for p in (p for p in REAL if 200_000 < p.stat().st_size < 3_000_000):
        data = p.read_bytes()
        src = Source.from_bytes(data)
        headers = classify.parse_headers(src)
        if not classify.has_clr_header(headers):
            continue
        size = classify.read_cor20(src, headers).metadata[1]
        if size > metadata.PLAIN_WHOLE and _same(data, str(p)):
            plain += 1
            assert _bytes_read(p) <= 4096 + size // 2, p
    assert plain


def _column(fmt_text: str, column: int) -> int:
    """Byte offset of ``column`` in a row read with the Struct format ``fmt_text`` ("<IHH...")."""
    return struct.calcsize(fmt_text[: column + 1])


@pytest.mark.parametrize("limits", PARTS, indirect=True)
@pytest.mark.parametrize(("table", "column"), [(metadata._ASSEMBLY, 7), (metadata._ASSEMBLYREF, 6),
                                               (metadata._MODULEREF, 0)], ids=["Assembly", "AssemblyRef", "ModuleRef"])
@pytest.mark.parametrize("past", [-1, 0, 1])
def test_a_name_at_the_end_of_strings(limits: int, table: int, column: int, past: int) -> None:
    """A name index just inside, at and past the end of #Strings (the general reader's reason for the last two):
    the straight read answers only where the general readers find the name."""
    data = bytearray((BIN / "ManagedApp.dll").read_bytes())
    src = Source.from_bytes(bytes(data))
    headers = classify.parse_headers(src)
    rva, size = classify.read_cor20(src, headers).metadata
    start = headers.rva_to_offset(rva)
    tables = metadata._Tables.parse(bytes(data[start : start + size]))
    assert tables is not None and tables.rows[table]
    at = start + tables._offsets[table] + _column(tables._formats[table].format, column)
    width = 4 if tables._formats[table].format[column + 1] == "I" else 2
    data[at : at + width] = (tables._strings[1] + past).to_bytes(width, "little")
    answered = _same(bytes(data), head=limits)
    assert answered == (past < 0)  # NOTE: at and past the end, the general reader gives a reason


def _first_section_edges() -> list[tuple[str, str, int]]:
    return [(what, field, shift) for what in ("cor20", "metadata") for field in ("raw", "virtual", "headers")
            for shift in (-1, 0, 1)]


@pytest.mark.parametrize(("what", "field", "shift"), _first_section_edges(),
                         ids=[f"{w}-{f}{s:+d}" for w, f, s in _first_section_edges()])
def test_an_rva_at_the_edges_of_the_first_section(what: str, field: str, shift: int) -> None:
    """The COR20 header's or the metadata's RVA just inside, at and past the end of the first section's raw data
    (SizeOfRawData moved), of its virtual size (VirtualSize moved) and of SizeOfHeaders (moved to the RVA): the
    straight read, which finds an RVA of the first section without a call, answers only as the general readers do
    (an RVA past the raw data is in no file bytes; one below SizeOfHeaders is its own file offset)."""
    data = bytearray((BIN / "ManagedApp.dll").read_bytes())
    src = Source.from_bytes(bytes(data))
    headers = classify.parse_headers(src)
    rva = headers.directory(14)[0] if what == "cor20" else classify.read_cor20(src, headers).metadata[0]
    pe = struct.unpack_from("<I", data, 0x3C)[0]
    opt_size = struct.unpack_from("<H", data, pe + 20)[0]
    section = pe + 24 + opt_size
    vaddr = struct.unpack_from("<I", data, section + 12)[0]
    assert vaddr <= rva
    if field == "raw":
        struct.pack_into("<I", data, section + 16, rva - vaddr + shift)
    elif field == "virtual":
        struct.pack_into("<I", data, section + 8, rva - vaddr + shift)
    else:
        struct.pack_into("<I", data, pe + 24 + 60, rva + shift)  # NOTE: SizeOfHeaders, at 60 in PE32 and PE32+
    _same(bytes(data), "x")
