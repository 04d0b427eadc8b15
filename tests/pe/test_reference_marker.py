"""The reference-assembly marker (ReferenceAssemblyAttribute, facts I9) read in the scan's one read of each file, on
every path a scan's facts take: the parser's own read, the prefetch helper's plain data (marshal, as on its pipe),
and the SQLite cache; a file that only names the attribute (System.Runtime defines it) is not marked."""

from __future__ import annotations

import marshal
import os
from dataclasses import fields, replace
from pathlib import Path

import pytest
from pe_fixtures import BIN

from iisbitness.arch import Arch
from iisbitness.pe import classify
from iisbitness.pe.classify import (
    general_facts,
    general_read,
    plain_read,
    read_image,
    read_image_and_references,
)
from iisbitness.pe.facts import BinaryFacts, FileIdentity
from iisbitness.pe.metadata import read_assembly_info
from iisbitness.pe.source import Source, open_binary
from iisbitness.pe.store import SqliteFactStore
from iisbitness.pe.types import Hybrid, ImageKind, PeImage, PlatformTarget

REFASM = BIN / "managed_refasm.dll"
MONO_API = sorted(Path("/usr/lib/mono/4.5-api").glob("System.W*.dll"))[:2]
"""Real reference assemblies (Mono's *-api folders), where installed."""
NAMERS = [p for p in (Path("/usr/lib/mono/4.5/Facades/System.Runtime.dll"), Path("/usr/lib/mono/4.5/mscorlib.dll"))
          if p.is_file()]
"""Implementation assemblies whose #Strings holds the name (they define or forward the type)."""


def _source(path: Path) -> tuple[int, Source]:
    _, fd = open_binary(path)
    return fd, Source.from_fd(fd)


@pytest.mark.parametrize("path", [REFASM, *MONO_API], ids=lambda p: p.name)
def test_a_reference_assembly_is_marked_by_the_scans_read_and_the_helpers(path: Path) -> None:
    image, refs, error = read_image_and_references(path)
    assert error is None and image.reference_assembly and refs is not None and refs.is_reference_assembly
    assert not read_image(path).reference_assembly  # NOTE: headers only: documented as unknown, False
    assert image.loadable_by == read_image(path).loadable_by  # NOTE: the headers' answer is kept
    fd, src = _source(path)
    try:
        assert plain_read(src) is None  # NOTE: left to the general reader, which walks the attributes
        sent = general_read(src, str(path))
    finally:
        os.close(fd)
    assert sent is not None
    got, _ = general_facts(str(path), marshal.loads(marshal.dumps(sent)))
    assert got == image


@pytest.mark.parametrize("path", [BIN / "managed_anycpu.dll", *NAMERS], ids=lambda p: p.name)
def test_an_implementation_assembly_is_not_marked(path: Path) -> None:
    image, refs, _ = read_image_and_references(path)
    assert not image.reference_assembly and refs is not None and not refs.is_reference_assembly
    assert not read_assembly_info(path).is_reference_assembly


def test_the_cache_keeps_the_marker(tmp_path: Path) -> None:
    """A second scan answered from the cache (schema 3) sees the marker without reading the file."""
    db = tmp_path / "facts.sqlite"
    with SqliteFactStore(db) as store:
        assert BinaryFacts(store).image(REFASM).reference_assembly
        store.flush()
    with SqliteFactStore(db) as store:
        facts = BinaryFacts(store)
        assert facts.image(REFASM).reference_assembly and facts.reads == 0 and facts.stored == 1
        identity = FileIdentity.of(REFASM)
        assert identity is not None
        refs = store.get(str(REFASM), "references", identity)
        assert refs is not None and refs.is_reference_assembly  # type: ignore[union-attr]


def test_the_marked_image_keeps_every_other_field() -> None:
    """The image of a reference assembly is its headers' image with the marker set, every other field as read
    (``classify._marked``, a positional copy; here against ``dataclasses.replace``, on an image with every field
    set to a value other than its default)."""
    every = PeImage("x.dll", ImageKind.READY_TO_RUN, 0x8664, True, True, 1, PlatformTarget.X64,
                    frozenset({Arch.X64}), "why", ("a note",), Hybrid.ARM64X, "v4.0.30319", "2.5", "windows",
                    0x8664, 3, (6, 0), (6, 2), False)
    assert all(getattr(every, f.name) != f.default for f in fields(PeImage)
               if f.name not in ("path", "reference_assembly"))
    assert classify._marked(every) == replace(every, reference_assembly=True)
    assert classify._marked(read_image(REFASM)) == read_image_and_references(REFASM)[0]
