"""iis-manager-32bit-assembly: a 32-bit-only assembly in bin breaks IIS Manager's dialogs.
Source: KB 3194551 (SupportArticles-docs error-when-you-configure-32-bit-handlers.md), facts F1/F2;
the dialog's text is quoted as the KB gives it: "There was an error performing this operation." """

from __future__ import annotations

from collections.abc import Iterator

from iisbitness.findings import Finding, Fix, Severity, rule
from iisbitness.loadplan.plan import LoadKind, LoadPlan


@rule("iis-manager-32bit-assembly", Severity.WARNING,
      "A 32-bit-only assembly in bin breaks IIS Manager's Add Managed Handler/Module dialogs")
def iis_manager_32bit_assembly(plan: LoadPlan) -> Iterator[Finding]:
    """IIS Manager (64-bit) loads every bin assembly to list types, and fails on 32-bit ones."""
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
        cause = (f"IIS Manager (inetmgr.exe, {load.process.arch.value}) loads every assembly in bin to list handler and "
                 f"module types; '{load.name}' is {load.binary.image.describe()}, which a {load.process.arch.bits}-bit "
                 "process cannot load. By design (KB 3194551); the site itself is not affected by this.")
        yield Finding.for_load(load, iis_manager_32bit_assembly.id, iis_manager_32bit_assembly.severity, symptom, cause, (
            Fix(summary="Open IIS Manager as a 32-bit console for these dialogs (elevated prompt)",
                label="IIS Manager as a 32-bit console",
                commands=("mmc.exe /32 iis.msc",), powershell=("mmc.exe /32 iis.msc",), note="Workaround from KB 3194551."),
            Fix(summary=f"Type the handler/module by hand in web.config, or rebuild '{load.name}' as AnyCPU",
                label="type it in web.config, or rebuild as AnyCPU"),
        ))
