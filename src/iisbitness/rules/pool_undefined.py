"""pool-undefined: applications name an application pool the configuration does not define.

WAS (IIS 7+) and W3SVC (IIS 6) start worker processes for the pools the configuration defines; an
application whose pool is not among them has no worker, so nothing serves it and no binary is ever loaded
for it (:func:`iisbitness.loadplan.build.build` plans no worker for such a pool). One finding per pool, with
the symptom, instead of bitness findings in a worker that never exists (issue 20 point 5, issue 21 point 3).
Sources: "IIS Application Pool Configuration" (Windows Server 2008 TechNet cc735211: an application pool that
is not configured correctly is not available to serve the sites and applications assigned to it); HTTP.sys
answers 503 when no worker process serves a request's application pool; IIS 6 Manager shows
"<Invalid Application Pool>" for an ``AppPoolId`` with no ``IIsApplicationPool`` key (L. Prete, blogs.iis.net,
2008). INFERENCE: the 503 for an undefined (rather than stopped) pool is taken from HTTP.sys's behaviour for a
request queue no worker serves.
"""

from __future__ import annotations

from collections.abc import Iterator

from iisbitness.findings import Finding, Fix, Severity, rule
from iisbitness.fixes.commands import create_pool
from iisbitness.loadplan.plan import Evidence, LoadPlan, worker_candidates


@rule("pool-undefined", Severity.ERROR,
      "Applications name an application pool the configuration does not define: no worker serves them (HTTP 503)")
def pool_undefined(plan: LoadPlan) -> Iterator[Finding]:
    """One finding per undefined pool that applications name (not IIS Express, which runs without WAS; not IIS 6
    in IIS 5 isolation mode, which has no pools)."""
    if plan.iisexpress is not None or (plan.iis6 is not None and plan.iis6.iis5_mode):
        return
    server = plan.server
    iis6 = plan.iis6 is not None
    for pool in server.undeclared_pools():  # NOTE: an index, not a walk of every pool per re-plan (issue 25)
        apps = server.applications_in(pool)
        if not apps:
            continue
        labels = ", ".join(a.label for a in apps)
        one = apps[0] if len(apps) == 1 else None
        if iis6:
            where = "no IIsApplicationPool key under /LM/W3SVC/AppPools has that name"
            fixes: tuple[Fix, ...] = (Fix(
                summary=f"Create application pool '{pool.name}' (IIS Manager > Application Pools > New), or set "
                        f"AppPoolId of {labels} to an existing pool",
                label="create the pool or pick another"),)
        else:
            where = "applicationPools has no <add> with that name"
            default = pool.worker_arch(server.os_arch)  # NOTE: applicationPoolDefaults' first, then the others
            fixes = tuple(create_pool(pool.name, arch, server.os_arch)
                          for arch in sorted(worker_candidates(server.os_arch), key=lambda a: a is not default))
        yield Finding(
            rule=pool_undefined.id, severity=pool_undefined.severity, evidence=Evidence.READ, pool=pool.name,
            site=one.site if one else None, application=one.path if one else None, process=None,
            process_arch=None, binary=None, resolved=None, binary_arch=(), config=apps[0].source,
            symptom=(f"HTTP 503 Service Unavailable on every request to {labels}: no worker process serves pool "
                     f"'{pool.name}', so none of its applications runs."),
            cause=(f"{labels} name{'s' if one else ''} application pool '{pool.name}', but {where}. "
                   f"{'W3SVC' if iis6 else 'WAS'} starts worker processes only for defined pools, so no binary is "
                   "ever loaded for these applications: the scan reports no bitness finding for a worker that never "
                   "exists. Once the pool is defined, its worker loads what the other pools' workers load."),
            fixes=fixes,
        )
