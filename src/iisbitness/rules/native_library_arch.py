"""native-library-arch: a native DLL in an application's bin that the pool's architecture cannot load.
A warning: the DLL loads only when managed code calls into it (P/Invoke), so the app may start and fail
later with BadImageFormatException (0x8007000B). A warning only when an assembly of the application's bin
names the DLL in a ``[DllImport]`` (its ModuleRef/ImplMap rows, ECMA-335 II.22.31, II.22.22), or a native
DLL of bin imports it; a DLL nothing references is a note: platform invoke loads a DLL on the first call
into it ("Consuming Unmanaged DLL Functions", learn.microsoft.com), so a copy no code names loads only if
code loads it by name (``LoadLibrary``, ``NativeLibrary.Load``). No finding when the package's own
per-architecture layout below bin (``x86\\``/``x64\\`` or ``runtimes\\win-<arch>\\native\\``) holds a
fitting copy.
Sources: facts D1, D5; NuGet "Supporting multiple .NET versions / native assets" (runtimes/{rid}/native)."""

from __future__ import annotations

from collections.abc import Iterator

from iisbitness.arch import format_arches
from iisbitness.findings import Finding, Fix, Severity, rule
from iisbitness.loadplan.plan import BinFile, LoadKind, LoadPlan
from iisbitness.rules._common import fixes, flip_fix, mismatch_cause, mismatches, split_fix


@rule("native-library-arch", Severity.WARNING, "A native DLL in bin cannot be loaded by the pool's architecture",
      iisexpress="A native DLL in bin cannot be loaded by the architecture of the iisexpress.exe that runs it")
def native_library_arch(plan: LoadPlan) -> Iterator[Finding]:
    """The first call into the DLL fails; the rest of the app may work."""
    isapi = {(ld.binary.windows_path or "").lower() for ld in plan.loads_of(LoadKind.ISAPI_EXTENSION)}
    for load in mismatches(plan, LoadKind.BIN_NATIVE):
        if load.process.pool is None:
            continue
        if (load.binary.windows_path or "").lower() in isapi:
            continue  # NOTE: an ISAPI extension kept in bin: isapi-extension-arch reports it
        copies = load.entry.copies if isinstance(load.entry, BinFile) else ()
        if isinstance(load.entry, BinFile) and load.entry.fitting_copy(load.process.arch) is not None:
            continue  # NOTE: the load map says which copy loads (scan/loadmap.py)
        arch = load.process.arch
        layout = (" The package layout below bin has " + "; ".join(
            f"{c.layout}\\{load.name} ({format_arches(c.binary.arches or frozenset())})" for c in copies)
                  + f", but no {arch.value} copy.") if copies else (
            f" No package layout below bin (x86\\, x64\\, runtimes\\win-<arch>\\native\\) provides an {arch.value} copy.")
        symptom = (f"{load.site}{load.application}: calls into '{load.name}' fail with System.BadImageFormatException "
                   "\"An attempt was made to load a program with an incorrect format.\" (0x8007000B); the rest of "
                   "the app may work.")
        callers = load.entry.callers if isinstance(load.entry, BinFile) else None
        severity = native_library_arch.severity
        if callers == ():
            severity = Severity.NOTE
            symptom = (f"{load.site}{load.application}: none, unless code loads '{load.name}' by name (LoadLibrary, "
                       "NativeLibrary.Load): then that call fails with BadImageFormatException (0x8007000B).")
            layout += (" No P/Invoke references it: no assembly in bin names it in a [DllImport] and no native DLL "
                       "there imports it, so it loads only if code loads it by name.")
        elif callers:
            layout += f" Named by a [DllImport] or an import in {', '.join(callers)}: it loads on the first call."
        rid = {"x86": "win-x86", "x64": "win-x64", "arm64": "win-arm64"}[arch.value]
        ship = Fix(summary=f"Deploy the {arch.value} build of '{load.name}': keep the package's "
                           f"runtimes\\{rid}\\native\\{load.name} (or x86\\ / x64\\) layout in bin, or copy the "
                           f"{arch.value} build over bin\\{load.name}",
                   label=f"deploy the {arch.value} build",
                   note="NuGet packages with native code ship one copy per architecture; publishing for one RID, "
                        "or copying a single build into bin, drops the others.")
        yield Finding.for_load(load, native_library_arch.id, severity, symptom,
                               mismatch_cause(load, "the native library", plan.server.os_arch) + layout,
                               fixes(flip_fix(plan, load), split_fix(plan, load), ship))
