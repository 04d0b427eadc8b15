""".NET assembly metadata via dnfile: name, version, references, P/Invoke targets, markers.

Public API:
    read_assembly_info(path) -> AssemblyInfo   never raises for content; ``reason`` says what failed

dnfile is used for metadata only (its tables and heaps); every architecture decision stays in
:mod:`iisbitness.pe.classify`. Every dnfile call sits behind one ``except Exception``: dnfile
(and pefile below it) raise many exception types on malformed input, and one broken assembly must
not stop a scan ("Parse as much as we can", dnfile DESIGN.rst; design.md house rule 5).

Sources: ECMA-335 II.22 (Assembly, AssemblyRef, ModuleRef, ImplMap, CustomAttribute tables),
II.23.3 (custom attribute blobs); "CorAssemblyFlags" for the processor-architecture field (facts
sheet I9); the ReferenceAssemblyAttribute marker (I9).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from iisbitness.errors import ImageReadError

MAX_METADATA_FILE = 64 << 20
"""Assemblies larger than this are not handed to dnfile (it reads the whole file into memory)."""

PROCESSOR_ARCHITECTURES: dict[int, str] = {
    0x00: "None",
    0x10: "MSIL",
    0x20: "x86",
    0x30: "IA64",
    0x40: "AMD64",
    0x50: "ARM",
    0x70: "NoPlatform",
}
"""CorAssemblyFlags afPA_* values (mask 0x70) by name."""


@dataclass(frozen=True, slots=True)
class AssemblyRef:
    """One AssemblyRef row: ``name`` and ``version`` ("4.0.0.0")."""

    name: str
    version: str


@dataclass(frozen=True, slots=True)
class AssemblyInfo:
    """What the metadata tables say about an assembly.

    Attributes:
        path: the file read.
        name: Assembly row name, or None for a module without an Assembly row (or on failure).
        version: "major.minor.build.revision".
        processor_architecture: afPA_* name from the Assembly row flags ("None" when unset, the
            usual case for compiler output).
        target_framework: TargetFrameworkAttribute's first argument (".NETFramework,Version=v4.7.2").
        is_reference_assembly: the assembly carries ReferenceAssemblyAttribute (cannot execute, I9).
        assembly_refs: AssemblyRef rows, in table order.
        pinvoke_modules: ModuleRef names used by ImplMap rows (``[DllImport("nativelib")]``), sorted.
        reason: why the metadata could not be read, else None.
    """

    path: str
    name: str | None = None
    version: str | None = None
    processor_architecture: str | None = None
    target_framework: str | None = None
    is_reference_assembly: bool = False
    assembly_refs: tuple[AssemblyRef, ...] = field(default=())
    pinvoke_modules: tuple[str, ...] = field(default=())
    reason: str | None = None


def read_assembly_info(path: str | os.PathLike[str]) -> AssemblyInfo:
    """Read the metadata of the assembly at ``path``.

    Returns an :class:`AssemblyInfo`; when the file is not .NET or the metadata is broken, its
    ``reason`` says so ("no .NET metadata", "metadata unreadable: <dnfile error>").

    Raises:
        ImageReadError: the file cannot be opened or read.
    """
    name = os.fspath(path)
    try:
        # NOTE: O_NONBLOCK: a FIFO where an assembly should be must not block the read (issue 7)
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            data = f.read(MAX_METADATA_FILE + 1)
    except OSError as e:
        raise ImageReadError(f"{name}: cannot read: {e.strerror or e}") from e
    if len(data) > MAX_METADATA_FILE:
        return AssemblyInfo(name, reason=f"larger than {MAX_METADATA_FILE >> 20} MB; metadata not read")
    return assembly_info_from_bytes(data, name)


def assembly_info_from_bytes(data: bytes, path: str = "<bytes>") -> AssemblyInfo:
    """Like :func:`read_assembly_info` for bytes in memory. Never raises."""
    try:
        import dnfile

        make_pe: Any = dnfile.dnPE  # NOTE: dnfile is untyped
        pe = make_pe(data=data, fast_load=True)
        pe.parse_data_directories(directories=[14])
        net = pe.net
    except Exception as e:  # noqa: BLE001  NOTE: see module docstring
        return AssemblyInfo(path, reason=f"metadata unreadable: {_why(e)}")
    if net is None or net.mdtables is None:
        return AssemblyInfo(path, reason="no .NET metadata")
    try:
        return _info(net, path)
    except Exception as e:  # noqa: BLE001
        return AssemblyInfo(path, reason=f"metadata unreadable: {_why(e)}")


def _info(net: Any, path: str) -> AssemblyInfo:
    tables = net.mdtables
    name = version = arch = None
    if tables.Assembly:
        row = tables.Assembly[0]
        name = str(row.Name)
        version = f"{row.MajorVersion}.{row.MinorVersion}.{row.BuildNumber}.{row.RevisionNumber}"
        pa = int(row.struct.Flags) & 0x70
        arch = PROCESSOR_ARCHITECTURES.get(pa, f"{pa:#x}")
    refs = tuple(
        AssemblyRef(str(r.Name), f"{r.MajorVersion}.{r.MinorVersion}.{r.BuildNumber}.{r.RevisionNumber}")
        for r in (tables.AssemblyRef or ())
    )
    pinvoke = sorted({str(m.ImportScope.row.Name) for m in (tables.ImplMap or ()) if m.ImportScope and m.ImportScope.row})
    framework, is_ref = _assembly_attributes(tables)
    return AssemblyInfo(path, name, version, arch, framework, is_ref, refs, tuple(pinvoke))


def _assembly_attributes(tables: Any) -> tuple[str | None, bool]:
    """(TargetFramework string, has ReferenceAssemblyAttribute) from assembly-level attributes."""
    framework: str | None = None
    is_ref = False
    for ca in tables.CustomAttribute or ():
        ctor = ca.Type.row if ca.Type else None
        owner = getattr(ctor, "Class", None)
        type_row = owner.row if owner is not None else None
        if type_row is None or not hasattr(type_row, "TypeName"):
            continue
        full = f"{type_row.TypeNamespace}.{type_row.TypeName}"
        if full == "System.Runtime.CompilerServices.ReferenceAssemblyAttribute":
            is_ref = True
        elif full == "System.Runtime.Versioning.TargetFrameworkAttribute" and ca.Value is not None:
            framework = _first_string_arg(bytes(ca.Value.value))
    return framework, is_ref


def _first_string_arg(blob: bytes) -> str | None:
    """The first fixed argument of a custom-attribute blob when it is a string (ECMA II.23.3)."""
    if len(blob) < 3 or blob[:2] != b"\x01\x00" or blob[2] == 0xFF:
        return None
    first = blob[2]
    if first < 0x80:
        length, start = first, 3
    elif first < 0xC0 and len(blob) >= 4:
        length, start = ((first & 0x3F) << 8) | blob[3], 4
    else:
        return None
    raw = blob[start : start + length]
    return raw.decode("utf-8", "replace") if len(raw) == length else None


def _why(e: Exception) -> str:
    text = str(e).strip().strip("'\"")
    return f"{type(e).__name__}: {text}" if text else type(e).__name__
