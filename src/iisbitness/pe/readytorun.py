"""ReadyToRun: precompiled .NET images, their target OS and architecture.

Sources: dotnet/runtime ``docs/design/coreclr/botr/readytorun-format.md`` (the COR20
ManagedNativeHeader points to a READYTORUN_HEADER whose Signature is 0x00525452, "RTR"), and
crossgen2's ``MachineOSOverride`` enum: the COFF Machine of an R2R image is the architecture's
machine XOR an OS value, 0 for Windows (facts sheet I8). So a Linux x64 image has Machine
0x8664 ^ 0x7B79 = 0xFD1D, a macOS ARM64 one 0xAA64 ^ 0x4644 = 0xEC20.

Runtime behaviour (facts I8 calls it UNCONFIRMED; the source settles it): .NET (Core) refuses a ReadyToRun image
whose Machine is not its own, rather than ignore the native code and compile the IL. dotnet/runtime
``src/coreclr/vm/readytoruninfo.cpp`` ``ReadyToRunInfo::Initialize``: ``if (!pLayout->IsNativeMachineFormat())
COMPlusThrowHR(COR_E_BADIMAGEFORMAT)`` ("For CoreCLR, be strict about disallowing machine mismatches"), where
``PEDecoder::IsNativeMachineFormat`` (``src/coreclr/inc/pedecoder.inl``) compares Machine with
``IMAGE_FILE_MACHINE_NATIVE_NI``, the process's machine XOR its OS's value (``src/coreclr/inc/pedecoder.h``). So an R2R image for another architecture
(x64 code in a 32-bit worker) or for another OS (a Linux x64 image in any Windows process) fails with
System.BadImageFormatException. It is also the mistake behind ANCM's 500.32 (published for the wrong runtime
identifier). (The older shared source returned NULL there, ignoring the native code, when not built as CoreCLR:
what .NET Framework does with an R2R image in a ``bin`` was not confirmed, and is judged as above.)
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from iisbitness.pe.clr import Cor20
from iisbitness.pe.headers import MACHINE_AMD64, MACHINE_ARM64, MACHINE_ARMNT, MACHINE_I386, Headers
from iisbitness.pe.source import InvalidPe, Source

READYTORUN_SIGNATURE = 0x00525452

OS_VALUES: dict[str, int] = {
    "windows": 0x0000,
    "linux": 0x7B79,
    "apple": 0x4644,
    "freebsd": 0xADC4,
    "netbsd": 0x1993,
    "sunos": 0x1992,
}
"""crossgen2 MachineOSOverride values by OS name (Apple covers macOS, iOS, ...)."""

_ARCH_MACHINES = (MACHINE_I386, MACHINE_AMD64, MACHINE_ARM64, MACHINE_ARMNT)


class ReadyToRun(NamedTuple):
    """A READYTORUN_HEADER and the target decoded from the COFF Machine.

    Attributes:
        version: (MajorVersion, MinorVersion) of the R2R format.
        flags: READYTORUN_FLAG_* (0x1 PLATFORM_NEUTRAL_SOURCE, 0x2 SKIP_TYPE_VALIDATION, ...).
        os: "windows", "linux", "apple", ... or None when the Machine matches no known pair.
        machine: the architecture's own Machine (e.g. 0x8664) or None with ``os``.
    """

    version: tuple[int, int]
    flags: int
    os: str | None
    machine: int | None


def decode_machine(machine: int) -> tuple[str | None, int | None]:
    """Split an R2R COFF Machine into (os, architecture machine); (None, None) if unknown."""
    for os_name, value in OS_VALUES.items():
        arch = machine ^ value
        if arch in _ARCH_MACHINES:
            return os_name, arch
    return None, None


def read_ready_to_run(src: Source, headers: Headers, cor: Cor20) -> ReadyToRun | None:
    """The image's READYTORUN header, or None when it has none (plain IL, or an NGen image).

    A ManagedNativeHeader that cannot be read is treated as absent: the image then classifies as
    its CorFlags say, which is what a runtime ignoring the header would do.
    """
    rva, size = cor.managed_native_header
    if rva == 0 or size < 16:
        return None
    try:
        data = src.read_at(headers.rva_to_offset(rva, "ReadyToRun header"), 16, "ReadyToRun header")
    except InvalidPe:
        return None
    signature, major, minor, flags = struct.unpack_from("<IHHI", data, 0)
    if signature != READYTORUN_SIGNATURE:
        return None
    os_name, arch = decode_machine(headers.machine)
    return ReadyToRun((major, minor), flags, os_name, arch)
