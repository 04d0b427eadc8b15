"""global-module-arch: a global native module that passes the pool's preConditions but cannot
load in its worker. Sources: facts D2 (W3SVC-WP 2280/2282, WAS 5002, rapid-fail protection),
"IIS Worker Process Availability" (technet dd349192). The symptom is HTTP 503, never KB 942055's HTTP 500.19 with
0x800700C1: that page comes from a worker serving a request, so its module is one loaded for requests (a compression
scheme DLL: compression-scheme-arch), while a global module fails the worker at start (docs/rules/global-module-arch.md
names the sources)."""

from __future__ import annotations

from collections.abc import Iterator

from iisbitness.arch import Arch, sort_arches
from iisbitness.config.precondition import restrict_to_bitness
from iisbitness.findings import Finding, Fix, Severity, rule
from iisbitness.fixes import iisexpress
from iisbitness.fixes.commands import global_module_precondition, global_module_precondition_lines
from iisbitness.loadplan.plan import LoadKind, LoadPlan
from iisbitness.model.iis7 import GlobalModule
from iisbitness.rules._common import (
    build_fix,
    fixes,
    flip_fix,
    import_failure,
    loader_arch_name,
    mismatch_cause,
    mismatches,
    module_failing_pools,
)


def _broken_pools(plan: LoadPlan) -> dict[str, tuple[str, ...]]:
    """Per global module name, the declared pools whose worker it does not fit, sorted."""
    return module_failing_pools(plan, lambda ld: ld.fits is False)


# NOTE: IIS Express: iis-express-facts.md section 5 (dotnet/aspnetcore #1067, tjanczuk/iisnode #523)
@rule("global-module-arch", Severity.ERROR, "A global native module cannot load in its worker process",
      iisexpress_detail=("The iisexpress.exe does not start (\"Error loading global modules. hr = 800700c1 ... Unable "
                         "to start iisexpress.\"), so F5 fails for every project it runs."))
def global_module_arch(plan: LoadPlan) -> Iterator[Finding]:
    """Every site in the pool gets HTTP 503; rapid-fail protection then disables the pool."""
    # NOTE: one Fix object per module, per pool flip and per build advice, not one per finding: the preCondition fix
    # names every pool it stops, and a server of 10,000 pools has 40,000 such findings (issue 25)
    made: dict[tuple[str, str], Fix] = {}
    flips: dict[tuple[str, bool, Arch, frozenset[Arch]], Fix | None] = {}
    builds: dict[tuple[Arch, str], Fix] = {}
    for load in mismatches(plan, LoadKind.GLOBAL_MODULE):
        assert load.process.pool is not None and load.binary.arches is not None
        pool = load.process.pool.name
        # NOTE: none for a binary no process of the server loads (IA64, ARM32, ARM64X on x64 Windows): no preCondition
        # then makes a worker load it
        bin_arch = sort_arches(load.binary.arches)[0] if load.binary.arches else None
        symptom = (f"HTTP 503 Service Unavailable on every site in pool '{pool}': the worker fails at start "
                   f"(W3SVC-WP event 2282 \"The Module DLL '{load.binary.windows_path}' could not be loaded due to a "
                   f"configuration problem. The current configuration only supports loading images built for a "
                   f"{loader_arch_name(load.process.arch)} processor architecture\"), and rapid-fail protection "
                   f"disables the pool (WAS event 5002).")
        if (off := import_failure(load, plan.server.os_arch)) is not None:
            # NOTE: W3SVC-WP 2280 gives the Win32 error, not 2282's architecture words (facts D2)
            symptom = (f"HTTP 503 Service Unavailable on every site in pool '{pool}': the worker fails at start, its "
                       f"load of the module failing with {off.failure} (W3SVC-WP event 2280 \"The Module DLL "
                       f"'{load.binary.windows_path}' failed to load. The data is the error.\"), and rapid-fail "
                       "protection disables the pool (WAS event 5002).")
        if plan.iisexpress is not None:  # NOTE: no WAS in IIS Express: the process itself fails to start (facts sheet
            # iis-express-facts.md section 5, dotnet/aspnetcore #1067, iisnode #523)
            symptom = (f"The {load.process.arch.value} iisexpress.exe does not start (\"Failed processing with hr = 800700c1 "
                       "... Error loading global modules ... Unable to start iisexpress.\"), so F5 fails for every project "
                       f"it runs; Application log: \"The Module DLL '{load.binary.windows_path}' could not be loaded ... only "
                       f"supports loading images built for a {loader_arch_name(load.process.arch)} processor architecture\".")
            if off is not None:
                symptom = (f"The {load.process.arch.value} iisexpress.exe does not start (\"Failed processing with hr = "
                           f"{off.error[2:].lower()} ... Error loading global modules ... Unable to start iisexpress.\"), "
                           f"so F5 fails for every project it runs: its load of '{load.binary.windows_path}' fails with "
                           f"{off.failure}.")
        assert isinstance(load.entry, GlobalModule)
        precondition = None if bin_arch is None else restrict_to_bitness(load.entry.precondition, bin_arch)
        if precondition is None:
            restrict = None
        elif plan.iisexpress is not None:
            restrict = iisexpress.with_iisexpress_appcmd(
                global_module_precondition(load.name, precondition, server=plan.server), plan.iisexpress,
                global_module_precondition_lines(load.name, precondition, plan.server))
        else:
            # NOTE: a pool only an application names (undeclared) does not exist to be started: its 503 stays
            broken = plan.derived("global-module-arch:broken", _broken_pools).get(load.name, ())
            restrict = made.get((load.name, precondition))
            if restrict is None:
                restrict = made[load.name, precondition] = global_module_precondition(load.name, precondition, broken,
                                                                                      plan.server)
        if plan.iisexpress is not None:
            flip = flip_fix(plan, load)
        else:
            key = (pool, load.process.pool.declared, load.process.arch, load.binary.arches)
            flip = flips[key] if key in flips else flips.setdefault(key, flip_fix(plan, load))
        build = builds.get((load.process.arch, load.name))
        if build is None:
            build = builds[load.process.arch, load.name] = build_fix(load, "global module")
        yield Finding.for_load(
            load, global_module_arch.id, global_module_arch.severity, symptom,
            mismatch_cause(load, "global module", plan.server.os_arch),
            fixes(restrict, flip, build),
        )
