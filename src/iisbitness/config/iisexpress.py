"""Read a Visual Studio solution or project folder: its IIS Express configuration, its web projects, and
which ``iisexpress.exe`` runs each (facts sheet ``iis-express-facts.md``, ids below).

The folder is read, never written. Steps:

1. The solution folder: the folder given, or the nearest parent holding a ``.vs`` folder or a
   ``.sln``/``.slnx`` file.
2. The web projects: ``*.csproj``/``*.vbproj`` below it; ``Use64BitIISExpress``, ``UseGlobalApplicationHostFile``,
   ``AspNetCoreHostingModel`` from the project file and its ``.csproj.user`` (F2.2: VS writes them to
   either; the ``.user`` file is imported after the project, so its value wins), and the ``IISExpress``
   profile of ``Properties/launchSettings.json`` (F2.3).
3. The configuration Visual Studio gives IIS Express (F3.1-F3.4): ``--config``; the per-user
   ``Documents\\IISExpress\\config\\applicationhost.config`` when ``UseGlobalApplicationHostFile`` is true;
   else ``.vs\\<solution>\\config\\applicationhost.config`` (VS 2017 and later, F3.3, the level's VS
   version UNCONFIRMED), else ``.vs\\config\\applicationhost.config`` (VS 2015, F3.2).
4. Each project is matched to the site whose root ``physicalPath`` ends with the project's folder
   (relative to the solution), and that Windows folder is *mounted* on the project folder, so the
   pipeline reads ``bin`` and ``web.config`` as IIS Express would.
5. Bitness (F2.1-F2.3): ASP.NET Core: ``use64Bit`` of the profile; .NET Framework: a non-empty
   ``Use64BitIISExpress`` (``.csproj.user`` over ``.csproj``). Where neither says, ``--iisexpress-arch``
   (standing for Visual Studio's global option, which is not on disk); else a default, reported as an
   assumption: the launchSettings schema default ``true`` for a profile, Visual Studio's option off (its
   documented default in VS 2015; later versions' default is UNCONFIRMED) for a project property.

MSBuild ``Condition`` attributes are not evaluated: the last value in the file counts (a NOTE in the report).
"""

from __future__ import annotations

import json
import ntpath
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

from iisbitness.arch import Arch
from iisbitness.config.apphost import read_server
from iisbitness.config.jsonfile import read_json
from iisbitness.config.xml import children, line_of, local_name, parse_file
from iisbitness.config.xml import parse_bool as _bool
from iisbitness.errors import ConfigError, ServerImageError
from iisbitness.image import windows
from iisbitness.image.paths import normalize
from iisbitness.image.server_image import ServerImage
from iisbitness.model.iis7 import Server
from iisbitness.model.iisexpress import (
    CONFIG_OPTION,
    ArchFrom,
    IisExpressProject,
    IisExpressWorkspace,
    ProjectKind,
    SwitchKind,
)
from iisbitness.model.source import ConfigSource, Problem

PROJECT_SUFFIXES = (".csproj", ".vbproj")
_SKIP = {"bin", "obj", ".vs", ".git", "node_modules", "packages", "wwwroot"}
MAX_DEPTH = 4
MAX_PROJECT_BYTES = 4 * 1024 * 1024
"""Largest project (or ``.user``) file read, in bytes: a real one is well under 1 MB, and lxml needs about twenty
times a file's size (a 37 MB ``.csproj`` took 745 MB and 6.6 s); a bigger one is reported and left out."""
MAX_LAUNCH_SETTINGS_BYTES = 1024 * 1024
"""Largest ``launchSettings.json`` read, in bytes (a real one is a few KB)."""
"""Folder depth searched below the solution folder for project files."""
APPHOST_NAME = "applicationhost.config"
PER_USER = ("Documents", "IISExpress", "config", APPHOST_NAME)
"""The per-user configuration below a user profile (F1.4, F3.1)."""


@dataclass(frozen=True, slots=True)
class Setting:
    """A project property as read: value and where."""

    value: str
    at: ConfigSource


@dataclass(frozen=True, slots=True)
class ProjectFile:
    """What a project file (and its ``.user`` file and launch settings) says about IIS Express."""

    path: Path
    shown: str
    sdk_web: bool
    properties: dict[str, Setting]
    user_properties: dict[str, Setting]
    profile: tuple[str, dict[str, object], ConfigSource] | None
    """The ``IISExpress`` launch profile: name, its JSON object, and where it is."""

    @property
    def name(self) -> str:
        """The project name (file stem)."""
        return self.path.stem

    def prop(self, name: str) -> Setting | None:
        """The property's non-empty value, the ``.user`` file's first (F2.2)."""
        for props in (self.user_properties, self.properties):
            s = props.get(name.lower())
            if s is not None and s.value.strip():
                return s
        return None

    @property
    def assembly_name(self) -> str:
        """``<AssemblyName>``, else the project name."""
        s = self.prop("AssemblyName")
        return s.value if s is not None else self.name

    @property
    def ports(self) -> frozenset[int]:
        """The IIS Express ports Visual Studio gave the project (``<IISUrl>``, ``IISExpressSSLPort``, launch settings)."""
        texts = [s.value for n in ("iisurl", "iisexpresssslport") if (s := self.properties.get(n)) is not None]
        if self.profile is not None:
            texts += [str(self.profile[1].get(k) or "") for k in ("_applicationUrl", "_sslPort")]
        return frozenset(int(m) for t in texts for m in re.findall(r"(?::|^)(\d{2,5})(?=/|$)", t.strip()))

    @property
    def kind(self) -> ProjectKind:
        """ASP.NET Core when the project uses the Web SDK or has an IISExpress launch profile."""
        return ProjectKind.ASPNETCORE if self.sdk_web or self.profile is not None else ProjectKind.ASPNET


def _display(root: Path, p: Path) -> str:
    try:
        return p.relative_to(root).as_posix()
    except ValueError:
        return str(p)


def find_solution(folder: Path) -> Path:
    """The solution folder for ``folder``: itself, or the nearest of three parents with ``.vs`` or a ``.sln``."""
    for cand in (folder, *list(folder.resolve().parents)[:3]):
        try:
            names = os.listdir(cand)
        except OSError:
            continue
        if any(n.lower() == ".vs" or n.lower().endswith((".sln", ".slnx")) for n in names):
            return cand
    return folder


def find_project_files(root: Path) -> list[Path]:
    """Project files below ``root`` (depth :data:`MAX_DEPTH`, skipping bin/obj/.vs/...), sorted."""
    out: list[Path] = []
    stack: list[tuple[Path, int]] = [(root, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda d: d.name)
        except OSError:
            continue
        for d in entries:
            try:
                if d.is_dir(follow_symlinks=False):
                    if depth < MAX_DEPTH and d.name.lower() not in _SKIP:
                        stack.append((Path(d.path), depth + 1))
                elif d.name.lower().endswith(PROJECT_SUFFIXES):
                    out.append(Path(d.path))
            except OSError:
                continue
    return sorted(out)


def _msbuild_properties(path: Path, shown: str) -> tuple[dict[str, Setting], bool]:
    """``PropertyGroup`` values of an MSBuild file (lower-case names; the last non-empty wins, conditions
    ignored) and whether the ``Sdk`` is ``Microsoft.NET.Sdk.Web``."""
    root = parse_file(path, shown, MAX_PROJECT_BYTES)
    props: dict[str, Setting] = {}
    for group in children(root, "PropertyGroup"):
        for el in children(group):
            name = local_name(el).lower()
            text = (el.text or "").strip()
            if text or name not in props:
                props[name] = Setting(text, ConfigSource(shown, line_of(el)))
    for el in root.iter():
        if isinstance(el.tag, str) and local_name(el).lower() == "iisurl" and (el.text or "").strip():
            props.setdefault("iisurl", Setting((el.text or "").strip(), ConfigSource(shown, line_of(el))))
    sdk = (root.get("Sdk") or "").strip().lower() == "microsoft.net.sdk.web" or any(
        (e.get("Name") or "").strip().lower() == "microsoft.net.sdk.web" for e in children(root, "Sdk"))
    return props, sdk


def _launch_profile(folder: Path, root: Path, problems: list[Problem]) -> tuple[str, dict[str, object], ConfigSource] | None:
    """The first profile with ``"commandName": "IISExpress"`` of ``Properties/launchSettings.json`` (F2.3)."""
    for sub in ("Properties", "My Project"):
        f = folder / sub / "launchSettings.json"
        if not f.is_file():
            continue
        shown = _display(root, f)
        try:
            data, text = read_json(f, shown, MAX_LAUNCH_SETTINGS_BYTES, "launch settings", comments=True)
        except ConfigError as e:
            problems.append(Problem(shown, e.line, f"{e.message}; the IISExpress profile is not used"))
            return None
        if not isinstance(data, dict) or not isinstance(data.get("profiles"), dict):
            return None
        profiles = data["profiles"]
        iis = data.get("iisSettings", {}).get("iisExpress", {}) if isinstance(data.get("iisSettings"), dict) else {}
        for name, prof in profiles.items():
            if isinstance(prof, dict) and str(prof.get("commandName", "")).lower() == "iisexpress":
                urls = dict(prof)
                if isinstance(iis, dict):  # NOTE: the site's URL and SSL port live in iisSettings.iisExpress
                    urls["_applicationUrl"], urls["_sslPort"] = iis.get("applicationUrl"), iis.get("sslPort")
                return str(name), urls, ConfigSource(shown, _json_line(text, str(name), "use64Bit"))
    return None


def _json_line(text: str, profile: str, key: str) -> int | None:
    """1-based line of ``key`` inside profile ``profile`` (else of the profile), found textually."""
    m = re.search(r'"' + re.escape(profile) + r'"\s*:', text)
    if m is None:
        return None
    start = text.count("\n", 0, m.start()) + 1
    value = len(text) - len(text[m.end():].lstrip())
    try:  # NOTE: the profile's own end, past nested objects (environmentVariables before use64Bit)
        end = json.JSONDecoder().raw_decode(text, value)[1]
    except ValueError:
        end = len(text)
    k = re.compile(r'"' + re.escape(key) + r'"\s*:', re.IGNORECASE).search(text, m.end(), end)
    return text.count("\n", 0, k.start()) + 1 if k else start


def read_project(path: Path, root: Path, problems: list[Problem]) -> ProjectFile | None:
    """A project file with its ``.user`` file and launch profile; None (and a problem) when unreadable."""
    shown = _display(root, path)
    try:
        props, sdk = _msbuild_properties(path, shown)
    except ConfigError as e:
        problems.append(Problem(e.path, e.line, e.message + "; this project is left out"))
        return None
    user: dict[str, Setting] = {}
    up = path.with_name(path.name + ".user")
    if up.is_file():
        try:
            user, _ = _msbuild_properties(up, _display(root, up))
        except ConfigError as e:
            problems.append(Problem(e.path, e.line, e.message + "; its settings are not used"))
    return ProjectFile(path, shown, sdk, props, user, _launch_profile(path.parent, root, problems))


DEFAULT_PROFILE = "IIS Express"
"""The name Visual Studio's ASP.NET Core templates give the profile with ``"commandName": "IISExpress"``."""


def _launch_settings_of(p: ProjectFile) -> str:
    """The project's ``Properties/launchSettings.json``, as the report names files (beside its project file)."""
    folder = p.shown.rsplit("/", 1)[0] if "/" in p.shown else ""
    return f"{folder}/Properties/launchSettings.json" if folder else "Properties/launchSettings.json"


def _bitness(p: ProjectFile, forced: Arch | None, os_arch: Arch) -> tuple[Arch, ArchFrom, str, ConfigSource]:
    """``(arch, from, reason, where to flip it)`` for project ``p`` (F2.1-F2.3)."""
    wide = Arch.ARM64 if os_arch is Arch.ARM64 else Arch.X64
    if os_arch is Arch.X86:
        return Arch.X86, ArchFrom.OS, "32-bit Windows has only the 32-bit iisexpress.exe (facts F1.1)", ConfigSource(p.shown)
    if p.kind is ProjectKind.ASPNETCORE and p.profile is None:
        # NOTE: an SDK-style project's bitness is its launch profile's (F2.3), never <Use64BitIISExpress> (F2.2, .NET
        # Framework projects): without one read, the profile Visual Studio writes (no use64Bit) is assumed
        at = ConfigSource(_launch_settings_of(p))
        why = (f"no IIS Express launch profile was read from {at.file} (absent, unreadable, or no profile with "
               "\"commandName\": \"IISExpress\")")
        if forced is not None:
            return forced, ArchFrom.OPTION, f"{why}; --iisexpress-arch {forced.value}", at
        return (wide, ArchFrom.LAUNCH_PROFILE_DEFAULT,
                (f"{why}: the profile Visual Studio writes has no use64Bit, so the launchSettings.json schema "
                 "default true (64-bit) is assumed (facts F2.3)"), at)
    if p.kind is ProjectKind.ASPNETCORE and p.profile is not None:
        name, prof, at = p.profile
        val = prof.get("use64Bit")
        flag = val if isinstance(val, bool) else _bool(str(val)) if val is not None else None
        if flag is None and forced is not None:
            return forced, ArchFrom.OPTION, f"launch profile '{name}' has no use64Bit; --iisexpress-arch {forced.value}", at
        if flag is None:
            return (wide, ArchFrom.LAUNCH_PROFILE_DEFAULT,
                    (f"launch profile '{name}' ({at.file}) has no use64Bit: the launchSettings.json schema default "
                     "true (64-bit) is assumed (facts F2.3; Visual Studio's own default is not documented)"), at)
        return (wide if flag else Arch.X86, ArchFrom.LAUNCH_PROFILE,
                f"\"use64Bit\": {str(flag).lower()} in launch profile '{name}' ({at})", at)
    prop = p.prop("Use64BitIISExpress")
    empty_at = p.properties.get("use64bitiisexpress")
    switch_at = prop.at if prop else (empty_at.at if empty_at else ConfigSource(p.shown))
    flag = _bool(prop.value) if prop is not None else None
    if prop is not None and flag is not None:
        where = ArchFrom.PROJECT_USER if prop.at.file.lower().endswith(".user") else ArchFrom.PROJECT
        return (wide if flag else Arch.X86, where,
                f"<Use64BitIISExpress>{prop.value}</Use64BitIISExpress> in {prop.at}", switch_at)
    said = "is empty" if empty_at is not None else "is not set"
    if forced is not None:
        why = f"<Use64BitIISExpress> {said} in {p.shown}; Visual Studio's option given as --iisexpress-arch {forced.value}"
        return forced, ArchFrom.OPTION, why, switch_at
    return (Arch.X86, ArchFrom.VS_DEFAULT,
            (f"<Use64BitIISExpress> {said} in {p.shown}, so Visual Studio's option \"Use the 64 bit version of IIS "
             "Express for web sites and projects\" decides; it is not stored in the project and is assumed off "
             "(32-bit), its default as documented for Visual Studio 2015, later versions' documents not saying "
             "(facts F2.1); pass --iisexpress-arch x64 if it is on"), switch_at)


def find_config(solution: Path, projects: list[ProjectFile], image: ServerImage,
                explicit: Path | None) -> tuple[Path, str, str, bool]:
    """``(file, shown, why, per_user)``: the applicationhost.config Visual Studio gives IIS Express (F3.1-F3.4);
    ``per_user``: it is the per-user file (``UseGlobalApplicationHostFile``, F3.1).

    Raises:
        ServerImageError: none found (the message says where it looked and how to name one).
    """
    if explicit is not None:
        return explicit, str(explicit), CONFIG_OPTION, False
    glob = next((s for p in projects if (s := p.prop("UseGlobalApplicationHostFile")) and _bool(s.value)), None)
    if glob is not None:
        documents = live_documents() if image.live else None
        found = per_user_config(image, documents) if not image.live or documents else None
        if found is not None:
            return found[0], found[1], f"UseGlobalApplicationHostFile=true ({glob.at}): the per-user file", True
        looked = (f"looked for in {documents}, the Documents folder Windows names" if documents else
                  "no Documents folder known: neither the known folder nor %USERPROFILE%" if image.live else
                  "looked for in Users/*\\Documents only: a Documents folder OneDrive or folder redirection moved is "
                  "not followed offline; PowerShell's [Environment]::GetFolderPath('MyDocuments') prints where it is")
        raise ServerImageError(
            f"{glob.at}: UseGlobalApplicationHostFile is true, so IIS Express reads the per-user "
            f"Documents\\IISExpress\\config\\applicationhost.config, which is not here ({looked}); name it with --config "
            "(or give the machine's drive with --drive C=/path)")
    vs = _child(solution, ".vs")
    if vs is not None:
        slns = sorted(n for n in os.listdir(solution) if n.lower().endswith((".sln", ".slnx")))
        wanted = [n[:-4] if n.lower().endswith(".sln") else n for n in slns]
        try:
            subs = sorted(d.name for d in os.scandir(vs) if d.is_dir())
        except OSError as e:  # NOTE: a .vs that links to itself, dangles, or is a file (issue 26)
            raise ServerImageError(f"{vs}: cannot list Visual Studio's folder ({e.strerror or e}); "
                                   "name the IIS Express configuration with --config") from e
        order = [s for w in wanted for s in subs if s.lower() == w.lower()] + subs
        for sub in dict.fromkeys(order):
            f = _path(vs, sub, "config", APPHOST_NAME)
            if f is not None:
                return f, _display(solution, f), f".vs\\{sub}\\config: Visual Studio's per-solution file (facts F3.3)", False
        f = _path(vs, "config", APPHOST_NAME)
        if f is not None:
            return f, _display(solution, f), ".vs\\config: Visual Studio 2015's per-solution file (facts F3.2)", False
    raise ServerImageError(
        f"{solution}: no IIS Express configuration: neither .vs/<solution>/config/applicationhost.config nor "
        ".vs/config/applicationhost.config (Visual Studio writes it when the project first runs); name one with --config")


def _child(folder: Path, name: str) -> Path | None:
    try:
        return next((folder / n for n in os.listdir(folder) if n.lower() == name.lower()), None)
    except OSError:
        return None


def _path(folder: Path, *names: str) -> Path | None:
    node: Path | None = folder
    for n in names:
        node = _child(node, n) if node is not None else None
    return node if node is not None and node.is_file() else None


def live_documents() -> str | None:
    """The live user's Documents folder, a Windows path: the known folder Windows names
    (:func:`iisbitness.image.windows.documents_folder`, which follows OneDrive's Known Folder Move and folder
    redirection), else ``%USERPROFILE%\\Documents``; None when neither is known. Raises nothing."""
    known = windows.documents_folder()
    profile = os.environ.get("USERPROFILE")
    return known or (ntpath.join(profile, "Documents") if profile else None)


def per_user_config(image: ServerImage, documents: str | None) -> tuple[Path, str] | None:
    """The per-user config ``(host path, as shown)``: ``Documents\\IISExpress\\config\\applicationhost.config`` below
    ``documents`` (the Documents folder's Windows path: live, :func:`live_documents`) as ``image`` resolves it, else
    (no ``documents``) the only ``C:\\Users\\*\\Documents`` of the image holding one; None when not found.

    The live look-up is this one with the live root map. ASSUMPTION offline: below ``Documents`` in the profile
    (Microsoft's documents name ``%userprofile%\\Documents\\IISExpress``, facts F3.1, F1.4): a Documents folder moved by
    OneDrive's Known Folder Move or folder redirection is not followed there (an image holds no known-folder
    answer), and the error when none is found says so. That IIS Express's per-user home follows the known folder is how
    tools resolve it (fixes/iisexpress.py's PER_USER_CONFIG note, UNCONFIRMED by Microsoft). Raises nothing."""
    if documents:
        found = image.locate(ntpath.join(normalize(documents).rstrip("\\"), *PER_USER[1:]))
        host = found.host_path
        if host is None or not host.is_file():
            return None
        return host, str(host) if image.live else image.display(host)
    users = image.locate("C:\\Users")
    if users.host_path is None or not users.host_path.is_dir():
        return None
    hits = sorted(f for d in users.host_path.iterdir() for f in [_path(d, *PER_USER)] if f is not None)
    return (hits[0], image.display(hits[0])) if hits else None


def _site_folder(server: Server, site_name: str) -> str:
    site = next(s for s in server.sites if s.name == site_name)
    app = next((a for a in site.applications if a.path == "/"), None)
    vdir = app.root_vdir if app is not None else None
    return normalize(vdir.physical_path).rstrip("\\") if vdir is not None else ""


def site_ports(config: Path, shown: str) -> dict[str, frozenset[int]]:
    """Site name -> the ports of its bindings (``bindingInformation="*:44321:localhost"``)."""
    out: dict[str, frozenset[int]] = {}
    try:
        root = parse_file(config, shown)
    except ConfigError:
        return out
    for app_host in children(root, "system.applicationHost"):
        for sites in children(app_host, "sites"):
            for site in children(sites, "site"):
                ports = {int(m.group(1)) for b in site.iter() if isinstance(b.tag, str) and local_name(b) == "binding"
                         if (m := re.match(r"[^:]*:(\d+):", b.get("bindingInformation") or ""))}
                out[site.get("name") or ""] = frozenset(ports)
    return out


def match_site(server: Server, solution: Path, project_dir: Path, ports: frozenset[int] = frozenset(),
               bindings: dict[str, frozenset[int]] | None = None) -> tuple[str, str] | None:
    """``(site, windows folder)``: the site whose root physicalPath ends with the project's folder path
    relative to the solution, or with the project folder's name for a project at the solution's root (the
    longest such ending wins, counting the solution folder's name); among equals (Visual Studio adds ``Name(2)`` when
    a project moves), the site bound to the project's port (``<IISUrl>``, launch settings), then the one named
    after the project."""
    # NOTE: every folder below the solution must match, and at least the project folder's own name (a project at
    # the solution's root); the solution folder's name only ranks, since a clone may be named otherwise
    below = [p.lower() for p in project_dir.relative_to(solution).parts] if project_dir != solution else []
    rel = [solution.name.lower(), *below]
    need = max(1, len(below))
    best: tuple[int, int, int, str, str] | None = None
    for site in server.sites:
        win = _site_folder(server, site.name)
        if not win or "%" in win:
            continue
        parts = [c.lower() for c in win.split("\\")[1:] if c]
        n = 0
        while n < len(rel) and n < len(parts) and parts[len(parts) - 1 - n] == rel[len(rel) - 1 - n]:
            n += 1
        if n < need:
            continue
        named = int(site.name.lower() == project_dir.name.lower())
        bound = int(bool(ports & (bindings or {}).get(site.name, frozenset())))
        if best is None or (n, bound, named) > best[:3]:
            best = (n, bound, named, site.name, win)
    return (best[3], best[4]) if best is not None else None


def launcher(project: ProjectFile, host: Path | None, win: str | None) -> str:
    """What Visual Studio sets ``%LAUNCHER_PATH%`` to: the app host EXE of the output folder, else ``dotnet``."""
    stem = project.assembly_name
    exe = _child(host, stem + ".exe") if host is not None else None
    return ntpath.join(win, exe.name) if exe is not None and win is not None else "dotnet"


def output_folder(project: ProjectFile, folder: Path, win: str) -> tuple[str | None, str]:
    """ASP.NET Core: the folder holding the app Visual Studio starts (``%LAUNCHER_PATH%``), as a Windows path.

    The site folder itself when it holds a built app (a site pointed at a publish folder); else under
    ``bin``: ``Debug\\<tfm>[\\<rid>]`` first (what F5 builds), then other configurations, then ``publish``
    folders. Which of several outputs Visual Studio starts is not on disk (UNCONFIRMED); the report says
    which one was taken.
    """
    stem = project.assembly_name.lower()

    def built(d: Path) -> bool:
        try:
            names = {n.lower() for n in os.listdir(d)}
        except OSError:
            return False
        return f"{stem}.runtimeconfig.json" in names or f"{stem}.exe" in names or "hostfxr.dll" in names

    if built(folder):
        return win, "the site's folder holds the built app"
    found: list[tuple[int, str, Path]] = []
    bin_dir = _child(folder, "bin")
    stack: list[tuple[Path, int]] = [(bin_dir, 0)] if bin_dir is not None else []
    while stack:
        d, depth = stack.pop()
        if depth and built(d):
            rel = d.relative_to(folder)
            low = [p.lower() for p in rel.parts]
            rank = 2 if "publish" in low else 0 if len(low) > 1 and low[1] == "debug" else 1
            found.append((rank, rel.as_posix().lower(), d))
        if depth < 5:
            try:
                stack.extend((Path(e.path), depth + 1) for e in os.scandir(d) if e.is_dir(follow_symlinks=False))
            except OSError:
                continue
    if not found:
        return None, "no build output (bin\\<configuration>\\<framework>) found: build or publish the project first"
    found.sort()
    rel = found[0][2].relative_to(folder)
    others = [f[2].relative_to(folder).as_posix() for f in found[1:]]
    note = f"output folder {rel.as_posix()}" + (f" (also found: {', '.join(others)})" if others else "")
    return ntpath.join(win, *rel.parts), note


def read_workspace(folder: Path, image: ServerImage, os_arch: Arch, os_arch_from: str, forced: Arch | None,
                   config: Path | None = None) -> tuple[IisExpressWorkspace, ServerImage]:
    """Read a solution or project folder for IIS Express.

    Returns:
        The workspace and the image with each matched project folder mounted at its site's physicalPath (and
        ``image``'s share folders, ``--share``, kept).

    Raises:
        ServerImageError: no IIS Express configuration found. ConfigError: it is not usable XML.
    """
    solution = find_solution(folder)
    problems: list[Problem] = []
    files = [p for f in find_project_files(solution) if (p := read_project(f, solution, problems)) is not None]
    path, shown, why, per_user = find_config(solution, files, image, config)
    bare = ServerImage(dict(image.drives), image.sysnative, image.live, absent_drives=True, label_root=solution,
                       shares=image.shares, share_folders=dict(image.share_folders))
    server = read_server(bare, os_arch, os_arch_from, path, shown_as=shown)
    projects: list[IisExpressProject] = []
    mounts: dict[str, Path] = {}
    bindings = site_ports(path, shown)
    for p in files:
        use = p.prop("UseIISExpress")
        if use is not None and _bool(use.value) is False:
            continue  # NOTE: the project runs under IIS or the development server, not IIS Express
        hit = match_site(server, solution, p.path.parent, p.ports, bindings)
        if hit is None:
            if p.profile is not None or use is not None:
                problems.append(Problem(p.shown, None, f"no site in {shown} has the folder of project '{p.name}'; "
                                        "run it once in Visual Studio (or name the config with --config)",
                                        unread=True))
            continue
        site, win = hit
        mounts[win] = p.path.parent
        arch, arch_from, reason, at = _bitness(p, forced, os_arch)
        out, note = output_folder(p, p.path.parent, win) if p.kind is ProjectKind.ASPNETCORE else (None, "")
        host_out = p.path.parent.joinpath(*ntpath.relpath(out, win).split("\\")) if out is not None else None
        profile = p.profile[1] if p.profile is not None else {}
        hosting = str(profile.get("ancmHostingModel") or (s.value if (s := p.prop("AspNetCoreHostingModel")) else ""))
        projects.append(IisExpressProject(
            p.name, p.shown, p.kind, site, arch, arch_from, reason,
            SwitchKind.LAUNCH_PROFILE if p.kind is ProjectKind.ASPNETCORE else SwitchKind.PROJECT_PROPERTY, at,
            p.profile[0] if p.profile is not None else DEFAULT_PROFILE if p.kind is ProjectKind.ASPNETCORE else None,
            out, note, hosting,
            launcher(p, host_out, out) if p.kind is ProjectKind.ASPNETCORE else ""))
    if not projects and not any(pr.unread for pr in problems):
        # NOTE: without a web project nothing is planned: say so, or the report is clean over every site
        problems.append(Problem(str(solution), None, f"no web project (*.csproj, *.vbproj run by IIS Express) in "
                                f"this folder: none of the {len(server.sites)} sites of {shown} was checked; scan "
                                "the Visual Studio solution or project folder that holds them (docs/iisexpress.md)",
                                unread=True))
    mounted = ServerImage(dict(image.drives), image.sysnative, image.live, mounts, absent_drives=True,
                          label_root=solution, shares=image.shares, share_folders=dict(image.share_folders))
    # NOTE: re-read with the projects mounted, so web.config files in the project folders take part
    server2 = read_server(mounted, os_arch, os_arch_from, path, shown_as=shown)
    # NOTE: sites of other solutions (WebSite1 under %IIS_SITES_HOME%, projects elsewhere on the machine) are not
    # planned, so a physicalPath of theirs that cannot be followed is no problem of this scan
    mine = [w.lower() for w in mounts]
    kept = tuple(pr for pr in server2.problems
                 if not pr.message.startswith("physicalPath ") or any(w in pr.message.lower() for w in mine))
    server2 = replace(server2, problems=kept)
    ws = IisExpressWorkspace(server2, str(folder), why, tuple(projects), tuple(problems), per_user)
    return ws, mounted


def has_project(folder: Path) -> bool:
    """True when ``folder`` looks like a Visual Studio solution or project folder (not a server image)."""
    try:
        names = [n.lower() for n in os.listdir(folder)]
    except OSError:
        return False
    return any(n == ".vs" or n.endswith((".sln", ".slnx", *PROJECT_SUFFIXES)) for n in names)


__all__ = ["find_config", "find_solution", "has_project", "match_site", "output_folder", "read_workspace"]
