"""Build the load plan of an IIS 7+ server: run every collector for every worker, then IIS Manager.

Facts D1-D7, F2 (see :mod:`iisbitness.loadplan.plan`). Collectors return loads, skipped loads and
problems; this module sorts them into the :class:`LoadPlan` and works out each pool's outlook (what
would fail at each architecture its worker could run as), which ``pool-arch-conflict`` and the
per-pool fixes read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import chain
from typing import TypeVar, cast

from iisbitness.arch import Arch
from iisbitness.loadplan.collectors import COLLECTORS
from iisbitness.loadplan.collectors.bin import bin_fails, bin_unread, collect_bin, collect_iis_manager
from iisbitness.loadplan.collectors.folders import app_bin_folder
from iisbitness.loadplan.collectors.modules import collect_global_modules
from iisbitness.loadplan.context import Collector, Found, PlanContext
from iisbitness.loadplan.plan import (
    APP_LEVEL_KINDS,
    Load,
    LoadPlan,
    PoolOutlook,
    Process,
    Skipped,
    worker_candidates,
)
from iisbitness.model.iis7 import Application, AppPool, Server
from iisbitness.model.source import Problem


def sort_found(found: Iterable[Found], loads: list[Load], skipped: list[Skipped], problems: list[Problem]) -> None:
    """Append each collector result to the list of its type."""
    for item in found:
        if isinstance(item, Load):
            loads.append(item)
        elif isinstance(item, Skipped):
            skipped.append(item)
        else:
            problems.append(item)


@dataclass(frozen=True, slots=True)
class _Collected:
    """What the collectors found for one process, sorted by type."""

    loads: tuple[Load, ...]
    skipped: tuple[Skipped, ...]
    problems: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class _PoolPart(_Collected):
    """What the collectors found for one pool's worker, and its outlook."""

    outlook: PoolOutlook


def build(server: Server, ctx: PlanContext, collectors: tuple[Collector, ...] = COLLECTORS,
          pools: frozenset[str] | None = None) -> LoadPlan:
    """Build the load plan of ``server``.

    Args:
        server: the merged configuration model.
        ctx: the image and caches (reuse one context to re-plan cheaply: a pool whose configuration, and
            the server-wide configuration it reads, are the same objects as in an earlier plan is not
            collected again).
        collectors: the collectors to run for each worker process.
        pools: when given (lower-case names), the plan is of these pools' workers only: their loads, skipped
            loads, outlooks, problems and idle pools, and ``config_only`` judged on them; the other pools are
            not looked at (fix verification re-analyses the pools a fix touches, and a plan of every pool per
            fix would cost the whole server each time: issues 11, 25).

    Returns:
        A :class:`LoadPlan`. Never raises for bad binaries: they become loads whose
        ``binary.problem`` or ``binary.image.reason`` says what is wrong.

    Raises:
        ValueError: ``ctx`` was made for another server (its ``os_assumed`` is not ``server.os_arch_assumed``).
    """
    # NOTE: one OS per scan: the context serves one server, made for it (PlanContext(os_assumed=...))
    if ctx.os_assumed != server.os_arch_assumed:  # NOTE: not an assert: python -O would judge hybrids by a guess
        raise ValueError("a PlanContext serves one server: give it os_assumed=backend.os_assumed")
    idle: list[str] = []
    parts: list[_Collected] = []
    outlooks: list[PoolOutlook] = []
    if pools is None and collect_bin in collectors and ctx.facts.ahead_parses:
        _bins_ahead(ctx, server)
    for pool in server.pools if pools is None else server.pools_named(pools):
        apps = server.applications_in(pool)
        if not apps:
            idle.append(pool.name)
            continue
        if not pool.declared:
            continue  # NOTE: applicationPools does not define it: WAS starts no worker, nothing loads (pool-undefined)
        part = _pool_part(ctx, server, pool, served(apps), collectors)
        parts.append(part)
        outlooks.append(part.outlook)
    everything = parts if pools is not None else [*parts, _iis_manager(ctx, server)]
    config_only = (any(p.loads for p in everything)
                   and not any(ld.binary.resolved is not None for p in everything for ld in p.loads))
    return LoadPlan(server, tuple(chain.from_iterable(p.loads for p in everything)),
                    tuple(chain.from_iterable(p.skipped for p in everything)), tuple(idle), config_only,
                    tuple(dict.fromkeys(chain.from_iterable(p.problems for p in everything))),
                    tuple(outlooks), deps_unchecked=ctx.deps_unchecked, on_server=ctx.image.is_the_server)


def served(apps: tuple[Application, ...]) -> tuple[Application, ...]:
    """``apps`` without those IIS answers with HTTP 500.19 for every request (:attr:`Application.refused`: a
    web.config IIS refuses at or above their root, KB 942055): their worker still starts for their requests and loads
    its global modules, but nothing of theirs loads (no ``bin``, handler, ASP.NET Core or COM load), so no load of
    theirs is planned; coverage says why (:mod:`iisbitness.loadplan.coverage`)."""
    return apps if all(a.refused is None for a in apps) else tuple(a for a in apps if a.refused is None)


def _bins_ahead(ctx: PlanContext, server: Server) -> None:
    """List every application's ``bin`` folder now, in the order the pools' workers will load them
    (:func:`~.collectors.bin.collect_bin`): the read-ahead (:mod:`iisbitness.pe.prefetch`) is then given all their
    files at once, not one folder at a time as the parser reaches it, so that its helper can parse whole folders
    ahead (issue 25; only where it parses: on one core, bringing files in, the earlier list cost the parser's
    core time). Nothing else changes: the folders and listings are the context's, remembered for the collectors."""
    for pool in server.pools:
        apps = served(server.applications_in(pool))
        if not apps or not pool.declared:
            continue
        arch = pool.worker_arch(server.os_arch)
        for app in apps:
            found = app_bin_folder(ctx, server, app, arch)
            if found is not None:
                ctx.bin_files(found[1])


def _pool_part(ctx: PlanContext, server: Server, pool: AppPool, apps: tuple[Application, ...],
               collectors: tuple[Collector, ...]) -> _PoolPart:
    # NOTE: collectors read the pool, its applications and, server-wide, the OS architecture, global modules,
    # the restriction list and (COM) every site's folders; fix edits replace what they change and keep the
    # rest, so identity of the server-wide parts is a sound key (the objects are held in the memo value).
    reads = (server.global_modules, server.sites, server.isapi_cgi_restriction, server.compression_schemes, collectors)

    def work() -> _PoolPart:
        process = Process("w3wp.exe", pool.worker_arch(server.os_arch), pool)
        mine: list[Load] = []
        skipped: list[Skipped] = []
        problems: list[Problem] = []
        for collect in collectors:
            sort_found(_collected(ctx, server, process, apps, collect), mine, skipped, problems)
        return _PoolPart(tuple(mine), tuple(skipped), tuple(problems), _outlook(ctx, server, pool, collectors, mine,
                                                                                 problems))

    return _memo(ctx, ("pool", pool, apps, server.os_arch), reads, _PoolPart, work)


_T = TypeVar("_T")


def _memo(ctx: PlanContext, key: tuple[object, ...], reads: tuple[object, ...], kind: type[_T],
          work: Callable[[], _T]) -> _T:
    """What ``work`` gives, remembered in :attr:`PlanContext.plans` under ``key`` and the identities of the model
    objects it ``reads`` (a fix's edits replace what they change and keep the rest: an unchanged part is the same
    object). The memo holds those objects, so no other object can take their ids while the entry lives, and a hit
    is checked object by object (``is``) all the same."""
    full = (*key, *(id(r) for r in reads))
    hit = ctx.plans.get(full)
    if hit is not None and all(a is b for a, b in zip(hit[0], reads, strict=True)) and isinstance(hit[1], kind):
        return hit[1]
    value = work()
    ctx.plans[full] = (reads, value)
    return value


def _collected(ctx: PlanContext, server: Server, process: Process, apps: tuple[Application, ...],
               collect: Collector) -> tuple[Found, ...]:
    """What one collector finds for one worker, remembered (:func:`_remembered`)."""
    return cast(tuple[Found, ...], _remembered(ctx, server, process, apps, collect, "found",
                                               lambda: tuple(collect(ctx, server, process, apps))))


_Outlook = tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]
"""What one collector says of a worker at an architecture: ``(fails, bin folders not listed)``, as :func:`bin_fails`."""


def _failing(ctx: PlanContext, server: Server, process: Process, apps: tuple[Application, ...],
             collect: Collector) -> _Outlook:
    """:func:`_fails` of what one collector finds for a worker at an architecture it does not run as (its
    outlook keeps what fails there, not every load), and (the bin collector) the bin folders it could not list,
    remembered (:func:`_remembered`)."""
    # NOTE: the bin collector can say what fails without building its loads (a load per file of every bin: issue 25)
    work = ((lambda: bin_fails(ctx, server, process, apps)) if collect is collect_bin else
            (lambda: (_fails(collect(ctx, server, process, apps)), ())))
    return cast(_Outlook, _remembered(ctx, server, process, apps, collect, "fails", work))


def _remembered(ctx: PlanContext, server: Server, process: Process, apps: tuple[Application, ...],
                collect: Collector, what: str, work: Callable[[], tuple[object, ...]],
                ) -> tuple[object, ...]:
    """What ``work`` keeps of what ``collect`` finds for one worker, remembered by the model objects it reads: a fix that
    changes one global module's preCondition re-collects the global modules of every pool, not their bins,
    COM objects and handlers (issue 25).

    NOTE: only :func:`collect_global_modules` reads ``server.global_modules`` (and, for the scheme DLLs of a
    compression module, the compression schemes), and it reads nothing of the sites; the other collectors read the
    sites (applications, folders, handlers, filters) and the ISAPI and CGI restriction list.
    """
    server_reads: tuple[object, ...] = ((server.global_modules, server.compression_schemes)
                                        if collect is collect_global_modules
                                        else (server.sites, server.isapi_cgi_restriction))
    return _memo(ctx, (what, process.arch, server.os_arch), (process.pool, apps, collect, *server_reads), tuple, work)


def _iis_manager(ctx: PlanContext, server: Server) -> _Collected:
    def work() -> _Collected:
        loads: list[Load] = []
        skipped: list[Skipped] = []
        problems: list[Problem] = []
        sort_found(collect_iis_manager(ctx, server), loads, skipped, problems)
        return _Collected(tuple(loads), tuple(skipped), tuple(problems))

    return _memo(ctx, ("inetmgr", server.os_arch), (server.sites,), _Collected, work)


def _outlook(ctx: PlanContext, server: Server, pool: AppPool, collectors: tuple[Collector, ...],
             current_loads: list[Load], problems: list[Problem]) -> PoolOutlook:
    """What fails at each candidate architecture, and where a bin folder could not be listed (never a clean
    outlook over it); the current one reuses ``current_loads``, and looks for bin folders not listed only when its
    collection met an unread problem (``problems``), as an unlisted bin is one."""
    apps = served(server.applications_in(pool))
    current = pool.worker_arch(server.os_arch)
    per_arch: list[tuple[Arch, tuple[tuple[str, str], ...]]] = []
    unread: list[tuple[Arch, tuple[tuple[str, str], ...]]] = []
    for arch in worker_candidates(server.os_arch):
        process = Process("w3wp.exe", arch, pool)
        if arch is current:
            fails = _fails(current_loads)
            unlisted = (bin_unread(ctx, server, process, apps) if collect_bin in collectors
                        and any(p.unread for p in problems) else ())
        else:
            found = [_failing(ctx, server, process, apps, collect) for collect in collectors]
            fails = tuple(chain.from_iterable(f for f, _ in found))
            unlisted = tuple(chain.from_iterable(u for _, u in found))
        per_arch.append((arch, tuple(dict.fromkeys(fails))))
        if unlisted:
            unread.append((arch, unlisted))
    return PoolOutlook(pool.name, current, tuple(per_arch), tuple(unread))


def _fails(found: Iterable[Found]) -> tuple[tuple[str, str], ...]:
    """``(Site/app, binary as configured)`` of each application-level load in ``found`` that does not fit."""
    return tuple((f"{ld.site}{ld.application}", ld.binary.configured) for ld in found
                 if isinstance(ld, Load) and ld.kind in APP_LEVEL_KINDS and ld.fits is False)
