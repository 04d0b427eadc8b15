"""The dnfile-based metadata reader that pe/metadata.py replaced, kept as the tests' reference.

dnfile is a test-only dependency. It builds every table of a file; this module asks it for the
same fields :class:`iisbitness.pe.metadata.AssemblyInfo` holds, so the two readers can be compared
field by field. One difference from the old product code, on purpose: an attribute whose
constructor is a MethodDef (the attribute type is defined in the assembly itself, as in a
reference mscorlib) is resolved to its owning TypeDef through TypeDef.MethodList (ECMA-335
II.22.37), as the new reader does.
"""

from __future__ import annotations

import contextlib
import io
import logging
from typing import Any

import dnfile

# NOTE: dnfile reads the tables but not custom-attribute blobs: their first string argument is decoded by the
# product's own II.23.3 decoder (tested on its own in tests/pe/test_metadata_blob.py)
from iisbitness.pe.metadata import PROCESSOR_ARCHITECTURES, AssemblyInfo, AssemblyRef, _first_string_arg


def dnfile_info(path: str) -> AssemblyInfo:
    """AssemblyInfo from dnfile; ``reason`` is "no .NET metadata" or "dnfile: <error>"."""
    logging.disable(logging.CRITICAL)  # NOTE: dnfile logs (and prints) warnings on odd heaps
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            pe: Any = dnfile.dnPE(path)  # type: ignore[no-untyped-call]
            net = pe.net
            if net is None or net.mdtables is None:
                return AssemblyInfo(path, reason="no .NET metadata")
            return _info(net.mdtables, path)
    except Exception as e:  # noqa: BLE001  NOTE: dnfile raises many types
        return AssemblyInfo(path, reason=f"dnfile: {type(e).__name__}: {e}")
    finally:
        logging.disable(logging.NOTSET)


def _info(tables: Any, path: str) -> AssemblyInfo:
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


def _owner_of_method(tables: Any, method_row: Any) -> Any:
    owner = None
    for typedef in tables.TypeDef or ():
        if typedef.struct.MethodList_Index <= method_row:
            owner = typedef
        else:
            break
    return owner


def _assembly_attributes(tables: Any) -> tuple[str | None, bool]:
    framework: str | None = None
    is_ref = False
    for ca in tables.CustomAttribute or ():
        if ca.Parent is None or ca.Parent.table is None or ca.Parent.table.name != "Assembly":
            continue
        ctor = ca.Type.row if ca.Type else None
        if ca.Type is not None and ca.Type.table is not None and ca.Type.table.name == "MethodDef":
            type_row = _owner_of_method(tables, ca.Type.row_index)
        else:
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

