"""handler-module-skipped: a handler mapping names a global module that a preCondition keeps out of the worker.

A global module whose preCondition is false in a worker is never loaded there (facts C7); a handler mapping of the
worker's applications that names it in ``modules`` then:

- when its own preCondition holds there: IIS answers its requests with HTTP 500.21 "Handler ... has a bad module
  ... in its module list" (KB 943891, "The HTTP status code in IIS 7 and later": 500.21 module not recognized; the
  wording is IIS's error page, as learn.microsoft.com "ASP.NET Web Deployment using Visual Studio: Troubleshooting"
  quotes it: "Handler "PageHandlerFactory-Integrated" has a bad module "ManagedPipelineHandler" in its module list");
- when its own preCondition is false there too (a vendor's ``*`` handler with ``bitness64`` beside its ``bitness64``
  module, Camstar's ``cepiis.dll``): IIS skips the mapping (facts C7: a handler's preCondition is evaluated during
  mapping, false -> entry skipped) and its requests go to the next mapping that matches (``StaticFile``, say): no
  error, the application's code silently does not serve them. Not said where another mapping of the same path
  applies there with a module of its own (the vendor's build for this bitness).

The same side effects :mod:`iisbitness.fixes.effects` names for a fix that takes such a module out, for a worker that
runs so already. IIS 7+ only (IIS Express runs each project's own configuration; IIS 6 has no ``modules``).
"""

from __future__ import annotations

from collections.abc import Iterator

from iisbitness.arch import Arch
from iisbitness.config.precondition import evaluate
from iisbitness.findings import Finding, Severity, rule
from iisbitness.fixes.effects import Mappings, mappings_fates
from iisbitness.loadplan.plan import Evidence, LoadKind, LoadPlan, Skipped, SkipReason, worker_candidates
from iisbitness.rules._common import fixes, pool_flip


@rule("handler-module-skipped", Severity.ERROR,
      "A handler mapping names a global module a preCondition keeps out of the worker: HTTP 500.21, or its requests "
      "silently served by the next mapping")
def handler_module_skipped(plan: LoadPlan) -> Iterator[Finding]:
    """One finding per worker and skipped global module that mappings name: an error where one gives HTTP 500.21,
    else a warning where they are skipped (their requests served by another mapping)."""
    if plan.iis6 is not None or plan.iisexpress is not None:
        return
    skips = [s for s in plan.skipped if s.kind is LoadKind.GLOBAL_MODULE and s.why is SkipReason.PRECONDITION
             and s.process.pool is not None]
    names: dict[tuple[tuple[str, str, str], Arch], list[str]] = {}
    for skip in skips:
        names.setdefault((skip.process.key, skip.process.arch), []).append(skip.name)
    # NOTE: one walk of a worker's handler mappings for every module skipped there, not one per module
    fates: dict[tuple[tuple[str, str, str], Arch], dict[str, tuple[Mappings, Mappings]]] = {}
    for skip in skips:
        pool = skip.process.pool
        assert pool is not None
        key = (skip.process.key, skip.process.arch)
        if key not in fates:
            fates[key] = mappings_fates(plan, pool, skip.process.arch, plan.server.applications_in(pool), names[key])
        failing, bypassed = fates[key][skip.name.lower()]
        if failing:  # NOTE: one finding per worker and module (its key): the 500.21s, the skipped mappings with them
            yield _finding(plan, skip, failing, False, bypassed)
        elif bypassed:
            yield _finding(plan, skip, bypassed, True)


def _listed(mappings: Mappings) -> str:
    return "; ".join(f"{n} {p} (verb {v}) in {', '.join(apps)}" for n, p, v, apps in mappings)


def _finding(plan: LoadPlan, skip: Skipped, mappings: Mappings, bypassed: bool, also: Mappings = ()) -> Finding:
    pool = skip.process.pool
    assert pool is not None
    labels = tuple(dict.fromkeys(a for *_, apps in mappings for a in apps))
    listed = _listed(mappings)
    if bypassed:
        symptom = (f"No error: requests to {listed} are served by the next handler mapping that matches (StaticFile, "
                   f"say), not by global module '{skip.name}': the application's code silently does not run for them "
                   "in this pool (a page's source or a 404 instead of its output).")
        what = ("its own preCondition is false there too, so IIS skips the mapping (facts C7) and its requests go to "
                "the next mapping")
    else:
        symptom = (f"HTTP 500.21 \"Handler ... has a bad module '{skip.name}' in its module list\" on requests to "
                   f"{listed} (IIS's error page; KB 943891: 500.21 \"Module not recognized\").")
        what = "its own preCondition holds there, so IIS maps requests to a module it never loaded"
    cause = (f"Global module '{skip.name}' ({skip.configured or 'no image'}) is skipped in {skip.process.describe()}: "
             f"{skip.reason}. The handler mapping{'s' if len(mappings) != 1 else ''} "
             f"{', '.join(m[0] for m in mappings)} name{'' if len(mappings) != 1 else 's'} it in modules; {what}.")
    if also:
        cause += (f" Mappings whose own preCondition is false there too are skipped, their requests served by the next "
                  f"mapping: {_listed(also)}.")
    module = plan.server.global_module(skip.name)
    # NOTE: the first other worker architecture of the OS (ARM64 included) at which the module's preCondition holds
    target = None if module is None else next(
        (a for a in worker_candidates(plan.server.os_arch) if a is not skip.process.arch
         and evaluate(module.precondition, pool, a, plan.server.os_arch).may_load), None)
    flip = None if target is None else pool_flip(plan, pool, target)
    one = labels[0] if len(labels) == 1 else None
    app = next((a for a in plan.server.applications_in(pool) if a.label == one), None) if one else None
    return Finding(
        rule=handler_module_skipped.id, severity=Severity.WARNING if bypassed else Severity.ERROR,
        evidence=Evidence.READ, pool=pool.name, site=app.site if app else None, application=app.path if app else None,
        process=skip.process.name, process_arch=skip.process.arch,
        binary=skip.configured or skip.name, resolved=None, binary_arch=(), config=skip.source,
        symptom=symptom, cause=cause, fixes=fixes(flip))
