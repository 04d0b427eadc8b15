"""managed-assembly-arch: an assembly in an application's bin that the pool's CLR cannot load.
Sources: facts D5, I4-I8; "BadImageFormatException Class" (learn.microsoft.com); "CorFlags.exe
(CorFlags Conversion Tool)" (learn.microsoft.com): ``/Force`` is needed to change a strong-named
assembly, which must then be signed again; ``/32BITPREF`` exists only in the CorFlags of .NET
Framework 4.5 and later; its options set the CorFlags header's flags only (none changes the PE format or
code); "Sn.exe (Strong Name Tool)" (learn.microsoft.com): ``-R`` re-signs an assembly with a key pair.

An assembly that fits but needs one that does not (``Load.binary.chain``, facts D1, D5: "or one of its
dependencies"): the finding names the dependency with the wrong architecture and the file that needs it from the
same bin, and the remedy is the dependency's own (:func:`iisbitness.rules._assembly.dependency_fix`), by its kind:
CorFlags on an IL-only x86 one, the build for the pool's architecture for a mixed-mode or native one (facts I7), never
a change to the assembly itself.

IIS 6 (a plan with ``iis6``): the ``bin`` of each application whose ``ScriptMaps`` name ``aspnet_isapi.dll`` loads in
its pool's w3wp.exe, at the server-wide bitness (``Enable32bitAppOnWin64``, facts G4), or in IIS 5 isolation mode in
aspnet_wp.exe (:mod:`iisbitness.loadplan.iis6`). There is no per-pool flip nor split: the fixes are the server-wide
switch with ASP.NET registered from the matching Framework folder (KB 894435, "How to switch between the 32-bit
versions of ASP.NET 1.1 and the 64-bit version of ASP.NET 2.0 on a 64-bit version of Windows":
``adsutil.vbs SET W3SVC/AppPools/Enable32bitAppOnWin64 1`` then ``Framework\v2.0.50727\aspnet_regiis.exe -i``;
"Appendix D: Running 32-bit Applications on 64-bit Windows", IIS 6.0 docs: 32- and 64-bit workers never run
together); in IIS 5 isolation mode ASP.NET registered from the Framework folder the assembly fits, or leaving IIS 5
isolation mode for 32-bit workers (:func:`iisbitness.rules._iis6.aspnet_wp_fix`); or rebuilding the assembly."""

from __future__ import annotations

from collections.abc import Iterator

from iisbitness.findings import Finding, Fix, Severity, rule
from iisbitness.loadplan.plan import BinFile, LoadKind, LoadPlan
from iisbitness.rules._assembly import culprit, dependency_cause, dependency_fix, rebuild_fix
from iisbitness.rules._common import (
    fixes,
    flip_fix,
    mismatch_cause,
    mismatches,
    platform_target_fix,
    split_fix,
)
from iisbitness.rules._iis6 import aspnet_wp_fix, bitness_fixes


@rule("managed-assembly-arch", Severity.ERROR, "An assembly in bin cannot be loaded by the pool's CLR",
      iisexpress="An assembly in bin cannot be loaded by the CLR of the iisexpress.exe that runs it")
def managed_assembly_arch(plan: LoadPlan) -> Iterator[Finding]:
    """The application fails with BadImageFormatException (0x8007000B)."""
    iis6 = plan.iis6
    for load in mismatches(plan, LoadKind.BIN_ASSEMBLY):
        if load.process.pool is None and iis6 is None:
            continue  # NOTE: inetmgr.exe's bin loads are iis-manager-32bit-assembly's; IIS 5 mode's aspnet_wp.exe ours
        if load.binary.image is None or not load.binary.image.is_managed:
            continue
        if isinstance(load.entry, BinFile) and load.entry.reference:
            continue  # NOTE: bin-reference-assembly's: it loads at no architecture, so no flip nor rebuild for one helps
        remedy = rebuild_fix(load)
        failing = load.name
        cause = mismatch_cause(load, "the bin assembly", plan.server.os_arch)
        if load.binary.chain:
            # NOTE: the file that has the wrong architecture is the dependency: the remedy is on it (an AnyCPU
            # assembly's own flags change nothing), and the exception names the assembly whose load fails: the
            # dependency when it is one, else the assembly that needs it (a mixed-mode one importing a native DLL)
            name, needed_by, found = culprit(plan, load)
            cause += dependency_cause(load, name, needed_by, found)
            remedy = dependency_fix(load, name, found)
            img = found.binary.image if found is not None else None
            failing = name if img is not None and img.is_managed else needed_by
        stem = failing.rsplit(".", 1)[0]
        symptom = (f"{load.site}{load.application} fails with System.BadImageFormatException: \"Could not load file "
                   f"or assembly '{stem}' or one of its dependencies. An attempt was made to load a program with an "
                   "incorrect format.\" (HRESULT 0x8007000B)")
        candidates: tuple[Fix | None, ...]
        if iis6 is None:
            candidates = (flip_fix(plan, load), split_fix(plan, load), platform_target_fix(plan, load))
        elif iis6.iis5_mode:
            cause += (" IIS 5 isolation mode runs ASP.NET applications in aspnet_wp.exe, from the Framework folder "
                      "ASP.NET is registered from (its script maps' aspnet_isapi.dll).")
            candidates = (aspnet_wp_fix(iis6, load),)
        else:
            where = iis6.enable_32bit_from if iis6.enable_32bit_source is not None else "its schema default"
            if iis6.os_arch.is_64bit:  # NOTE: 32-bit Windows runs 32-bit workers only (facts A5)
                cause += (f" On IIS 6 every worker process runs at one bitness, set server-wide by "
                          f"Enable32bitAppOnWin64 ({where}): the pool cannot change it alone.")
            candidates = tuple(bitness_fixes(iis6, load))
        yield Finding.for_load(load, managed_assembly_arch.id, managed_assembly_arch.severity, symptom, cause,
                               fixes(*candidates, remedy))
