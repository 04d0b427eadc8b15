"""Helpers shared by rules: wording of causes and the candidate fixes every mismatch gets."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import count, islice

from iisbitness.arch import Arch, format_arches, sort_arches
from iisbitness.config.precondition import restrict_to_bitness
from iisbitness.findings import Fix
from iisbitness.fixes import iisexpress
from iisbitness.fixes.commands import (
    compression_modules_precondition,
    flip_pool,
    move_to_new_pool,
    remove_compression_scheme,
)
from iisbitness.loadplan.collectors.compression import COMPRESSION_MODULES
from iisbitness.loadplan.plan import (
    AspNetCoreHost,
    Evidence,
    Load,
    LoadKind,
    LoadPlan,
    PoolOutlook,
    RuntimeCheck,
    worker_candidates,
)
from iisbitness.model.iis7 import AppPool, CompressionScheme, GlobalModule, Handler, IsapiFilter
from iisbitness.pe.classify import OffArm, off_arm
from iisbitness.pe.types import PlatformTarget

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


def off_windows_on_arm(load: Load, os_arch: Arch) -> OffArm | None:
    """Why ``load``'s binary, an ARM64X or ARM64EC image the plan read as loadable nowhere on this server's
    ``os_arch`` Windows, loads in no process, and how it fails in the load's process (:func:`~iisbitness.pe.classify.
    off_arm`); None for any other binary (an OS the scan only assumed keeps the image's own view, so none)."""
    image = load.binary.image
    if image is None or image.hybrid is None or image.loadable_by:
        return None
    return off_arm(image, os_arch, load.process.arch)


def import_failure(load: Load, os_arch: Arch) -> OffArm | None:
    """:func:`off_windows_on_arm` when the load fails on an import rather than for its Machine field (an ARM64EC image
    in an x64 process of x64 Windows: ``RtlIsEcCode``, error 127), so a symptom must not quote IIS's "only supports
    loading images built for a ... processor architecture"; None otherwise."""
    off = off_windows_on_arm(load, os_arch)
    return None if off is None or off.machine_quote else off


def binary_words(load: Load, os_arch: Arch) -> str:
    """What the binary is, with how that is known, e.g. ``"an x86 native DLL"`` or an inference; for an ARM64X or
    ARM64EC image off Windows on Arm (on the server's ``os_arch``), why no process loads it."""
    b = load.binary
    if b.image is not None and b.image.is_pe:
        if (off := off_windows_on_arm(load, os_arch)) is not None:
            return f"{b.image.describe()}: {off.reason}"
        return b.image.describe()
    if b.inferred is not None:
        return f"built for {format_arches(b.inferred.arches)} (inferred, file not in the image: {b.inferred.reason})"
    return "of unknown architecture"


def mismatch_cause(load: Load, what: str, os_arch: Arch) -> str:
    """The standard cause sentence: the process cannot load a binary of another architecture (on a server whose
    Windows runs on ``os_arch``)."""
    cause = (f"{load.process.describe()} loads {what} '{load.name}' from {load.binary.windows_path or load.binary.configured}, "
             f"which is {binary_words(load, os_arch)}. A process can only load DLLs of its own architecture.")
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
                     if ld.process.pool is not None and (ld.fits is False or ld.binary.missing_on_server))


def module_failing_pools(plan: LoadPlan, fails: Callable[[Load], bool]) -> dict[str, tuple[str, ...]]:
    """Per global module name, the declared pools whose worker load of it ``fails``, sorted by name (one walk
    of the global module loads); the pools a preCondition fix names as stopped (WAS 5002)."""
    pools: dict[str, set[str]] = {}
    for ld in plan.loads_of(LoadKind.GLOBAL_MODULE):
        if fails(ld) and ld.process.pool is not None and ld.process.pool.declared:
            pools.setdefault(ld.name, set()).add(ld.process.pool.name)
    return {name: tuple(sorted(names)) for name, names in pools.items()}


def flip_fix(plan: LoadPlan, load: Load) -> Fix | None:
    """Running the pool at an architecture the binary fits (:func:`flip_to` at its ``arches``), when one exists;
    None when its architectures are not known."""
    arches = load.binary.arches
    return None if arches is None else flip_to(plan, load, arches)


def flip_to(plan: LoadPlan, load: Load, arches: frozenset[Arch]) -> Fix | None:
    """Running ``load``'s pool at one of ``arches`` (:func:`target_arch`), when one is another worker architecture of
    the OS; None when none is, or ``load`` has no pool. When a global module stops the pool (:func:`stops_pool`), the
    fix also starts it; every flip of one pool is then the same fix, whichever finding offers it (IIS Express: the
    project's iisexpress.exe bitness, :func:`iisbitness.fixes.iisexpress.flip`).

    An ARM64X/ARM64EC binary on an OS the scan only assumed (:meth:`LoadPlan.os_undecided`): its code is ARM64, which
    only Windows on Arm runs (:func:`~iisbitness.pe.classify.off_arm`), so a worker of another architecture loads it
    there and nowhere else; instead of the flip, advice saying it needs ``--os-arch``."""
    if plan.iisexpress is not None:
        flip = iisexpress.flip(plan.iisexpress, load, arches, plan.server.os_arch)
    else:
        pool = load.process.pool
        arch = None if pool is None else target_arch(plan, load, arches)
        flip = None if pool is None or arch is None else pool_flip(plan, pool, arch)
    return flip if flip is None or not plan.os_undecided(load.binary) else _os_needed(load)


def _os_needed(load: Load) -> Fix:
    """The advice that stands for a flip of ``load``'s worker for an ARM64X/ARM64EC binary on an assumed OS."""
    kind = load.binary.image.hybrid.value if load.binary.image and load.binary.image.hybrid else "ARM64"
    return Fix(summary=f"Running the worker at another architecture helps only on Windows on Arm, where an {kind} "
                       "image loads; on x64 Windows no process loads it. The scan only assumed the OS: scan again "
                       "with --os-arch arm64 or --os-arch x64 to have the flip offered and verified, or not",
               label="flip: only on Windows on Arm (--os-arch)",
               note="Not offered as a flip: whether one helps depends on the server's OS, which the image does not show.")


def pool_flip(plan: LoadPlan, pool: AppPool, arch: Arch) -> Fix:
    """Running ``pool`` (IIS 7+) at ``arch`` (:func:`iisbitness.fixes.commands.flip_pool`), starting it where a global
    module stops it (:func:`stops_pool`): every flip of one pool is the same fix, whichever finding offers it."""
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
        outlook = plan.outlook_of(load.process.pool.name)
        failing = (f"{load.site}{load.application}", load.binary.configured)
        if outlook is not None:
            return next((a for a in others if failing not in outlook.failures_at(a)), others[0])
    return others[0] if others else None


Move = tuple[tuple[str, str], ...]
"""The applications a fix moves to a new pool, ``(site, application path)`` each."""


def split_fix(plan: LoadPlan, load: Load) -> Fix | None:
    """Moving the load's application, with every other application of its pool that loads the same file (those over
    one folder load its ``bin`` each), into a new pool of an architecture the binary fits; None where that would move
    every application of the pool (the flip is that fix), or for IIS Express (each project has its own
    iisexpress.exe already)."""
    split = _split_move(plan, load)
    if split is None:
        return None
    pool, moved, arch = split
    return move_to_new_pool(moved, new_pool_for(plan, f"{pool.name} ({arch.value})", pool.name, arch, moved), arch,
                            pool.name, pool.managed_runtime_version, pool.pipeline_mode.value, plan.server.os_arch,
                            like=pool)


def _split_move(plan: LoadPlan, load: Load) -> tuple[AppPool, Move, Arch] | None:
    """What :func:`split_fix` moves: the pool, the applications and the new pool's architecture, or None."""
    pool = load.process.pool
    arches = load.binary.arches
    if plan.iisexpress is not None or pool is None or arches is None or load.site is None or load.application is None:
        return None
    # NOTE: every application of the pool that loads this file moves with it (applications over one folder load
    # its bin each): moving one alone leaves the others failing, and a second split would create the same pool
    moved = plan.derived("apps-by-binary", _apps_by_binary).get(_binary_key(load), ((load.site, load.application),))
    if len(plan.server.applications_in(pool)) <= len(moved):
        return None  # NOTE: every application of its pool moves: the split is the same as a flip
    if plan.os_undecided(load.binary):
        return None  # NOTE: a new pool at another architecture loads an ARM64X/ARM64EC image on Windows on Arm only
    arch = target_arch(plan, load, arches)
    return (pool, moved, arch) if arch is not None else None


def new_pool_for(plan: LoadPlan, base: str, like: str, arch: Arch, moved: Move) -> str:
    """The name of the new pool at ``arch`` that ``moved`` go to out of pool ``like``: :func:`new_pool_name` of
    ``base`` (``Pool (x64)``; the pool's own name for aspnetcore-multiple-inprocess), numbered once per scan for every
    fix of every rule that moves applications to a new pool (:func:`_new_pools`): the first move named from ``base``
    gets ``Pool (x64)``, the next other move ``Pool (x64) 2``, and so on, so that two fixes of one scan that move
    different applications never name one new pool (the second ``appcmd add apppool`` would fail on a name that
    exists, and its applications would join the first's pool); the same move, offered by two findings, gets the same
    name. A name the server already has (an earlier split applied, then a new scan) is passed over."""
    groups = plan.derived("new-pools", _new_pools).get(base.lower(), ())
    key = _move_key(like, arch, moved)
    return new_pool_name(plan, base, groups.index(key) if key in groups else len(groups))


def new_pool_name(plan: LoadPlan, base: str, index: int = 0) -> str:
    """The ``index``-th (from 0) name of ``base``, ``base 2``, ``base 3``, ... that no pool of the server has,
    compared case-insensitively as IIS compares pool names: for a pool a fix creates. On a name that exists,
    ``appcmd add apppool`` fails and re-analysis takes the existing pool for the new one (a split applied earlier,
    then a new scan, names its pool ``Pool (x86)``)."""
    names = (base if n == 1 else f"{base} {n}" for n in count(1))
    return next(islice((name for name in names if plan.server.pool(name) is None), index, None))


MoveKey = tuple[str, Arch, frozenset[tuple[str, str]]]
"""A move to a new pool, as :func:`new_pool_for` tells moves apart: the pool moved out of (lower case), the new
pool's architecture, the applications (lower case: IIS compares site names and paths so)."""


def _move_key(like: str, arch: Arch, moved: Move) -> MoveKey:
    return like.lower(), arch, frozenset((s.lower(), p.lower()) for s, p in moved)


def _new_pools(plan: LoadPlan) -> dict[str, tuple[MoveKey, ...]]:
    """Per base name of a new pool (lower case), the distinct moves named from it (:func:`new_pool_for`), in one
    fixed order: the splits in plan order (:func:`split_fix`), then the moves of pool-arch-conflict
    (:func:`pool_split`), aspnetcore-runtime-missing (:func:`runtime_move`) and aspnetcore-multiple-inprocess
    (:func:`inprocess_apps`)."""
    out: dict[str, dict[MoveKey, None]] = {}

    def add(pool: str, arch: Arch, moved: Move, base: str | None = None) -> None:
        out.setdefault((base or f"{pool} ({arch.value})").lower(), {})[_move_key(pool, arch, moved)] = None

    for ld in mismatches(plan):
        if (move := _split_move(plan, ld)) is not None:
            add(move[0].name, move[2], move[1])
    for outlook in plan.outlook:
        split = pool_split(plan, outlook)
        if split is not None:
            add(outlook.pool, split.target, split.moved)
    for ld in plan.loads_of(LoadKind.ASPNETCORE):
        target = runtime_move(plan, ld)
        if target is not None and ld.process.pool is not None and ld.site is not None and ld.application is not None:
            add(ld.process.pool.name, target, ((ld.site, ld.application),))
    for (name, _), apps in inprocess_apps(plan).items():
        pool = plan.server.pool(name)
        if pool is not None:
            for app in list(apps)[1:]:
                add(name, pool.worker_arch(plan.server.os_arch), (app,), base=name)
    return {k: tuple(v) for k, v in out.items()}


@dataclass(frozen=True, slots=True)
class PoolSplit:
    """How pool-arch-conflict splits a pool no architecture serves whole.

    Attributes:
        ok: per application label (``Site/app``), the candidate architectures at which it has no failing load.
        moved: the applications that fail at the pool's architecture now, ``(site, path)`` each.
        target: the architecture of their new pool, one at which each of them loads.
    """

    ok: dict[str, frozenset[Arch]]
    moved: Move
    target: Arch


def pool_split(plan: LoadPlan, outlook: PoolOutlook) -> PoolSplit | None:
    """The split of ``outlook``'s pool when no architecture serves all its applications and each loads at one of
    them (a worker has one architecture, facts A4); None for a pool of one application, a pool with an application
    that fails everywhere or an architecture that serves all, or when no other architecture serves every
    application that fails now."""
    return plan.derived("pool-splits", _pool_splits).get(outlook.pool)


def _pool_splits(plan: LoadPlan) -> dict[str, PoolSplit]:
    return {o.pool: split for o in plan.outlook if (split := _pool_split(plan, o)) is not None}


def _pool_split(plan: LoadPlan, outlook: PoolOutlook) -> PoolSplit | None:
    pool = plan.server.pool(outlook.pool)
    if pool is None:
        return None
    apps = {a.label: a for a in plan.server.applications_in(pool)}
    ok = {label: frozenset(a for a in outlook.candidates if all(app != label for app, _ in outlook.failures_at(a)))
          for label in apps}
    if len(apps) < 2 or not all(ok.values()) or frozenset.intersection(*ok.values()):
        return None
    move = [label for label, arches in ok.items() if outlook.current not in arches]
    target = next((a for a in outlook.candidates if a is not outlook.current and all(a in ok[m] for m in move)), None)
    if not move or target is None:
        return None
    return PoolSplit(ok, tuple((apps[m].site, apps[m].path) for m in move), target)


def runtime_check(load: Load) -> RuntimeCheck | None:
    """The runtime check of a framework-dependent app's hostfxr load, else None."""
    return load.entry.runtime if isinstance(load.entry, AspNetCoreHost) else None


def runtime_target(load: Load) -> Arch | None:
    """The first worker architecture but the load's own whose .NET install satisfies its app (aspnetcore-runtime-missing's
    flip and move), or None."""
    runtime = runtime_check(load)
    arches = sort_arches(runtime.fits_at) if runtime is not None else []
    return next((a for a in arches if a is not load.process.arch), None)


def runtime_move(plan: LoadPlan, load: Load) -> Arch | None:
    """The architecture of the new pool aspnetcore-runtime-missing moves ``load``'s app to: :func:`runtime_target`
    when the app lacks its runtime and shares its pool (alone in it, the flip is that fix); None otherwise and for
    IIS Express (the project's bitness switch instead)."""
    runtime, pool = runtime_check(load), load.process.pool
    if plan.iisexpress is not None or runtime is None or runtime.status == "ok" or pool is None:
        return None
    if load.site is None or load.application is None or len(plan.server.applications_in(pool)) < 2:
        return None
    return runtime_target(load)


def inprocess_apps(plan: LoadPlan) -> dict[tuple[str, str], dict[tuple[str, str], str]]:
    """Per process, ``(pool name, its site)`` (the site "" but under IIS Express, where each project's site has an
    ``iisexpress.exe`` of its own, :attr:`iisbitness.loadplan.plan.Process.site`: two projects of one pool are not one
    process), the in-process ASP.NET Core apps it hosts, ``(site, path) -> config location``, in plan order
    (aspnetcore-multiple-inprocess: every app but the first moves to a pool of its own)."""
    return plan.derived("inprocess-apps", _inprocess_apps)


def _inprocess_apps(plan: LoadPlan) -> dict[tuple[str, str], dict[tuple[str, str], str]]:
    by_process: dict[tuple[str, str], dict[tuple[str, str], str]] = {}
    for load in plan.loads_of(LoadKind.ASPNETCORE):
        if load.process.pool is not None:
            by_process.setdefault((load.process.pool.name, load.process.site or ""), {}).setdefault(
                (load.site or "", load.application or ""), str(load.source))
    return by_process


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


def scheme_symptom(pool: str, error: str = "") -> str:
    """What a worker that cannot load a compression scheme's DLL shows, for both rules that say it
    (compression-scheme-arch, binary-missing): ``pool`` names the pool as the sentence needs it (``pool 'X'``, ``the
    pool``), ``error`` is appended to the error page's fields (``, Error Code 0x8007007E ...``); no braces added.

    Every response fails, not only compressible ones: Lex Li's 500.19 came on a plain static file (Lex Li, "IIS 7 and
    WSUS on Windows Server x64": ``Module DynamicCompressionModule``, ``Notification SendResponseHandler``, handler
    ``StaticFile``, ``0x8007007e``), and KB 4468361 ("Management points stop responding to HTTP requests with error
    500.19") has the site stop responding to requests."""
    return (f"every response of the sites of {pool} where DynamicCompressionModule or StaticCompressionModule is enabled "
            "fails with HTTP 500.19, a static file too (Module DynamicCompressionModule or StaticCompressionModule, "
            f"Notification SendResponseHandler, Handler StaticFile on a static file{error})")


_EACH_ITS_OWN = "Register each build with a bitness32 / bitness64 preCondition so that each worker loads its own."
_SCHEME_BUILDS = ("A scheme names one dll for every worker and takes no preCondition: install each build where that "
                  "worker resolves the path (%ProgramFiles% is Program Files (x86) in a 32-bit worker, System32 is "
                  "SysWOW64), as IIS Compression's x64 installer puts its x86 build in Program Files (x86).")
"""The note of a scheme DLL's build: ``httpCompression/scheme`` has no preCondition (facts C1); the path is expanded
and redirected in each worker (facts B10-B12); microsoft/IIS.Compression ``Installer/iiscompression.wxs``, "WOW64
Support", installs the x86 DLLs under ``ProgramFilesFolder`` in the x64 package."""


def build_fix(load: Load, what: str) -> Fix:
    """Advice to install or build the binary for the process's architecture (not checkable); for a compression scheme
    DLL, where to put each build (:data:`_SCHEME_BUILDS`), for the rest, a bitness preCondition on each entry."""
    arch = load.process.arch
    return Fix(summary=f"Install or build an {arch.value} version of {what} '{load.name}' for {arch.bits}-bit workers",
               label=f"an {arch.value} build of the {what}",
               note=_SCHEME_BUILDS if load.kind is LoadKind.COMPRESSION_SCHEME else _EACH_ITS_OWN)


def scheme_removal(plan: LoadPlan, load: Load) -> Fix | None:
    """IIS 7+ only (not IIS Express, whose fixes write the project's settings): removing the compression scheme of
    ``load`` (a ``compression-scheme`` load), KB 4468361's fix, verified like any other and ranked after the fixes that
    keep the scheme (its side effect unloads it from every worker: :func:`iisbitness.fixes.verify._rank`)."""
    entry = load.entry
    if plan.iis6 is not None or plan.iisexpress is not None or not isinstance(entry, CompressionScheme):
        return None
    return remove_compression_scheme(entry.name, entry.dll)


def compression_modules_fix(plan: LoadPlan, load: Load) -> Fix | None:
    """IIS 7+ on x64 Windows only: a bitness preCondition on the compression global modules that keeps them (and the
    scheme DLLs they load, ``load``'s among them) out of ``load``'s worker's bitness; None where a module already
    names a bitness (:func:`iisbitness.config.precondition.restrict_to_bitness`) or none is configured. Verified like
    any fix, ranked after those that keep compression (it unloads both modules from those workers)."""
    if plan.iis6 is not None or plan.iisexpress is not None or plan.server.os_arch is not Arch.X64:
        return None
    other = load.process.arch.other_bitness
    modules = [m for m in plan.server.global_modules if m.name.lower() in COMPRESSION_MODULES]
    restricted = [(m.name, restrict_to_bitness(m.precondition, other)) for m in modules]
    if not restricted or any(pc is None for _, pc in restricted):
        return None
    return compression_modules_precondition(tuple((n, pc) for n, pc in restricted if pc is not None), other.bits,
                                            plan.server)


def platform_target_fix(plan: LoadPlan, load: Load) -> Fix | None:
    """IIS Express only: the platform target of the project that builds the offending assembly (F4.2), saying so when
    the DLL read carries 32BITPREFERRED ("Prefer 32-bit"), which makes a DLL 32-bit only (facts I6)."""
    if plan.iisexpress is None:
        return None
    image = load.binary.image
    return iisexpress.platform_target(
        load, prefers_32bit=image is not None and image.platform_target is PlatformTarget.ANYCPU_32BIT_PREFERRED)


def fixes(*candidates: Fix | None) -> tuple[Fix, ...]:
    """The candidates that exist, in order."""
    return tuple(f for f in candidates if f is not None)
