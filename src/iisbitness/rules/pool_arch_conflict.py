"""pool-arch-conflict: one pool hosts applications that need different architectures.
No value of enable32BitAppOnWin64 serves them all; the fix is a new pool for one side.
Source: facts A4 (each pool has one worker architecture), D1."""

from __future__ import annotations

from collections.abc import Iterator

from iisbitness.arch import format_arches
from iisbitness.findings import Finding, Severity, rule
from iisbitness.fixes.commands import move_to_new_pool
from iisbitness.loadplan.plan import Evidence, LoadPlan
from iisbitness.rules._common import new_pool_for, pool_split


@rule("pool-arch-conflict", Severity.ERROR, "One application pool hosts applications that need different architectures")
def pool_arch_conflict(plan: LoadPlan) -> Iterator[Finding]:
    """Whatever the pool's bitness, one of its applications fails."""
    for outlook in plan.outlook:
        pool = plan.server.pool(outlook.pool)
        split = pool_split(plan, outlook)
        if pool is None or split is None:
            continue  # one app alone, an app that fails everywhere, or an architecture that serves all
        needs = "; ".join(f"{label} loads only at {format_arches(split.ok[label])}" for label in sorted(split.ok))
        binaries = sorted({b for a in outlook.candidates for _, b in outlook.failures_at(a)})
        # NOTE: an application whose bin was not listed shows no failure anywhere: said, not taken as fitting everywhere
        unread = sorted({f"{app} at {a.value} ({why})" for a in outlook.candidates for app, why in outlook.unread_at(a)})
        unjudged = (f" Not judged: the bin folder of {'; '.join(unread)} could not be listed whole, so where it can "
                    "run is unknown." if unread else "")
        fix = move_to_new_pool(split.moved, new_pool_for(plan, f"{pool.name} ({split.target.value})", pool.name,
                                                          split.target, split.moved),
                               split.target, pool.name, pool.managed_runtime_version, pool.pipeline_mode.value,
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
