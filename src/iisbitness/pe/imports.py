"""The DLL names a native image imports, directly and by delay-load: :func:`read_imports`.

Layout: pe-format.md "The .idata Section" (IMAGE_IMPORT_DESCRIPTOR, 20 bytes, zero-terminated) and
"Delay-Load Import Tables" (IMAGE_DELAYLOAD_DESCRIPTOR, 32 bytes; when bit 0 of Attributes is
clear, the old VC6 form, its name is a VA rather than an RVA).

Bounded: at most :data:`MAX_DESCRIPTORS` of each kind, names up to :data:`MAX_NAME` bytes of
printable ASCII; anything beyond is dropped and ``truncated`` says so. A table that points outside
the file gives what was read before it. Never raises for content.
"""

from __future__ import annotations

import os
import struct
from typing import NamedTuple

from iisbitness.errors import ImageReadError
from iisbitness.pe.headers import DIR_DELAY_IMPORT, DIR_IMPORT, Headers, parse_headers
from iisbitness.pe.source import InvalidPe, Source, open_binary

MAX_DESCRIPTORS = 512
MAX_NAME = 256


class Imports(NamedTuple):
    """Imported DLL names, in table order, as written in the file (case kept).

    Attributes:
        dlls: from the import directory (data directory 1).
        delay_dlls: from the delay-load import directory (data directory 13).
        truncated: True when a table was cut short (too many entries, or it ran off the file).
    """

    dlls: tuple[str, ...] = ()
    delay_dlls: tuple[str, ...] = ()
    truncated: bool = False


def read_imports(path: str | os.PathLike[str]) -> Imports:
    """Imports of the file at ``path``; empty for a file that is not a valid PE.

    Raises:
        ImageReadError: the file cannot be opened or read.
    """
    name, fd = open_binary(path)
    try:
        src = Source.from_fd(fd)
        try:
            return imports_from(src, parse_headers(src))
        except InvalidPe:
            return Imports()
    except OSError as e:
        raise ImageReadError(f"{name}: cannot read: {e.strerror or e}") from e
    finally:
        os.close(fd)


def imports_from(src: Source, headers: Headers) -> Imports:
    """Imports from an already parsed image (never raises :class:`InvalidPe`)."""
    dlls, cut1 = _table(src, headers, DIR_IMPORT, 20, 12, delay=False)
    delay, cut2 = _table(src, headers, DIR_DELAY_IMPORT, 32, 4, delay=True)
    return Imports(dlls, delay, cut1 or cut2)


def _table(src: Source, h: Headers, index: int, entry: int, name_at: int, delay: bool) -> tuple[tuple[str, ...], bool]:
    rva, _ = h.directory(index)
    if rva == 0:
        return (), False
    try:
        start = h.rva_to_offset(rva, "import table")
    except InvalidPe:
        return (), True
    raw = src.read_upto(start, MAX_DESCRIPTORS * entry)
    names: list[str] = []
    for off in range(0, len(raw) - entry + 1, entry):
        desc = raw[off : off + entry]
        if not any(desc):
            return tuple(names), False
        (name_rva,) = struct.unpack_from("<I", desc, name_at)
        if delay and not desc[0] & 1 and name_rva >= h.image_base:
            name_rva -= h.image_base  # NOTE: VC6-style descriptor: the name is a VA.
        name = _name(src, h, name_rva)
        if name is not None:
            names.append(name)
    return tuple(names), True  # no terminator within the bound, or the table ran off the file


def _name(src: Source, h: Headers, rva: int) -> str | None:
    try:
        raw = src.read_upto(h.rva_to_offset(rva, "import name"), MAX_NAME)
    except InvalidPe:
        return None
    end = raw.find(b"\0")
    if end <= 0:
        return None
    text = raw[:end]
    if not all(0x20 < b < 0x7F for b in text):
        return None
    return text.decode("ascii")
