"""isapi-filter-arch: an ISAPI filter (server or site level) that cannot load in the worker.

On IIS 7 and later the site's requests get the HTTP 500.0 error page "Calling LoadLibraryEx on
ISAPI filter "..." failed" (0x800700C1, Win32 error 193) and the pool stays up: it is not
disabled. A 503 and an aborted site start (W3SVC-WP event 2268) are the IIS 6 behaviour, reported
by ``iis6-filter-arch``. Sources: David Wang, "HOWTO: Diagnose and Fix Common ISAPI Filter
Installation Failures" (LA/david.wang); KB 895976 (IIS 6, event 2268); field reports of the 500.0
page (explain knowledge entry ``loadlibraryex-isapi-filter``); W3SVC-WP 2274, "IIS ISAPI
Functionality" (technet cc735105)."""

from __future__ import annotations

from collections.abc import Iterator

from iisbitness.arch import sort_arches
from iisbitness.config.precondition import restrict_to_bitness
from iisbitness.findings import Finding, Fix, Severity, rule
from iisbitness.fixes import iisexpress
from iisbitness.fixes.commands import filter_precondition
from iisbitness.loadplan.plan import LoadKind, LoadPlan
from iisbitness.model.iis7 import IsapiFilter
from iisbitness.rules import _common as common
from iisbitness.rules._common import build_fix, fixes, flip_fix, loader_arch_name, mismatch_cause, mismatches


@rule("isapi-filter-arch", Severity.ERROR, "An ISAPI filter cannot load in its worker process",
      iisexpress_detail="The site's requests fail with HTTP 500.0 \"Calling LoadLibraryEx on ISAPI filter ... failed\".")
def isapi_filter_arch(plan: LoadPlan) -> Iterator[Finding]:
    """The site's requests fail with HTTP 500.0 "Calling LoadLibraryEx on ISAPI filter ... failed"; the pool stays up."""
    for load in mismatches(plan, LoadKind.ISAPI_FILTER):
        assert load.process.pool is not None and load.binary.arches is not None
        # NOTE: none for a binary no process of the server loads (IA64, ARM32, ARM64X on x64 Windows): no preCondition
        # then makes a worker load it
        bin_arch = sort_arches(load.binary.arches)[0] if load.binary.arches else None
        symptom = (f"HTTP Error 500.0 - Internal Server Error on every request to site '{load.site}' (pool "
                   f"'{load.process.pool.name}'): \"Calling LoadLibraryEx on ISAPI filter "
                   f"\"{load.binary.windows_path}\" failed\" (error code 0x800700C1, Win32 error 193). The pool "
                   "stays up (it is not disabled); W3SVC-WP event 2274 may name the filter: \"...only supports "
                   f"loading images built for a {loader_arch_name(load.process.arch)} processor architecture\".")
        if (off := common.import_failure(load, plan.server.os_arch)) is not None:  # NOTE: no 2274 architecture words
            symptom = symptom.split(" (error code", 1)[0] + f" (error code {off.error}): {off.failure}. The pool stays up."
        assert isinstance(load.entry, IsapiFilter)
        declared_for = load.entry.site or None
        precondition = None if bin_arch is None else restrict_to_bitness(load.entry.precondition, bin_arch)
        restrict: Fix | None = None
        if precondition is not None:
            restrict, lines = filter_precondition(load.name, precondition, declared_for,
                                                  in_web_config=load.entry.source.file != plan.server.config_file)
            if plan.iisexpress is not None:  # NOTE: IIS Express: its appcmd.exe
                restrict = iisexpress.with_iisexpress_appcmd(restrict, plan.iisexpress, lines)
        yield Finding.for_load(
            load, isapi_filter_arch.id, isapi_filter_arch.severity, symptom, mismatch_cause(load, "ISAPI filter", plan.server.os_arch),
            fixes(restrict, flip_fix(plan, load), build_fix(load, "ISAPI filter")),
        )
