"""Classify a binary from its DOS, COFF, optional and COR20 headers.

Reads at most the first :data:`HEADER_BYTES` bytes plus the COR20 header; never maps or
executes the file. Layout: "PE Format" (MicrosoftDocs/win32 desktop-src/Debug/pe-format.md);
CorFlags: dotnet/runtime src/coreclr/inc/corhdr.h; their meaning for loading: the CorFlags.exe
doc and stackoverflow 18608785.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from iisbitness.arch import Arch
from iisbitness.errors import ImageReadError
from iisbitness.pe.types import ImageKind, PeImage, PlatformTarget

HEADER_BYTES = 4096
"""How much of a file is read for the headers (more only to reach the COR20 header)."""

MACHINE_I386 = 0x014C
MACHINE_AMD64 = 0x8664
MACHINE_ARM64 = 0xAA64
MACHINE_ARMNT = 0x01C4
MACHINE_IA64 = 0x0200

COMIMAGE_FLAGS_ILONLY = 0x1
COMIMAGE_FLAGS_32BITREQUIRED = 0x2
COMIMAGE_FLAGS_32BITPREFERRED = 0x20000

_NATIVE = {
    MACHINE_I386: (PlatformTarget.X86, frozenset({Arch.X86})),
    MACHINE_AMD64: (PlatformTarget.X64, frozenset({Arch.X64})),
    MACHINE_ARM64: (PlatformTarget.ARM64, frozenset({Arch.ARM64})),
    MACHINE_ARMNT: (PlatformTarget.ARM, frozenset()),
    MACHINE_IA64: (PlatformTarget.ITANIUM, frozenset()),
}


class _Invalid(ValueError):
    """Internal: the bytes are not a valid PE; the message is the reason."""


def read_image(path: str | os.PathLike[str]) -> PeImage:
    """Classify the file at ``path``.

    Returns a :class:`PeImage`; content problems give ``kind=NOT_PE`` with a reason.

    Raises:
        ImageReadError: the file cannot be opened or read (missing, permission, a folder).
    """
    p = Path(path)
    try:
        with p.open("rb") as f:
            return _classify(str(path), f)
    except OSError as e:
        raise ImageReadError(f"{path}: cannot read: {e.strerror or e}") from e


def classify_bytes(data: bytes, path: str = "<bytes>") -> PeImage:
    """Classify an in-memory image (tests, fuzzing). Never raises for any ``data``."""
    import io

    return _classify(path, io.BytesIO(data))


def _classify(path: str, f: "io.BufferedIOBase | object") -> PeImage:  # noqa: F821
    try:
        return _parse(path, f)
    except _Invalid as e:
        return PeImage(path=path, kind=ImageKind.NOT_PE, reason=f"not a valid PE: {e}")


def _read_at(f: object, offset: int, size: int) -> bytes:
    f.seek(offset)  # type: ignore[attr-defined]
    data: bytes = f.read(size)  # type: ignore[attr-defined]
    if len(data) < size:
        raise _Invalid(f"truncated at offset {offset:#x} (wanted {size} bytes, file has {len(data)})")
    return data


def _parse(path: str, f: object) -> PeImage:
    head = f.read(HEADER_BYTES)  # type: ignore[attr-defined]
    if len(head) < 0x40:
        raise _Invalid("file too small for a DOS header" if head else "empty file")
    if head[:2] != b"MZ":
        raise _Invalid("no MZ signature")
    (e_lfanew,) = struct.unpack_from("<I", head, 0x3C)
    coff = _read_at(f, e_lfanew, 24) if e_lfanew + 24 > len(head) else head[e_lfanew : e_lfanew + 24]
    if coff[:4] != b"PE\0\0":
        raise _Invalid(f"no PE signature at e_lfanew {e_lfanew:#x}")
    machine, nsections, _, _, _, opt_size, characteristics = struct.unpack_from("<HHIIIHH", coff, 4)
    is_dll = bool(characteristics & 0x2000)
    if opt_size < 2:
        raise _Invalid("no optional header")
    opt_off = e_lfanew + 24
    opt = _read_at(f, opt_off, opt_size)
    (magic,) = struct.unpack_from("<H", opt, 0)
    if magic not in (0x10B, 0x20B):
        raise _Invalid(f"unknown optional-header magic {magic:#x}")
    pe32_plus = magic == 0x20B
    dd_off = 112 if pe32_plus else 96
    # NumberOfRvaAndSizes precedes the data directories.
    if opt_size < dd_off:
        raise _Invalid("optional header too small")
    (ndirs,) = struct.unpack_from("<I", opt, dd_off - 4)
    cor_rva = cor_size = 0
    if ndirs > 14 and opt_size >= dd_off + 15 * 8:
        cor_rva, cor_size = struct.unpack_from("<II", opt, dd_off + 14 * 8)
    native = _NATIVE.get(machine)
    if cor_rva == 0 or cor_size == 0:
        target, arches = native if native else (PlatformTarget.UNKNOWN, frozenset())
        return PeImage(path, ImageKind.NATIVE, machine, pe32_plus, is_dll, None, target, arches)
    sections = _read_at(f, opt_off + opt_size, min(nsections, 96) * 40)
    cor_off = _rva_to_offset(sections, min(nsections, 96), cor_rva)
    cor = _read_at(f, cor_off, 20)
    (flags,) = struct.unpack_from("<I", cor, 16)
    return _managed(path, machine, pe32_plus, is_dll, flags)


def _rva_to_offset(sections: bytes, count: int, rva: int) -> int:
    for i in range(count):
        vsize, vaddr, rawsize, rawptr = struct.unpack_from("<IIII", sections, i * 40 + 8)
        if vaddr <= rva < vaddr + max(vsize, rawsize):
            return rawptr + (rva - vaddr)
    raise _Invalid(f"CLR header RVA {rva:#x} is in no section")


def _managed(path: str, machine: int, pe32_plus: bool, is_dll: bool, flags: int) -> PeImage:
    ilonly = bool(flags & COMIMAGE_FLAGS_ILONLY)
    req = bool(flags & COMIMAGE_FLAGS_32BITREQUIRED)
    pref = bool(flags & COMIMAGE_FLAGS_32BITPREFERRED)
    notes: list[str] = []
    if not ilonly:
        target, arches = _NATIVE.get(machine, (PlatformTarget.UNKNOWN, frozenset()))
        return PeImage(path, ImageKind.MIXED, machine, pe32_plus, is_dll, flags, target, arches)
    if machine == MACHINE_I386 and not pe32_plus:
        if req and pref:
            target = PlatformTarget.ANYCPU_32BIT_PREFERRED
            if is_dll:
                notes.append("32BITPREFERRED on a DLL: 64-bit processes cannot load it (CorFlags.exe doc)")
                arches = frozenset({Arch.X86})
            else:
                arches = frozenset(Arch)
        elif req:
            target, arches = PlatformTarget.X86, frozenset({Arch.X86})
        else:
            target, arches = PlatformTarget.ANYCPU, frozenset(Arch)
    else:
        target, arches = _NATIVE.get(machine, (PlatformTarget.UNKNOWN, frozenset()))
    return PeImage(path, ImageKind.IL_ONLY, machine, pe32_plus, is_dll, flags, target, arches, None, tuple(notes))
