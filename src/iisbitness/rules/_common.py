"""Helpers shared by rules: wording of causes and the candidate fixes every mismatch gets."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import count, islice

from iisbitness.arch import Arch, format_arches
from iisbitness.findings import Fix
from iisbitness.fixes import iisexpress
from iisbitness.fixes.commands import flip_pool, move_to_new_pool
from iisbitness.loadplan.plan import Evidence, Load, LoadKind, LoadPlan, worker_candidates
from iisbitness.model.iis7 import GlobalModule, Handler, IsapiFilter

_ARCH_NAME = {Arch.X86: "x86", Arch.X64: "AMD64", Arch.ARM64: "ARM64"}


def mismatches(plan: LoadPlan, *kinds: LoadKind) -> Iterator[Load]:
    """Loads of ``kinds`` whose binary's architecture is known and does not fit the process, in plan order (every
    kind when none is given), from an index built once per plan (:func:`_misfits`)."""
    index = plan.derived("rules/misfits", _misfits)
    if len(kinds) == 1:
        return iter(index.get(kinds[0], ()))
    return (ld for ld in index[None] if not kinds or ld.kind in kinds)


def _misfits(plan: LoadPlan) -> dict[LoadKind | None, tuple[Load, ...]]:
    """The loads that do not fit their process (``fits`` False), per kind and all of them (key None), in plan order.

    NOTE: most rules ask for these alone; asked of every load, ``fits`` was evaluated three times per ``bin`` file of
    a 10,000-assembly scan (issue 25)."""
    every = tuple(ld for ld in plan.loads if ld.fits is False)
    by_kind: dict[LoadKind | None, list[Load]] = {}
    for ld in every:
        by_kind.setdefault(ld.kind, []).append(ld)
    return {None: every, **{k: tuple(v) for k, v in by_kind.items()}}


def loader_arch_name(arch: Arch) -> str:
    """The processor-architecture word the Windows loader uses in IIS events (x86, AMD64, ARM64)."""
    return _ARCH_NAME[arch]


def binary_words(load: Load) -> str:
    """What the binary is, with how that is known, e.g. ``"an x86 native DLL"`` or an inference."""
    b = load.binary
    if b.image is not None and b.image.is_pe:
        return b.image.describe()
    if b.inferred is not None:
        return f"built for {format_arches(b.inferred.arches)} (inferred, file not in the image: {b.inferred.reason})"
    return "of unknown architecture"


def mismatch_cause(load: Load, what: str) -> str:
    """The standard cause sentence: the process cannot load a binary of another architecture."""
    cause = (f"{load.process.describe()} loads {what} '{load.name}' from {load.binary.windows_path or load.binary.configured}, "
             f"which is {binary_words(load)}. A process can only load DLLs of its own architecture.")
    if load.binary.chain:
        cause += (f" The binary itself fits, but it needs a dependency that does not: {' -> '.join(load.binary.chain)} "
                  "(\"or one of its dependencies\").")
    if load.precondition is not None and not load.precondition.unknown_tokens and load.kind in (
            LoadKind.GLOBAL_MODULE, LoadKind.ISAPI_FILTER, LoadKind.ISAPI_EXTENSION):
        pc = load.entry.precondition if isinstance(load.entry, GlobalModule | IsapiFilter | Handler) else ""
        # NOTE: a global module loads at every worker's start (facts D2), an ISAPI filter at the start of the
        # workers it applies to (D3), an ISAPI extension on the first request its mapping takes (D4)
        unconditional = {LoadKind.GLOBAL_MODULE: "every worker loads it",
                         LoadKind.ISAPI_FILTER: "every worker it applies to loads it at start",
                         LoadKind.ISAPI_EXTENSION: "the mapping holds in a worker of either bitness, which loads "
                                                   "the DLL on the first request it maps"}[load.kind]
        cause += (f" Its preCondition {pc!r} holds in this worker." if pc else
                  f" It has no preCondition, so {unconditional}.")
    if load.precondition is not None and load.precondition.unknown_tokens:
        cause += (f" (preCondition token(s) {', '.join(load.precondition.unknown_tokens)} are not known to iisbitness; "
                  "taken as holding.)")
    if load.binary.evidence is Evidence.INFERRED:
        cause += " The architecture was inferred from the folder, not read from the file."
    return cause


def stops_pool(plan: LoadPlan, pool: str) -> bool:
    """True when a global module fails to load in ``pool``'s worker (wrong architecture, or missing on the
    server): every worker start fails, and rapid-fail protection stops the pool (WAS 5002)."""
    return pool in plan.derived("stopped-pools", _stopped_pools)


def _stopped_pools(plan: LoadPlan) -> frozenset[str]:
    """The pools :func:`stops_pool` is true of (one walk of the global module loads per plan, issue 25)."""
    return frozenset(ld.process.pool.name for ld in plan.loads_of(LoadKind.GLOBAL_MODULE)
                     if ld.process.pool is not None and (ld.fits is False or ld.binary.absent is not None))


def module_failing_pools(plan: LoadPlan, fails: Callable[[Load], bool]) -> dict[str, tuple[str, ...]]:
    """Per global module name, the declared pools whose worker load of it ``fails``, sorted by name (one walk
    of the global module loads); the pools a preCondition fix names as stopped (WAS 5002)."""
    pools: dict[str, set[str]] = {}
    for ld in plan.loads_of(LoadKind.GLOBAL_MODULE):
        if fails(ld) and ld.process.pool is not None and ld.process.pool.declared:
            pools.setdefault(ld.name, set()).add(ld.process.pool.name)
    return {name: tuple(sorted(names)) for name, names in pools.items()}


def flip_fix(plan: LoadPlan, load: Load) -> Fix | None:
    """Running the pool at an architecture the binary fits, when one exists. When a global module stops the
    pool (:func:`stops_pool`), the fix also starts it; every flip of one pool is then the same fix, whichever
    finding offers it (IIS Express: the project's iisexpress.exe bitness, :func:`iisbitness.fixes.iisexpress.flip`)."""
    if plan.iisexpress is not None:
        return iisexpress.flip(plan.iisexpress, load, plan.server.os_arch)
    pool = load.process.pool
    arches = load.binary.arches
    if pool is None or arches is None:
        return None
    arch = target_arch(plan, load, arches)
    if arch is None:
        return None
    return flip_pool(pool.name, arch, plan.server.os_arch, stops_pool(plan, pool.name), declared=pool.declared,
                     auto_start=pool.auto_start)


def target_arch(plan: LoadPlan, load: Load, arches: frozenset[Arch]) -> Arch | None:
    """The architecture a flip or a split runs ``load``'s pool at: the first worker architecture of the OS (facts
    A4-A7) other than the load's own that its binary (loadable at ``arches``) fits; for a binary that fits but fails
    through a dependency (``load.binary.chain``), the first at which the pool's outlook (its dependencies searched at
    each architecture) lists it as not failing, when there is one: on ARM64 an AnyCPU assembly needing an x64-only one
    fits the x64 worker (emulated), not the x86 one listed first. None when no other architecture fits."""
    others = [a for a in worker_candidates(plan.server.os_arch) if a is not load.process.arch and a in arches]
    if load.binary.chain and len(others) > 1 and load.process.pool is not None:
        outlook = next((o for o in plan.outlook if o.pool == load.process.pool.name), None)
        failing = (f"{load.site}{load.application}", load.binary.configured)
        if outlook is not None:
            return next((a for a in others if failing not in outlook.failures_at(a)), others[0])
    return others[0] if others else None


def split_fix(plan: LoadPlan, load: Load) -> Fix | None:
    """Moving the load's application, with every other application of its pool that loads the same file (those over
    one folder load its ``bin`` each), into a new pool of an architecture the binary fits; None where that would move
    every application of the pool (the flip is that fix), or for IIS Express (each project has its own
    iisexpress.exe already)."""
    if plan.iisexpress is not None:
        return None
    pool = load.process.pool
    arches = load.binary.arches
    if pool is None or arches is None or load.site is None or load.application is None:
        return None
    # NOTE: every application of the pool that loads this file moves with it (applications over one folder load
    # its bin each): moving one alone leaves the others failing, and a second split would create the same pool
    moved = plan.derived("apps-by-binary", _apps_by_binary).get(_binary_key(load), ((load.site, load.application),))
    if len(plan.server.applications_in(pool)) <= len(moved):
        return None  # NOTE: every application of its pool moves: the split is the same as a flip
    arch = target_arch(plan, load, arches)
    if arch is None:
        return None
    return move_to_new_pool(moved, _split_name(plan, pool.name, arch, moved), arch, pool.name,
                            pool.managed_runtime_version, pool.pipeline_mode.value, plan.server.os_arch, like=pool)


def _split_name(plan: LoadPlan, pool: str, arch: Arch, moved: tuple[tuple[str, str], ...]) -> str:
    """The new pool's name for the split of ``moved`` out of ``pool`` at ``arch``: ``Pool (x64)``; the second split of
    that pool at that architecture (other applications that load another file) ``Pool (x64) 2``, and so on in plan
    order, so that two split fixes of one scan never both run ``appcmd add apppool`` for one name (the second would
    fail on a name that exists). A name the server already has (an earlier split applied, then a new scan) is
    passed over: the group takes the next free one, ``Pool (x64) 2`` after an existing ``Pool (x64)``."""
    groups = plan.derived("split-groups", _split_groups).get((pool.lower(), arch), ())
    return new_pool_name(plan, f"{pool} ({arch.value})", groups.index(moved) if moved in groups else 0)


def new_pool_name(plan: LoadPlan, base: str, index: int = 0, start: int = 1) -> str:
    """The ``index``-th (from 0) name of ``base``, ``base 2``, ``base 3``, ... (from ``base {start}`` when ``start`` is
    above 1) that no pool of the server has, compared case-insensitively as IIS compares pool names: for a pool a fix
    creates. On a name that exists, ``appcmd add apppool`` fails and re-analysis takes the existing pool for the new
    one (a split applied earlier, then a new scan, names its pool ``Pool (x86)``)."""
    names = (base if n == 1 else f"{base} {n}" for n in count(start))
    return next(islice((name for name in names if plan.server.pool(name) is None), index, None))


def _split_groups(plan: LoadPlan) -> dict[tuple[str, Arch], tuple[tuple[tuple[str, str], ...], ...]]:
    """Per (pool in lower case, new architecture), the distinct groups of applications :func:`split_fix` moves out
    of it, in plan order: the applications that load each binary that does not fit their worker."""
    by_binary = plan.derived("apps-by-binary", _apps_by_binary)
    out: dict[tuple[str, Arch], dict[tuple[tuple[str, str], ...], None]] = {}
    for ld in mismatches(plan):
        pool, arches = ld.process.pool, ld.binary.arches
        if pool is None or arches is None or ld.site is None or ld.application is None:
            continue
        arch = target_arch(plan, ld, arches)
        if arch is not None:
            out.setdefault((pool.name.lower(), arch), {})[by_binary.get(_binary_key(ld), ((ld.site, ld.application),))] = None
    return {k: tuple(v) for k, v in out.items()}


def _binary_key(load: Load) -> tuple[str, str, str]:
    """The pool, architecture and file of ``load`` (lower case): loads alike for :func:`split_fix`."""
    pool = load.process.pool.name.lower() if load.process.pool is not None else ""
    return pool, load.process.arch.value, (load.binary.resolved or load.binary.configured).lower()


def _apps_by_binary(plan: LoadPlan) -> dict[tuple[str, str, str], tuple[tuple[str, str], ...]]:
    """Per :func:`_binary_key` of a load that does not fit, the ``(site, application)`` that load that file in that
    pool, in plan order.

    NOTE: only the loads that do not fit: :func:`split_fix` is asked of those alone (every rule offers it for a
    mismatch), and the loads of one file by one pool's worker fit alike (the same file read, the same dependency
    search from its folder); an index of every load cost a key and a set per file of every ``bin`` (issue 25)."""
    index: dict[tuple[str, str, str], dict[tuple[str, str], None]] = {}
    for ld in mismatches(plan):
        if ld.process.pool is not None and ld.site is not None and ld.application is not None:
            index.setdefault(_binary_key(ld), {})[(ld.site, ld.application)] = None
    return {k: tuple(v) for k, v in index.items()}


def build_fix(load: Load, what: str) -> Fix:
    """Advice to install or build the binary for the process's architecture (not checkable)."""
    arch = load.process.arch
    return Fix(summary=f"Install or build an {arch.value} version of {what} '{load.name}' for {arch.bits}-bit workers",
               label=f"an {arch.value} build of the {what}",
               note="Register each build with a bitness32 / bitness64 preCondition so that each worker loads its own.")


def platform_target_fix(plan: LoadPlan, load: Load) -> Fix | None:
    """IIS Express only: the platform target of the project that builds the offending assembly (F4.2)."""
    return iisexpress.platform_target(load) if plan.iisexpress is not None else None


def fixes(*candidates: Fix | None) -> tuple[Fix, ...]:
    """The candidates that exist, in order."""
    return tuple(f for f in candidates if f is not None)
