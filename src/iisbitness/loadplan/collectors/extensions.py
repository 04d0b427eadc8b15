"""ISAPI extensions behind handler mappings (IsapiModule + scriptProcessor): loaded on the first request (facts D4).

FastCGI and CGI handlers run their program in its own process (facts D7): not loads.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from iisbitness.image.paths import expand, normalize, process_environment
from iisbitness.loadplan.context import Found, PlanContext
from iisbitness.loadplan.plan import Load, LoadKind, Process, Skipped, SkipReason
from iisbitness.model.iis7 import Application, Server


def collect_isapi_extensions(ctx: PlanContext, server: Server, process: Process,
                             apps: tuple[Application, ...]) -> Iterator[Found]:
    """One load per (application, scriptProcessor) whose handler's preCondition holds in ``process``; a handler
    whose ``IsapiModule`` the application's ``<modules>`` list does not hold is skipped (HTTP 500.21, KB 943891)."""
    for app in apps:
        seen: set[str] = set()
        for effect in app.effects:
            for h in effect.handlers:
                if not h.is_isapi_extension or h.runs_out_of_process:
                    continue
                key = h.script_processor.strip().lower()
                if key in seen:
                    continue
                if effect.modules is not None and "isapimodule" not in effect.modules:
                    # NOTE: a <clear/> or <remove name="IsapiModule"/> at this path: IIS answers 500.21, never loads it
                    yield Skipped(process, h.name, h.source,
                                  f"IsapiModule is not in the modules list at {effect.config_path} (a <clear/> or "
                                  "<remove> took it out): the DLL is never loaded; requests get HTTP 500.21 \"Handler "
                                  "... has a bad module 'IsapiModule' in its module list\" (IIS's error page; KB 943891: 500.21 \"Module not recognized\"), or HTTP 500.19 "
                                  "\"Lock violation\" where applicationHost.config locks that entry (lockItem)",
                                  SkipReason.MODULE_NOT_ENABLED, LoadKind.ISAPI_EXTENSION,
                                  configured=h.script_processor, site=app.site, application=app.path)
                    continue
                ev = ctx.precondition(server, process, h.precondition, h.name, h.source,
                                    LoadKind.ISAPI_EXTENSION, h.script_processor)
                if isinstance(ev, Skipped):
                    yield replace(ev, site=app.site, application=app.path)
                    continue
                seen.add(key)
                binary = ctx.resolve(h.script_processor, server.os_arch, process.arch)
                refused = _refused(ctx, server, process, h.script_processor)
                if refused is not None:
                    odd = ev.undocumented
                    if odd:
                        refused += (f"; its preCondition {h.precondition!r} holds token{'s' if len(odd) != 1 else ''} "
                                    f"{', '.join(odd)} that IIS does not document: whether IIS maps requests to it at "
                                    "all is not known")
                    yield Skipped(process, h.name, h.source, refused, SkipReason.RESTRICTED, LoadKind.ISAPI_EXTENSION,
                                  binary, site=app.site, application=app.path, undocumented_tokens=odd)
                    continue
                yield Load(process, LoadKind.ISAPI_EXTENSION, h.name, binary, h.source, h,
                           site=app.site, application=app.path, precondition=ev)


def _refused(ctx: PlanContext, server: Server, process: Process, script_processor: str) -> str | None:
    """Why the ISAPI and CGI Restrictions list refuses ``script_processor`` (HTTP 404.2), or None when it allows it."""
    restriction = server.isapi_cgi_restriction
    if restriction is None:
        return None
    env = process_environment(server.os_arch, process.arch, ctx.env_overrides)

    def expanded(path: str) -> str:
        return normalize(expand(path, env)[0])

    allowed, entry = restriction.verdict(expanded(script_processor), expanded)
    if allowed:
        return None
    if entry is not None:
        return (f"the ISAPI and CGI Restrictions list sets allowed=\"false\" for it ({entry.source}): requests get "
                "HTTP 404.2 and the DLL is never loaded")
    return (f"the ISAPI and CGI Restrictions list does not list it and notListedIsapisAllowed is false "
            f"({restriction.source}): requests get HTTP 404.2 and the DLL is never loaded")
