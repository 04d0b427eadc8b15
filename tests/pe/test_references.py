"""What a scan reads of each assembly (``references_from_source``, issue 25) against the full reader and dnfile.

The scan's reader decodes only the AssemblyRef and ImplMap/ModuleRef rows and remembers decoded references across
files; it must give exactly what :func:`~iisbitness.pe.metadata.read_assembly_references` (the full table walk of
:func:`~iisbitness.pe.metadata.read_assembly_info`, cross-checked against dnfile) gives, ``reason`` included, on
every fixture and real assembly and on mutated metadata.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import replace

import pytest
from dnfile_reference import dnfile_info
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pe_fixtures import metadata_mutated
from test_metadata_dnfile import FIXTURES, REAL, REAL_SAMPLE, REPO
from test_property import mutated

from iisbitness.pe import metadata
from iisbitness.pe.classify import read_image, read_image_and_references
from iisbitness.pe.metadata import AssemblyReferences, read_assembly_references, references_from_source
from iisbitness.pe.source import Source


def _scan_read(path: str) -> AssemblyReferences | None:
    _, refs, error = read_image_and_references(path)
    assert error is None
    return refs


@pytest.mark.parametrize("path", FIXTURES, ids=[str(p.relative_to(REPO)) for p in FIXTURES])
def test_fixture_references_as_the_full_reader_and_dnfile(path: object) -> None:
    refs = _scan_read(str(path))
    if refs is None:  # NOTE: not .NET: the scan reads no metadata
        return
    assert refs == read_assembly_references(str(path))
    theirs = dnfile_info(str(path))
    assert (refs.assembly_refs, refs.pinvoke_modules, refs.reason is None) == (
        theirs.assembly_refs, theirs.pinvoke_modules, theirs.reason is None)


@pytest.mark.skipif(not REAL, reason="no real assemblies here (apt-get install mono-runtime)")
def test_every_real_assembly_as_the_full_reader() -> None:
    """Every real assembly (thousands: only our two readers, no dnfile), and dnfile on the sample."""
    differ = [p for p in REAL if (r := _scan_read(str(p))) is not None and r != read_assembly_references(str(p))]
    assert not differ, f"{len(differ)} of {len(REAL)} differ, e.g. {differ[:5]}"
    for p in REAL_SAMPLE:
        refs, theirs = _scan_read(str(p)), dnfile_info(str(p))
        assert refs is not None and (refs.assembly_refs, refs.pinvoke_modules) == (
            theirs.assembly_refs, theirs.pinvoke_modules)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(metadata_mutated())
def test_mutated_metadata_gives_the_same_references_and_reason(data: bytes) -> None:
    ours = references_from_source(Source.from_bytes(data), "<bytes>")
    full = AssemblyReferences.of(metadata._read(Source.from_bytes(data), "<bytes>", attributes=False))
    assert ours == full


def test_references_are_shared_not_copied() -> None:
    """Two assemblies referencing the same assembly and version hold one AssemblyRef object."""
    refs = [r for p in FIXTURES if (got := _scan_read(str(p))) is not None for r in got.assembly_refs]
    by_value: dict[object, object] = {}
    for r in refs:
        assert by_value.setdefault(r, r) is r
    assert len(by_value) < len(refs)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(mutated(), metadata_mutated()))
def test_one_open_gives_what_two_reads_give(data: bytes) -> None:
    """The scan's one open (headers, COR20 header read once, references) against reading the headers and the
    references separately, on mutated files: the same image, the same references or reason."""
    fd, name = tempfile.mkstemp(prefix="iisbitness-refs-")
    try:
        os.write(fd, data)
        os.close(fd)
        image, refs, error = read_image_and_references(name)
        # NOTE: the headers alone cannot say reference_assembly; the one open reads it with the references
        assert error is None and image == replace(read_image(name), reference_assembly=bool(
            refs is not None and refs.is_reference_assembly))
        assert refs == (read_assembly_references(name) if image.is_managed else None)
    finally:
        os.unlink(name)
