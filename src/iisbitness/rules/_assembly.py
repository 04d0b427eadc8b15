"""The remedy for a .NET assembly a process cannot load, by what the assembly is, and for the dependency an assembly
that fits fails through (``Load.binary.chain``): shared by managed-assembly-arch (a pool's worker) and
iis-manager-32bit-assembly (inetmgr.exe), so that both name the same file and offer the same numbered fix.

Sources: facts D1, D5, I4-I8; "CorFlags.exe (CorFlags Conversion Tool)" (learn.microsoft.com): ``/Force`` is needed
to change a strong-named assembly, which must then be signed again; ``/32BITPREF`` exists only in the CorFlags of .NET
Framework 4.5 and later; its options set the CorFlags header's flags only (none changes the PE format or code);
"Sn.exe (Strong Name Tool)" (learn.microsoft.com): ``-R`` re-signs an assembly with a key pair."""

from __future__ import annotations

import ntpath
import re

from iisbitness.arch import Arch
from iisbitness.findings import Fix
from iisbitness.fixes.commands import Quoted, native
from iisbitness.image.paths import is_absolute
from iisbitness.loadplan.plan import Load, LoadKind, LoadPlan
from iisbitness.pe.types import ImageKind
from iisbitness.rules._common import mismatches

STRONGNAMESIGNED = 0x8
BIT32PREFERRED = 0x20000
BIN_KINDS = (LoadKind.BIN_ASSEMBLY, LoadKind.BIN_NATIVE)
"""The loads of a ``bin`` file (an assembly, a native DLL): what a dependency chain links (:func:`culprit`)."""


def _where(load: Load) -> str:
    """The file as the server names it, so a command works from any folder (a bare name only in ``bin``)."""
    path = load.binary.windows_path
    return path if path and is_absolute(path) else load.name


def rebuild_fix(load: Load, arch: Arch | None = None) -> Fix:
    """How to make the assembly of ``load`` (a .NET assembly its process cannot load) load in that process (or in one
    of ``arch``, when given: the process of the assembly that needs it) without changing the pool, by what the
    assembly is:

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
    arch = arch or load.process.arch
    if img is not None and img.kind is ImageKind.IL_ONLY and arch is not Arch.X86 and img.pe32_plus is False:
        flags = img.cor_flags or 0
        signed = bool(flags & STRONGNAMESIGNED)
        pref = bool(flags & BIT32PREFERRED)
        cmd, ps = native("corflags", Quoted("", _where(load)), "/32BITREQ-", *(["/32BITPREF-"] if pref else []),
                         *(["/Force"] if signed else []))
        # NOTE: not a Windows tool: pasted into a server's plain prompt the line fails ("'corflags' is not
        # recognized"); "CorFlags.exe (CorFlags Conversion Tool)", learn.microsoft.com: installed with Visual Studio,
        # run from its Developer Command Prompt or Developer PowerShell
        notes = [("CorFlags.exe comes with Visual Studio (and the Windows SDK), not with Windows: run the line in a "
                  "Developer Command Prompt or Developer PowerShell where the file is (or on a copy, then deploy it).")]
        if signed:
            notes.append("It is strong-name signed: CorFlags refuses to change it without /Force, and the change "
                         "invalidates the signature, so re-sign it afterwards (sn -R with the publisher's key) or "
                         "rebuild from source instead.")
        if pref:
            notes.append("/32BITPREF needs the CorFlags.exe of .NET Framework 4.5 or later (an older CorFlags "
                         "does not know the option).")
        notes.append("Only if the assembly has no native dependencies that need 32-bit: test before deploying.")
        return Fix(summary=_REBUILD_32.format(name=name),
                   label="the x86 DLL: rebuild or clear 32BITREQ",
                   commands=(cmd,), powershell=(ps,), note=" ".join(notes))
    if img is not None and img.kind in (ImageKind.MIXED, ImageKind.READY_TO_RUN, ImageKind.NATIVE) and img.is_pe:
        return arch_build_fix(load, arch)
    if img is not None and img.kind is ImageKind.IL_ONLY and img.pe32_plus:
        return Fix(summary=_REBUILD.format(name=name, arch=arch.value),
                   label=f"the {img.platform_target.value} DLL: rebuild AnyCPU or {arch.value}",
                   note=(f"It is IL-only but PE32+ (platform {img.platform_target.value}): CorFlags sets flags only and "
                         f"cannot change the PE format, so only a build as AnyCPU or for {arch.value} loads in this "
                         "process."))
    return Fix(summary=_REBUILD.format(name=name, arch=arch.value),
               label=f"rebuild as AnyCPU or for {arch.value}")


_REBUILD_32 = "Rebuild '{name}' as AnyCPU (it is IL-only, so clearing 32BITREQ also works)"
_REBUILD = "Rebuild '{name}' as AnyCPU or for {arch}"
_REBUILT = re.compile(r"Rebuild '(?P<name>.+)' as AnyCPU(?: or for \S+| \(it is IL-only, so clearing 32BITREQ also works\))")
""":data:`_REBUILD_32` and :data:`_REBUILD` as :func:`rebuilt` reads them back."""


def rebuilt(fix: Fix) -> str | None:
    """The file name of the assembly ``fix`` rebuilds when it is :func:`rebuild_fix`'s rebuild (as AnyCPU or for the
    process, or its flags cleared: an IL-only or unread assembly; not :func:`arch_build_fix`'s build of native code,
    which has no AnyCPU form), else None: check-app words it as the build's ``<PlatformTarget>``."""
    m = _REBUILT.fullmatch(fix.summary)
    return m["name"] if m else None


def arch_build_fix(load: Load, arch: Arch | None = None) -> Fix:
    """The build of a mixed-mode, ReadyToRun or native binary (``load``'s, read) for its process's architecture (or
    ``arch``, when given): such
    a binary holds native code compiled for one CPU (facts I7, I8), so neither AnyCPU nor CorFlags (which changes the
    CLR header's flags, not the code: "CorFlags.exe (CorFlags Conversion Tool)", learn.microsoft.com) makes it load
    at another architecture.

    Raises:
        AssertionError: ``load``'s headers were not read (``load.binary.image`` is None)."""
    img = load.binary.image
    assert img is not None
    arch = arch or load.process.arch
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
                     f"make it load in a {arch.bits}-bit process. {tail}"))


def _bin_key(load: Load, name: str) -> tuple[object, ...]:
    """A ``bin`` load's process, application and file name (lower case): :func:`culprit`'s index key."""
    pool = load.process.pool.name.lower() if load.process.pool is not None else ""
    return load.process.name, load.process.arch, pool, load.site, load.application, name.lower()


def _culprit_name(load: Load) -> str:
    """The file name the last link of ``load.binary.chain`` names (``"managed_x86.dll (x86)"``: ``managed_x86.dll``)."""
    return load.binary.chain[-1].rsplit(" (", 1)[0]


def _bin_by_name(plan: LoadPlan) -> dict[tuple[object, ...], Load]:
    """The ``bin`` loads (assemblies and native DLLs) of the plan that a chain of one of them ends at (:func:`culprit`
    asks for no others), by :func:`_bin_key`, the first of each, and by application and file name alone (``(site,
    application, name)``, lower case), the first of any process: inetmgr.exe loads the assemblies of a ``bin`` only,
    so a native DLL one of them needs is the worker's load.

    NOTE: only the names some chain ends at are keyed: most plans have no chain or a few, and a key per ``bin`` file
    cost 20 ms of a 10,000-assembly scan (issue 25). Those names come from the loads that do not fit (a load with a
    chain does not: :attr:`iisbitness.loadplan.plan.Load.fits`), already indexed (:func:`mismatches`): the plan is
    walked once more only where some chain is there, not twice for every plan."""
    wanted = {_culprit_name(ld).lower() for ld in mismatches(plan, *BIN_KINDS) if ld.binary.chain}
    index: dict[tuple[object, ...], Load] = {}
    for ld in plan.loads if wanted else ():
        if ld.kind in BIN_KINDS and (low := ld.name.lower()) in wanted:
            index.setdefault(_bin_key(ld, low), ld)
            index.setdefault((ld.site, ld.application, low), ld)
    return index


def culprit(plan: LoadPlan, load: Load) -> tuple[str, str, Load | None]:
    """For a load whose binary fits but whose dependency chain ends at one that does not (``load.binary.chain``,
    e.g. ``("ManagedApp.dll", "managed_x86.dll (x86)")``): the dependency's file name, the file that needs it (the
    link before it), and the dependency's own load from the same ``bin`` in the same process and application (else in
    another process of that application: the file is the same, read the same), or None where the plan has none (found
    in the process's System32 view). The dependency search looks in the assembly's own
    folder first (:meth:`iisbitness.loadplan.context.PlanContext.dependency_chain`, facts D1), so a file of that name
    in the same ``bin`` is the one found.

    Raises:
        IndexError: ``load.binary.chain`` has fewer than two links (call it only for a load that fails through a
            dependency)."""
    chain = load.binary.chain
    name = _culprit_name(load)
    index = plan.derived("rules/bin-by-name", _bin_by_name)
    found = index.get(_bin_key(load, name)) or index.get((load.site, load.application, name.lower()))
    return name, chain[-2], found


def dependency_fix(load: Load, name: str, found: Load | None) -> Fix:
    """The remedy for the dependency ``name`` (its own load ``found``, or None) that stops ``load``: the dependency's
    own rebuild or build for ``load``'s process (:func:`rebuild_fix`, :func:`arch_build_fix`: the same fix its own
    finding offers, so the report numbers it once); never a change to ``load``'s own assembly, which fits already."""
    arch = load.process.arch
    if found is not None and found.binary.image is not None and found.binary.image.is_pe:
        return rebuild_fix(found, arch) if found.binary.image.is_managed else arch_build_fix(found, arch)
    return Fix(summary=f"Install the {arch.value} or AnyCPU build of '{name}', which '{load.binary.chain[-2]}' needs",
               label=f"the {arch.value} build of {name}",
               note=(f"'{name}' is not among the bin files read (found in {_process(load)} System32 view): CorFlags "
                     "can clear 32BITREQ only on an IL-only assembly (corflags shows ILONLY : 1), never on a mixed-mode "
                     "(C++/CLI) or native DLL."))


def _process(load: Load) -> str:
    """Whose view of System32: ``"the worker's"`` for a pool's worker, else ``"inetmgr.exe's"`` and the like."""
    return "the worker's" if load.process.pool is not None else f"{load.process.name}'s"


def dependency_cause(load: Load, name: str, needed_by: str, found: Load | None) -> str:
    """The sentences a dependency finding adds to :func:`mismatch_cause`: which file has the wrong architecture, which
    file needs it, from which ``bin``, and why the remedy is on it (CorFlags on an IL-only x86 one, facts I4; the
    build for the worker's architecture for a mixed-mode or native one, facts I7)."""
    arch = load.process.arch
    # NOTE: no second Windows path in the cause: the first (the assembly's, in mismatch_cause) names the bin folder
    if found is None:
        return (f" The file with the wrong architecture is '{name}', which '{needed_by}' needs, not among the bin "
                f"files read (found in {_process(load)} System32 view, where the loader looks next): '{load.name}' "
                "itself loads, so changing its flags or platform changes nothing.")
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


