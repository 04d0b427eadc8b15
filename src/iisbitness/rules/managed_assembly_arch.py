"""managed-assembly-arch: an assembly in an application's bin that the pool's CLR cannot load.
Sources: facts D5, I4-I8; "BadImageFormatException Class" (learn.microsoft.com); "CorFlags.exe
(CorFlags Conversion Tool)" (learn.microsoft.com): ``/Force`` is needed to change a strong-named
assembly, which must then be signed again; ``/32BITPREF`` exists only in the CorFlags of .NET
Framework 4.5 and later; its options set the CorFlags header's flags only (none changes the PE format or
code); "Sn.exe (Strong Name Tool)" (learn.microsoft.com): ``-R`` re-signs an assembly with a key pair.

An assembly that fits but needs one that does not (``Load.binary.chain``, facts D1, D5: "or one of its
dependencies"): the finding names the dependency with the wrong architecture and the file that needs it from the
same bin, and the remedy is the dependency's own (:func:`dependency_fix`), by its kind: CorFlags on an IL-only x86
one, the build for the pool's architecture for a mixed-mode or native one (facts I7), never a change to the
assembly itself.

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

import ntpath
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


def _where(load: Load) -> str:
    """The file as the server names it, so a command works from any folder (a bare name only in ``bin``)."""
    path = load.binary.windows_path
    return path if path and is_absolute(path) else load.name


def rebuild_fix(load: Load) -> Fix:
    """How to make the assembly of ``load`` (a .NET assembly its process cannot load) load in that process without
    changing the pool, by what the assembly is:

    - IL-only, PE32, x86-only (32BITREQ, or 32BITPREF on a DLL, facts I4-I6) in a 64-bit process: rebuild it AnyCPU
      or clear the flags with CorFlags (``corflags "<file>" /32BITREQ-``, the same line in both shells; ``/Force`` when
      it is strong-named, which must then be signed again: "CorFlags.exe (CorFlags Conversion Tool)", learn.microsoft.
      com: "If you update a strong-named assembly, you must sign it again before executing its code"; ``sn -R``
      re-signs with the publisher's key pair: "Sn.exe (Strong Name Tool)", learn.microsoft.com);
    - IL-only PE32+ (x64, ARM64, Itanium): a rebuild (AnyCPU or for the process); CorFlags sets flags only and has no
      option that changes the PE format (its option list: 32BITREQ, 32BITPREF, ILONLY, the CLR header version);
    - mixed-mode (C++/CLI, ILONLY clear, bound to its Machine, facts I7) or ReadyToRun (precompiled native code,
      facts I8): the build for the process's architecture, never CorFlags (which changes the header's flags, not the
      native code in the image);
    - not read: a rebuild, AnyCPU or for the process.

    Returns an advisory :class:`Fix` (``verified`` None: nothing the model holds changes)."""
    img = load.binary.image
    name = load.name
    arch = load.process.arch
    if img is not None and img.kind is ImageKind.IL_ONLY and arch is not Arch.X86 and img.pe32_plus is False:
        flags = img.cor_flags or 0
        signed = bool(flags & STRONGNAMESIGNED)
        pref = bool(flags & BIT32PREFERRED)
        cmd, ps = native("corflags", Quoted("", _where(load)), "/32BITREQ-", *(["/32BITPREF-"] if pref else []),
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
                   label="the x86 DLL: rebuild or clear 32BITREQ",
                   commands=(cmd,), powershell=(ps,), note=" ".join(notes))
    if img is not None and img.kind in (ImageKind.MIXED, ImageKind.READY_TO_RUN, ImageKind.NATIVE) and img.is_pe:
        return arch_build_fix(load)
    if img is not None and img.kind is ImageKind.IL_ONLY and img.pe32_plus:
        return Fix(summary=f"Rebuild '{name}' as AnyCPU or for {arch.value}",
                   label=f"the {img.platform_target.value} DLL: rebuild AnyCPU or {arch.value}",
                   note=(f"It is IL-only but PE32+ (platform {img.platform_target.value}): CorFlags sets flags only and "
                         f"cannot change the PE format, so only a build as AnyCPU or for {arch.value} loads in this "
                         "worker."))
    return Fix(summary=f"Rebuild '{name}' as AnyCPU or for {arch.value}",
               label=f"rebuild as AnyCPU or for {arch.value}")


def arch_build_fix(load: Load) -> Fix:
    """The build of a mixed-mode, ReadyToRun or native binary (``load``'s, read) for its process's architecture: such
    a binary holds native code compiled for one CPU (facts I7, I8), so neither AnyCPU nor CorFlags (which changes the
    CLR header's flags, not the code: "CorFlags.exe (CorFlags Conversion Tool)", learn.microsoft.com) makes it load
    at another architecture."""
    img = load.binary.image
    assert img is not None
    arch = load.process.arch
    name = load.name
    built = img.platform_target.value
    what = {ImageKind.MIXED: f"mixed-mode (C++/CLI, ILONLY clear): its native code is compiled for {built}",
            ImageKind.READY_TO_RUN: f"ReadyToRun: precompiled native code for {built}"}.get(
                img.kind, f"a native DLL for {built}")
    folder = ntpath.dirname(_where(load))
    tail = {ImageKind.MIXED: "C++/CLI has no AnyCPU build; where you have the source, rebuild its project for "
                             f"{arch.value}.",
            ImageKind.READY_TO_RUN: "Its IL-only AnyCPU build (without ReadyToRun) loads too."}.get(
                img.kind, "CorFlags applies to .NET assemblies only.")
    return Fix(summary=(f"Install the {arch.value} build of '{name}' (e.g. the vendor's {arch.value} package)"
                        + (f" in {folder}" if folder else "")),
               label=f"the {arch.value} build of the {built} DLL",
               note=(f"'{name}' is {what}: it loads only at that architecture whatever its flags, so CorFlags cannot "
                     f"make it load in a {arch.bits}-bit worker. {tail}"))


def _bin_key(load: Load, name: str) -> tuple[object, ...]:
    """A ``bin`` load's process, application and file name (lower case): :func:`culprit`'s index key."""
    pool = load.process.pool.name.lower() if load.process.pool is not None else ""
    return load.process.name, load.process.arch, pool, load.site, load.application, name.lower()


def _bin_by_name(plan: LoadPlan) -> dict[tuple[object, ...], Load]:
    """Every ``bin`` load (assemblies and native DLLs) of the plan by :func:`_bin_key`, the first of each."""
    index: dict[tuple[object, ...], Load] = {}
    for ld in plan.loads_of(LoadKind.BIN_ASSEMBLY, LoadKind.BIN_NATIVE):
        index.setdefault(_bin_key(ld, ld.name), ld)
    return index


def culprit(plan: LoadPlan, load: Load) -> tuple[str, str, Load | None]:
    """For a load whose binary fits but whose dependency chain ends at one that does not (``load.binary.chain``,
    e.g. ``("ManagedApp.dll", "managed_x86.dll (x86)")``): the dependency's file name, the file that needs it (the
    link before it), and the dependency's own load from the same ``bin`` in the same process and application, or None
    where the plan has none (found in the process's System32 view). The dependency search looks in the assembly's own
    folder first (:meth:`iisbitness.loadplan.context.PlanContext.dependency_chain`, facts D1), so a file of that name
    in the same ``bin`` is the one found."""
    chain = load.binary.chain
    name = chain[-1].rsplit(" (", 1)[0]
    found = plan.derived("managed-assembly-arch/bin-by-name", _bin_by_name).get(_bin_key(load, name))
    return name, chain[-2], found


def dependency_fix(load: Load, name: str, found: Load | None) -> Fix:
    """The remedy for the dependency ``name`` (its own load ``found``, or None) that stops ``load``: the dependency's
    own rebuild or build (:func:`rebuild_fix`, :func:`arch_build_fix`: the same fix its own finding offers, so the
    report numbers it once); never a change to ``load``'s own assembly, which fits already."""
    arch = load.process.arch
    if found is not None and found.binary.image is not None and found.binary.image.is_pe:
        return rebuild_fix(found) if found.binary.image.is_managed else arch_build_fix(found)
    return Fix(summary=f"Install the {arch.value} or AnyCPU build of '{name}', which '{load.binary.chain[-2]}' needs",
               label=f"the {arch.value} build of {name}",
               note=(f"'{name}' is not among the bin files read (found in the worker's System32 view): CorFlags can clear "
                     "32BITREQ only on an IL-only assembly (corflags shows ILONLY : 1), never on a mixed-mode (C++/CLI) "
                     "or native DLL."))


def dependency_cause(load: Load, name: str, needed_by: str, found: Load | None) -> str:
    """The sentences a dependency finding adds to :func:`mismatch_cause`: which file has the wrong architecture, which
    file needs it, from which ``bin``, and why the remedy is on it (CorFlags on an IL-only x86 one, facts I4; the
    build for the worker's architecture for a mixed-mode or native one, facts I7)."""
    arch = load.process.arch
    # NOTE: no second Windows path in the cause: the first (the assembly's, in mismatch_cause) names the bin folder
    if found is None:
        return (f" The file with the wrong architecture is '{name}', which '{needed_by}' needs, not among the bin "
                f"files read (found in the worker's System32 view, where the loader looks next): '{load.name}' itself "
                "loads, so changing its flags or platform changes nothing.")
    img = found.binary.image
    what = img.describe() if img is not None else "of unknown architecture"
    cause = (f" The file with the wrong architecture is '{name}' in the same bin folder, which '{needed_by}' needs: "
             f"{what}. '{load.name}' itself loads, so changing its flags or platform changes nothing; the remedy is on "
             f"'{name}'")
    if img is not None and img.kind is ImageKind.IL_ONLY and img.pe32_plus is False and arch is not Arch.X86:
        return cause + (", which is IL-only: CorFlags can clear its 32BITREQ flag (it could not change a mixed-mode "
                        "(C++/CLI) or native DLL).")
    if img is not None and img.kind in (ImageKind.MIXED, ImageKind.READY_TO_RUN, ImageKind.NATIVE):
        return cause + f": its build for {arch.value}, since CorFlags cannot change code compiled for one CPU."
    return cause + "."


@rule("managed-assembly-arch", Severity.ERROR, "An assembly in bin cannot be loaded by the pool's CLR")
def managed_assembly_arch(plan: LoadPlan) -> Iterator[Finding]:
    """The application fails with BadImageFormatException (0x8007000B)."""
    iis6 = plan.iis6
    for load in plan.loads_of(LoadKind.BIN_ASSEMBLY):
        if (load.process.pool is None and iis6 is None) or load.fits is not False:
            continue  # NOTE: inetmgr.exe's bin loads are iis-manager-32bit-assembly's; IIS 5 mode's aspnet_wp.exe ours
        if load.binary.image is None or not load.binary.image.is_managed:
            continue
        remedy = rebuild_fix(load)
        failing = load.name
        cause = mismatch_cause(load, "the bin assembly")
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
