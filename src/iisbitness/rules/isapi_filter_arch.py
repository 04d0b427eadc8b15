"""isapi-filter-arch: an ISAPI filter (server or site level) that cannot load in the worker.
Sources: facts D3 (W3SVC-WP 2274 + 2268, data c1 00 00 00, then 503), KB 895976."""

from __future__ import annotations

from collections.abc import Iterator

from iisbitness.arch import sort_arches
from iisbitness.config.precondition import add_token, bitness_token_for
from iisbitness.findings import Finding, Severity, rule
from iisbitness.fixes.commands import filter_precondition
from iisbitness.loadplan.plan import LoadKind, LoadPlan
from iisbitness.model.iis7 import IsapiFilter
from iisbitness.rules._common import build_fix, fixes, flip_fix, loader_arch_name, mismatch_cause, mismatches


@rule("isapi-filter-arch", Severity.ERROR, "An ISAPI filter cannot load in its worker process")
def isapi_filter_arch(plan: LoadPlan) -> Iterator[Finding]:
    """The site's worker fails at start: HTTP 503, and the pool is disabled."""
    for load in mismatches(plan, LoadKind.ISAPI_FILTER):
        assert load.process.pool is not None and load.binary.arches
        bin_arch = sort_arches(load.binary.arches)[0]
        symptom = (f"HTTP 503 Service Unavailable on site '{load.site}' (pool '{load.process.pool.name}'): W3SVC-WP "
                   f"event 2274 \"ISAPI Filter '{load.binary.windows_path}' could not be loaded due to a configuration "
                   f"problem. The current configuration only supports loading images built for a "
                   f"{loader_arch_name(load.process.arch)} processor architecture\" and 2268 \"Could not load all ISAPI "
                   f"filters for site '{load.site}'\" (data c1 00 00 00 = error 193); rapid-fail protection then "
                   "disables the pool (WAS event 5002).")
        assert isinstance(load.entry, IsapiFilter)
        declared_for = load.entry.site or None
        precondition = add_token(load.entry.precondition, bitness_token_for(bin_arch))
        yield Finding.for_load(
            load, isapi_filter_arch.id, isapi_filter_arch.severity, symptom, mismatch_cause(load, "ISAPI filter"),
            fixes(filter_precondition(load.name, precondition, declared_for),
                  flip_fix(plan, load), build_fix(load, "ISAPI filter")),
        )
