"""The COR20 (CLR) header and its Flags, read and named as CorFlags.exe shows them.

Sources: dotnet/runtime ``src/coreclr/inc/corhdr.h`` (IMAGE_COR20_HEADER, COMIMAGE_FLAGS_*), the
CorFlags.exe doc, stackoverflow 18608785; facts sheet I3-I7. ECMA-335 II.24.2.1 for the metadata
root that carries the CLR version string ("v4.0.30319").
"""

from __future__ import annotations

import struct
import sys
from typing import NamedTuple

from iisbitness.pe.headers import DIR_CLR, Headers
from iisbitness.pe.source import InvalidPe, Source

COMIMAGE_FLAGS_ILONLY = 0x1
COMIMAGE_FLAGS_32BITREQUIRED = 0x2
COMIMAGE_FLAGS_IL_LIBRARY = 0x4
COMIMAGE_FLAGS_STRONGNAMESIGNED = 0x8
COMIMAGE_FLAGS_NATIVE_ENTRYPOINT = 0x10
COMIMAGE_FLAGS_TRACKDEBUGDATA = 0x10000
COMIMAGE_FLAGS_32BITPREFERRED = 0x20000

COR20_SIZE = 72
"""sizeof(IMAGE_COR20_HEADER)."""

_METADATA_SIGNATURE = 0x424A5342  # "BSJB"


class Cor20(NamedTuple):
    """The fields of IMAGE_COR20_HEADER iisbitness uses.

    Attributes:
        runtime_version: (MajorRuntimeVersion, MinorRuntimeVersion), 2.5 for CLR 2 and later.
        metadata: (rva, size) of the metadata root.
        flags: COMIMAGE_FLAGS_*.
        managed_native_header: (rva, size); a ReadyToRun (or NGen) header when non-zero.
    """

    runtime_version: tuple[int, int]
    metadata: tuple[int, int]
    flags: int
    managed_native_header: tuple[int, int]


class BitnessField(NamedTuple):
    """The two-bit 32BITREQUIRED/32BITPREFERRED field decoded (facts sheet I4).

    Attributes:
        required: 32BITREQ as CorFlags.exe shows it: REQUIRED set and PREFERRED clear.
        preferred: 32BITPREF as CorFlags.exe shows it: both bits set.
        invalid: PREFERRED without REQUIRED, a combination CorFlags.exe refuses to write.
    """

    required: bool
    preferred: bool
    invalid: bool


def has_clr_header(headers: Headers) -> bool:
    """True when data directory 14 (the COR20 header) is present and non-empty."""
    rva, size = headers.directory(DIR_CLR)
    return rva != 0 and size != 0


def read_cor20(src: Source, headers: Headers) -> Cor20:
    """Read the COR20 header named by data directory 14 (call only if :func:`has_clr_header`).

    Raises:
        InvalidPe: the header is outside the file, or data directory 14's Size or the header's ``cb`` is smaller
            than 72. The runtime refuses such an image: ``PEDecoder::CheckCorHeader`` requires the directory's Size
            to be at least ``sizeof(IMAGE_COR20_HEADER)`` (dotnet/runtime src/coreclr/utilcode/pedecoder.cpp).
    """
    rva, size = headers.directory(DIR_CLR)
    if size < COR20_SIZE:
        raise InvalidPe(f"CLR directory size {size} is smaller than {COR20_SIZE}")
    data = src.read_at(headers.rva_to_offset(rva, "CLR header"), COR20_SIZE, "CLR header")
    cb, major, minor, md_rva, md_size, flags = struct.unpack_from("<IHHIII", data, 0)
    if cb < COR20_SIZE:
        raise InvalidPe(f"CLR header size {cb} is smaller than {COR20_SIZE}")
    mnh = struct.unpack_from("<II", data, 64)
    return Cor20((major, minor), (md_rva, md_size), flags, mnh)


def read_clr_version(src: Source, headers: Headers, cor: Cor20) -> str | None:
    """The metadata root's version string (e.g. ``"v4.0.30319"``, ``"v2.0.50727"``), or None.

    None when the metadata root cannot be found or has no valid signature: the caller notes it,
    the image is still classified from its headers.
    """
    try:
        off = headers.rva_to_offset(cor.metadata[0], "metadata")
        root = src.read_at(off, 16, "metadata root")
        signature, _, _, _, length = struct.unpack_from("<IHHII", root, 0)
        if signature != _METADATA_SIGNATURE or not 0 < length <= 255:
            return None
        raw = src.read_at(off + 16, length, "metadata version")
    except InvalidPe:
        return None
    return clr_version_text(raw)


def clr_version_text(raw: bytes) -> str | None:
    """The version string of the metadata root's ``raw`` Version bytes (up to the first NUL); None when empty."""
    text = raw.split(b"\0", 1)[0].decode("ascii", "replace")
    return sys.intern(text) if text else None  # NOTE: a server's 100,000 assemblies share a few versions


def bitness_field(flags: int) -> BitnessField:
    """Decode 32BITREQUIRED/32BITPREFERRED as one two-bit field (I4).

    0/0 no constraint, 1/0 x86 only, 1/1 "AnyCPU 32-bit preferred" (CorFlags.exe: 32BITREQ 0,
    32BITPREF 1), 0/1 illegal. Testing ``flags & 0x2`` alone misreads 0x20003 as x86.
    """
    req = bool(flags & COMIMAGE_FLAGS_32BITREQUIRED)
    pref = bool(flags & COMIMAGE_FLAGS_32BITPREFERRED)
    return BitnessField(required=req and not pref, preferred=req and pref, invalid=pref and not req)


def corflags_view(flags: int) -> dict[str, int]:
    """The four lines CorFlags.exe prints, in its order: ILONLY, 32BITREQ, 32BITPREF, Signed."""
    field = bitness_field(flags)
    return {
        "ILONLY": int(bool(flags & COMIMAGE_FLAGS_ILONLY)),
        "32BITREQ": int(field.required),
        "32BITPREF": int(field.preferred),
        "Signed": int(bool(flags & COMIMAGE_FLAGS_STRONGNAMESIGNED)),
    }


def cor_flag_names(flags: int) -> tuple[str, ...]:
    """Names of the flags that are set, CorFlags.exe style, e.g. ``("ILONLY", "32BITPREF")``.

    32BITREQ/32BITPREF follow :func:`bitness_field`; the signed flag is ``STRONGNAMESIGNED``;
    bits corhdr.h does not name come out as hex.
    """
    field = bitness_field(flags)
    names: list[str] = []
    if flags & COMIMAGE_FLAGS_ILONLY:
        names.append("ILONLY")
    if field.required:
        names.append("32BITREQ")
    if field.preferred:
        names.append("32BITPREF")
    if field.invalid:
        names.append("32BITPREF-WITHOUT-32BITREQ")
    for bit, name in (
        (COMIMAGE_FLAGS_IL_LIBRARY, "IL_LIBRARY"),
        (COMIMAGE_FLAGS_STRONGNAMESIGNED, "STRONGNAMESIGNED"),
        (COMIMAGE_FLAGS_NATIVE_ENTRYPOINT, "NATIVE_ENTRYPOINT"),
        (COMIMAGE_FLAGS_TRACKDEBUGDATA, "TRACKDEBUGDATA"),
    ):
        if flags & bit:
            names.append(name)
    known = (
        COMIMAGE_FLAGS_ILONLY | COMIMAGE_FLAGS_32BITREQUIRED | COMIMAGE_FLAGS_IL_LIBRARY
        | COMIMAGE_FLAGS_STRONGNAMESIGNED | COMIMAGE_FLAGS_NATIVE_ENTRYPOINT
        | COMIMAGE_FLAGS_TRACKDEBUGDATA | COMIMAGE_FLAGS_32BITPREFERRED
    )
    if flags & ~known:
        names.append(f"{flags & ~known:#x}")
    return tuple(names)
