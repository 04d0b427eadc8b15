"""Configuration edits a fix makes, applied to a copy of the model for verification.

Each edit is data; :func:`apply` returns a changed :class:`iisbitness.model.Server` and never
touches a file. :mod:`iisbitness.fixes.commands` turns the same edits into appcmd and PowerShell.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from iisbitness.arch import Arch
from iisbitness.model import Application, AppPool, ConfigSource, Server, Site, WebConfigEffect


@dataclass(frozen=True, slots=True)
class SetPoolArch:
    """Make pool ``pool`` run its worker as ``arch`` (enable32BitAppOnWin64, and on ARM64
    enableEmulationOnWinArm64)."""

    pool: str
    arch: Arch


@dataclass(frozen=True, slots=True)
class SetGlobalModulePrecondition:
    """Set the preCondition of global module ``name`` (and its ``<modules>`` entry)."""

    name: str
    precondition: str


@dataclass(frozen=True, slots=True)
class SetFilterPrecondition:
    """Set the preCondition of ISAPI filter ``name`` (server level when ``site`` is None)."""

    name: str
    precondition: str
    site: str | None


@dataclass(frozen=True, slots=True)
class MoveToNewPool:
    """Create pool ``new_pool`` at ``arch`` (copying runtime and pipeline from ``like_pool``) and
    move the applications ``apps`` (``(site, path)`` pairs) into it."""

    apps: tuple[tuple[str, str], ...]
    new_pool: str
    arch: Arch
    like_pool: str


Edit = SetPoolArch | SetGlobalModulePrecondition | SetFilterPrecondition | MoveToNewPool


def _pool_at(pool: AppPool, arch: Arch) -> AppPool:
    return replace(pool, enable_32bit_app_on_win64=arch is Arch.X86, enable_32bit_from="pool",
                   enable_emulation_on_arm64=arch is not Arch.ARM64)


def apply(server: Server, edit: Edit) -> Server:
    """``server`` with ``edit`` made. Unknown names leave it unchanged."""
    if isinstance(edit, SetPoolArch):
        pool = server.pool(edit.pool)
        return server if pool is None else server.with_pool(_pool_at(pool, edit.arch))
    if isinstance(edit, SetGlobalModulePrecondition):
        mods = tuple(replace(m, precondition=edit.precondition) if m.name.lower() == edit.name.lower() else m
                     for m in server.global_modules)
        return replace(server, global_modules=mods)
    if isinstance(edit, SetFilterPrecondition):
        return replace(server, sites=tuple(_site_filters(s, edit) for s in server.sites))
    like = server.pool(edit.like_pool)
    if like is None:
        return server
    new = _pool_at(replace(like, name=edit.new_pool, declared=True, source=ConfigSource("(new pool)")), edit.arch)
    moved = {(s.lower(), p.lower()) for s, p in edit.apps}
    sites = tuple(
        replace(s, applications=tuple(
            replace(a, pool=edit.new_pool) if (a.site.lower(), a.path.lower()) in moved else a for a in s.applications))
        for s in server.sites)
    return replace(server, sites=sites, pools=server.pools + (new,))


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
    """``server`` with every edit made, in order."""
    for e in edits:
        server = apply(server, e)
    return server
