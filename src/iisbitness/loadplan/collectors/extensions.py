"""ISAPI extensions behind handler mappings (IsapiModule + scriptProcessor): loaded on the first request (facts D4).

FastCGI and CGI handlers run their program in its own process (facts D7): not loads.
"""

from __future__ import annotations

from collections.abc import Iterator

from iisbitness.loadplan.context import Found, PlanContext
from iisbitness.loadplan.plan import Load, LoadKind, Process, Skipped
from iisbitness.model.iis7 import Application, Server


def collect_isapi_extensions(ctx: PlanContext, server: Server, process: Process,
                             apps: tuple[Application, ...]) -> Iterator[Found]:
    """One load per (application, scriptProcessor) whose handler's preCondition holds in ``process``."""
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
                if isinstance(ev, Skipped):
                    yield ev
                    continue
                seen.add(key)
                yield Load(process, LoadKind.ISAPI_EXTENSION, h.name,
                           ctx.resolve(h.script_processor, server.os_arch, process.arch), h.source, h,
                           site=app.site, application=app.path, precondition=ev)
