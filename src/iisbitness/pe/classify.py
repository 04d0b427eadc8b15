"""Classify a binary from its headers: bytes in, :class:`PeImage` out.

Public API:
    read_image(path) -> PeImage          a file; raises ImageReadError only if it cannot be read
    classify_bytes(data, path) -> PeImage  bytes in memory; never raises

Reads the first 4 KB and then, only when needed, the COR20 header, the metadata version string,
the ReadyToRun header and the load config: a few small positioned reads, never the whole file,
never a mapping, never code execution. Content problems give ``kind=NOT_PE`` with a reason
``"not a valid PE: <why>"``.

How ``loadable_by`` is decided (facts sheet I2-I8):
- native: by Machine (I386 -> x86, AMD64 -> x64, ARM64 -> arm64); ARM64X -> x64 and arm64;
  ARM64EC -> x64; ARM, IA64, EBC and unknown machines -> no IIS process.
- .NET mixed-mode (ILONLY clear): bound to Machine like native code (I7).
- .NET IL-only: PE32 I386 decodes the 32BITREQ/32BITPREF field (I4): AnyCPU -> all; x86 -> x86;
  32-bit preferred -> all for an EXE, x86 only for a DLL (I6). Other machines bind as native.
- ReadyToRun: bound to the decoded architecture for Windows; nothing for other OSes (see
  :mod:`iisbitness.pe.readytorun` for why).
"""

from __future__ import annotations

import operator
import os
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any, TypeVar

from iisbitness.arch import Arch
from iisbitness.errors import ImageReadError
from iisbitness.pe.clr import (
    COMIMAGE_FLAGS_32BITPREFERRED,
    COMIMAGE_FLAGS_32BITREQUIRED,
    COMIMAGE_FLAGS_ILONLY,
    Cor20,
    bitness_field,
    clr_version_text,
    has_clr_header,
    read_clr_version,
    read_cor20,
)
from iisbitness.pe.headers import (
    IMAGE_FILE_DLL,
    KNOWN_MACHINES,
    MACHINE_AMD64,
    MACHINE_ARM64,
    MACHINE_ARMNT,
    MACHINE_I386,
    MACHINE_IA64,
    MAX_SECTIONS,
    Headers,
    file_offset,
    parse_headers,
    version_pair,
)
from iisbitness.pe.hybrid import read_hybrid
from iisbitness.pe.metadata import (
    AssemblyInfo,
    AssemblyRef,
    AssemblyReferences,
    RefKey,
    assembly_info_from_source,
    plain_references,
    plain_refs,
    references_from_source,
)
from iisbitness.pe.readytorun import read_ready_to_run
from iisbitness.pe.source import HEAD_BYTES, InvalidPe, Source, open_binary
from iisbitness.pe.types import Hybrid, ImageKind, PeImage, PlatformTarget

__all__ = [
    "ARM64_HYBRIDS",
    "COMIMAGE_FLAGS_32BITPREFERRED",
    "COMIMAGE_FLAGS_32BITREQUIRED",
    "COMIMAGE_FLAGS_ILONLY",
    "HEADER_BYTES",
    "MACHINE_AMD64",
    "MACHINE_ARM64",
    "MACHINE_ARMNT",
    "MACHINE_I386",
    "MACHINE_IA64",
    "OffArm",
    "classify_bytes",
    "off_arm",
    "on_os",
    "read_image",
    "read_image_and_assembly",
    "read_image_and_references",
]

HEADER_BYTES = HEAD_BYTES
"""How much of a file is read up front (kept for callers of the first version of this module)."""

_X86, _X64, _ARM64 = frozenset({Arch.X86}), frozenset({Arch.X64}), frozenset({Arch.ARM64})
_ALL: frozenset[Arch] = frozenset(Arch)
_NONE: frozenset[Arch] = frozenset()

_NATIVE: dict[int, tuple[PlatformTarget, frozenset[Arch]]] = {
    MACHINE_I386: (PlatformTarget.X86, _X86),
    MACHINE_AMD64: (PlatformTarget.X64, _X64),
    MACHINE_ARM64: (PlatformTarget.ARM64, _ARM64),
    MACHINE_ARMNT: (PlatformTarget.ARM, _NONE),
    0x01C0: (PlatformTarget.ARM, _NONE),
    MACHINE_IA64: (PlatformTarget.ITANIUM, _NONE),
}
_UNKNOWN = (PlatformTarget.UNKNOWN, _NONE)

_HYBRID: dict[Hybrid, tuple[PlatformTarget, frozenset[Arch], str]] = {
    Hybrid.ARM64X: (
        PlatformTarget.ARM64X,
        frozenset({Arch.X64, Arch.ARM64}),
        "ARM64X: ARM64 code plus an ARM64EC view; loads in ARM64 and x64 processes on Windows on Arm",
    ),
    Hybrid.ARM64EC: (
        PlatformTarget.ARM64EC,
        _X64,
        ("ARM64EC: ARM64 code with x64 calling conventions; loads only in x64 (emulated) processes "
        "on Windows on Arm, not in native ARM64 processes, and not on x64 Windows"),
    ),
    Hybrid.CHPE_X86: (PlatformTarget.X86, _X86, "x86 CHPE (compiled hybrid PE): loads like any x86 image"),
}


@dataclass(frozen=True, slots=True)
class OffArm:
    """Why a Windows that is not Windows on Arm loads an ARM64X or ARM64EC image in no process, and how the load fails
    (:func:`off_arm`): the one statement of it, for the load plan, the rules' causes and symptoms and the load map.

    Attributes:
        reason: why no process of the server loads it, one sentence without a final period, e.g. ``"ARM64X on x64
            Windows: ..."``.
        error: the Win32 error a ``LoadLibraryEx`` of it gives, as IIS shows it in HRESULT form (``"0x800700C1"``).
        failure: the loader's failure in words, with the error number and its name, for a symptom.
        machine_quote: True when the loader refuses it for its Machine field (ARM64X: 0xAA64), so that IIS's
            "only supports loading images built for a <arch> processor architecture" (W3SVC-WP 2282) applies; False
            for ARM64EC, whose Machine is AMD64 (0x8664): the x64 loader maps it and fails on an import instead.
    """

    reason: str
    error: str
    failure: str
    machine_quote: bool


_BAD_EXE = OffArm("", "0x800700C1", "\"%1 is not a valid Win32 application\" (ERROR_BAD_EXE_FORMAT, Win32 error 193, "
                 "0x800700C1):", True)

_OFF_WINDOWS_ON_ARM = {
    Hybrid.ARM64X: OffArm(
        "ARM64X on {os} Windows: its code is ARM64 (native and ARM64EC views), which only Windows on Arm runs; no "
        "process of this server loads it (Windows on Arm's x64 and ARM64 processes would)",
        _BAD_EXE.error, f"{_BAD_EXE.failure} its Machine is ARM64 (0xAA64)", True),
    Hybrid.ARM64EC: OffArm(
        "ARM64EC on {os} Windows: its code is ARM64 with x64 conventions (it may hold x64 code too), which only "
        "Windows 11 on Arm runs (in its emulated x64 processes); no process of this server loads it",
        "0x8007007F",
        "its Machine is AMD64 (0x8664), so the x64 loader maps it, and the load then fails on what only Windows on "
        "Arm provides: where the DLL or its ARM64EC Visual C++ runtime imports RtlIsEcCode, \"The procedure entry "
        "point RtlIsEcCode could not be located\" (ERROR_PROC_NOT_FOUND, Win32 error 127, 0x8007007F) on x64 Windows "
        "10 and later; Windows 7 refuses it as a bad image (0xC000007B); the exact error depends on what it imports",
        False),
}
"""Per hybrid kind, :class:`OffArm` with ``{os}`` for the server's architecture. Sources: learn.microsoft.com/
windows/arm/arm64x-pe and /arm64ec (ARM64EC "can include x64 code"); the Entry Point Not Found on x64 Windows 10 and
Bad Image on Windows 7 of an ARM64EC DLL: github.com/jcsteh/osara issues 1369 and 1372 (facts I2, A8)."""


ARM64_HYBRIDS = frozenset(_OFF_WINDOWS_ON_ARM)
"""The hybrid kinds whose code is ARM64, loadable only on Windows on Arm (ARM64X, ARM64EC; not x86 CHPE)."""


def off_arm(image: PeImage, os_arch: Arch, process_arch: Arch = Arch.X64) -> OffArm | None:
    """Why a server whose Windows runs on ``os_arch`` loads ``image`` in no process, and how its load fails in a
    ``process_arch`` process: an :class:`OffArm` for an ARM64X or ARM64EC image (a CHPE load config,
    :mod:`iisbitness.pe.hybrid`) when ``os_arch`` is not ARM64; None for any other image or on Windows on Arm (x86
    CHPE images included, see :func:`on_os`). An x86 process (every process of x86 Windows) refuses an ARM64EC image
    for its Machine (AMD64), with error 193, as it does any non-x86 image."""
    off = _OFF_WINDOWS_ON_ARM.get(image.hybrid) if image.hybrid is not None and os_arch is not Arch.ARM64 else None
    if off is None:
        return None
    if (os_arch is Arch.X86 or process_arch is Arch.X86) and not off.machine_quote:
        # NOTE: an x86 process refuses any image whose Machine is not I386, AMD64 included
        off = replace(off, error=_BAD_EXE.error, failure=f"{_BAD_EXE.failure} its Machine is AMD64 (0x8664)",
                      machine_quote=True)
    return replace(off, reason=off.reason.format(os=os_arch.value))


def on_os(image: PeImage, os_arch: Arch | None) -> PeImage:
    """``image`` as a server whose Windows runs on ``os_arch`` sees it: an ARM64X or ARM64EC image (a CHPE load
    config, :mod:`iisbitness.pe.hybrid`) is loadable by no process outside Windows on Arm, with a note saying why
    (:func:`off_arm`'s reason, also asked of it directly by the rules and the load map); any other image is returned
    as it is, and so is every image when ``os_arch`` is None: the OS only assumed (no ``--os-arch``, nothing seen),
    such an image being itself a sign of Windows on Arm (facts A8), kept as its headers say and not judged by an OS
    nobody saw.

    Why: ARM64X holds ARM64 code in two views (native ARM64 and ARM64EC); ARM64EC holds ARM64 code with x64 calling
    conventions and may hold x64 code too, and "is a new ABI for apps running on Arm devices with Windows 11"
    (learn.microsoft.com/windows/arm/arm64ec, "Arm64X PE files": learn.microsoft.com/windows/arm/arm64x-pe): an x64
    worker on x64 Windows cannot run it, whatever the x64 view of an ARM64X says (an ARM64X forwarder of ANCM copied
    from an ARM64 hosting bundle, facts A8), and an x86 worker never could. ``loadable_by`` stays OS-neutral because
    ``inspect`` has no OS.

    x86 CHPE images are left as x86, unlike ARM64X/ARM64EC: their Machine is I386 and they hold x86 code with
    ARM64-compiled parts for Windows on Arm's x86 emulator: Windows on Arm's own hybrid x86 system DLLs, in
    ``Windows\\SyChpe32`` (which its x86 processes may load in place of SysWOW64's when CHPE is enabled; facts A7,
    image/detect.py), and x86 builds made for Windows on Arm: built for the x86 processes of
    Windows on Arm, where x86 is the answer. Whether other Windows could load one is UNCONFIRMED.
    """
    off = None if os_arch is None or image.hybrid is None else off_arm(image, os_arch)
    if off is None:
        return image
    return replace(image, loadable_by=_NONE, notes=(*image.notes, off.reason))


def read_image(path: str | os.PathLike[str]) -> PeImage:
    """Classify the file at ``path``.

    Returns a :class:`PeImage`; content problems give ``kind=NOT_PE`` with a reason.

    Raises:
        ImageReadError: the file cannot be opened or read (missing, permission, a folder).
    """
    name, fd = open_binary(path)
    try:
        return _classify(Source.from_fd(fd), name)
    except OSError as e:
        raise ImageReadError(f"{name}: cannot read: {e.strerror or e}") from e
    finally:
        os.close(fd)


def read_image_and_assembly(path: str | os.PathLike[str]) -> tuple[PeImage, AssemblyInfo | None, str | None]:
    """:func:`read_image` and, for a .NET image, :func:`~iisbitness.pe.metadata.read_assembly_info`,
    from one open of the file: (image, assembly info or None, error).

    ``error`` is set ("<path>: cannot read: ...") when the headers were read but reading the
    metadata failed, as two separate calls would have reported it.

    Raises:
        ImageReadError: the file cannot be opened or its headers read.
    """
    return _read_image_and(path, assembly_info_from_source)


def read_image_and_references(path: str | os.PathLike[str], opened: tuple[int, Source] | None = None,
                               ) -> tuple[PeImage, AssemblyReferences | None, str | None]:
    """Like :func:`read_image_and_assembly`, with only the references of a .NET image
    (:class:`~iisbitness.pe.metadata.AssemblyReferences`: what a scan's dependency search needs).

    ``opened``: the file already open, ``(fd, Source over it)``, e.g. with its ranges read ahead
    (:mod:`iisbitness.pe.readahead`); read through that Source instead of opening ``path``, and ``fd`` closed.

    NOTE: what a scan reads of every binary. An IL-only or mixed-mode image of the usual shape (headers and COR20
    header in the first 4 KB, a plain metadata region) is read straight through by :func:`_plain`; anything else,
    and anything it is not sure of, by the general readers, which give the same answers (issue 25:
    tests/pe/test_scan_read.py).

    Raises:
        ImageReadError: the file cannot be opened or its headers read.
    """
    return _through(path, opened, _plain_or_general)


def _plain_or_general(src: Source, name: str) -> tuple[PeImage, AssemblyReferences | None, str | None]:
    try:
        plain = _plain(src, name)
    except (OSError, InvalidPe):
        plain = None  # NOTE: the general readers read it again and say what failed
    return plain or _image_and(src, name, references_from_source)


M = TypeVar("M", AssemblyInfo, AssemblyReferences)


def _read_image_and(path: str | os.PathLike[str],
                    metadata: Callable[[Source, str, Headers | None, Cor20 | None], M],
                    ) -> tuple[PeImage, M | None, str | None]:
    return _through(path, None, lambda src, name: _image_and(src, name, metadata))


R = TypeVar("R")


def _through(path: str | os.PathLike[str], opened: tuple[int, Source] | None,
             read: Callable[[Source, str], R]) -> R:
    """``read(Source, name)`` over ``path`` opened here, or over ``opened`` (``(fd, Source)``); the fd closed after.

    Raises:
        ImageReadError: the file cannot be opened or its head read.
    """
    name, fd = open_binary(path) if opened is None else (os.fspath(path), opened[0])
    try:
        try:
            src = Source.from_fd(fd) if opened is None else opened[1]
        except OSError as e:
            raise ImageReadError(f"{name}: cannot read: {e.strerror or e}") from e
        return read(src, name)
    finally:
        os.close(fd)


def _image_and(src: Source, name: str, metadata: Callable[[Source, str, Headers | None, Cor20 | None], M],
               ) -> tuple[PeImage, M | None, str | None]:
    cor: Cor20 | None = None
    try:
        try:
            headers: Headers | None = parse_headers(src)
        except (InvalidPe, struct.error):
            headers = None  # NOTE: _classify parses again and turns the error into NOT_PE
        if headers is not None and has_clr_header(headers):
            try:
                cor = read_cor20(src, headers)  # NOTE: once, for the classification and the metadata
            except (InvalidPe, struct.error):
                pass  # NOTE: likewise: _parse reads it again
        image = _classify(src, name, headers, cor)
    except OSError as e:
        raise ImageReadError(f"{name}: cannot read: {e.strerror or e}") from e
    if not image.is_managed:
        return image, None, None
    try:
        found = metadata(src, name, headers, cor)
    except OSError as e:
        return image, None, f"{name}: cannot read: {e.strerror or e}"
    if found.is_reference_assembly:
        image = _marked(image)  # NOTE: read in the same pass as the references
    return image, found, None


_UNMARKED = operator.attrgetter(*(f.name for f in fields(PeImage) if f.name != "reference_assembly"))
"""A PeImage's fields but ``reference_assembly``, in declaration order (one C call), for :func:`_marked`."""
if fields(PeImage)[-1].name != "reference_assembly":  # pragma: no cover - a guard on PeImage's declaration
    raise TypeError("_marked: PeImage.reference_assembly must be its last field")
_MAKE_IMAGE: Callable[..., PeImage] = PeImage
"""PeImage's constructor for values of :data:`_UNMARKED` (typed as ``Any`` by ``operator.attrgetter``)."""


def _marked(image: PeImage) -> PeImage:
    """``image`` with ``reference_assembly`` set: ``dataclasses.replace(image, reference_assembly=True)`` at half its
    cost. NOTE: built for every reference assembly ``inspect`` reads (6,348 of the 8,000 files of its benchmark:
    Mono's ``*-api`` folders), where ``replace``, which asks the dataclass for its fields each time, took 7.8 us of
    the 190 or so a file costs; this 3.7 (issue 25, benchmarks/README.md thirteenth round)."""
    return _MAKE_IMAGE(*_UNMARKED(image), True)


def classify_bytes(data: bytes, path: str = "<bytes>") -> PeImage:
    """Classify an in-memory image (tests, fuzzing). Never raises for any ``data``."""
    return _classify(Source.from_bytes(bytes(data)), path)


def _classify(src: Source, path: str, headers: Headers | None = None, cor: Cor20 | None = None) -> PeImage:
    try:
        return _parse(src, path, headers, cor)
    except (InvalidPe, struct.error) as e:
        # NOTE: struct.error cannot happen when every read is length-checked; it is caught so a
        # missed check still yields NOT_PE rather than a crash in the middle of a scan.
        return PeImage(path=path, kind=ImageKind.NOT_PE, reason=f"not a valid PE: {e}")


def _parse(src: Source, path: str, headers: Headers | None = None, cor20: Cor20 | None = None) -> PeImage:
    h = headers or parse_headers(src)
    if not has_clr_header(h):
        return _native(src, h, path)
    cor = cor20 or read_cor20(src, h)
    clr_version = read_clr_version(src, h, cor)
    kind, target, arches, notes, r2r_os, r2r_machine = _managed(src, h, cor)
    if clr_version is None:
        notes += (_NO_ROOT,)
    return PeImage(
        path, kind, h.machine, h.pe32_plus, h.is_dll, cor.flags, target, arches, None, notes, None,
        clr_version, sys.intern(f"{cor.runtime_version[0]}.{cor.runtime_version[1]}"), r2r_os, r2r_machine,
        h.subsystem, h.os_version, h.subsystem_version,
    )


def _native(src: Source, h: Headers, path: str) -> PeImage:
    hybrid = read_hybrid(src, h)
    if hybrid is not None:
        target, arches, note = _HYBRID[hybrid]
        return PeImage(path, ImageKind.NATIVE, h.machine, h.pe32_plus, h.is_dll, None, target, arches,
                       None, (note,), hybrid, None, None, None, None, h.subsystem, h.os_version, h.subsystem_version)
    target, arches = _NATIVE.get(h.machine, _UNKNOWN)
    notes: tuple[str, ...] = ()
    if 10 <= h.subsystem <= 13:
        target, arches, notes = PlatformTarget.UNKNOWN, _NONE, ("an EFI image: no Windows process loads it",)
    elif target is PlatformTarget.UNKNOWN:
        notes = (f"Machine {h.machine:#x} is not an architecture Windows IIS processes run as",)
    return PeImage(path, ImageKind.NATIVE, h.machine, h.pe32_plus, h.is_dll, None, target, arches,
                   None, notes, None, None, None, None, None, h.subsystem, h.os_version, h.subsystem_version)


_Managed = tuple[ImageKind, PlatformTarget, frozenset[Arch], tuple[str, ...], str | None, int | None]


def _managed(src: Source, h: Headers, cor: Cor20) -> _Managed:
    """(kind, target, loadable_by, notes, ReadyToRun OS, ReadyToRun machine) of a .NET image.

    NOTE: a tuple, not a PeImage the caller copies: one PeImage per file is enough (issue 11)."""
    r2r = read_ready_to_run(src, h, cor)
    if r2r is not None:
        if r2r.os == "windows":
            target, arches = _NATIVE.get(h.machine, _UNKNOWN)
            notes: tuple[str, ...] = ("ReadyToRun: precompiled for one platform, loads only there",)
        else:
            target, arches = _NATIVE.get(r2r.machine or -1, _UNKNOWN)[0], _NONE
            notes = ((f"ReadyToRun code for {r2r.os or 'an unknown OS'}: published for another operating "
                     "system's runtime identifier; .NET on Windows refuses it (BadImageFormatException)"),)
        return ImageKind.READY_TO_RUN, target, arches, notes, r2r.os, r2r.machine
    return (*_il_or_mixed(h.machine, h.pe32_plus, h.is_dll, cor.flags), None, None)


def _il_or_mixed(machine: int, pe32_plus: bool, is_dll: bool, flags: int,
                 ) -> tuple[ImageKind, PlatformTarget, frozenset[Arch], tuple[str, ...]]:
    """(kind, target, loadable_by, notes) of a .NET image without a ReadyToRun header, by its COFF Machine, magic,
    IMAGE_FILE_DLL and COR20 flags."""
    if not flags & COMIMAGE_FLAGS_ILONLY:
        target, arches = _NATIVE.get(machine, _UNKNOWN)
        return ImageKind.MIXED, target, arches, ("mixed-mode (C++/CLI): contains native code, bound to its machine",)
    field = bitness_field(flags)
    notes: tuple[str, ...] = ()
    if machine == MACHINE_I386 and not pe32_plus:
        if field.preferred:
            target = PlatformTarget.ANYCPU_32BIT_PREFERRED
            if is_dll:
                arches = _X86
                notes = (("32BITPREF on a DLL: 64-bit processes cannot load it (the flag is meant for EXEs; "
                         "CorFlags.exe doc)"),)
            else:
                arches = _ALL
                notes = ("32BITPREF on an EXE: starts as a 32-bit process where Windows can run one",)
        elif field.required:
            target, arches = PlatformTarget.X86, _X86
        else:
            target, arches = PlatformTarget.ANYCPU, _ALL
            if field.invalid:
                notes = (("32BITPREFERRED without 32BITREQUIRED is an invalid combination (CorFlags.exe refuses "
                         "it); read as AnyCPU, runtime behaviour UNCONFIRMED"),)
    else:
        target, arches = _NATIVE.get(machine, _UNKNOWN)
        if flags & (COMIMAGE_FLAGS_32BITREQUIRED | COMIMAGE_FLAGS_32BITPREFERRED):
            notes = (f"32BITREQ/32BITPREF set on a {target.value} image: contradictory flags",)
    return ImageKind.IL_ONLY, target, arches, notes


_NO_ROOT = "the .NET metadata root is missing or unreadable; the runtime will refuse this image"

_PLAIN_COFF = struct.Struct("<4sHH12xHH")
"""Signature, Machine, NumberOfSections, SizeOfOptionalHeader, Characteristics (pe-format.md, COFF File Header)."""
_PLAIN_OPTIONAL = {
    b"\x0b\x01": (struct.Struct("<36xIHH4xHH8xI4xH22xI112xII"), False),
    b"\x0b\x02": (struct.Struct("<36xIHH4xHH8xI4xH38xI112xII"), True),
}
"""By optional-header magic (PE32, PE32+): FileAlignment, Major/MinorOperatingSystemVersion,
Major/MinorSubsystemVersion, SizeOfHeaders, Subsystem, NumberOfRvaAndSizes and data
directory 14 (the COR20 header's RVA and size), and PE32+; the Struct's size is the least SizeOfOptionalHeader
that holds directory 14."""
_PLAIN_SECTION = struct.Struct("<8xIIII")
"""A section header's VirtualSize, VirtualAddress, SizeOfRawData and PointerToRawData."""
_PLAIN_COR20 = struct.Struct("<IHHIII44xII")
"""IMAGE_COR20_HEADER: cb, runtime version, metadata RVA and size, Flags, ManagedNativeHeader RVA and size."""

PlainKey = tuple[int, bool, int, int, int, int, int, bytes, int, int, int, int]
"""What decides a plain image's :class:`PeImage` besides its path: Machine, PE32+, IMAGE_FILE_DLL, COR20 flags and
runtime version (major, minor), Subsystem, the metadata version string, and the optional header's operating system
and subsystem versions (major, minor each)."""

PlainRead = tuple[PlainKey, list[RefKey], tuple[str, ...]]
"""What :func:`plain_read` reads of a file: its :data:`PlainKey`, AssemblyRef rows and P/Invoke modules (plain data:
bytes, ints, strings)."""


PlainFields = tuple[ImageKind, int, bool, bool, int, PlatformTarget, frozenset[Arch], None, tuple[str, ...], None,
                    str | None, str, None, None, int, tuple[int, int], tuple[int, int]]
"""The fields after ``path`` of the :class:`PeImage` of a plain image (:func:`plain_fields`), in declaration order, typed
as :class:`PeImage` declares them (``machine``, ``pe32_plus``, ``is_dll``, ``cor_flags``, ``subsystem`` always set;
``reason``, ``hybrid``, the ReadyToRun fields never; ``clr_version`` None for a metadata root without a version): so
that ``PeImage(path, *fields)`` is checked, field by field."""

_PLAIN_IMAGES: dict[PlainKey, PlainFields] = {}
"""The fields after ``path`` of the PeImages :func:`_plain` built, by what decides them: a server's assemblies share a
few dozen (one set of objects each, and no decision per file)."""
_MAX_PLAIN_IMAGES = 1 << 10


def _plain(src: Source, path: str) -> tuple[PeImage, AssemblyReferences, None] | None:
    """:func:`read_image_and_references` for an IL-only or mixed-mode image without a ReadyToRun header whose
    headers, section table and COR20 header lie in ``src.head`` and whose metadata is plain
    (:func:`~iisbitness.pe.metadata.plain_references`): the same checks and the same result as
    :func:`_image_and`, straight through, with no Headers or Cor20 built; None for anything else.
    :func:`plain_read` and :func:`plain_facts` (what the helper process of :mod:`iisbitness.pe.prefetch` and
    the parser each do of it).

    Raises:
        OSError, InvalidPe: reading the metadata failed (the caller then reads with the general readers).
    """
    read = plain_read(src)
    if read is None:
        return None
    key, refs, modules = read
    return plain_facts(path, key, plain_refs(refs), modules)


def plain_read(src: Source) -> PlainRead | None:
    """The reading half of :func:`_plain`: what decides the facts of a plain image, or None (not one).

    Raises:
        OSError, InvalidPe: reading the metadata failed.
    """
    head = src.head
    if len(head) < 64 or not head.startswith(b"MZ"):
        return None
    opt = int.from_bytes(head[0x3C:0x40], "little") + 24
    if opt > len(head):
        return None
    signature, machine, sections, opt_size, characteristics = _PLAIN_COFF.unpack_from(head, opt - 24)
    optional = _PLAIN_OPTIONAL.get(head[opt : opt + 2])
    table = opt + opt_size
    table_end = table + 40 * sections
    if signature != b"PE\0\0" or optional is None or sections > MAX_SECTIONS or table_end > len(head):
        return None
    fmt, pe32_plus = optional
    if opt_size < fmt.size:
        return None
    (file_alignment, os_major, os_minor, sub_major, sub_minor, size_of_headers, subsystem, directories, clr_rva,
     clr_size) = fmt.unpack_from(head, opt)
    if directories < 15 or not clr_rva or clr_size < 72:
        return None  # NOTE: no CLR directory, or one read_cor20 refuses
    # NOTE: the COR20 header and the metadata are nearly always in the first section (.text), where file_offset
    # would find them first: an RVA from ``lo`` to ``hi`` is found there without a call (past SizeOfHeaders, in the
    # section's raw data), at the RVA plus ``delta`` (conditional expressions, not max and min: these take keyword
    # arguments, and cost more than the rest of these lines)
    size, start, raw_size, raw_at = _PLAIN_SECTION.unpack_from(head, table) if sections else (0, 0, 0, 0)
    lo = start if start > size_of_headers else size_of_headers  # noqa: FURB136
    hi = start + (size if 0 < size < raw_size else raw_size)
    delta = (raw_at & ~0x1FF if file_alignment >= 0x200 else raw_at) - start
    at = clr_rva + delta if lo <= clr_rva < hi else file_offset(head, table, table_end, clr_rva, size_of_headers,
                                                                  file_alignment)
    if not 0 <= at <= len(head) - _PLAIN_COR20.size:
        return None
    cb, major, minor, md_rva, md_size, flags, native_rva, native_size = _PLAIN_COR20.unpack_from(head, at)
    if cb < _PLAIN_COR20.size or (native_rva and native_size >= 16):
        return None  # NOTE: a possible ReadyToRun header (pe/readytorun.py), or a bad COR20 header
    md_at = md_rva + delta if lo <= md_rva < hi else file_offset(head, table, table_end, md_rva, size_of_headers,
                                                                 file_alignment)
    plain = plain_references(src, md_at, md_size) if md_at >= 0 else None
    if plain is None:
        return None
    version, refs, modules = plain
    return ((machine, pe32_plus, characteristics & IMAGE_FILE_DLL, flags, major, minor, subsystem, version, os_major,
             os_minor, sub_major, sub_minor), refs, modules)


def plain_facts(path: str, key: PlainKey, refs: tuple[AssemblyRef, ...], modules: tuple[str, ...],
                ) -> tuple[PeImage, AssemblyReferences, None]:
    """The deciding half of :func:`_plain`: the facts of the plain image ``path`` from its :data:`PlainKey`,
    references and P/Invoke modules (:func:`plain_read`): :func:`plain_image` and the references."""
    return plain_image(path, key), AssemblyReferences(path, refs, modules), None


def plain_image(path: str, key: PlainKey) -> PeImage:
    """The headers of the plain image ``path`` from its :data:`PlainKey` (:func:`plain_read`), their fields after
    ``path`` shared with every image of the same key (:data:`_PLAIN_IMAGES`)."""
    return PeImage(path, *plain_fields(key))


def plain_fields(key: PlainKey) -> PlainFields:
    """The fields after ``path`` of the :class:`PeImage` of a plain image of :data:`PlainKey` ``key``
    (:func:`plain_image`), in declaration order: one tuple per key (:data:`_PLAIN_IMAGES`). Raises ValueError,
    TypeError for a key :func:`plain_read` never gives."""
    fields = _PLAIN_IMAGES.get(key)
    if fields is None:
        machine, pe32_plus, is_dll, flags, major, minor, subsystem, version, os_major, os_minor, sub_major, sub_minor = key
        kind, target, arches, notes = _il_or_mixed(machine, pe32_plus, bool(is_dll), flags)
        clr_version = clr_version_text(version)
        if clr_version is None:
            notes += (_NO_ROOT,)
        fields = (kind, KNOWN_MACHINES.get(machine, machine), pe32_plus, bool(is_dll), flags, target, arches, None,
                  notes, None, clr_version, sys.intern(f"{major}.{minor}"), None, None, subsystem,
                  version_pair(os_major, os_minor), version_pair(sub_major, sub_minor))  # NOTE: PlainFields
        if len(_PLAIN_IMAGES) < _MAX_PLAIN_IMAGES:
            _PLAIN_IMAGES[key] = fields
    return fields


GeneralFacts = tuple[tuple[object, ...], tuple[tuple[str, str], ...] | None, tuple[str, ...], str | None]
"""What :func:`general_read` reads of a file that is not plain, as plain data (:mod:`marshal` carries it): the
PeImage's fields after ``path`` (enumerations by value, ``loadable_by`` as a sorted tuple), and for a .NET image its
AssemblyRefs as ``(name, version)``, P/Invoke modules and why its metadata could not be read (None when it could);
``None`` and ``()`` for a native image."""


def image_fields(image: PeImage) -> tuple[object, ...]:
    """``image``'s fields after ``path``, in declaration order, as plain data (:mod:`marshal` carries it): enumerations
    by value, ``loadable_by`` as a sorted tuple of values, ``notes`` a tuple; :func:`image_from_fields` makes the
    image again (tests/pe/test_prefetch_parse.py checks the pair on an image with every field set)."""
    hybrid = image.hybrid.value if image.hybrid is not None else None
    return (image.kind.value, image.machine, image.pe32_plus, image.is_dll, image.cor_flags,
            image.platform_target.value, tuple(sorted(a.value for a in image.loadable_by)), image.reason,
            image.notes, hybrid, image.clr_version, image.cor_header_version, image.ready_to_run_os,
            image.ready_to_run_machine, image.subsystem, image.os_version, image.subsystem_version,
            image.reference_assembly)


def image_from_fields(path: str, fields: tuple[object, ...]) -> PeImage:
    """The :class:`PeImage` of ``path`` whose other fields :func:`image_fields` gave. Raises ValueError, TypeError
    for data it never makes."""
    values: tuple[Any, ...] = fields  # NOTE: each of the types image_fields gives (checked by the constructors)
    (kind, machine, pe32_plus, is_dll, cor_flags, target, arches, why, notes, hybrid, clr_version, cor_header_version,
     r2r_os, r2r_machine, subsystem, os_version, subsystem_version, reference) = values
    if not isinstance(reference, bool):
        raise TypeError("expected a bool")
    return PeImage(path, ImageKind(kind), machine, pe32_plus, is_dll, cor_flags, PlatformTarget(target),
                   frozenset(Arch(a) for a in arches), why, tuple(notes), None if hybrid is None else Hybrid(hybrid),
                   clr_version, cor_header_version, r2r_os, r2r_machine, subsystem, _pair(os_version),
                   _pair(subsystem_version), reference)


def _pair(value: Any) -> tuple[int, int] | None:
    """A version pair :func:`image_fields` gave (marshal keeps a tuple a tuple), as its one shared tuple."""
    if value is None:
        return None
    major, minor = value
    if not isinstance(major, int) or not isinstance(minor, int) or not (0 <= major <= 0xFFFF and 0 <= minor <= 0xFFFF):
        raise TypeError("expected a (major, minor) pair of 16-bit ints")
    return version_pair(major, minor)


def general_read(src: Source, name: str) -> GeneralFacts | None:
    """:func:`read_image_and_references` of a file :func:`plain_read` leaves (ReadyToRun, native, not a PE) through
    the general readers, as plain data (:func:`general_facts` makes the facts again); None when reading it failed
    (the caller reads it itself and says why)."""
    try:
        image, references, error = _image_and(src, name, references_from_source)
    except ImageReadError:
        return None
    if error is not None:
        return None
    fields = image_fields(image)
    if references is None:
        return fields, None, (), None
    refs = tuple((r.name, r.version) for r in references.assembly_refs)
    return fields, refs, references.pinvoke_modules, references.reason


def general_facts(path: str, facts: GeneralFacts) -> tuple[PeImage, AssemblyReferences | None]:
    """The headers and references of ``path`` from :func:`general_read`'s plain data: what
    :func:`read_image_and_references` gives. Raises ValueError, TypeError for data it never makes."""
    fields, refs, modules, reason = facts
    image = image_from_fields(path, fields)
    if refs is None:
        return image, None
    return image, AssemblyReferences(path, tuple(AssemblyRef(n, v) for n, v in refs), tuple(modules), reason)
