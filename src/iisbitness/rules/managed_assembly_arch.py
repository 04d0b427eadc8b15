"""managed-assembly-arch: an assembly in an application's bin that the pool's CLR cannot load.
Sources: facts D5, I4-I7; "BadImageFormatException Class" (learn.microsoft.com); "CorFlags.exe
(CorFlags Conversion Tool)" (learn.microsoft.com): ``/Force`` is needed to change a strong-named
assembly, which must then be signed again; ``/32BITPREF`` exists only in the CorFlags of .NET
Framework 4.5 and later.

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

from iisbitness.arch import Arch
from iisbitness.findings import Finding, Fix, Severity, rule
from iisbitness.fixes.commands import Quoted, native
from iisbitness.image.paths import is_absolute
from iisbitness.loadplan.plan import Load, LoadKind, LoadPlan
from iisbitness.pe.types import ImageKind
from iisbitness.rules._common import fixes, flip_fix, mismatch_cause, platform_target_fix, split_fix
from iisbitness.rules._iis6 import aspnet_wp_fix, bitness_fixes

STRONGNAMESIGNED = 0x8
BIT32PREFERRED = 0x20000


def rebuild_fix(load: Load) -> Fix:
    """How to make the assembly load in this worker without changing the pool."""
    img = load.binary.image
    name = load.name
    if img is not None and img.kind is ImageKind.IL_ONLY and load.process.arch is not Arch.X86:
        flags = img.cor_flags or 0
        signed = bool(flags & STRONGNAMESIGNED)
        pref = bool(flags & BIT32PREFERRED)
        # NOTE: the file as the server names it, so the command works from any folder (a bare name only in bin)
        where = load.binary.windows_path if load.binary.windows_path and is_absolute(load.binary.windows_path) else name
        cmd, ps = native("corflags", Quoted("", where), "/32BITREQ-", *(["/32BITPREF-"] if pref else []),
                         *(["/Force"] if signed else []))
        notes = []
        if signed:
            notes.append("It is strong-name signed: CorFlags refuses to change it without /Force, and the change "
                         "invalidates the signature, so re-sign it afterwards (sn -R with the publisher's key) or "
                         "rebuild from source instead.")
        if pref:
            notes.append("/32BITPREF needs the CorFlags.exe of .NET Framework 4.5 or later (an older CorFlags "
                         "does not know the option).")
        notes.append("Only if the assembly has no native dependencies that need 32-bit: test before deploying.")
        return Fix(summary=f"Rebuild '{name}' as AnyCPU (it is IL-only, so clearing 32BITREQ also works)",
                   label="rebuild as AnyCPU (or clear 32BITREQ)",
                   commands=(cmd,), powershell=(ps,), note=" ".join(notes))
    return Fix(summary=f"Rebuild '{name}' as AnyCPU or for {load.process.arch.value}",
               label=f"rebuild as AnyCPU or for {load.process.arch.value}",
               note="Mixed-mode (C++/CLI) and platform-specific assemblies need a build for the worker's architecture."
               if img is not None and img.kind is ImageKind.MIXED else None)


@rule("managed-assembly-arch", Severity.ERROR, "An assembly in bin cannot be loaded by the pool's CLR")
def managed_assembly_arch(plan: LoadPlan) -> Iterator[Finding]:
    """The application fails with BadImageFormatException (0x8007000B)."""
    iis6 = plan.iis6
    for load in plan.loads_of(LoadKind.BIN_ASSEMBLY):
        if (load.process.pool is None and iis6 is None) or load.fits is not False:
            continue  # NOTE: inetmgr.exe's bin loads are iis-manager-32bit-assembly's; IIS 5 mode's aspnet_wp.exe ours
        if load.binary.image is None or not load.binary.image.is_managed:
            continue
        stem = load.name.rsplit(".", 1)[0]
        symptom = (f"{load.site}{load.application} fails with System.BadImageFormatException: \"Could not load file "
                   f"or assembly '{stem}' or one of its dependencies. An attempt was made to load a program with an "
                   "incorrect format.\" (HRESULT 0x8007000B)")
        cause = mismatch_cause(load, "the bin assembly")
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
                               fixes(*candidates, rebuild_fix(load)))
