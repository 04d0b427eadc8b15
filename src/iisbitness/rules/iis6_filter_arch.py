"""iis6-filter-arch: an IIS 6 ISAPI filter (global or site) whose architecture does not fit the
process that loads it: w3wp.exe at the server-wide bitness, or inetinfo.exe in IIS 5 mode.
Sources: facts D3, G4, G5 (W3SVC-WP 2274/2268, data c1 00 00 00, then 503; in IIS 5 mode W3SVC
fails with error 193), KB 895976, David Wang "HOWTO: Diagnose one cause of 503 ... on IIS6 on 64bit"."""

from __future__ import annotations

from collections.abc import Iterator

from iisbitness.findings import Finding, Severity, rule
from iisbitness.loadplan.plan import Iis6IsapiFilter, LoadKind, LoadPlan
from iisbitness.rules._common import fixes, import_failure, mismatch_cause, mismatches
from iisbitness.rules._iis6 import aspnet_fix, bitness_fixes, build_advice


@rule("iis6-filter-arch", Severity.ERROR, "An IIS 6 ISAPI filter cannot load in the process that loads it")
def iis6_filter_arch(plan: LoadPlan) -> Iterator[Finding]:
    """In worker isolation the worker fails at start (503); in IIS 5 mode W3SVC does not start."""
    server = plan.iis6
    if server is None:
        return
    for load in mismatches(plan, LoadKind.ISAPI_FILTER):
        path = load.binary.windows_path or load.binary.configured
        if load.process.name == "w3wp.exe":
            assert load.process.pool is not None
            symptom = (f"HTTP 503 Service Unavailable on the sites of pool '{load.process.pool.name}': the worker fails "
                       f"at start; W3SVC-WP event 2274 (ISAPI filter '{path}' can only load in another processor "
                       "architecture) and 2268 \"Could not load all ISAPI filters for site/service. Therefore startup "
                       "aborted.\" (data c1 00 00 00 = error 193); after repeated failures the pool is disabled.")
        else:
            symptom = ("W3SVC does not start: \"System error 193 has occurred. *** is not a valid Win32 application.\"; "
                       f"the event log shows \"Could not load all ISAPI filters for site/service\" for '{path}'.")
        if (off := import_failure(load, plan.server.os_arch)) is not None:
            # NOTE: ARM64EC in an x64 process: the loader maps it (Machine AMD64) and fails on an import, not with
            # error 193 nor event 2274's "another processor architecture"
            symptom = (symptom.split(": the worker fails at start; ", 1)[0] + ": the worker fails at start; W3SVC-WP "
                       "event 2268 \"Could not load all ISAPI filters for site/service. Therefore startup aborted.\" for "
                       f"'{path}' ({off.failure}); after repeated failures the pool is disabled."
                       if load.process.name == "w3wp.exe" else
                       "W3SVC does not start: the event log shows \"Could not load all ISAPI filters for site/service\" "
                       f"for '{path}' ({off.failure}).")
        assert isinstance(load.entry, Iis6IsapiFilter)
        cause = mismatch_cause(load, f"the {load.entry.level} ISAPI filter", plan.server.os_arch)
        yield Finding.for_load(
            load, iis6_filter_arch.id, iis6_filter_arch.severity, symptom, cause,
            fixes(aspnet_fix(server, load), *bitness_fixes(server, load), build_advice(load, "ISAPI filter")),
        )
