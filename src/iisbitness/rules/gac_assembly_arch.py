"""gac-assembly-arch: a strong-named assembly the configuration names is in the Global Assembly Cache only for
another architecture, or its GAC copy cannot be loaded by the pool's CLR.

The CLR binds a fully specified assembly name in the GAC of its own processor architecture and the neutral one
(GAC_32 or GAC_64, then GAC_MSIL), then probes ``bin``: a copy only in the other architecture's folder is never
seen, so the application fails with FileNotFoundException "Could not load file or assembly 'Name,
Version=…' or one of its dependencies. The system cannot find the file specified." (0x80070002), not with
BadImageFormatException. Sources: "How the Runtime Locates Assemblies" (learn.microsoft.com); Junfeng Zhang,
"GAC, Assembly ProcessorArchitecture, and Probing"; "Global Assembly Cache" and "Gacutil.exe (Global Assembly
Cache Tool)" (learn.microsoft.com). See :mod:`iisbitness.loadplan.collectors.gac`."""

from __future__ import annotations

from collections.abc import Iterator

from iisbitness.arch import format_arches
from iisbitness.findings import Finding, Fix, Severity, rule
from iisbitness.loadplan.plan import GacAssembly, Load, LoadKind, LoadPlan
from iisbitness.rules._common import fixes, flip_fix, mismatch_cause, split_fix


def _fails(load: Load, entry: GacAssembly) -> str:
    """What fails, by the section that names the assembly."""
    app = f"{load.site}{load.application}"
    section = entry.managed.section
    if section.endswith(("modules", "httpModules")):
        return f"every request to {app} fails (the module '{entry.managed.name}' cannot be created)"
    if section.endswith(("handlers", "httpHandlers")):
        return f"requests to {app} mapped to handler '{entry.managed.name}' fail"
    return f"pages of {app} fail to compile"


def install_fix(load: Load, entry: GacAssembly) -> Fix:
    """The advice for a GAC assembly the worker of ``load`` cannot use: install the AnyCPU (MSIL) or the worker's
    architecture build of ``entry``'s assembly, or copy that build into the application's ``bin``.

    Returns:
        A :class:`~iisbitness.findings.Fix` with ``summary``, ``label`` and ``note`` only: no command and no
        model edit (the build comes from the vendor), so ``verified`` stays None.

    Sources: a 64-bit worker binds from ``GAC_64`` then ``GAC_MSIL``, a 32-bit one from ``GAC_32`` then
    ``GAC_MSIL`` (domain facts addition G1, I10); Gacutil.exe is installed with Visual Studio and the Windows SDK and is
    for development only, installers use Windows Installer (learn.microsoft.com "Gacutil.exe (Global Assembly
    Cache Tool)" ex0ss12c, "How to: Install an Assembly into the Global Assembly Cache" dkkx7f79).
    """
    arch = load.process.arch
    return Fix(summary=f"Install the AnyCPU (MSIL) or {arch.value} build of '{entry.assembly.name}' into the GAC "
                       f"(the vendor's {arch.bits}-bit installer, or gacutil /i on that build), or copy that build into "
                       "the application's bin",
               label=f"install its AnyCPU or {arch.value} build",
               note="gacutil.exe comes with the Windows SDK, not with the .NET Framework: installers use it (or the "
                    "Windows Installer) on build machines; a GAC folder must not be copied by hand.")


@rule("gac-assembly-arch", Severity.ERROR, "An assembly the configuration names is in the GAC only for another "
                                           "architecture, or cannot be loaded by the pool's CLR",
      iisexpress=("An assembly the configuration names is in the GAC only for another architecture, or cannot be "
                  "loaded by the CLR of the iisexpress.exe that runs it"))
def gac_assembly_arch(plan: LoadPlan) -> Iterator[Finding]:
    """The application fails with FileNotFoundException (only in the other architecture's GAC) or
    BadImageFormatException (its GAC copy does not fit)."""
    for load in plan.loads_of(LoadKind.GAC_ASSEMBLY):
        entry = load.entry
        if load.process.pool is None or not isinstance(entry, GacAssembly):
            continue
        asm = entry.assembly
        where = f"{entry.managed.section} at {entry.managed.source}"
        if not entry.in_view:
            arches = format_arches(load.binary.arches or frozenset())
            symptom = (f"{_fails(load, entry)}: System.IO.FileNotFoundException \"Could not load file or assembly "
                       f"'{asm.display}' or one of its dependencies. The system cannot find the file specified.\"")
            cause = (f"{where} names '{asm.display}'. It is installed only in {entry.found_in} ({load.binary.resolved}, "
                     f"loads in {arches}), which {load.process.describe()} never looks in: its CLR looks in "
                     f"{', '.join(entry.searched)}, then the application's bin, and none holds it.")
        elif load.fits is False:
            symptom = (f"{_fails(load, entry)}: System.BadImageFormatException \"Could not load file or assembly "
                       f"'{asm.display}' or one of its dependencies. An attempt was made to load a program with an "
                       "incorrect format.\" (0x8007000B)")
            cause = f"{where} names it; the CLR binds it from {entry.found_in}. " + mismatch_cause(load, "the assembly", plan.server.os_arch)
        else:
            continue
        yield Finding.for_load(load, gac_assembly_arch.id, gac_assembly_arch.severity, symptom, cause,
                               fixes(flip_fix(plan, load), split_fix(plan, load), install_fix(load, entry)))
