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

from iisbitness.arch import Arch, format_arches
from iisbitness.findings import Finding, Fix, Severity, rule
from iisbitness.loadplan.plan import Load, LoadKind, LoadPlan
from iisbitness.pe.types import PeImage
from iisbitness.rules._assembly import culprit, dependency_cause, dependency_fix, rebuild_fix
from iisbitness.rules._common import mismatches


@rule("iis-manager-32bit-assembly", Severity.WARNING,
      "A 32-bit-only assembly in bin breaks IIS Manager's Add Managed Handler/Module dialogs")
def iis_manager_32bit_assembly(plan: LoadPlan) -> Iterator[Finding]:
    """IIS Manager (64-bit) loads every bin assembly to list types, and fails on 32-bit ones (or on an assembly
    whose dependency is one)."""
    seen: set[str] = set()
    for load in mismatches(plan, LoadKind.BIN_ASSEMBLY):
        if load.process.name != "inetmgr.exe" or not load.process.arch.is_64bit:
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
        # NOTE: the architecture, not only the width: an x64-only assembly in ARM64 Windows' (64-bit) IIS Manager
        # read "platform x64 ..., which a 64-bit process cannot load"
        process = f"a {load.process.arch.bits}-bit ({load.process.arch.value}) process"
        what = f"'{load.name}' is {load.binary.image.describe()}"
        remedy = rebuild_fix(load)
        wrong: PeImage | None = load.binary.image
        if load.binary.chain:
            # NOTE: the assembly loads; the file with the wrong architecture is the dependency, and so is the remedy
            name, needed_by, found = culprit(plan, load)
            wrong = found.binary.image if found is not None else None
            what += (f", which {process} loads, but it needs a dependency {process} cannot load: "
                     f"{' -> '.join(load.binary.chain)}.{dependency_cause(load, name, needed_by, found)}")
            remedy = dependency_fix(load, name, found)
        else:
            what += f", which {process} cannot load."
        # NOTE: "the site itself is not affected" said just before "IIS refuses this application's configuration"
        # read as "the site works" (review13 R10): said only where IIS takes the configuration
        refused = _refused_first(plan, load)
        cause = (f"IIS Manager (inetmgr.exe, {load.process.arch.value}) loads every assembly in bin to list handler and "
                 f"module types; {what} By design (KB 3194551)"
                 + (f".{refused}" if refused else "; the site itself is not affected by this."))
        yield Finding.for_load(load, iis_manager_32bit_assembly.id, iis_manager_32bit_assembly.severity, symptom, cause,
                               (_console_fix(load, wrong), remedy))


def _refused_first(plan: LoadPlan, load: Load) -> str:
    """What the finding assumes when IIS refuses the configuration of ``load``'s application (:attr:`Application.refused`:
    a web.config, or applicationHost.config at a ``<location path>``; HTTP 500.19 for every request of it), else "" (the
    cause then says the site itself is not affected, which a refused application's is). IIS Manager reads the same
    configuration files, and a Microsoft engineer showed its Configuration Editor answering such a folder with the configuration error ("There was an error
    while performing this operation. Details: The data is invalid. (Exception from HRESULT: 0x8007000D)",
    github.com/Azure/App-Service-Migration-Assistant/issues/81); whether its Handler Mappings and Modules pages show
    that error before their Add Managed dialogs load the ``bin`` assemblies is documented nowhere (KB 3194551 describes
    a configuration IIS takes), so the finding is kept and says that it assumes the dialogs are reached."""
    app = next((a for site in plan.server.sites if site.name == load.site for a in site.applications
                if a.path == load.application), None)
    if app is None or app.refused is None:
        return ""
    return (f" IIS refuses this application's configuration ({app.refused.where}: HTTP 500.19); IIS Manager reads the "
            "same files and shows that configuration error where one of its pages reads them (its Configuration "
            "Editor does: github.com/Azure/App-Service-Migration-Assistant/issues/81). Whether its Handler Mappings "
            "and Modules pages reach these dialogs before that file is corrected is not documented: this finding "
            "ASSUMES they do, and says what the dialogs do once it is.")


def _console_fix(load: Load, wrong: PeImage | None) -> Fix:
    """KB 3194551's workaround, IIS Manager as a 32-bit console (``mmc.exe /32 iis.msc``), where a 32-bit process can
    load the assembly of ``load`` and ``wrong``, the file inetmgr.exe cannot load (the assembly, or the dependency in
    its ``bin``; None where the dependency was found in System32, which a 32-bit console sees as SysWOW64, facts E1).
    Else (an x64-only assembly on ARM64 Windows, an ARM64-only one on x64 Windows) no console the server has loads it:
    IIS Manager runs at the OS's architecture (facts F1; ARM64 on ARM64 Windows) and the console the KB offers besides
    it is 32-bit x86 (under WOW64, also on ARM64 Windows: "How emulation works on Arm", learn.microsoft.com, facts A7),
    so neither can list its types; the fix is then the handler or module typed by hand in web.config, the entry those
    dialogs only write (advisory, no command), beside the file's rebuild."""
    img = load.binary.image
    if all(f is None or Arch.X86 in f.loadable_by for f in (img, wrong)):
        return Fix(summary="Open IIS Manager as a 32-bit console for these dialogs (elevated prompt)",
                   label="IIS Manager as a 32-bit console",
                   commands=("mmc.exe /32 iis.msc",), powershell=("mmc.exe /32 iis.msc",),
                   note="Workaround from KB 3194551; or type the handler/module by hand in web.config.")
    shown = wrong if wrong is not None else img
    loads = format_arches(shown.loadable_by) if shown is not None else "unknown"
    return Fix(summary="Add the managed handler/module to web.config by hand (no IIS Manager console loads the file)",
               label="the handler/module typed in web.config",
               note=(f"The file IIS Manager cannot load loads in: {loads}; IIS Manager runs at "
                     f"{load.process.arch.value} and the console KB 3194551 offers besides it (mmc.exe /32 iis.msc) is "
                     "32-bit x86, so neither lists its types. Add the <add name=... type=...> entry under "
                     "system.webServer/handlers or modules in web.config, or rebuild the file (below)."))
