"""ISAPI filters of every site the worker serves, server-level and site-level: loaded at start (facts D3)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from iisbitness.loadplan.context import Found, PlanContext
from iisbitness.loadplan.plan import Load, LoadKind, Process, Skipped
from iisbitness.model.iis7 import Application, Server
from iisbitness.model.source import Problem


def collect_isapi_filters(ctx: PlanContext, server: Server, process: Process,
                          apps: tuple[Application, ...]) -> Iterator[Found]:
    """One load per (site, filter) whose preCondition holds in ``process``."""
    seen: set[tuple[str, str]] = set()
    for app in apps:
        if not app.effects:
            continue
        for f in app.effects[0].filters:
            key = (app.site.lower(), f.name.lower())
            if key in seen:
                continue
            seen.add(key)
            if not f.path.strip():
                yield Problem(f.source.file, f.source.line, f"ISAPI filter {f.name!r} names no path (path=\"\"): "
                              "nothing to check; the site's worker cannot load it")
                continue
            ev = ctx.precondition(server, process, f.precondition, f.name, f.source,
                                    LoadKind.ISAPI_FILTER, f.path)
            if isinstance(ev, Skipped):
                yield replace(ev, site=app.site)
                continue
            yield Load(process, LoadKind.ISAPI_FILTER, f.name, ctx.resolve(f.path, server.os_arch, process.arch),
                       f.source, f, site=app.site, precondition=ev)
