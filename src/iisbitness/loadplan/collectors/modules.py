"""Global native modules: loaded by every worker at start when the preCondition holds (facts D2, C7); and, where a
compression module is among them, the ``httpCompression`` scheme DLLs it loads (:mod:`.compression`)."""

from __future__ import annotations

from collections.abc import Iterator

from iisbitness.loadplan.collectors.compression import COMPRESSION_MODULES, scheme_loads
from iisbitness.loadplan.context import Found, PlanContext
from iisbitness.loadplan.plan import Load, LoadKind, Process, Skipped
from iisbitness.model.iis7 import Application, Server
from iisbitness.model.source import Problem


def collect_global_modules(ctx: PlanContext, server: Server, process: Process,
                           apps: tuple[Application, ...]) -> Iterator[Found]:
    """One load per ``system.webServer/globalModules`` entry whose preCondition holds in ``process``, then, when one of
    them is a compression module, one per compression scheme (:func:`.compression.scheme_loads`: the schemes' loads
    follow from this decision, never from a second evaluation of the modules' preConditions)."""
    compresses = False
    for gm in server.global_modules:
        ev = ctx.precondition(server, process, gm.precondition, gm.name, gm.source,
                                    LoadKind.GLOBAL_MODULE, gm.image)
        if isinstance(ev, Skipped):
            yield ev
            continue
        if not gm.image.strip():
            yield Problem(gm.source.file, gm.source.line, f"global module {gm.name!r} names no image (image=\"\"): "
                          "nothing to check; a worker cannot load it (W3SVC-WP event 2280)")
            continue
        compresses = compresses or gm.name.lower() in COMPRESSION_MODULES
        yield Load(process, LoadKind.GLOBAL_MODULE, gm.name, ctx.resolve(gm.image, server.os_arch, process.arch),
                   gm.source, gm, precondition=ev)
    if compresses and process.pool is not None:
        yield from scheme_loads(ctx, server, process)
