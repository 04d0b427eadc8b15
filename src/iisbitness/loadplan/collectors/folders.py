"""An application's folders as a worker of one architecture sees them (environment expansion, WOW64 redirection)."""

from __future__ import annotations

from pathlib import Path

from iisbitness.arch import Arch
from iisbitness.image.paths import expand, normalize, process_environment
from iisbitness.loadplan.context import PlanContext
from iisbitness.model.iis7 import Application, Server


def app_folder(ctx: PlanContext, server: Server, app: Application, arch: Arch) -> tuple[str, Path | None] | None:
    """The application's physical folder as ``(windows path, host folder or None)``; None if unknown.
    Cached in ``ctx`` per physical path and architecture (every worker, candidate and re-plan asks)."""
    root = app.root_vdir
    if root is None or not root.physical_path.strip():
        return None
    key = ("app", root.physical_path, server.os_arch, arch)
    if key not in ctx.app_folders:
        ctx.app_folders[key] = _app_folder(ctx, server, root.physical_path, arch)
    return ctx.app_folders[key]


def _app_folder(ctx: PlanContext, server: Server, physical_path: str, arch: Arch) -> tuple[str, Path | None] | None:
    expanded, unresolved = expand(physical_path, process_environment(server.os_arch, arch, ctx.env_overrides))
    win = normalize(expanded).rstrip("\\")
    found = ctx.image.locate(win)
    if unresolved and found.host_path is None:
        return None  # NOTE: an unknown %NAME% stays as it is, as IIS leaves it: only a folder named so is used
    host = found.host_path if found.host_path is not None and found.host_path.is_dir() else None
    return win, host


def app_bin_folder(ctx: PlanContext, server: Server, app: Application, arch: Arch) -> tuple[str, Path] | None:
    """The application's ``bin`` folder as ``(windows path, host Path)``, or None when the image has none.
    Cached in ``ctx`` as :func:`app_folder` (NOTE: every pool's collection, outlook and IIS Manager ask: issue 25)."""
    where = app_folder(ctx, server, app, arch)
    if where is None or where[1] is None:
        return None
    key = ("bin", where[0], where[1])
    if key in ctx.app_bins:
        return ctx.app_bins[key]
    found = ctx.image.find_child(where[1], "bin")
    # NOTE: a folder (a link to one too) as its folder's listing says: no stat
    ctx.app_bins[key] = (None if found is None or found.name not in ctx.image.listing(where[1]).folders else
                         (where[0] + "\\bin", found))
    return ctx.app_bins[key]
