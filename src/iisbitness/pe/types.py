"""The result of reading a binary's headers: :class:`PeImage`.

This is the contract between the PE reader and the rest of iisbitness. The reader fills it;
the load plan and rules only read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from iisbitness.arch import Arch, format_arches
from iisbitness.slots import direct_init


class ImageKind(str, Enum):
    """What kind of file a binary is, as far as loading goes."""

    NATIVE = "native"
    IL_ONLY = "il-only"            # .NET, ILONLY set, no ReadyToRun header
    MIXED = "mixed-mode"           # .NET, ILONLY clear (C++/CLI): bound to its machine
    READY_TO_RUN = "ready-to-run"  # .NET with a READYTORUN header: platform-specific
    NOT_PE = "not-pe"              # not a valid PE; ``reason`` says why


_KIND_WORDS = {ImageKind.IL_ONLY: "IL-only", ImageKind.READY_TO_RUN: "ReadyToRun"}
_NOT_PE = ImageKind.NOT_PE
"""NOTE: a module constant: reading an Enum member through its class costs about four times as much in Python 3.11,
and :attr:`PeImage.is_pe` is asked a dozen times per scanned file (issue 25)."""
_NO_ARCH: frozenset[Arch] = frozenset()


class PlatformTarget(str, Enum):
    """The platform target a developer would recognise (Visual Studio / CorFlags.exe names)."""

    ANYCPU = "AnyCPU"
    ANYCPU_32BIT_PREFERRED = "AnyCPU 32-bit preferred"
    X86 = "x86"
    X64 = "x64"
    ARM64 = "ARM64"
    ARM64EC = "ARM64EC"
    ARM64X = "ARM64X"
    ARM = "ARM"
    ITANIUM = "Itanium"
    UNKNOWN = "unknown"


class Hybrid(str, Enum):
    """Hybrid images, marked by a CHPE metadata pointer in the load config (see pe/hybrid.py)."""

    ARM64X = "ARM64X"      # Machine 0xAA64: loads in x64 and ARM64 processes
    ARM64EC = "ARM64EC"    # Machine 0x8664: loads in x64 (emulated, EC) processes on Windows on Arm
    CHPE_X86 = "CHPE-x86"  # Machine 0x14C: x86 compiled-hybrid image, loads like any x86 image


@direct_init  # NOTE: one is built per scanned file (issue 25)
@dataclass(frozen=True, slots=True)
class PeImage:
    """What a binary's PE and CLR headers say about who can load it.

    Attributes:
        path: the file that was read, as given to the reader.
        kind: native, a .NET flavour, or NOT_PE.
        machine: COFF ``Machine`` field (e.g. 0x14C, 0x8664, 0xAA64); None if NOT_PE.
        pe32_plus: True for PE32+ (optional-header magic 0x20B), False for PE32; None if NOT_PE.
        is_dll: COFF characteristic IMAGE_FILE_DLL; None if NOT_PE.
        cor_flags: COR20 header ``Flags`` (ILONLY 0x1, 32BITREQUIRED 0x2, ...) or None if not .NET.
        platform_target: the developer-facing target (AnyCPU, x86, ARM64X, ...).
        loadable_by: the process architectures that can load this image. Empty for NOT_PE and
            for images no Windows IIS process loads (IA64, ARM32, EFI).
        reason: why the file is NOT_PE (e.g. "not a valid PE: no MZ signature"), else None.
        notes: facts worth telling a user (e.g. "32BITPREFERRED on a DLL: 64-bit processes
            cannot load it"), in order.
        hybrid: ARM64X / ARM64EC / x86 CHPE when the load config says so, else None.
        clr_version: the .NET metadata version string (``"v4.0.30319"``, ``"v2.0.50727"``), or None.
        cor_header_version: the COR20 header's runtime version, ``"2.5"`` for CLR 2+; None if not .NET.
        ready_to_run_os: for READY_TO_RUN, the target OS decoded from Machine (``"windows"``,
            ``"linux"``, ``"apple"``, ...) or None if it matches none.
        ready_to_run_machine: for READY_TO_RUN, the architecture's own Machine (0x8664 for a
            Linux x64 image whose COFF Machine is 0xFD1D), or None.
        subsystem: optional-header Subsystem (2 Windows GUI, 3 console, 10-13 EFI); None if NOT_PE.
        os_version: optional-header (MajorOperatingSystemVersion, MinorOperatingSystemVersion), "the required
            operating system" (pe-format.md), e.g. ``(6, 0)``; None if NOT_PE.
        subsystem_version: optional-header (MajorSubsystemVersion, MinorSubsystemVersion), the linker's
            ``/SUBSYSTEM:WINDOWS,major.minor``: "the minimum required version of the subsystem" (MSVC ``/SUBSYSTEM``
            reference; 6.00 by default for x86 and x64 since Visual Studio 2012, 5.01/5.02 with the ``_xp``
            toolsets); None if NOT_PE.
        reference_assembly: a .NET image whose metadata carries
            ``System.Runtime.CompilerServices.ReferenceAssemblyAttribute`` (a compiler's ``obj\\ref`` output, a NuGet
            package's ``ref/`` folder): metadata only, which the runtime refuses to load for execution (facts I9;
            BadImageFormatException, HRESULT 0x80131058); :attr:`loadable_by` still says what its headers allow.
            False for any other image, and where the metadata was not read (:func:`~iisbitness.pe.classify.read_image`
            reads headers only).
    """

    path: str
    kind: ImageKind
    machine: int | None = None
    pe32_plus: bool | None = None
    is_dll: bool | None = None
    cor_flags: int | None = None
    platform_target: PlatformTarget = PlatformTarget.UNKNOWN
    loadable_by: frozenset[Arch] = _NO_ARCH
    reason: str | None = None
    notes: tuple[str, ...] = field(default=())
    hybrid: Hybrid | None = None
    clr_version: str | None = None
    cor_header_version: str | None = None
    ready_to_run_os: str | None = None
    ready_to_run_machine: int | None = None
    subsystem: int | None = None
    os_version: tuple[int, int] | None = None
    subsystem_version: tuple[int, int] | None = None
    reference_assembly: bool = False

    @property
    def required_windows(self) -> tuple[int, int] | None:
        """The newer of :attr:`os_version` and :attr:`subsystem_version`, ``(major, minor)`` (Windows Server 2003 and
        Windows XP x64 are 5.2, Vista / Server 2008 6.0); None when the headers were not read (NOT_PE, or a fact
        stored before these fields were kept)."""
        if self.os_version is None or self.subsystem_version is None:
            return None
        return max(self.os_version, self.subsystem_version)

    @property
    def is_pe(self) -> bool:
        """True unless the file is NOT_PE."""
        return self.kind is not _NOT_PE

    @property
    def is_managed(self) -> bool:
        """True for any .NET image (IL-only, mixed-mode or ReadyToRun)."""
        return self.cor_flags is not None

    def describe(self) -> str:
        """One phrase for reports, with its article: ``"an x86 native DLL (loads in: x86)"`` or ``"a .NET IL-only
        DLL, platform x86 (loads in: x86)"``; for a file that is not a PE, why not."""
        if not self.is_pe:
            return self.reason or "not a valid PE"
        what = "DLL" if self.is_dll else "EXE"
        loads = f"(loads in: {format_arches(self.loadable_by)})"
        if self.is_managed:
            return f"a .NET {_KIND_WORDS.get(self.kind, self.kind.value)} {what}, platform {self.platform_target.value} {loads}"
        platform = self.platform_target.value
        return f"{'an' if platform[:1].lower() in 'aeioux' else 'a'} {platform} native {what} {loads}"
