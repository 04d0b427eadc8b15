"""The assembly-attribute read (TargetFramework, ReferenceAssembly) against a plain walk of every row.

``_assembly_attributes`` takes shortcuts (issue 25): names found once in #Strings, a C binary search
over a view of the Parent column, and, when no TargetFrameworkAttribute name is in the heap, the
assembly's attributes walked last first. The reference below walks every CustomAttribute row, in
order, resolving each type with :meth:`_Tables.row` and comparing whole strings, with the same
"first one of each" rule; the two must agree on every fixture, demo binary and real assembly here
(Mono's, and the .NET runtime the benchmarks extract), and on the fixtures with their CustomAttribute
table marked unsorted. On damaged metadata the plain walk may answer otherwise (it decodes names where the
reader compares them in place), so damaged copies of the fixtures are compared with the reader as it was before
(attributes_before.py): the same answer or the same error.
"""

from __future__ import annotations

import random
import struct

import pytest
from attributes_before import attributes_before
from pe_fixtures import BIN
from test_metadata_dnfile import DEMO, FIXTURES, REAL

from iisbitness.pe import metadata as md
from iisbitness.pe.source import Source


def _tables(path: object) -> md._Tables | None:
    data = open(path, "rb").read()  # noqa: SIM115
    try:
        return md._tables(Source.from_bytes(data), None)
    except (ValueError, struct.error, IndexError):
        return None


def _type_of(t: md._Tables, ctor: int) -> tuple[bytes, bytes] | None:
    tag, index = ctor & 7, ctor >> 3
    if tag == 3:
        try:
            owner = t.row(md._MEMBERREF, index)[0]
        except md.MetadataError:
            return None
        if owner & 7 > 1:
            return None
        table, index = (md._TYPEDEF if owner & 7 == 0 else md._TYPEREF), owner >> 3
    elif tag == 2:
        table, index = md._TYPEDEF, t.method_owner(index)
    else:
        return None
    if not 0 < index <= t.rows[table]:
        return None
    row = t.row(table, index)
    return _heap_string(t, row[2]), _heap_string(t, row[1])


def _heap_string(t: md._Tables, index: int) -> bytes:
    try:
        return t.raw_string(index)
    except md.MetadataError:
        return b"\x00"  # NOTE: never equal to a name (the product compares in place and finds no match)


def reference_attributes(t: md._Tables) -> tuple[str | None, bool]:
    framework: str | None = None
    is_ref = found_tf = False
    has_tf = t.occurrences(md._TARGET_FRAMEWORK[1]) != frozenset()
    has_ref = t.occurrences(md._REFERENCE_ASSEMBLY[1]) != frozenset()
    for parent, ctor, value in t.iter_rows(md._CUSTOMATTRIBUTE):
        if parent != md._HAS_CA_ASSEMBLY:
            continue
        full = _type_of(t, ctor)
        if full == md._REFERENCE_ASSEMBLY:
            is_ref = True
        elif full == md._TARGET_FRAMEWORK:
            framework, found_tf = md._first_string_arg(t.blob(value)), True
        if (found_tf or not has_tf) and (is_ref or not has_ref):
            break
    return framework, is_ref


def _all_tables() -> list[tuple[str, md._Tables]]:
    found = []
    for path in FIXTURES + REAL:
        t = _tables(path)
        if t is not None and t.rows[md._ASSEMBLY]:
            found.append((str(path), t))
    return found


ALL = _all_tables()


def test_every_assembly_agrees_with_a_plain_walk() -> None:
    diffs = [p for p, t in ALL if md._assembly_attributes(t) != reference_attributes(t)]
    assert not diffs, f"{len(diffs)} of {len(ALL)} differ, e.g. {diffs[:5]}"


def test_the_comparison_covers_both_walks_and_both_answers() -> None:
    """Not vacuous: reference assemblies without a TargetFramework name (the walk last first), assemblies with one
    (first first), and both answers of each field."""
    results = [(md._assembly_attributes(t), t.occurrences(md._TARGET_FRAMEWORK[1]) == frozenset()) for _, t in ALL]
    assert any(is_ref and backward for (_, is_ref), backward in results)
    assert any(framework and not backward for (framework, _), backward in results)
    assert any(not is_ref for (_, is_ref), _ in results)


@pytest.mark.parametrize("path", [p for p in FIXTURES if _tables(p) is not None], ids=lambda p: p.name)
def test_unsorted_table_is_walked_whole(path: object) -> None:
    """With the Sorted bit of CustomAttribute cleared, every row is looked at: the same answer."""
    t = _tables(path)
    assert t is not None
    t._sorted &= ~(1 << md._CUSTOMATTRIBUTE)
    assert md._assembly_attributes(t) == reference_attributes(t)


@pytest.mark.parametrize("fmt", ["<HHH", "<III", "<IHH", "<HIH", "<IIH"])
def test_parent_column_view_reads_what_unpack_reads(fmt: str) -> None:
    row = struct.Struct(fmt)
    values = [(p, 7, 9) for p in (1, 2, 46, 46, 46, 70000 if "I" in fmt[1] else 900, 0xFFFF)]
    table = memoryview(b"".join(row.pack(*v) for v in values))
    assert list(md._parents(table, row)) == [v[0] for v in values]


def test_fixture_folders_are_there() -> None:
    assert BIN.is_dir() and DEMO.is_dir() and len(ALL) >= 10


DAMAGED = 4000


def _answer(f: object, t: md._Tables) -> object:
    try:
        return f(t)  # type: ignore[operator]
    except (ValueError, struct.error, IndexError) as e:
        return f"{type(e).__name__}: {e}"


def test_damaged_metadata_reads_as_before() -> None:
    """Bytes changed at random in the first 6,000 bytes of each fixture's metadata (tables and heaps)."""
    seeds = [d for p in FIXTURES if p.is_file() and b"BSJB" in (d := p.read_bytes())]
    rnd = random.Random(25)
    compared = 0
    for _ in range(DAMAGED):
        data = bytearray(rnd.choice(seeds))
        at = data.find(b"BSJB")
        for _ in range(rnd.randint(1, 8)):
            data[min(len(data) - 1, at + rnd.randrange(6000))] = rnd.randrange(256)
        try:
            t = md._tables(Source.from_bytes(bytes(data)), None)
        except (ValueError, struct.error, IndexError):
            continue
        if t is not None:
            compared += 1
            assert _answer(md._assembly_attributes, t) == _answer(attributes_before, t), bytes(data).hex()[:80]
    assert compared > DAMAGED // 2
