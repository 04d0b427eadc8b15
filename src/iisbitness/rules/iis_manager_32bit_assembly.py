"""iis-manager-32bit-assembly: an assembly in bin that IIS Manager (inetmgr.exe) cannot load breaks its dialogs.
Source: KB 3194551 (SupportArticles-docs error-when-you-configure-32-bit-handlers.md), facts F1/F2;
the dialog's text is quoted as the KB gives it: "There was an error performing this operation."

An assembly that fits inetmgr.exe but needs one that does not (``Load.binary.chain``, facts D1, D5): the finding
names the dependency with the wrong architecture and the file that needs it, and the remedy is the dependency's own by
its kind, as managed-assembly-arch gives it (:mod:`iisbitness.rules._assembly`): CorFlags on an IL-only x86 one
(``/Force`` and a new signature when strong-named), the build for inetmgr.exe's architecture of a mixed-mode or
native one, a rebuild of an IL-only PE32+ one; never a change to the assembly itself, which loads. """

from __future__ import annotations

from collections.abc import Iterator

from iisbitness.findings import Finding, Fix, Severity, rule
from iisbitness.loadplan.plan import LoadKind, LoadPlan
from iisbitness.rules._assembly import culprit, dependency_cause, dependency_fix, rebuild_fix


@rule("iis-manager-32bit-assembly", Severity.WARNING,
      "A 32-bit-only assembly in bin breaks IIS Manager's Add Managed Handler/Module dialogs")
def iis_manager_32bit_assembly(plan: LoadPlan) -> Iterator[Finding]:
    """IIS Manager (64-bit) loads every bin assembly to list types, and fails on 32-bit ones (or on an assembly
    whose dependency is one)."""
    seen: set[str] = set()
    for load in plan.loads_of(LoadKind.BIN_ASSEMBLY):
        if load.process.name != "inetmgr.exe" or load.fits is not False or not load.process.arch.is_64bit:
            continue
        if load.binary.image is None or not load.binary.image.is_managed:
            continue
        key = (load.binary.resolved or load.name).lower()
        if key in seen:
            continue
        seen.add(key)
        # NOTE: the headline (up to the colon) fits one line at 100 columns; the menu items follow it
        symptom = (f"IIS Manager's Add Managed Handler/Module dialogs fail for {load.site}{load.application}: "
                   "Handler Mappings / Modules > 'Add Managed Handler...' or 'Add Managed Module...' shows "
                   "\"There was an error performing this operation. "
                   "Details: ... This method cannot be called during the application's pre-start initialization phase.\"")
        process = f"a {load.process.arch.bits}-bit process"
        what = f"'{load.name}' is {load.binary.image.describe()}"
        remedy = rebuild_fix(load)
        if load.binary.chain:
            # NOTE: the assembly loads; the file with the wrong architecture is the dependency, and so is the remedy
            name, needed_by, found = culprit(plan, load)
            what += (f", which {process} loads, but it needs a dependency {process} cannot load: "
                     f"{' -> '.join(load.binary.chain)}.{dependency_cause(load, name, needed_by, found)}")
            remedy = dependency_fix(load, name, found)
        else:
            what += f", which {process} cannot load."
        cause = (f"IIS Manager (inetmgr.exe, {load.process.arch.value}) loads every assembly in bin to list handler and "
                 f"module types; {what} By design (KB 3194551); the site itself is not affected by this.")
        yield Finding.for_load(load, iis_manager_32bit_assembly.id, iis_manager_32bit_assembly.severity, symptom, cause, (
            Fix(summary="Open IIS Manager as a 32-bit console for these dialogs (elevated prompt)",
                label="IIS Manager as a 32-bit console",
                commands=("mmc.exe /32 iis.msc",), powershell=("mmc.exe /32 iis.msc",),
                note="Workaround from KB 3194551; or type the handler/module by hand in web.config."),
            remedy,
        ))
