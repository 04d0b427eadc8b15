"""Collectors: each turns one part of the configuration into loads of one worker process.

Registered explicitly in :data:`iisbitness.collector_set.COLLECTORS` (run in order for every worker). Each is a pure
function of the model plus the image read through :class:`iisbitness.loadplan.PlanContext`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from iisbitness.arch import Arch
from iisbitness.image.paths import expand, process_environment
from iisbitness.loadplan import Load, LoadKind, PlanContext, Process
from iisbitness.model import Application, ConfigSource, Problem, Server


def collect_global_modules(ctx: PlanContext, server: Server, process: Process,
                           apps: tuple[Application, ...]) -> Iterator[Load]:
    """Global native modules: loaded by every worker at start when the preCondition holds (facts D2, C7)."""
    for gm in server.global_modules:
        ev = ctx.precondition(server, process, gm.precondition, gm.name, gm.source)
        if ev is None or not gm.image.strip():
            continue
        yield Load(process, LoadKind.GLOBAL_MODULE, gm.name, ctx.resolve(gm.image, server.os_arch, process.arch),
                   gm.source, precondition=ev, detail=(("precondition", gm.precondition),))


def collect_isapi_filters(ctx: PlanContext, server: Server, process: Process,
                          apps: tuple[Application, ...]) -> Iterator[Load]:
    """ISAPI filters of every site the worker serves, server-level and site-level (facts D3)."""
    seen: set[tuple[str, str]] = set()
    for app in apps:
        if not app.effects:
            continue
        for f in app.effects[0].filters:
            key = (app.site.lower(), f.name.lower())
            if key in seen or not f.path.strip():
                continue
            seen.add(key)
            ev = ctx.precondition(server, process, f.precondition, f.name, f.source)
            if ev is None:
                continue
            yield Load(process, LoadKind.ISAPI_FILTER, f.name, ctx.resolve(f.path, server.os_arch, process.arch),
                       f.source, site=app.site, precondition=ev,
                       detail=(("precondition", f.precondition), ("declared_for", f.site or "")))


def collect_isapi_extensions(ctx: PlanContext, server: Server, process: Process,
                             apps: tuple[Application, ...]) -> Iterator[Load]:
    """ISAPI extensions behind handler mappings (IsapiModule + scriptProcessor, facts D4).

    FastCGI and CGI handlers run their program in its own process (facts D7): not loads.
    """
    for app in apps:
        seen: set[str] = set()
        for effect in app.effects:
            for h in effect.handlers:
                if not h.is_isapi_extension or h.runs_out_of_process:
                    continue
                key = h.script_processor.strip().lower()
                if key in seen:
                    continue
                ev = ctx.precondition(server, process, h.precondition, h.name, h.source)
                if ev is None:
                    continue
                seen.add(key)
                yield Load(process, LoadKind.ISAPI_EXTENSION, h.name,
                           ctx.resolve(h.script_processor, server.os_arch, process.arch), h.source,
                           site=app.site, application=app.path, precondition=ev,
                           detail=(("path", h.path), ("verb", h.verb), ("precondition", h.precondition)))


def app_bin_folder(ctx: PlanContext, server: Server, app: Application, arch: Arch) -> tuple[str, Path] | None:
    """The application's ``bin`` folder as ``(windows path, host Path)``, or None when absent."""
    root = app.root_vdir
    if root is None or not root.physical_path.strip():
        return None
    env = process_environment(server.os_arch, arch, ctx.env_overrides)
    expanded, unresolved = expand(root.physical_path, env)
    if unresolved:
        return None
    win = expanded.rstrip("\\/") + "\\bin"
    found = ctx.image.locate(win)
    if found.host_path is None or not found.host_path.is_dir():
        return None
    return win, found.host_path


def collect_bin(ctx: PlanContext, server: Server, process: Process, apps: tuple[Application, ...]) -> Iterator[Load]:
    """Assemblies (and native DLLs) in each application's ``bin``, loaded by the pool's CLR (facts D5).

    A pool with No Managed Code (``managedRuntimeVersion=""``) loads no ASP.NET CLR, so its
    ``bin`` is not loaded by the worker.
    """
    assert process.pool is not None
    if not process.pool.managed_runtime_version:
        return
    yield from _bin_loads(ctx, server, process, apps)


def _bin_loads(ctx: PlanContext, server: Server, process: Process, apps: tuple[Application, ...]) -> Iterator[Load]:
    seen: set[Path] = set()
    for app in apps:
        found = app_bin_folder(ctx, server, app, process.arch)
        if found is None:
            continue
        win, host = found
        if host in seen:
            continue
        seen.add(host)
        files, note = ctx.bin_files(host)
        if note:
            ctx.problems.append(Problem(ctx.image.display(host), None, note))
        for f in files:
            ref = ctx.resolve(win + "\\" + f.name, server.os_arch, process.arch)
            native = ref.image is not None and ref.image.is_pe and not ref.image.is_managed
            yield Load(process, LoadKind.BIN_NATIVE if native else LoadKind.BIN_ASSEMBLY, f.name, ref,
                       ConfigSource(ref.resolved or ctx.image.display(f)), site=app.site, application=app.path,
                       detail=(("bin", ctx.image.display(host)),))


def collect_iis_manager(ctx: PlanContext, server: Server) -> Iterator[Load]:
    """IIS Manager loads every ``bin`` assembly into inetmgr.exe to list types (facts F1, F2; KB 3194551).

    inetmgr.exe runs at the OS's native architecture.
    """
    process = Process("inetmgr.exe", server.os_arch)
    apps = tuple(a for s in server.sites for a in s.applications)
    for ld in _bin_loads(ctx, server, process, apps):
        if ld.kind is LoadKind.BIN_ASSEMBLY:
            yield ld

