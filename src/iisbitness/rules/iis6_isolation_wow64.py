"""iis6-isolation-wow64: IIS 5 isolation mode together with Enable32BitAppOnWin64 on 64-bit IIS 6.
Sources: facts G4, G5 (32-bit workers need worker process isolation; filters and in-process
applications load into inetinfo.exe, which is 64-bit only; W3SVC then fails to start with Win32
error 193), David Wang "HOWTO: Diagnose one cause of W3SVC failing to start with Win32 Error 193"."""

from __future__ import annotations

from collections.abc import Iterator

from iisbitness.arch import Arch
from iisbitness.findings import Finding, RuleId, Severity, rule
from iisbitness.fixes.commands_iis6 import switch_workers, worker_isolation
from iisbitness.loadplan.plan import Evidence, LoadKind, LoadPlan


@rule("iis6-isolation-wow64", Severity.ERROR,
      "IIS 6 runs in IIS 5 isolation mode with Enable32BitAppOnWin64 set: an invalid combination")
def iis6_isolation_wow64(plan: LoadPlan) -> Iterator[Finding]:
    """W3SVC does not start (IIS 5 mode for certain), or may not (isolation mode not set: a warning)."""
    server = plan.iis6
    if server is None or not server.enable_32bit_app_on_win64 or not server.os_arch.is_64bit or server.iis5_isolation_mode_enabled is False:
        return
    known = server.iis5_isolation_mode_enabled is True
    bad = sorted({ld.binary.windows_path or ld.binary.configured for ld in plan.loads_of(LoadKind.ISAPI_FILTER)
                  if ld.process.name == "inetinfo.exe" and ld.fits is False})
    cause = (f"Enable32BitAppOnWin64 is set ({server.enable_32bit_from}), so ASP.NET and other 32-bit components are "
             "registered for 32-bit workers, but IIS 5 isolation mode has no worker processes: ISAPI filters and "
             f"in-process applications load into inetinfo.exe, which is always {server.os_arch.value} (64-bit). "
             "32-bit worker processes require worker process isolation mode.")
    if bad:
        cause += f" 32-bit filters inetinfo.exe cannot load: {', '.join(bad)}."
    if not known:
        cause = ("IIs5IsolationModeEnabled is not set on /LM/W3SVC; its schema default is TRUE (IIS 5 isolation "
                 "mode), though clean installs run worker process isolation. If the server is in IIS 5 mode: " + cause)
    symptom = ("W3SVC (World Wide Web Publishing) fails to start: 'net start w3svc' reports \"System error 193 has "
               "occurred. *** is not a valid Win32 application.\"; the System/Application log shows \"Could not load "
               "all ISAPI filters for site/service. Therefore startup aborted.\" and filters that can only load in "
               "AMD64 processes; aspnet_regiis may log 8007041d. Every site is down.")
    if not known:
        symptom = "If IIS 5 isolation mode is in effect (check with adsutil.vbs GET W3SVC/IIs5IsolationModeEnabled): " + symptom
    yield Finding(
        rule=RuleId(iis6_isolation_wow64.id), severity=Severity.ERROR if known else Severity.WARNING,
        evidence=Evidence.READ if known else Evidence.UNKNOWN, pool=None, site=None, application=None,
        process="inetinfo.exe", process_arch=server.os_arch, binary=None, resolved=None, binary_arch=(),
        config=server.iis5_isolation_mode_source, symptom=symptom, cause=cause,
        fixes=(worker_isolation(), switch_workers(server, Arch.X64 if server.os_arch is Arch.X64 else server.os_arch)),
    )
