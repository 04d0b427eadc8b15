"""What the scan read of each application, and what it could not (issue 20: never a clean report over unread parts).

Coverage is derived from the answers the scan already got, not from checks of its own:

- the image's answer for each virtual directory's ``physicalPath``
  (:meth:`iisbitness.image.server_image.ServerImage.locate`): found, absent from the image, on a drive that
  is not mapped, on a UNC share, outside the image; an environment variable nobody defined;
- the problems that readers marked ``unread`` (:class:`iisbitness.model.source.Problem`): a web.config that
  is not usable XML, a folder or ``bin`` that cannot be listed, a ``bin`` cut at its size limit, an in-process
  ASP.NET Core app's folder without its ``<app>.runtimeconfig.json`` (only its web.config was copied), its
  ``<app>.dll``, its ``<app>.deps.json`` or a file that lists, or a self-contained app's runtime file; each
  counts against the application whose folder holds the file (the deepest one), and a problem of an entry a
  worker loads but the scan could not look up (a strong-named assembly in an image without GAC folders)
  against every application of that worker, wherever the entry is configured (applicationHost.config too).

An application whose root folder was not read is *not checked*: its ``bin``, web.config files, ASP pages
and ASP.NET Core files were not seen, so no finding about them means nothing. One whose root was read
but some virtual directory or file was not is *partly checked*, and so is one below an application whose folder
(or a web.config in it) was not read: configuration follows URLs into child applications (facts B3). IIS 6: the metabase holds the script
maps and filters, so the folder is judged, and the ``bin`` an ASP.NET application loads (one not listed whole is an
unread problem: partly checked). IIS Express: each project's site, as Visual Studio
launches it (:func:`iisbitness.loadplan.iisexpress.as_launched`); a folder outside the scanned solution is
not part of the scan; a project that no site's ``physicalPath`` leads to is not checked (named by its
project file).
"""

from __future__ import annotations

import enum
import ntpath
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from iisbitness.arch import Arch
from iisbitness.config.apphost import is_redirection
from iisbitness.config.merge import split_location_path
from iisbitness.image.paths import (
    expand,
    is_absolute,
    is_unc,
    normalize,
    process_environment,
    share_argument,
    unc_share,
)
from iisbitness.image.server_image import COLLECT_AGAIN
from iisbitness.image.stock import IIS_EXPRESS_VARIABLES, is_iis_express_folder
from iisbitness.loadplan.context import PlanContext
from iisbitness.loadplan.iisexpress import as_launched
from iisbitness.loadplan.plan import (
    AspNetCoreHost,
    BinaryRef,
    Coverage,
    CoverageStatus,
    GacAssembly,
    Load,
    LoadKind,
    LoadPlan,
    Unchecked,
)
from iisbitness.model.iis7 import Application, Server, VirtualDirectory
from iisbitness.model.source import Problem


class Given(enum.Enum):
    """What the user gave the scan as its image, which decides how a remedy says to give what was not read."""

    IMAGE = "image"
    """A server image folder, a collected zip or the live server (``ServerImage`` says which)."""
    CONFIG_FILE = "config-file"
    """A configuration file alone (``scan --config FILE``): an empty folder stood for C:\\, so a folder of C: goes into
    a server image folder to make, with the file in it."""
    BUILD = "build"
    """A build folder checked alone (``check-app`` without ``--server``): a file outside it is the server's, which only
    ``check-app PUBLISH_DIR --server IMAGE --site SITE/APP`` reads."""
    IISEXPRESS_CONFIG = "iisexpress-config"
    """An IIS Express configuration read as a server's (``scan --config FILE`` of it, or an image holding it: its global
    modules under ``%IIS_BIN%``, :func:`iisbitness.scan.pipeline.iisexpress_modules`): its sites run in the
    ``iisexpress.exe`` Visual Studio starts for a project, which a scan of the solution folder with it reads (the
    project's folder, ``%LAUNCHER_PATH%``: docs/iisexpress.md); no server image or ``--env`` stands for them."""
    BUILD_ON_SERVER = "build-on-server"
    """A server image with a build as one of its applications (``check-app --server``): an image, as :attr:`IMAGE`,
    but the command run was check-app."""

    @property
    def command(self) -> str:
        """The command the user ran: "check-app" (a build, alone or on a server) or "scan"."""
        return "check-app" if self in (Given.BUILD, Given.BUILD_ON_SERVER) else "scan"

    @property
    def again(self) -> str:
        """What a coverage reason of an application whose web.config IIS refuses says to do: run :attr:`command`
        again once it is corrected (:data:`REFUSED_AGAIN`, :data:`CHECK_AGAIN`)."""
        return CHECK_AGAIN if self.command == "check-app" else REFUSED_AGAIN


IISEXPRESS_REMEDY = ("scan the Visual Studio solution folder that holds the site's project, with this file: iisbitness "
                     "scan SOLUTION_FOLDER --config FILE (docs/iisexpress.md)")
"""What to give for a part of an IIS Express configuration read as a server's (:attr:`Given.IISEXPRESS_CONFIG`)."""


def plan_coverage(ctx: PlanContext, plan: LoadPlan, problems: Sequence[Problem], *,
                  given: Given = Given.IMAGE) -> tuple[Coverage, ...]:
    """One :class:`Coverage` per application of ``plan`` (IIS Express: of each project's site), in site order.

    Args:
        ctx: the planning context the plan was built with (its image answers the folder look-ups, cached).
        plan: the load plan of the server as scanned.
        problems: every problem of the scan (configuration readers and planning).
        given: what the user gave as the image (:class:`Given`), which words the remedies where they are made (so
            the load map's entries quote them as they are): a configuration file alone (``scan --config FILE``): a
            folder of C: to copy goes "into a server image folder as ..., with this file in it as
            Windows/System32/inetsrv/config/applicationHost.config, and scan that folder"; a build folder checked
            alone: a file outside it is the server's, for ``check-app --server``.

    Returns:
        One :class:`Coverage` per application, sites in configuration order and their applications in order
        (IIS Express: then one ``NOT_CHECKED`` entry per project no site leads to, named by its file):
        ``NOT_CHECKED`` when the root virtual directory's folder was not read (or there is no root virtual
        directory), or IIS answers every request of the application with HTTP 500.19 (:attr:`Application.refused`:
        none of its loads was planned, the first reason says so); ``PARTLY`` when it was, but another virtual directory's folder was not, a problem marked
        ``unread`` lies below its folders (or in a folder of an application above it whose URL leads to it: a
        web.config there reaches it, facts B3), the folder of an application above it that its URL lies under was not
        read (:func:`_inherited_gaps`), a binary its worker loads could not be read or checked (:func:`_unread_binaries`), or a
        strong-named assembly could not be looked up in the GAC (the image holds no GAC folder, or none of its GAC
        folders holds it, nor ``bin``), or its site has no application at ``/`` (:func:`_rootless`: IIS requires one;
        what WAS does without it is undocumented);
        ``CHECKED`` (no reasons, no remedy) otherwise. ``reasons`` say why, one sentence each; ``remedy`` what
        to give a new scan (``--drive``, ``--env``, a folder to copy; "" when nothing offline helps). Empty for a
        server with no site. An unread part of the server's own configuration file (a section in a
        ``configSource`` file that could not be read) makes every application at most ``PARTLY`` checked
        (:func:`_server_gaps`). Raises nothing: a folder that cannot be resolved is a reason, not an error.
    """
    server = plan.server
    apps: list[Application] = []
    if plan.iisexpress is not None:
        for project in plan.iisexpress.projects:
            site = next((s for s in server.sites if s.name == project.site), None)
            apps.extend(as_launched(a, project) for a in (site.applications if site is not None else ()))
    else:
        apps = [a for s in server.sites for a in s.applications]
    folders = {id(a): [_folder(ctx, server, v, plan.iisexpress is not None, given) for v in a.vdirs]
               for a in apps}
    unread = _unread_by_app(apps, folders, ctx, (p for p in problems if p.unread))
    gac, gac_remedies = _unread_by_load(apps, plan, problems, ctx, given)
    for key, found in gac.items():
        have = unread.setdefault(key, [])
        have.extend(p for p in found if p not in have)
    for key, p in _refused_folders(apps, problems):
        have = unread.setdefault(key, [])
        if p not in have:
            have.append(p)
    # NOTE: IIS 6 reads its handlers and filters from the metabase, and the scan no web.config of it
    inherited = _inherited_gaps(apps, folders) if plan.iis6 is None else {}
    binaries = _unread_binaries(apps, folders, plan, ctx, given)
    for key, gaps in binaries.items():
        inherited[key] = tuple(dict.fromkeys((*inherited.get(key, ()), *gaps)))
    for key, gap in _bin_not_copied(ctx, server, apps, folders, plan, given, gac_remedies).items():
        inherited[key] = (*inherited.get(key, ()), gap)
    if plan.iis6 is None:
        rootless = _rootless(server)
        for a in apps:
            if (why := rootless.get(a.site.lower())) is not None:
                inherited[id(a)] = ((why, ""), *inherited.get(id(a), ()))
    out = tuple(_coverage(a, folders[id(a)], unread.get(id(a), []), "; ".join(gac_remedies.get(id(a), ())),
                          inherited.get(id(a), ()), tuple(why for why, _ in binaries.get(id(a), ())), given)
                for a in apps)
    if plan.iisexpress is not None:
        # NOTE: a project no site's physicalPath leads to is not planned at all: one entry for it, named by its file
        out += tuple(Coverage(p.file, "", "", CoverageStatus.NOT_CHECKED, (p.message,))
                     for p in plan.iisexpress.problems if p.unread)
    return _server_gaps(out, problems, server.config_file)


ROOTLESS = ("IIS requires one of every site (\"each site must have at least one application, called the root or "
            "default application\": IIS configuration reference, sites/site/application), and Microsoft's Azure Migrate "
            "troubleshooting calls such a site's configuration invalid and the site \"non-functional\" (error "
            "IISWebServerInvalidSiteConfig); no Microsoft text found says whether WAS starts such a site or "
            "serves this application, so it was checked as written, which IIS may not serve")
"""What follows from a site without an application at ``/`` (:func:`_rootless`), with its sources: the IIS
configuration reference (learn.microsoft.com/iis/configuration/system.applicationhost/sites/site/application,
Overview) and Azure Migrate's "Troubleshoot web apps migration issues" (learn.microsoft.com/azure/migrate/
troubleshoot-webapps-migration, error IISWebServerInvalidSiteConfig: "Invalid IIS configuration encountered, the site
has no root application defined"). What WAS does with such a site at start (an event, the site stopped) is in no
Microsoft text found (the search tool's docs, pages, issues and code corpora), so nothing is said of it."""


def _rootless(server: Server) -> dict[str, str]:
    """The coverage reason of the applications of each site of ``server`` that has no application at ``/`` (audit11
    K6), by its lower-case name: their findings rest on a site IIS may not serve (:data:`ROOTLESS`), so they are
    partly checked, never "checked". A site with its root application, or not in ``server`` (IIS Express's launched
    copies of a site), has none. NOTE: one pass over the sites (a look-up of each application's site by name was
    quadratic: 3.1 of 23 s of a 2,000-pool scan, issue 25)."""
    out: dict[str, str] = {}
    for site in server.sites:
        if not any(a.path == "/" for a in site.applications):
            out.setdefault(site.name.lower(), f"site '{site.name}' has no root application (path '/'): {ROOTLESS}")
    return out


GAC_REMEDY = ("copy Windows\\Microsoft.NET\\assembly and Windows\\assembly (the GAC) into the image, or scan the zip "
              "iisbitness collect makes on the server")
"""What to give a scan that could not look a strong-named assembly up: the GAC folders (an image without them)."""

REFUSED_AGAIN = "once that web.config is corrected, scan again"
"""What a coverage reason of an application whose web.config IIS refuses says to do under ``scan`` (for
applicationHost.config at a ``<location path>``, "that applicationHost.config")
(:attr:`Given.again`)."""

CHECK_AGAIN = "once that web.config is corrected, run the same check-app command again"
"""The same under ``check-app``, alone or with ``--server``: its user ran no scan (:attr:`Given.again`)."""


def _server_gaps(coverage: tuple[Coverage, ...], problems: Sequence[Problem], config_file: str) -> tuple[Coverage, ...]:
    """``coverage`` with the unread problems of the server's own configuration file (``config_file``, as the
    problems name it: applicationHost.config's section kept in a ``configSource`` file that could not be read, its
    ``<sites>`` or ``<applicationPools>`` kept in another file) counted against every application, which it
    configures: each is then at most partly checked, the problem's ``file: message`` among its reasons (not checked
    when it is redirection.config's shared configuration that was not read: what was read is not what IIS runs, and
    that problem's :attr:`~iisbitness.model.source.Problem.remedy` the remedy of those without one). Such a
    problem lies below no application's folder, so :func:`plan_coverage` gave it to none and the report said
    "all N applications checked" over an unread ``<globalModules>``. With no application at all, one
    ``NOT_CHECKED`` entry per problem, named by its file (as IIS Express's project problems), so that
    ``--fail-on-incomplete`` and JSON ``coverage.complete`` see it. A problem :func:`plan_coverage` already gave to
    some applications (a GAC module the workers of some pools load) is left as it gave it. Raises nothing."""
    # NOTE: one plan_coverage already gave to the applications it concerns (a GAC module their workers load) stays
    given = {r for c in coverage for r in c.reasons}
    by_text: dict[str, Problem] = {}
    for p in problems:
        if p.unread and (p.file == config_file or is_redirection(p.file)):
            by_text.setdefault(f"{p.file}: {p.message}", p)
    gaps = tuple(g for g in by_text if g not in given)
    if not gaps:
        return coverage
    apps = [c for c in coverage if c.pool or c.site]
    if not apps:
        return coverage + tuple(Coverage(config_file, "", "", CoverageStatus.NOT_CHECKED, (g,)) for g in gaps)
    # NOTE: shared configuration not read: the applications listed are the local file's, which IIS does not run
    whole = next((by_text[g] for g in gaps if is_redirection(by_text[g].file)), None)
    remedy = whole.remedy if whole is not None else ""
    return tuple(replace(c, status=CoverageStatus.NOT_CHECKED if whole else
                         CoverageStatus.PARTLY if c.status is CoverageStatus.CHECKED else c.status,
                         reasons=tuple(dict.fromkeys((*c.reasons, *gaps))), remedy=c.remedy or remedy)
                 if c.pool or c.site else c for c in coverage)


_Folder = tuple[VirtualDirectory, Path | None, str, str]
"""A virtual directory, its folder in the image (None when not read), and why not and what to give."""


class _Gap(enum.Enum):
    """Why a virtual directory's folder was not read, where the image's origin changes what to say of it
    (:func:`_on_the_server`)."""

    ABSENT = "absent"
    """Absent from a drive (or a ``--share`` copy) the image holds: something to copy."""
    UNREAD_SHARE = "unread-share"
    """A UNC folder the scan looked for itself (live, or the scan a zip was collected with) and did not find."""
    UNMAPPED = "unmapped"
    """On a drive the image does not map (``ServerImage.locate``'s problem and remedy)."""
    SHARE_NOT_GIVEN = "share-not-given"
    """On a UNC share no ``--share`` folder stands for."""


def _folder(ctx: PlanContext, server: Server, vdir: VirtualDirectory, iisexpress: bool,
            given: Given = Given.IMAGE) -> _Folder:
    """Where a virtual directory's folder is in the image, as a worker of the OS's own architecture resolves it
    (as the web.config reader does), or why it is not there and what to give (:func:`_on_the_server`: said of the
    server itself where the image is the server or a zip collected on it)."""
    found, gap, win = _image_folder(ctx, server, vdir, iisexpress, given)
    return found if gap is None else _on_the_server(ctx, found, gap, win)


def _on_the_server(ctx: PlanContext, found: _Folder, gap: _Gap, win: str) -> _Folder:
    """``found`` (the folder ``win`` not read, for the reason ``gap``) as the image's origin makes it: on the live
    server (``ServerImage.live``) or a zip ``iisbitness collect`` made there (``collected == "server"``), a folder
    absent is absent from the server itself: nothing to copy (the application cannot be served from it there
    either), where the offline words said "not in the image" and gave a folder to copy; a drive not mapped is
    ``ServerImage.locate``'s own words there ("not a drive of this server"); the UNC share a zip from the server
    lacks was not readable there. A zip made from an image folder (``collected == "image"``) takes no ``--drive``
    or ``--share`` (refused, exit 2) and no folder copied into it: its remedy is a new ``collect``."""
    vdir, _, why, give = found
    on_server = ctx.image.is_the_server
    where = "this server" if ctx.image.live else "the server when it was collected"
    if on_server and gap is _Gap.UNREAD_SHARE:
        unread = f"folder {win} could not be read from {where} (it does not exist, or the scan's account cannot reach " \
                 "the share)"
        return vdir, None, unread, give
    if on_server and gap is _Gap.ABSENT:
        return vdir, None, f"folder {win} does not exist on {where}", ""
    if ctx.image.collected == "server" and gap is _Gap.SHARE_NOT_GIVEN:
        named = unc_share(win)
        share = f"\\\\{named[0]}\\{named[1]}" if named is not None else win
        return vdir, None, f"physicalPath {win} is on the UNC share {share}, which the collecting scan could not read", \
            "scan on the server with an account that can read the share (iisbitness collect then copies it)"
    if ctx.image.collected == "image" and gap in (_Gap.UNMAPPED, _Gap.SHARE_NOT_GIVEN):
        option = "--drive" if gap is _Gap.UNMAPPED else "--share"
        return vdir, None, why, f"a new zip (a scan of this one takes no {option}): iisbitness collect again with {give}"
    if ctx.image.collected == "image" and gap is _Gap.ABSENT:
        return vdir, None, why, f"a new zip: {give}, then iisbitness collect again"
    return found


def _image_folder(ctx: PlanContext, server: Server, vdir: VirtualDirectory,
                  iisexpress: bool, given: Given = Given.IMAGE) -> tuple[_Folder, _Gap | None, str]:
    """:func:`_folder` in the words of an offline image, with the kind of gap where the image's origin changes them
    and the folder's Windows path."""
    configured = vdir.physical_path
    if not configured.strip():
        return (vdir, None, "no physicalPath is configured", ""), None, configured
    arch = Arch.X64 if server.os_arch.is_64bit else Arch.X86
    expanded, unresolved = expand(configured, process_environment(server.os_arch, arch, ctx.env_overrides))
    if unresolved and not ctx.image.locate(normalize(expanded).rstrip("\\")).is_dir:
        # NOTE: Windows leaves an unknown %NAME% as it is, and the plan reads that folder when the image holds it
        # (C:\sites\50%off%sale): checked then, as its findings say; else what the variable names is unknown
        why = f"physicalPath '{configured}': %{unresolved[0]}% is not an environment variable the scan knows"
        if given is Given.IISEXPRESS_CONFIG:
            # NOTE: iisexpress.exe sets %IIS_SITES_HOME% and %IIS_USER_HOME% (facts F1.3, F1.4), no server does
            who = IIS_EXPRESS_VARIABLES.get(unresolved[0].upper())
            if who is not None:
                why = f"physicalPath '{configured}': %{unresolved[0]}% is IIS Express's: {who}, unknown offline"
            return (vdir, None, why, IISEXPRESS_REMEDY), None, configured
        return (vdir, None, why, f"--env {unresolved[0]}=VALUE"), None, configured
    win = normalize(expanded).rstrip("\\")
    found = ctx.image.locate(win)
    on_server = ctx.image.is_the_server
    if found.problem is not None:
        named = unc_share(win)
        if (named is not None and not ctx.image.live and ctx.image.shares is None
                and ctx.image.share_folder(named[0], named[1]) is None):  # NOTE: a share no folder stands for
            share = f"\\\\{named[0]}\\{named[1]}"
            return ((vdir, None, f"physicalPath {win} is on the UNC share {share}, which is not part of the image",
                     f"{share_argument(named[0], named[1])} (a folder holding a copy of the share"
                     + (f", with {named[2]} in it" if named[2] else "") + "), or scan on the server itself, or run "
                     "iisbitness collect there (the zip holds the share's files) and scan the zip"),
                    _Gap.SHARE_NOT_GIVEN, win)
        if is_unc(win):
            # NOTE: on the server (or its zip) "scan on the server itself" is what was done: locate's own remedy there
            # (a share the scan's account could not read: an account that can)
            return ((vdir, None, f"physicalPath {win}: {found.problem}",
                     found.remedy if on_server else ("scan on the server itself, or run iisbitness collect there (the "
                                                     "zip holds the share's files) and scan the zip")), None, win)
        if is_absolute(win) and win[0].upper() not in ctx.image.drives:
            # NOTE: locate's problem on the server ("not a drive of this server"); offline its remedy apart
            why = found.problem if on_server or not found.remedy else f"drive {win[0].upper()}: is not mapped"
            return (vdir, None, f"physicalPath {win}: {why}", found.remedy), _Gap.UNMAPPED, win
        return (vdir, None, f"physicalPath {win}: {found.problem}", ""), None, win
    if found.host_path is None:
        if iisexpress:
            return ((vdir, None, f"folder {win} is outside the scanned solution (no project of it is there)",
                     "scan the solution or project folder that holds it"), None, win)
        give, gap = _copy_hint(ctx, win, given)
        return (vdir, None, f"folder {win} is not in the image", give), gap, win
    if not found.is_dir:
        return (vdir, None, f"physicalPath {win} is a file, not a folder", ""), None, win
    return (vdir, found.host_path, "", ""), None, win


def _copy_hint(ctx: PlanContext, win: str, given: Given = Given.IMAGE) -> tuple[str, _Gap]:
    """What to copy where so that the image holds ``win`` (an absolute path on a mapped drive), and the gap it is;
    ``given``: what the user gave as the image (:class:`Given`): with a configuration file alone, a folder of C: goes
    into a server image folder to make, with the file in it; with a build folder alone, the server's files are
    ``check-app --server``'s."""
    named = unc_share(win)
    if named is not None and ctx.image.share_folders:  # NOTE: offline, --share gave the share's copy
        share = f"\\\\{named[0]}\\{named[1]}"
        return f"copy {win} into the --share {share}= folder as {named[2].replace(chr(92), '/')}", _Gap.ABSENT
    if is_unc(win):  # NOTE: a share the live scan could not read (or its collected copy lacks)
        return ("scan on the server with an account that can read the share (iisbitness collect then copies it)",
                _Gap.UNREAD_SHARE)
    drive, rest = win[0].upper(), win[3:].replace("\\", "/")
    if given is Given.IISEXPRESS_CONFIG:
        return IISEXPRESS_REMEDY, _Gap.ABSENT
    if given is Given.BUILD:
        return "check-app PUBLISH_DIR --server IMAGE --site SITE/APP (a file of the server, outside the build)", _Gap.ABSENT
    if drive == "C" and given is Given.CONFIG_FILE:
        made = (f"copy {win} into a server image folder as {rest}, with this file in it as "
                "Windows/System32/inetsrv/config/applicationHost.config, and scan that folder (docs/images.md)")
        return made, _Gap.ABSENT
    if drive == "C" and not ctx.image.absent_drives:
        return f"copy {win} into the image as {rest}", _Gap.ABSENT
    # NOTE: a project scan (IIS Express) holds no C: of its own: the developer machine's is the --drive C= folder
    return f"copy {win} into the --drive {drive}= folder as {rest}", _Gap.ABSENT


ASPNET_PAGES = (".aspx", ".asmx", ".ashx", ".svc")
"""ASP.NET page, web service, handler and WCF service files (with ``global.asax``): ASP.NET compiles them against every
assembly in the application's ``bin`` (the root web.config's ``<compilation><assemblies>`` ends with ``<add
assembly="*"/>``: "every assembly within an application's private assembly cache, which is located ... in the \\bin
subdirectory", learn.microsoft.com "assemblies Element" for compilation, bfyb45k1, and 37e2zyhb's default
configuration) and their code-behind classes usually live there (a web application project's build output)."""


def _bin_not_copied(ctx: PlanContext, server: Server, apps: list[Application], folders: dict[int, list[_Folder]],
                    plan: LoadPlan, given: Given, named: dict[int, list[str]]) -> dict[int, tuple[str, str]]:
    """Per application, ``(reason, remedy)`` when its root folder was read, holds ASP.NET pages
    (:data:`ASPNET_PAGES`, ``global.asax``; the root folder's own listing, read once) and no ``bin``, and its pool runs a
    CLR: a copy of the folder without its ``bin`` cannot be told from an application that has none (a web site
    project compiled on the server from App_Code), so it is partly checked, the ``bin`` named as not in the copy (audit7
    F13). Not for a static folder, a pool with No Managed Code (no CLR: facts A9), an application whose configuration
    already names a ``bin`` assembly the image lacks (``named``: :func:`_unread_by_load` says it), IIS 6 (its ``bin`` is
    read with the metabase's applications), IIS Express (a project folder) or a build checked alone (the build is
    what is deployed), nor on the server itself or a zip collected there, where a ``bin`` absent is absent."""
    if (plan.iis6 is not None or plan.iisexpress is not None or given in (Given.BUILD, Given.IISEXPRESS_CONFIG)
            or ctx.image.is_the_server):
        return {}
    out: dict[int, tuple[str, str]] = {}
    for a in apps:
        pool = server.pool(a.pool)
        if pool is None or not pool.managed_runtime_version:
            continue
        root = next((host for vdir, host, _, _ in folders[id(a)] if vdir is a.root_vdir), None)
        if root is None or a.root_vdir is None:
            continue
        listing = ctx.image.listing(root)
        if listing.error is not None or "bin" in {n.lower() for n in listing.folders}:
            continue
        pages = [n for low, n in sorted(listing.files.items())
                 if low.endswith(ASPNET_PAGES) or low == "global.asax"]
        if not pages:
            continue
        arch = Arch.X64 if server.os_arch.is_64bit else Arch.X86
        expanded, _ = expand(a.root_vdir.physical_path, process_environment(server.os_arch, arch, ctx.env_overrides))
        win = normalize(expanded).rstrip("\\") + "\\bin"
        if any(win.lower() in r.lower() for r in named.get(id(a), ())):
            continue
        shown = ", ".join(pages[:3]) + (f" and {len(pages) - 3} more" if len(pages) > 3 else "")
        why = (f"its folder holds ASP.NET pages ({shown}) and no bin: ASP.NET compiles them against every assembly in "
               f"{win} and loads their code from it; if the server has that folder, it is not in the copy and its "
               "assemblies were not checked")
        out[id(a)] = why, _copy_hint(ctx, win, given)[0]
    return out


def _unread_by_app(apps: list[Application], folders: dict[int, list[_Folder]], ctx: PlanContext,
                   unread: Iterable[Problem]) -> dict[int, list[Problem]]:
    """Each unread problem under the application whose read folder holds its file most closely (the deepest
    folder wins: a nested application's own folder before its parent's), and under every application of that site
    whose URL lies below the URL of the problem's folder (a web.config's own folder; a folder that could not be
    listed, itself): configuration follows URLs into child applications (facts B3), so what that folder's
    web.config files say reaches them too, and was not read."""
    roots: dict[str, tuple[Application, tuple[str, ...]]] = {}
    for a in apps:
        for vdir, host, _, _ in folders[id(a)]:
            if host is not None:
                roots.setdefault(ctx.image.display(host).lower().rstrip("/"), (a, _url_of(a, vdir)))
    by_site: dict[str, list[tuple[tuple[str, ...], Application]]] = {}  # NOTE: once, not per problem (issue 25)
    for a in apps:
        by_site.setdefault(a.site.lower(), []).append((split_location_path(a.path), a))
    out: dict[int, list[Problem]] = {}
    for p in unread:
        name = p.file.lower().replace("\\", "/").rstrip("/")
        rel: list[str] = []
        while name and name not in roots:
            name, _, last = name.rpartition("/")
            rel.insert(0, last)
        if not name:
            continue
        owner, url = roots[name]
        out.setdefault(id(owner), []).append(p)
        if not _config_gap(p):
            continue  # NOTE: a bin, ASP pages or an ASP.NET Core app's files are the owner's alone
        where = url + tuple(rel[:-1] if rel and rel[-1] == "web.config" else rel)
        for seg, a in by_site[owner.site.lower()]:
            if a is not owner and len(seg) > len(where) and seg[:len(where)] == where:
                below = out.setdefault(id(a), [])
                if p not in below:
                    below.append(p)
    return out


def _refused_folders(apps: list[Application], problems: Sequence[Problem]) -> list[tuple[int, Problem]]:
    """``(id of the application, problem)`` for each problem IIS refuses at a folder of one application
    (:attr:`Problem.scope`: applicationHost.config adding an entry twice at a ``<location path>`` that no application
    is at or below): IIS answers HTTP 500.19 to the requests at or below that folder, so the application holding it,
    the deepest whose path leads to it, was checked as written there, not as IIS runs it (partly checked)."""
    by_path = {(a.site.lower(), *split_location_path(a.path)): id(a) for a in apps}
    out: list[tuple[int, Problem]] = []
    for p in problems:
        if not (p.refused and p.scope):
            continue
        owner = next((by_path[p.scope[:k]] for k in range(len(p.scope), 0, -1) if p.scope[:k] in by_path), None)
        if owner is not None:
            out.append((owner, p))
    return out


_LOOKS_IN = re.compile(r"the worker then looks in ([A-Za-z]:\\[^,]*), which the image (?:does not hold|holds without)")
"""The System32 view a dependency search could not read (``PlanContext.views_unseen``'s reason)."""


def _dependency_remedy(name: str, reason: str, ctx: PlanContext, given: Given) -> str:
    """What to copy for a dependency not checked because the image lacks the worker's System32 view (or holds it
    without its DLLs): the file from that folder on the server, into the image at the same path (:func:`_copy_hint`);
    "" otherwise."""
    found = _LOOKS_IN.search(reason)
    return "" if found is None else _copy_hint(ctx, f"{found[1]}\\{name}", given)[0]


def _config_gap(p: Problem) -> bool:
    """Whether ``p`` is a gap in the web.config files read (one not used, a folder the web.config search could not
    list or stopped in: :meth:`iisbitness.config.apphost._Reader._walk_vdir`), which reaches child applications; not
    a ``bin``, ASP pages or ASP.NET Core files not read, which are their application's own."""
    return p.search_gap or p.file.replace("\\", "/").lower().rsplit("/", 1)[-1] == "web.config"


def _url_of(app: Application, vdir: VirtualDirectory) -> tuple[str, ...]:
    """The URL segments (below the site) that ``vdir`` of ``app`` serves."""
    return split_location_path(app.path) + split_location_path(vdir.path)


def _inherited_gaps(apps: list[Application], folders: dict[int, list[_Folder]]) -> dict[int, tuple[tuple[str, str], ...]]:
    """Per application, ``(reason, remedy)`` for each folder of another application of its site that was not read
    and whose URL its own URL lies below: the web.config files there reach it (configuration paths follow URLs across
    applications, facts B3; iis-docs "Deep Dive into IIS Configuration with IIS 7 and IIS 8"), so its merged
    handlers, modules and ISAPI filters lack what they say. A site whose root lies on a drive that is not mapped, with
    a child application on C:, left that child "checked" and a fix for it verified. A virtual directory whose URL a
    deeper application owns is left out (IIS serves that URL from the application's own folder), and so is an
    application whose own root folder was not read (not checked already, for that reason)."""
    by_site: dict[str, list[Application]] = {}
    for a in apps:
        by_site.setdefault(a.site.lower(), []).append(a)
    # NOTE: the unread folders first, per site (few or none): a site of thousands of applications costs one pass
    unread: dict[str, list[tuple[tuple[str, ...], str, str]]] = {}
    for site, members in by_site.items():
        paths = {split_location_path(b.path): b for b in members}
        for other in members:
            for vdir, host, why, give in folders[id(other)]:
                url = _url_of(other, vdir)
                owner = next((paths[url[:k]] for k in range(len(url), -1, -1) if url[:k] in paths), None)
                if host is None and owner is other:
                    where = other.label if vdir.path == "/" else f"{other.label}, virtual directory {vdir.path}"
                    unread.setdefault(site, []).append(
                        (url, f"the web.config files of {where} reach it and were not read ({why})", give))
    out: dict[int, tuple[tuple[str, str], ...]] = {}
    for a in apps:
        gaps_here = unread.get(a.site.lower())
        if not gaps_here or any(host is None for vdir, host, _, _ in folders[id(a)] if vdir is a.root_vdir):
            continue  # NOTE: not checked already: its own folder's reason is the one to give
        mine = split_location_path(a.path)
        gaps = tuple((why, give) for url, why, give in gaps_here if len(url) < len(mine) and mine[:len(url)] == url)
        if gaps:
            out[id(a)] = gaps
    return out


def _unread_binaries(apps: list[Application], folders: dict[int, list[_Folder]], plan: LoadPlan,
                     ctx: PlanContext, given: Given = Given.IMAGE) -> dict[int, tuple[tuple[str, str], ...]]:
    """Per application, ``(reason, remedy)`` for each binary its worker loads that the scan could not check: not read
    (the binary's ``problem``: on a drive not mapped, a UNC share not given, outside the image, an unknown variable, a
    file that cannot be read), absent from the image where nothing says whether the server has it
    (:attr:`Load.not_checked`, binary-missing's could-not-check warnings: the other build only, a copy of a folder
    that may be partial, a file reached through System32 -> SysWOW64 redirection; the remedy a copy of its folder), or
    an ARM64X/ARM64EC image on an OS architecture the scan only assumed
    (binary-invalid's could-not-check warning): a global module or compression scheme DLL counts against every application of the
    pool, a site's ISAPI filter against the site's applications there, an application's own entry against it. The
    applications were said "checked" over such a binary (``--fail-on-incomplete`` passed). Strong-named assemblies are :func:`_unread_by_load`'s; IIS Manager's copies of ``bin`` loads are left to the
    worker's (IIS 6's processes without a pool, in IIS 5 isolation mode, count against the entry's site or application); an application whose own root folder was not read is left out
    (not checked already: that folder's reason is the one to give)."""
    in_pool: dict[str, list[Application]] = {}
    read: list[Application] = []
    for a in apps:
        if all(host is not None for vdir, host, _, _ in folders[id(a)] if vdir is a.root_vdir):
            in_pool.setdefault(a.pool.lower(), []).append(a)
            read.append(a)
    out: dict[int, dict[tuple[str, str], None]] = {}
    # NOTE: the files not checked, grouped per folder and case (a partial inetsrv copy lacks dozens of modules): one
    # reason per group and application, naming the files its own worker loads, in load order. A folder is one folder
    # whatever the case the configuration writes it in (NTFS compares names case-insensitively: %windir%\System32
    # and %Windir%\system32 are one), named as the first load names it
    groups: dict[tuple[str, str], tuple[str, str, dict[int, tuple[Application, dict[str, None]]]]] = {}
    spelled: dict[str, str] = {}
    for load, why_not in plan.unchecked():  # NOTE: the one decision, fix verification's too
        if why_not is Unchecked.INFERRED:  # NOTE: the report's note on inferred files names them (server.inferred)
            continue
        b = load.binary
        pool = load.process.pool
        if pool is None and plan.iis6 is None:  # NOTE: IIS Manager's copy of a bin load: the worker's says it
            continue
        # NOTE: IIS Express: a process serves its project's site alone (iisexpress.exe /site:NAME), so a global
        # module its process loads counts against that site's applications, not every application of the pool. IIS 6
        # without a pool (IIS 5 isolation mode: inetinfo.exe, dllhost.exe): the site or application of the entry
        site, app = (load.site or load.process.site or "").lower(), (load.application or "").lower()
        targets = [a for a in (in_pool.get(pool.name.lower(), ()) if pool is not None else read)
                   if not site or (a.site.lower() == site and (not app or a.path.lower() == app))]
        if not targets:
            continue
        if why_not is Unchecked.DEPENDENCY and (dep := plan.unchecked_dependency(load)) is not None:
            said = (f"'{b.configured}' ({load.kind.value} '{load.name}'), which its worker loads, was read, but its "
                    f"dependency {dep.name} ({dep.via}, needed by {dep.needed_by.name}) was not checked: {dep.reason}")
            gap = (said, COLLECT_AGAIN if COLLECT_AGAIN in dep.reason else _dependency_remedy(dep.name, dep.reason, ctx, given))
            for a in targets:
                out.setdefault(id(a), {})[gap] = None
            continue
        if why_not is Unchecked.RUNTIME:
            gap = _runtime_gap(load, plan, ctx)
            for a in targets:
                out.setdefault(id(a), {})[gap] = None
            continue
        give = (ctx.image.locate(b.windows_path).remedy if b.windows_path
                else IISEXPRESS_REMEDY if given is Given.IISEXPRESS_CONFIG and "%" in b.configured
                else _env_remedy(b.configured, plan, load.process.arch, ctx))
        if why_not is Unchecked.ABSENT:
            assert b.windows_path is not None
            folder = spelled.setdefault(ntpath.dirname(b.windows_path).lower(), ntpath.dirname(b.windows_path))
            why, give = _not_checked(ctx, b, given, folder)
            per_app = groups.setdefault((folder.lower(), why), (why, give, {}))[2]
            for a in targets:
                per_app.setdefault(id(a), (a, {}))[1][ntpath.basename(b.windows_path)] = None
            continue
        if why_not is Unchecked.UNREADABLE:
            why = f"was not read: {b.problem}"
        else:
            assert b.image is not None
            why = (f"was not checked: it is {b.image.describe()}, which loads only on Windows on Arm, and the OS "
                   "architecture was assumed")
            give = "--os-arch arm64 or --os-arch x64"
        gap = (f"'{b.configured}' ({load.kind.value} '{load.name}'), which its worker loads, {why}", give or "")
        for a in targets:
            out.setdefault(id(a), {})[gap] = None
    for why, give, per_app in groups.values():
        for a, names in per_app.values():
            listed = list(names)
            files = ", ".join(listed[:6]) + (f" and {len(listed) - 6} more" if len(listed) > 6 else "")
            why = why.replace(_THESE, "this file" if len(listed) == 1 else "these files")
            gap = (f"{files}, which its worker loads, {'was' if len(listed) == 1 else 'were'} not checked: {why}", give)
            out.setdefault(id(a), {})[gap] = None
    return {k: tuple(v) for k, v in out.items()}


def _runtime_gap(load: Load, plan: LoadPlan, ctx: PlanContext) -> tuple[str, str]:
    """``(reason, remedy)`` for a framework-dependent in-process app whose .NET install was not looked at
    (:attr:`Unchecked.RUNTIME`: the image does not hold its drive; an IIS Express scan without the developer machine's
    ``--drive C=``): what was not read and what to pass, where aspnetcore-runtime-missing asserts nothing (audit9 H2).
    The image's own remedy where it has one that is no ``--drive`` (a collected zip's folder its recorder never
    listed: a new collect)."""
    entry = load.entry
    assert isinstance(entry, AspNetCoreHost) and entry.runtime is not None
    runtime = entry.runtime
    root = runtime.dotnet_root
    needs = "; ".join(f"{n} {v}" for n, v in runtime.requires) or "the ASP.NET Core shared framework"
    drive = root[:1].upper()
    whose = "the developer machine's" if plan.iisexpress is not None else "the server's"
    why = (f"the .NET runtime it needs ({needs}) was not checked: its {load.process.name} ({load.process.arch.value}) "
           f"loads hostfxr.dll from {root}\\host\\fxr, and {runtime.unread.split(' (use ', 1)[0]}")
    give = ctx.image.locate(root).remedy
    if not give or give.startswith("--drive"):
        give = f"--drive {drive}=/path/to/copy ({whose} {drive}: drive, or a copy holding {root[3:]})"
    return why, give


_THESE = "\0these files\0"
"""Where a reason of :func:`_not_checked` names the files of its group: "this file" or "these files", said once the
group's files are counted (:func:`_unread_binaries`)."""


def _not_checked(ctx: PlanContext, b: BinaryRef, given: Given = Given.IMAGE, folder: str = "") -> tuple[str, str]:
    """Why the binary ``b`` a worker loads was not checked (:attr:`BinaryRef.not_checked`: absent from the image where
    nothing says whether the server has it), said of its folder (the files of one folder are one reason of
    :func:`_unread_binaries`), and what to give: a copy of that folder (:func:`_copy_hint`; a zip made from an image
    folder takes none: a new one). ``folder``: the file's folder as the reason names it ("" for ``b``'s own
    spelling): one folder that the configuration writes in several cases is named in one (Windows compares paths
    case-insensitively). Where the image holds the folder (a copy of ``inetsrv`` with its ``config`` only), the
    reason says it lacks these files of it (:data:`_THESE`), not that it lacks the folder."""
    assert b.windows_path is not None
    folder = folder or ntpath.dirname(b.windows_path)
    absent = b.absent
    if absent is not None and absent.partial_copy:
        own = "IIS Express's own modules" if is_iis_express_folder(folder) else "Windows' own IIS modules"
        why = f"the image's copy of {absent.folder} lacks some of {own} (the copy may be partial)"
    elif absent is not None and absent.other_build_only:
        held = ctx.image.locate(folder)
        lacks = f"{_THESE} of {folder}" if held.host_path is not None and held.is_dir else folder
        why = f"the image does not hold {lacks}, only the other architecture's build in the other folder"
    elif absent is not None and absent.redirected:
        why = (f"the worker looks in {folder} (WOW64 redirects System32 to SysWOW64 for 32-bit processes), which the "
               "image does not hold")
    elif given is Given.BUILD:
        why = f"{folder} is not in the build folder: a folder of the server"
    elif (held := ctx.image.locate(folder)).host is not None and held.is_dir:
        why = f"the image's copy of {folder} holds no binaries, and the folder does not decide the architecture"
    else:
        why = f"the image does not hold {folder}, which does not decide the architecture"
    give, _ = _copy_hint(ctx, folder, given)
    if ctx.image.collected == "image":
        give = f"a new zip: {give}, then iisbitness collect again"
    return why, give


def _env_remedy(configured: str, plan: LoadPlan, process_arch: Arch, ctx: PlanContext) -> str:
    """What to give for a binary path that names a variable the worker does not have (``%MYVAR%\\m.dll``):
    ``--env MYVAR=VALUE`` per such variable, as the reason says; "" when there is none."""
    if "%" not in configured:
        return ""
    _, unresolved = expand(configured, process_environment(plan.server.os_arch, process_arch, ctx.env_overrides))
    return " ".join(f"--env {name}=VALUE" for name in dict.fromkeys(unresolved))


def _unread_by_load(apps: list[Application], plan: LoadPlan, problems: Sequence[Problem], ctx: PlanContext,
                    given: Given) -> tuple[dict[int, list[Problem]], dict[int, list[str]]]:
    """Each unread problem of an entry that an application's worker loads but the scan could not look up (a
    strong-named assembly in an image without GAC folders, :attr:`GacAssembly.unchecked`; or one in none of the
    image's GAC folders nor in ``bin``, which the ``binary-invalid`` warning says could not be checked: the image's
    GAC may be a partial copy; a partial name whose ``bin`` the image lacks, :attr:`GacAssembly.bin_folder`), under
    every such application: an entry of applicationHost.config is in no application's folder, yet each application
    whose worker loads it was only partly checked. Second, what to give for them per application: the GAC
    (:data:`GAC_REMEDY`), the ``bin`` folder to copy."""
    by_line = {(p.file, p.line): p for p in problems if p.unread}
    by_app = {(a.site.lower(), a.path.lower()): id(a) for a in apps}
    out: dict[int, list[Problem]] = {}
    remedies: dict[int, list[str]] = {}
    for load in plan.loads_of(LoadKind.GAC_ASSEMBLY):  # NOTE: the loads whose entry is a GacAssembly (collectors/gac)
        if not isinstance(load.entry, GacAssembly) or load.site is None:
            continue
        key = by_app.get((load.site.lower(), (load.application or "/").lower()))
        give = GAC_REMEDY
        problem: Problem | None
        if load.entry.bin_folder:
            give = (f"the whole build output, its bin folder ({load.entry.bin_folder}) included"
                    if given is Given.BUILD else _copy_hint(ctx, load.entry.bin_folder, given)[0])
            # NOTE: made here, for this application alone: another application below the file's folder has its own bin
            problem = Problem(load.source.file, load.source.line, f"{load.entry.managed.section} names "
                              f"{load.entry.assembly.name!r}; {load.entry.unchecked}", unread=True)
        elif load.entry.unchecked:
            problem = by_line.get((load.source.file, load.source.line))
        elif not load.entry.found_in and load.binary.resolved is None:
            # NOTE: GAC folders in the image, the assembly in none of them nor in bin: missing on the server, or the
            # image's GAC a partial copy; either way what the worker binds, and its architecture, were not read
            problem = Problem(load.source.file, load.source.line,
                              f"{load.entry.managed.section} names '{load.entry.assembly.display}', which is in no GAC "
                              "folder of the image nor in bin (missing on the server, or the image's GAC is a partial "
                              "copy): its architecture was not checked", unread=True)
        else:
            continue
        if key is not None and problem is not None and problem not in out.setdefault(key, []):
            out[key].append(problem)
            if give not in remedies.setdefault(key, []):
                remedies[key].append(give)
    return out, remedies


def _duplicate(refused: Problem) -> str:
    """", which adds <add name="X"> to system.webServer/handlers a second time" when ``refused`` (an
    :attr:`Application.refused`) is a duplicate entry (:attr:`Problem.duplicate`), so that a coverage line names the
    key; "" otherwise."""
    d = refused.duplicate
    return f", which adds {d.tag} to {d.collection} a second time" if d is not None else ""


def _coverage(app: Application, folders: list[_Folder], unread: list[Problem], gac_remedy: str = "",
              inherited: tuple[tuple[str, str], ...] = (), worker_binaries: tuple[str, ...] = (),
              given: Given = Given.IMAGE) -> Coverage:
    root = app.root_vdir
    reasons: list[str] = []
    remedies: list[str] = []
    root_read = root is not None
    if root is None:
        reasons.append("it has no root virtual directory (path '/')")
    for vdir, host, why, give in folders:
        if host is not None:
            continue
        if vdir is root:
            root_read = False
        reasons.append(why if vdir is root else f"virtual directory {vdir.path}: {why}")
        if give:
            remedies.append(give)
    for why, give in inherited:
        reasons.append(why)
        if give:
            remedies.append(give)
    reasons.extend(f"{p.file}: {p.message}" for p in unread)
    remedies.extend(p.remedy for p in unread if p.remedy)  # NOTE: Problem.remedy's promise (a hive to save, say)
    if gac_remedy:
        remedies.append(gac_remedy)
    if app.refused is not None:
        # NOTE: before any bitness question: no load of it happens (loadplan.build.served), so none was analysed
        again = given.again
        if not app.refused.file.lower().endswith("web.config"):  # NOTE: applicationHost.config at a <location path>
            again = again.replace("that web.config", "that applicationHost.config")
        reasons.insert(0, f"IIS answers every request of it with HTTP 500.19 (it refuses {app.refused.where}"
                          f"{_duplicate(app.refused)}): none of its loads happens, so none was analysed; {again}")
    if not root_read or app.refused is not None:
        status = CoverageStatus.NOT_CHECKED
    elif reasons:
        status = CoverageStatus.PARTLY
    else:
        status = CoverageStatus.CHECKED
    return Coverage(app.label, app.pool, root.physical_path if root is not None else "", status,
                    tuple(dict.fromkeys(reasons)), "; ".join(_once(remedies)), app.site, app.path, app.source,
                    worker_binaries, app.refused.where if app.refused is not None else "")


def _once(remedies: Iterable[str]) -> list[str]:
    """``remedies`` in order, each once whatever its case: a remedy names Windows folders, files, shares and
    environment variables, which Windows compares case-insensitively ("copy C:\\Windows\\System32\\inetsrv ..." and
    "copy C:\\Windows\\system32\\inetsrv ..." copy one NTFS folder: "path and directory names are case-insensitive",
    learn.microsoft.com/dotnet/standard/io/file-path-formats, "Case and the Windows file system"); the first spelling
    is kept."""
    seen: dict[str, str] = {}
    for r in remedies:
        seen.setdefault(r.lower(), r)
    return list(seen.values())
