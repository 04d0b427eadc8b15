"""``iisbitness inspect --format json``: the versioned document ``iisbitness/inspect/1``.

Shape (``formats/schema/inspect-1.json`` is the contract; tests validate every output)::

    {"schema": "iisbitness/inspect/1",
     "files": [{"path", "kind", "machine": "0x14c", "pe32_plus", "cor_flags": "0x20003" | null,
                "platform_target", "loadable_in": ["x86", ...], "reason", ...details}]}

A reference assembly (``ReferenceAssemblyAttribute``) has ``"loadable_in": []``, as the text's ``none at run time``,
and ``"header_loadable_in"``: the architectures its headers alone allow (absent for every other file).

An ``unreadable`` entry that was never opened because it is not a regular file (a FIFO, a device, a
dangling link) also has ``"skipped": "fifo" | "device" | "socket" | "dangling-link" | "other"``.

Files sorted by path, keys sorted, no timestamps: the same input gives the same bytes. Reads only
:class:`iisbitness.pe.walk.InspectedFile` values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from iisbitness.arch import sort_arches
from iisbitness.formats import indented_json
from iisbitness.pe.clr import cor_flag_names, corflags_view
from iisbitness.pe.headers import machine_name
from iisbitness.pe.walk import InspectedFile

if TYPE_CHECKING:
    # NOTE: a type only: pe.deps is imported for --deps (issue 25)
    from iisbitness.pe.deps import DependencyResult

SCHEMA_ID = "iisbitness/inspect/1"


def render(files: Sequence[InspectedFile]) -> str:
    """The JSON document for ``files``, indented, ending in a newline."""
    return indented_json.dumps(to_document(files)) + "\n"


def to_document(files: Sequence[InspectedFile]) -> dict[str, Any]:
    """The document as Python data (for tests and embedding)."""
    return {"schema": SCHEMA_ID, "files": [_file(f) for f in sorted(files, key=lambda f: str(f.path))]}


def _hex(value: int | None) -> str | None:
    return None if value is None else f"{value:#x}"


def _file(item: InspectedFile) -> dict[str, Any]:
    img = item.image
    if img is None:
        bare: dict[str, Any] = {"path": str(item.path), "kind": "unreadable", "machine": None, "pe32_plus": None,
                                "cor_flags": None, "platform_target": None, "loadable_in": [], "reason": item.error}
        if item.skipped is not None:  # NOTE: additive (not a regular file, never opened); absent otherwise
            bare["skipped"] = item.skipped
        return bare
    out: dict[str, Any] = {
        "path": str(item.path),
        "kind": img.kind.value,
        "machine": _hex(img.machine),
        "machine_name": machine_name(img.machine) if img.machine is not None else None,
        "pe32_plus": img.pe32_plus,
        "is_dll": img.is_dll,
        "cor_flags": _hex(img.cor_flags),
        "platform_target": img.platform_target.value if img.is_pe else None,
        "loadable_in": [a.value for a in sort_arches(img.loadable_by)],
        "reason": img.reason or item.error,
        "notes": list(img.notes),
    }
    if img.reference_assembly or (item.assembly is not None and item.assembly.is_reference_assembly):
        # NOTE: as the text's Loads in says (none at run time, facts I9: 0x80131058); additive: what the headers
        # alone allow is kept beside it
        out["header_loadable_in"], out["loadable_in"] = out["loadable_in"], []
    if img.os_version is not None and img.subsystem_version is not None:
        # NOTE: additive: the optional header's versions, "major.minor" as dumpbin /headers prints them
        out["os_version"] = f"{img.os_version[0]}.{img.os_version[1]}"
        out["subsystem_version"] = f"{img.subsystem_version[0]}.{img.subsystem_version[1]}"
    if img.cor_flags is not None:
        out["cor_flag_names"] = list(cor_flag_names(img.cor_flags))
        out["corflags"] = corflags_view(img.cor_flags)
        out["clr_version"] = img.clr_version
        out["clr_header"] = img.cor_header_version
    if img.hybrid is not None:
        out["hybrid"] = img.hybrid.value
    if img.ready_to_run_os is not None or img.ready_to_run_machine is not None:
        out["ready_to_run"] = {"os": img.ready_to_run_os, "machine": _hex(img.ready_to_run_machine)}
    if item.assembly is not None:
        a = item.assembly
        out["assembly"] = {
            "name": a.name, "version": a.version, "target_framework": a.target_framework,
            "reference_assembly": a.is_reference_assembly, "processor_architecture": a.processor_architecture,
            "references": [{"name": r.name, "version": r.version} for r in a.assembly_refs],
            "pinvoke": list(a.pinvoke_modules), "reason": a.reason,
        }
    if item.deps:
        out["deps"] = [_deps(arch.value, result) for arch, result in item.deps]
    return out


def _deps(arch: str, result: DependencyResult) -> dict[str, Any]:
    chain = None
    if result.mismatch is not None:
        chain = [{"name": link.name, "path": str(link.path), "via": link.via,
                  "loadable_in": [a.value for a in sort_arches(link.image.loadable_by)]}
                 for link in result.mismatch.links]
    return {
        "arch": arch,
        "mismatch": chain,
        "text": str(result.mismatch) if result.mismatch is not None else None,
        "unresolved": [{"name": u.name, "needed_by": str(u.needed_by), "via": u.via, "reason": u.reason}
                       for u in result.unresolved],
        "truncated": result.truncated,
    }
