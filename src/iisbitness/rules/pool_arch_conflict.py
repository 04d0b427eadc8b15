"""pool-arch-conflict: one pool hosts applications that need different architectures.
No value of enable32BitAppOnWin64 serves them all; the fix is a new pool for one side.
Source: facts A4 (each pool has one worker architecture), D1."""

from __future__ import annotations

from collections.abc import Iterator

from iisbitness.arch import Arch, format_arches
from iisbitness.findings import Finding, Severity, rule
from iisbitness.fixes.commands import move_to_new_pool
from iisbitness.loadplan.plan import Evidence, LoadPlan, PoolOutlook
from iisbitness.rules._common import new_pool_name


def _ok_arches(outlook: PoolOutlook, label: str) -> frozenset[Arch]:
    """Architectures at which application ``label`` has no failing load."""
    return frozenset(a for a in outlook.candidates if all(app != label for app, _ in outlook.failures_at(a)))


@rule("pool-arch-conflict", Severity.ERROR, "One application pool hosts applications that need different architectures")
def pool_arch_conflict(plan: LoadPlan) -> Iterator[Finding]:
    """Whatever the pool's bitness, one of its applications fails."""
    for outlook in plan.outlook:
        pool = plan.server.pool(outlook.pool)
        assert pool is not None
        apps = {a.label: a for a in plan.server.applications_in(pool)}
        ok = {label: _ok_arches(outlook, label) for label in apps}
        if len(apps) < 2 or not all(ok.values()) or frozenset.intersection(*ok.values()):
            continue  # one app alone, an app that fails everywhere, or an architecture that serves all
        move = [label for label, arches in ok.items() if outlook.current not in arches]
        target = next((a for a in outlook.candidates if a is not outlook.current and all(a in ok[m] for m in move)), None)
        if not move or target is None:
            continue
        needs = "; ".join(f"{label} loads only at {format_arches(ok[label])}" for label in sorted(apps))
        binaries = sorted({b for a in outlook.candidates for _, b in outlook.failures_at(a)})
        # NOTE: an application whose bin was not listed shows no failure anywhere: said, not taken as fitting everywhere
        unread = sorted({f"{app} at {a.value} ({why})" for a in outlook.candidates for app, why in outlook.unread_at(a)})
        unjudged = (f" Not judged: the bin folder of {'; '.join(unread)} could not be listed whole, so where it can "
                    "run is unknown." if unread else "")
        fix = move_to_new_pool(tuple((apps[m].site, apps[m].path) for m in move),
                               new_pool_name(plan, f"{pool.name} ({target.value})"),
                               target, pool.name, pool.managed_runtime_version, pool.pipeline_mode.value,
                               plan.server.os_arch, like=pool)
        yield Finding(
            rule=pool_arch_conflict.id, severity=pool_arch_conflict.severity, evidence=Evidence.READ,
            pool=pool.name, site=None, application=None, process="w3wp.exe", process_arch=outlook.current,
            binary=None, resolved=None, binary_arch=(), config=pool.source,
            symptom=(f"An application of pool '{pool.name}' fails whichever bitness the pool runs at: changing "
                     "enable32BitAppOnWin64 fixes one application and breaks another."),
            cause=f"A worker process has one architecture. {needs}. Binaries involved: {', '.join(binaries)}.{unjudged}",
            fixes=(fix,),
        )
