"""Coverage-guided fuzzing of the PE/CLR reader and the .NET metadata reader (atheris).

Targets, all fed the same bytes:
- :func:`iisbitness.pe.classify.classify_bytes` (DOS/COFF/optional headers, sections, COR20,
  metadata root, ReadyToRun, CHPE load config): must return a PeImage, never raise, with the optional header's
  operating system and subsystem versions for a PE (those of :func:`~iisbitness.pe.headers.parse_headers`) and
  none for anything else;
- :func:`iisbitness.pe.imports.imports_from` (import and delay-import tables);
- :func:`iisbitness.pe.metadata.assembly_info_from_bytes` (our ECMA-335 reader: metadata root,
  stream headers, #~ row counts and rows, #Strings/#Blob): must return an AssemblyInfo with
  ``reason`` either None or "metadata unreadable: ..." / "no .NET metadata", never raise;
- :func:`iisbitness.pe.metadata.references_from_source` (what a scan reads of each assembly): the same
  references and reason as the full reader without attributes;
- ``iisbitness.pe.classify._plain`` (the scan's straight-through read of a plain .NET image, issue 25): when it
  answers, the same PeImage and references as the general readers.

Any exception escaping these is a crash; atheris writes the input to ``crash-<sha1>``.
Run: see fuzz/README.md.
"""

from __future__ import annotations

import os
import sys

import atheris

with atheris.instrument_imports():
    from iisbitness.pe import metadata
    from iisbitness.pe.classify import _image_and, _plain, classify_bytes
    from iisbitness.pe.headers import parse_headers
    from iisbitness.pe.imports import imports_from
    from iisbitness.pe.metadata import (
        AssemblyReferences,
        _read,
        assembly_info_from_bytes,
        references_from_source,
    )
    from iisbitness.pe.source import InvalidPe, Source
    from iisbitness.pe.types import ImageKind

MAX_LEN = 1 << 16
TARGET = os.environ.get("FUZZ_TARGET", "all")
"""``all`` (default), ``pe`` (header readers only: about 50x faster) or ``metadata`` (the metadata reader only)."""

SMALL_PARTS = os.environ.get("FUZZ_PARTS") == "small"
"""``FUZZ_PARTS=small``: the straight read reads every metadata region in parts, with little read first, names one
by one and a head of 768 bytes (tests/pe/test_scan_read.py's ``small-parts``), so that inputs under ``MAX_LEN`` take
the path of a region over 64 KB and each structure may lie past what was read first."""
HEAD = 768 if SMALL_PARTS else None
if SMALL_PARTS:
    for _name, _value in {"PLAIN_WHOLE": 0, "_PLAIN_FIRST": 64, "_PLAIN_GAP": 0, "_PLAIN_NAME": 8}.items():
        if not hasattr(metadata, _name):
            raise SystemExit(f"fuzz_pe: iisbitness.pe.metadata has no {_name}: update FUZZ_PARTS")
        setattr(metadata, _name, _value)


def test_one_input(data: bytes) -> None:
    """One fuzz input: every reader must answer, none may raise."""
    if TARGET in ("all", "pe"):
        _pe(data)
    if TARGET in ("all", "metadata"):
        info = assembly_info_from_bytes(data, "<fuzz>")
        if info.name is None and info.reason is None and info.version is not None:
            raise AssertionError(f"inconsistent AssemblyInfo: {info!r}")
        if info.reason is not None and not info.reason.startswith(("metadata unreadable: ", "no .NET metadata")):
            raise AssertionError(f"unexpected reason: {info.reason!r}")
        refs = references_from_source(Source.from_bytes(data), "<fuzz>")  # NOTE: the scan's read (issue 25)
        full = AssemblyReferences.of(_read(Source.from_bytes(data), "<fuzz>", attributes=False))
        if refs != full:
            raise AssertionError(f"the scan's references differ from the full reader's: {refs!r} != {full!r}")
        plain = _plain(Source.from_bytes(data) if HEAD is None else Source(data[:HEAD], len(data), data=data), "<fuzz>")
        if plain is not None and plain != (general := _image_and(Source.from_bytes(data), "<fuzz>", references_from_source)):
            raise AssertionError(f"the scan's straight read differs from the general readers': {plain!r} != {general!r}")


def _pe(data: bytes) -> None:
    img = classify_bytes(data, "<fuzz>")
    if img.kind is ImageKind.NOT_PE and not (img.reason or "").startswith("not a valid PE: "):
        raise AssertionError(f"NOT_PE without a reason: {img!r}")
    if (img.os_version is None) is img.is_pe or (img.subsystem_version is None) is img.is_pe:
        raise AssertionError(f"the optional header's versions must be read for a PE, and only for one: {img!r}")
    src = Source.from_bytes(data)
    try:
        headers = parse_headers(src)
    except InvalidPe:
        headers = None
    if headers is not None:
        imports_from(src, headers)
        if img.is_pe and (img.os_version, img.subsystem_version) != (headers.os_version, headers.subsystem_version):
            raise AssertionError(f"the image's versions differ from its headers': {img!r} != {headers!r}")


def main() -> None:
    """Entry point: ``python fuzz/fuzz_pe.py [libFuzzer options] [corpus dirs]``."""
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
