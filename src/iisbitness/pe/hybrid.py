"""ARM64EC / ARM64X / x86 CHPE: hybrid images, told apart by the load config's CHPE pointer.

The COFF Machine alone cannot tell x64 from ARM64EC, or ARM64 from ARM64X (facts sheet I2). The
marker is a non-zero ``CHPEMetadataPointer`` in IMAGE_LOAD_CONFIG_DIRECTORY (winnt.h):

- Machine 0xAA64 + CHPE pointer: ARM64X. Its native view is ARM64; the loader applies the
  image's dynamic relocations to give x64 (ARM64EC) processes the EC view, so both x64 and ARM64
  processes load it ("Arm64X PE files", learn.microsoft.com/windows/arm/arm64x-pe).
- Machine 0x8664 + CHPE pointer: ARM64EC. ARM64 code with x64 interop; loads in x64 processes
  (which on Windows on Arm are emulated, i.e. ARM64EC processes), never in native ARM64 ones
  ("Arm64EC", learn.microsoft.com/windows/arm/arm64ec). It cannot run on x64 Windows at all.
- Machine 0x14C + CHPE pointer: x86 CHPE ("compiled hybrid PE", the x86 system DLLs in
  SysWOW64 on Windows 10 on Arm). Still an x86 image as far as loading goes.

The same two-test rule (machine + non-zero hybrid metadata pointer) is LIEF's ``is_arm64x`` /
``is_arm64ec`` (lief-project/LIEF ``src/PE/Binary.cpp``).

Layout: CHPEMetadataPointer is at offset 200 of IMAGE_LOAD_CONFIG_DIRECTORY64 and 124 of
IMAGE_LOAD_CONFIG_DIRECTORY32; it exists only when the structure's own ``Size`` covers it.
"""

from __future__ import annotations

import struct

from iisbitness.pe.headers import DIR_LOAD_CONFIG, MACHINE_AMD64, MACHINE_ARM64, MACHINE_I386, Headers
from iisbitness.pe.source import InvalidPe, Source
from iisbitness.pe.types import Hybrid

CHPE_POINTER_OFFSET_64 = 200
CHPE_POINTER_OFFSET_32 = 124


def read_hybrid(src: Source, headers: Headers) -> Hybrid | None:
    """The hybrid kind of the image, or None for an ordinary (or unreadable) load config.

    Reads only for machines that can be hybrid (I386, AMD64, ARM64). A load config that points
    outside the file is treated as absent, not as an invalid image: the loader only reads it for
    security features, and a bad one is not a bitness question.
    """
    machine = headers.machine
    if machine not in (MACHINE_AMD64, MACHINE_ARM64, MACHINE_I386):
        return None
    rva, size = headers.directory(DIR_LOAD_CONFIG)
    if rva == 0 or size == 0:
        return None
    wide = headers.pe32_plus
    field_off = CHPE_POINTER_OFFSET_64 if wide else CHPE_POINTER_OFFSET_32
    width = 8 if wide else 4
    try:
        off = headers.rva_to_offset(rva, "load config")
        data = src.read_at(off, field_off + width, "load config")
    except InvalidPe:
        return None
    (struct_size,) = struct.unpack_from("<I", data, 0)
    if struct_size < field_off + width:
        return None
    (pointer,) = struct.unpack_from("<Q" if wide else "<I", data, field_off)
    if pointer == 0:
        return None
    if machine == MACHINE_ARM64:
        return Hybrid.ARM64X
    if machine == MACHINE_AMD64:
        return Hybrid.ARM64EC
    return Hybrid.CHPE_X86
