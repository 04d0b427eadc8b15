"""An application's folders as a worker of one architecture sees them (environment expansion, WOW64 redirection)."""

from __future__ import annotations

from pathlib import Path

from iisbitness.arch import Arch
from iisbitness.image.paths import expand, normalize, process_environment
from iisbitness.loadplan.context import PlanContext
from iisbitness.model.iis7 import Application, Server


def app_folder(ctx: PlanContext, server: Server, app: Application, arch: Arch) -> tuple[str, Path | None] | None:
    """The application's physical folder as ``(windows path, host folder or None)``; None if unknown."""
    root = app.root_vdir
    if root is None or not root.physical_path.strip():
        return None
    expanded, unresolved = expand(root.physical_path, process_environment(server.os_arch, arch, ctx.env_overrides))
    if unresolved:
        return None
    win = normalize(expanded).rstrip("\\")
    found = ctx.image.locate(win)
    host = found.host_path if found.host_path is not None and found.host_path.is_dir() else None
    return win, host


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
