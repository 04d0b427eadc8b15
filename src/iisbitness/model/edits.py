"""Configuration edits a fix makes, applied to a copy of the model for verification.

Each edit is data: :data:`Edit` covers IIS 7+ (:data:`Iis7Edit`) and IIS 6 (:data:`Iis6Edit`).
:func:`apply_all` returns a changed :class:`iisbitness.model.iis7.Server`, :func:`apply_all_iis6` a
changed :class:`iisbitness.model.iis6.Iis6Server`; neither touches a file.
:mod:`iisbitness.fixes.commands` and :mod:`iisbitness.fixes.commands_iis6` turn the same edits into
appcmd / PowerShell and adsutil.vbs / aspnet_regiis commands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from iisbitness.arch import Arch
from iisbitness.model.iis6 import Iis6App, Iis6Filter, Iis6Server, ScriptMap, WebSvcExt
from iisbitness.model.iis7 import Application, AppPool, PoolElement, Server, Site, WebConfigEffect
from iisbitness.model.iisexpress import ArchFrom, IisExpressWorkspace
from iisbitness.model.source import ConfigSource


@dataclass(frozen=True, slots=True)
class SetPoolArch:
    """Make pool ``pool`` run its worker as ``arch`` (enable32BitAppOnWin64, and on ARM64
    enableEmulationOnWinArm64)."""

    pool: str
    arch: Arch


@dataclass(frozen=True, slots=True)
class ModulesEntryPrecondition:
    """The new ``preCondition`` of one ``system.webServer/modules`` ``<add>`` (a :class:`ModuleEntry` of the server:
    ``location`` and ``source`` as read, ``""`` for server level)."""

    location: str
    precondition: str
    source: ConfigSource


@dataclass(frozen=True, slots=True)
class SetGlobalModulePrecondition:
    """Set the preCondition of global module ``name`` to ``precondition``, and each of ``modules`` (the entries of
    ``<modules>`` that name it, each at the level that declares it, with their own new value: none when
    ``<modules>`` lists it nowhere)."""

    name: str
    precondition: str
    modules: tuple[ModulesEntryPrecondition, ...] = ()


@dataclass(frozen=True, slots=True)
class SetFilterPrecondition:
    """Set the preCondition of ISAPI filter ``name`` (server level when ``site`` is None)."""

    name: str
    precondition: str
    site: str | None


@dataclass(frozen=True, slots=True)
class MoveToNewPool:
    """Create pool ``new_pool`` at ``arch``, a copy of every attribute and child element of ``like_pool`` but its
    name and bitness (:func:`copy_pool_elements`), and move the applications ``apps`` (``(site, path)`` pairs)
    into it."""

    apps: tuple[tuple[str, str], ...]
    new_pool: str
    arch: Arch
    like_pool: str


@dataclass(frozen=True, slots=True)
class RemoveCompressionScheme:
    """Remove compression scheme ``name`` (``system.webServer/httpCompression/scheme``, AppHostOnly) from the server:
    no worker loads its DLL any more, and no pool compresses with it. What KB 4468361 ("Management points stop
    responding to HTTP requests with error 500.19") does for WSUS's ``xpress`` scheme, whose ``suscomp.dll`` has no
    build for the other architecture. A scheme takes no preCondition (facts C1): short of flipping the pool, the other
    way to keep it out of a worker is a bitness preCondition on the compression modules themselves."""

    name: str


Iis7Edit = SetPoolArch | SetGlobalModulePrecondition | SetFilterPrecondition | MoveToNewPool | RemoveCompressionScheme
"""An edit of an IIS 7+ configuration (applicationHost.config, web.config)."""


BITNESS_ATTRIBUTES = ("enable32BitAppOnWin64", "enableEmulationOnWinArm64")
"""The pool attributes that decide its worker's architecture (facts A4-A7): a split pool sets them, never copies them."""


def copy_pool_elements(elements: tuple[PoolElement, ...], name: str, values: dict[str, str]
                       ) -> tuple[PoolElement, ...]:
    """A pool's stored elements (:attr:`AppPool.elements`) for a new pool ``name``: every attribute and child as
    stored (identity with its encrypted password, processModel, recycling, failure, cpu, environmentVariables),
    the ``<add>``'s name replaced and its bitness attributes set to ``values`` instead of copied."""
    if not elements:
        return (PoolElement((), (("name", name), *values.items())),)
    head, rest = elements[0], elements[1:]
    attrs = [(k, v) for k, v in head.attributes if k != "name" and k not in BITNESS_ATTRIBUTES]
    return (PoolElement((), (("name", name), *attrs, *values.items())), *rest)


def _pool_at(pool: AppPool, arch: Arch) -> AppPool:
    return replace(pool, enable_32bit_app_on_win64=arch is Arch.X86, enable_32bit_from="pool",
                   enable_emulation_on_arm64=arch is not Arch.ARM64)


def apply(server: Server, edit: Iis7Edit) -> Server:
    """``server`` with ``edit`` made. Unknown names leave it unchanged."""
    if isinstance(edit, SetPoolArch):
        pool = server.pool(edit.pool)
        # NOTE: a pool only an application names is declared by the edit (fixes/plan.py writes an <add>)
        return server if pool is None else server.with_pool(replace(_pool_at(pool, edit.arch), declared=True))
    if isinstance(edit, SetGlobalModulePrecondition):
        module = server.global_module(edit.name)
        mods = tuple(replace(m, precondition=edit.precondition) if m is module else m for m in server.global_modules)
        values = {(t.source, t.location.lower()): t.precondition for t in edit.modules}
        entries = tuple(replace(e, precondition=values[e.source, e.location.lower()])
                        if e.name.lower() == edit.name.lower() and (e.source, e.location.lower()) in values else e
                        for e in server.module_entries)
        return replace(server, global_modules=mods, module_entries=entries)
    if isinstance(edit, SetFilterPrecondition):
        return replace(server, sites=tuple(_site_filters(s, edit) for s in server.sites))
    if isinstance(edit, RemoveCompressionScheme):
        return replace(server, compression_schemes=tuple(c for c in server.compression_schemes
                                                         if c.name.lower() != edit.name.lower()))
    like = server.pool(edit.like_pool)
    if like is None:
        return server
    copied = copy_pool_elements(like.elements, edit.new_pool,
                                {"enable32BitAppOnWin64": "true" if edit.arch is Arch.X86 else "false"})
    new = _pool_at(replace(like, name=edit.new_pool, declared=True, source=ConfigSource("(new pool)"),
                           elements=copied, copied_from=like.name), edit.arch)
    return server.with_new_pool(new, {(s.lower(), p.lower()) for s, p in edit.apps})


def _site_filters(site: Site, edit: SetFilterPrecondition) -> Site:
    if edit.site is not None and site.name.lower() != edit.site.lower():
        return site

    def eff(e: WebConfigEffect) -> WebConfigEffect:
        return replace(e, filters=tuple(replace(f, precondition=edit.precondition) if f.name.lower() == edit.name.lower()
                                        else f for f in e.filters))

    def app(a: Application) -> Application:
        return replace(a, effects=tuple(eff(e) for e in a.effects))

    return replace(site, applications=tuple(app(a) for a in site.applications))


def apply_all(server: Server, edits: tuple[Edit, ...]) -> Server:
    """``server`` with every IIS 7+ edit made, in order (IIS 6 edits are ignored)."""
    for e in edits:
        if isinstance(e, SetPoolArch | SetGlobalModulePrecondition | SetFilterPrecondition | MoveToNewPool
                      | RemoveCompressionScheme):
            server = apply(server, e)
    return server


# IIS 6 (MetaBase.xml): the worker bitness is server-wide (facts G4, G6, G7; KB 895976).

FRAMEWORK_FOLDER = {Arch.X86: "Framework", Arch.X64: "Framework64"}
"""The .NET Framework folder of each architecture under ``%windir%\\Microsoft.NET``."""
_ASPNET = re.compile(r"(\\Microsoft\.NET\\)(Framework(?:64)?)(\\(v[\d.]+)\\aspnet_(?:isapi|filter)\.dll)$", re.IGNORECASE)


def aspnet_version(path: str) -> tuple[Arch, str] | None:
    """``(arch of the Framework folder, version folder)`` when ``path`` is ASP.NET's
    ``aspnet_isapi.dll``/``aspnet_filter.dll`` under ``Microsoft.NET\\Framework[64]``; else None."""
    m = _ASPNET.search(path.strip().strip('"'))
    if m is None:
        return None
    return (Arch.X64 if m.group(2).lower() == "framework64" else Arch.X86), m.group(4)


@dataclass(frozen=True, slots=True)
class SetWow64:
    """Set ``W3SVC/AppPools/Enable32bitAppOnWin64`` (every worker 32-bit when True)."""

    enabled: bool


@dataclass(frozen=True, slots=True)
class SetIsolation5:
    """Set ``W3SVC/IIs5IsolationModeEnabled``."""

    enabled: bool


@dataclass(frozen=True, slots=True)
class RegisterAspNet:
    """What ``aspnet_regiis -i -enable`` (ASP.NET 1.1: ``aspnet_regiis -i`` plus allowing its Web
    Service Extension) from the ``arch`` Framework folder leaves behind: every ASP.NET filter and
    script map points into that folder, and its aspnet_isapi.dll is allowed."""

    arch: Arch


Iis6Edit = SetWow64 | SetIsolation5 | RegisterAspNet
"""An edit of an IIS 6 metabase."""


# IIS Express (a developer machine): the bitness is the project's setting (iis-express-facts.md F2.2, F2.3).

@dataclass(frozen=True, slots=True)
class SetIisExpressArch:
    """Make Visual Studio start the ``arch`` ``iisexpress.exe`` for project ``project``: its
    ``<Use64BitIISExpress>`` property or its launch profile's ``use64Bit``."""

    project: str
    arch: Arch


IisExpressEdit = SetIisExpressArch
"""An edit of a Visual Studio project's IIS Express settings."""

Edit = Iis7Edit | Iis6Edit | IisExpressEdit
"""Any configuration edit a fix makes, IIS 7+, IIS 6 or IIS Express."""


def _to_folder(path: str, arch: Arch) -> str:
    m = _ASPNET.search(path)
    if m is None:
        return path
    return path[: m.start(2)] + FRAMEWORK_FOLDER[arch] + path[m.end(2):]


def apply_iis6(server: Iis6Server, edit: Iis6Edit) -> Iis6Server:
    """``server`` with ``edit`` made (a copy; nothing is written)."""
    if isinstance(edit, SetWow64):
        return replace(server, enable_32bit_app_on_win64=edit.enabled, enable_32bit_from="/LM/W3SVC/AppPools")
    if isinstance(edit, SetIsolation5):
        return replace(server, iis5_isolation_mode_enabled=edit.enabled)

    def filt(f: Iis6Filter) -> Iis6Filter:
        return replace(f, path=_to_folder(f.path, edit.arch))

    def sm(s: ScriptMap) -> ScriptMap:
        return replace(s, processor=_to_folder(s.processor, edit.arch))

    def app(a: Iis6App) -> Iis6App:
        return replace(a, script_maps=tuple(sm(s) for s in a.script_maps))

    apps = tuple(app(a) for a in server.apps)
    allowed = {s.processor.lower() for a in apps for s in a.script_maps if aspnet_version(s.processor)}
    restrictions = server.restrictions
    if restrictions:
        kept = tuple(r for r in restrictions if r.path.lower() not in allowed)
        restrictions = kept + tuple(WebSvcExt(True, p, "ASP.NET", "ASP.NET") for p in sorted(allowed))
    return replace(server, global_filters=tuple(filt(f) for f in server.global_filters),
                   site_filters=tuple(filt(f) for f in server.site_filters), apps=apps, restrictions=restrictions)


def apply_all_iis6(server: Iis6Server, edits: tuple[Edit, ...]) -> Iis6Server:
    """``server`` with every IIS 6 edit made, in order (other edit types are ignored)."""
    for e in edits:
        if isinstance(e, SetWow64 | SetIsolation5 | RegisterAspNet):
            server = apply_iis6(server, e)
    return server


def apply_all_iisexpress(workspace: IisExpressWorkspace, edits: tuple[Edit, ...]) -> IisExpressWorkspace:
    """``workspace`` with every IIS Express edit made (project bitness), and the IIS 7+ edits made to its
    applicationhost.config model; nothing is written."""
    projects = workspace.projects
    for e in edits:
        if isinstance(e, SetIisExpressArch):
            projects = tuple(
                replace(p, arch=e.arch, arch_from=ArchFrom.PROJECT if p.switch.value == "project-property"
                        else ArchFrom.LAUNCH_PROFILE, reason=f"changed by the fix to {e.arch.value}")
                if p.name.lower() == e.project.lower() else p for p in projects)
    return replace(workspace, server=apply_all(workspace.server, edits), projects=projects)


def touched_pools(edits: tuple[Edit, ...]) -> frozenset[str] | None:
    """The application pools (lower-case names) ``edits`` can change, or None when they can change any load
    (a global module's or filter's preCondition, an IIS 6 or IIS Express switch). Flipping a pool changes only
    its worker; moving applications to a new pool changes the pool they leave and the new one."""
    pools: set[str] = set()
    for e in edits:
        if isinstance(e, SetPoolArch):
            pools.add(e.pool.lower())
        elif isinstance(e, MoveToNewPool):
            pools.update((e.like_pool.lower(), e.new_pool.lower()))
        else:
            return None
    return frozenset(pools)
