"""iis6-extension-arch: a script-mapped IIS 6 ISAPI extension whose architecture does not fit its
process (w3wp.exe at the server-wide bitness; inetinfo.exe/dllhost.exe in IIS 5 mode).
Sources: facts D4, G2, G4 (HTTP 500 "%1 is not a valid Win32 application", 0x800700C1),
KB 895976, David Wang "HOWTO: Diagnose one cause of '%1 is not a valid Win32 application' on IIS6"."""

from __future__ import annotations

from collections.abc import Iterator

from iisbitness.findings import Finding, Severity, rule
from iisbitness.loadplan.plan import LoadKind, LoadPlan, ScriptMapGroup
from iisbitness.rules._common import fixes, import_failure, mismatch_cause, mismatches
from iisbitness.rules._iis6 import aspnet_fix, bitness_fixes, build_advice


def _paths(group: ScriptMapGroup) -> str:
    """The mapped extensions as request patterns: ``*.aspx, *.asmx``."""
    return ", ".join(f"*{e}" if e.startswith(".") else e for e in group.extensions)


@rule("iis6-extension-arch", Severity.ERROR, "A script-mapped IIS 6 ISAPI extension cannot load in its process")
def iis6_extension_arch(plan: LoadPlan) -> Iterator[Finding]:
    """Requests to the mapped extensions fail with HTTP 500; other requests work."""
    server = plan.iis6
    if server is None:
        return
    for load in mismatches(plan, LoadKind.ISAPI_EXTENSION):
        assert isinstance(load.entry, ScriptMapGroup)
        symptom = (f"HTTP 500 on requests for {_paths(load.entry)} in {', '.join(load.entry.applications)}: \"%1 is not a valid Win32 "
                   "application.\" (0x800700C1, Win32 error 193). Other requests work.")
        if (off := import_failure(load, plan.server.os_arch)) is not None:  # NOTE: ARM64EC: not error 193
            symptom = (f"HTTP 500 on requests for {_paths(load.entry)} in {', '.join(load.entry.applications)}: "
                       f"{off.failure}. Other requests work.")
        cause = mismatch_cause(load, "the ISAPI extension of script map", plan.server.os_arch) + (
            f" The ScriptMaps entry is set on {load.entry.script_map.defined_at} and inherited down the key path.")
        yield Finding.for_load(
            load, iis6_extension_arch.id, iis6_extension_arch.severity, symptom, cause,
            fixes(aspnet_fix(server, load), *bitness_fixes(server, load), build_advice(load, "ISAPI extension")),
        )
