"""``iisbitness check-app``: would this build output load in such a pool?

The same pipeline and rules as ``scan``, run on a server around one application whose root folder
is the publish folder (``P:\\<folder name>``: its parent folder is mapped as drive ``P:`` of the
image, so nothing is copied or written there; a drive root as the application folder would make
``.\\App.exe`` the drive-relative ``P:App.exe``):

- Alone (``--pool-arch``, ``--runtime``, ``--pipeline``): a synthetic applicationHost.config with
  one pool and one site, in a temporary folder standing for ``C:``. The folder holds nothing else,
  so the rules that judge the server rather than the build are not run: ``aspnetcore-runtime-missing``
  (which .NET runtimes the server has) and ``com-inproc-arch`` (what its registry holds).
- Against a server (``--server IMAGE --site S/app``): that image's own applicationHost.config with
  the application's root virtual directory pointed at the publish folder (one attribute changed, in
  a temporary copy); the application keeps its real pool, global modules, handlers and runtimes.
  Findings about the application are reported, and findings about its pool that the real
  application does not already cause (a pool conflict the new build would bring). The server's own findings about
  the worker that serves the application (a global module its pool cannot load: HTTP 503 whatever the build) are
  kept apart, as :attr:`Report.server_findings`, and counted (exit code too). Problems and coverage are
  the application's: another application's (its ``<application>`` element's lines, what its coverage counts) are
  left out.

Either way the report speaks of the build: paths as the folder was given (relative to the working
folder, the repository in a pipeline, when the folder is under it), never the ``P:`` drive. Alone,
the site is named after the folder, the pool is the target pool, and fixes are build-side (a
``PlatformTarget`` or ``RuntimeIdentifier`` for the pool, ``dotnet publish -r``, out-of-process
hosting in web.config) or advice on the target pool's setting, never a command for a pool of a
server that does not exist.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from lxml import etree

from iisbitness.arch import Arch
from iisbitness.config.apphost import find_apphost, shared_config_unread
from iisbitness.config.locks import STOCK_DENY_WHERE
from iisbitness.config.xml import attr, local_name
from iisbitness.errors import ServerImageError
from iisbitness.findings import Finding, Fix
from iisbitness.fixes.commands import APPCMD, OUT_OF_PROCESS, ps_escaped, renamed
from iisbitness.fixes.iisexpress import PLATFORM, RID
from iisbitness.fixes.text import Document, Edits, xml_attr_value
from iisbitness.image.server_image import ServerImage
from iisbitness.loadplan.coverage import GAC_REMEDY, Given
from iisbitness.loadplan.plan import Coverage
from iisbitness.model.edits import SetPoolArch
from iisbitness.model.source import ConfigSource, Problem
from iisbitness.report import Report
from iisbitness.rules import RULES
from iisbitness.rules._assembly import rebuilt
from iisbitness.rules.aspnetcore_inprocess_arch import ANYCPU_LABEL, publish_parts
from iisbitness.scan.pipeline import ScanOptions, scan

PUBLISH_DRIVE = "P"
SERVER_ONLY_RULES = frozenset({"aspnetcore-runtime-missing", "com-inproc-arch"})
"""Rules that judge what the server has installed; not run without ``--server``."""
POOL = "target pool"


@dataclass(frozen=True, slots=True)
class PoolSpec:
    """The pool to check against: worker architecture, CLR version (``""`` for none), pipeline."""

    arch: Arch
    runtime: str = "v4.0"
    pipeline: str = "Integrated"


_NOT_BUILDS = frozenset({"obj", "node_modules", ".git", ".vs", "packages"})
_LOOK_DEPTH = 4
_LOOK_FOLDERS = 2000


def _is_build(names: set[str]) -> bool:
    return "web.config" in names or "bin" in names


def _names(folder: Path) -> tuple[set[str], list[Path]]:
    """The entries of ``folder`` (lower case) and its sub-folders (links not followed); nothing when unreadable."""
    try:
        with os.scandir(folder) as it:
            entries = list(it)
    except OSError:
        return set(), []
    return ({e.name.lower() for e in entries},
            [Path(e.path) for e in entries if e.is_dir(follow_symlinks=False) and e.name.lower() not in _NOT_BUILDS])


def require_build(publish: Path) -> None:
    """Refuse a folder that holds nothing an IIS application loads: no ``web.config`` and no ``bin`` (a wrong path in
    a pipeline: an empty folder, the folder above the publish output, a project's ``bin`` itself), which would pass
    as "1 of 1 application checked" with nothing read.

    Raises:
        ServerImageError: naming the folder and, when it has some, the folders below it that hold a build.
    """
    names, subs = _names(publish)
    if _is_build(names):
        return
    shown = shown_path(publish)
    found: list[str] = []
    queue, seen = [(s, 1) for s in sorted(subs)], 0
    while queue and len(found) < 3 and seen < _LOOK_FOLDERS:
        folder, depth = queue.pop(0)
        seen += 1
        below, more = _names(folder)
        if _is_build(below):
            found.append(shown_path(folder))
        elif depth < _LOOK_DEPTH:
            queue.extend((m, depth + 1) for m in sorted(more))
    raise ServerImageError(_not_a_build(shown, sum(1 for n in names if n.endswith((".dll", ".exe"))), found))


def _not_a_build(shown: str, binaries: int, found: list[str]) -> str:
    """The error for folder ``shown``, which holds ``binaries`` .dll/.exe files but nothing of a build: why (where
    IIS looks for them, or what a build holds), then what to give (the builds ``found`` below it, if any)."""
    if binaries:
        why = (f"its {binaries} .dll/.exe files are not where IIS loads them: an ASP.NET application's assemblies are "
               "in its bin folder (give the folder above bin) and an ASP.NET Core app needs the web.config its "
               "publish writes")
    else:
        why = "an ASP.NET application has its assemblies in bin, an ASP.NET Core publish folder has a web.config"
    give = f"give the build output, e.g. {', '.join(found)}" if found else "give the build output (the publish folder)"
    return f"{shown}: nothing of a build to check: it holds no web.config and no bin folder ({why}); {give}"


def _publish(publish: Path) -> tuple[dict[str, Path], str]:
    """The drive mapping and the Windows path of the publish folder."""
    folder = publish.resolve()
    return {PUBLISH_DRIVE: folder.parent}, f"{PUBLISH_DRIVE}:\\{folder.name}"


def shown_path(publish: Path) -> str:
    """``publish`` as a report names it: relative to the working folder (the repository, in a pipeline) when it
    is under it, else absolute; forward slashes."""
    folder = publish.resolve()
    try:
        rel = folder.relative_to(Path.cwd().resolve())
    except ValueError:
        return folder.as_posix()
    return PurePosixPath(rel.as_posix()).as_posix()


def _from_publish_drive(value: str, physical: str, shown: str) -> str:
    """``value`` with the publish folder's ``P:\\name`` (either slash, any case) named as ``shown``, forward
    slashes after it."""
    drive, _, name = physical.partition("\\")
    pattern = re.compile(re.escape(drive) + r"[\\/]" + re.escape(name) + r"(?![\w.-])((?:[\\/][^\s'\"]*)?)",
                         re.IGNORECASE)
    return pattern.sub(lambda m: shown + m[1].replace("\\", "/"), value)


def _synthetic_apphost(pool: PoolSpec, physical: str, site: str) -> str:
    e32 = "true" if pool.arch is Arch.X86 else "false"
    emu = "false" if pool.arch is Arch.ARM64 else "true"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<configuration>\n  <system.applicationHost>\n'
        f'    <applicationPools>\n      <add name="{POOL}" enable32BitAppOnWin64="{e32}" '
        f'enableEmulationOnWinArm64="{emu}" managedRuntimeVersion="{xml_attr_value(pool.runtime)}" '
        f'managedPipelineMode="{xml_attr_value(pool.pipeline)}" />\n    </applicationPools>\n'
        f'    <sites>\n      <site name="{xml_attr_value(site)}" id="1">\n        <application path="/" applicationPool="{POOL}">\n'
        f'          <virtualDirectory path="/" physicalPath="{xml_attr_value(physical)}" />\n        </application>\n'
        '      </site>\n    </sites>\n  </system.applicationHost>\n</configuration>\n')


def check_alone(publish: Path, pool: PoolSpec) -> Report:
    """Check ``publish`` in a pool of ``pool`` on a server that holds nothing else.

    A web.config of the build that cannot be parsed is a problem of the report, not an error: ``refused`` when IIS
    refuses it too (:func:`refused_in_build`, which ``check-app`` exits 2 on), else a gap in its coverage.

    Raises:
        ServerImageError: the folder holds no web.config and no bin (:func:`require_build`).
        IisBitnessError: as :func:`iisbitness.scan.pipeline.scan` does (not expected of the synthetic server).
    """
    require_build(publish)
    os_arch = Arch.ARM64 if pool.arch is Arch.ARM64 else Arch.X64
    with tempfile.TemporaryDirectory(prefix="iisbitness-check-app-") as tmp:
        root = Path(tmp)
        config = root / "applicationHost.config"
        drives, physical = _publish(publish)
        config.write_text(_synthetic_apphost(pool, physical, publish.resolve().name), encoding="utf-8")
        options = ScanOptions(os_arch=os_arch, drives=drives, config=config,
                              rules=tuple(r for r in RULES if r.id not in SERVER_ONLY_RULES), given=Given.BUILD)
        report = scan(root, options)
    shown = shown_path(publish)
    def words(text: str) -> str:
        return _build_words(_from_publish_drive(text, physical, shown))

    findings = tuple(_build_side(replace(f, cause=_build_words(f.cause), symptom=_build_words(f.symptom)), pool, words)
                     for f in _renamed(report.findings, physical, shown))
    runtime = pool.runtime or "No Managed Code"
    # NOTE: alone there is no GAC at all: what to give is the server the build goes to, not folders to copy
    server = f"the server's GAC: iisbitness check-app \"{shown}\" --server IMAGE --site SITE/APP"
    coverage = tuple(replace(c, remedy=c.remedy.replace(GAC_REMEDY, server),
                             reasons=tuple(_build_words(r) for r in c.reasons))
                     for c in _renamed_coverage(report.coverage, physical, shown))
    problems = tuple(replace(p, message=_build_words(p.message)) for p in _renamed_problems(report, physical, shown))
    # NOTE: unreported: the server-only rules are this command's choice, not a --select the closing line should name
    return replace(report, findings=findings, problems=problems, unreported=(), unreported_findings=(),
                   coverage=coverage, server=replace(report.server, image=shown, absent_from=BUILD_FOLDER, inferred=(),
                                                     os_arch_from="that of the target pool, --pool-arch",
                                  config_file=f"(none: a target pool of {pool.arch.value}, {runtime}, "
                                              f"{pool.pipeline} pipeline)"))


BUILD_FOLDER = "the build folder"
"""What a file not found is absent from when the build is checked alone (:attr:`ServerSummary.absent_from`): the
"image" is a folder of the check's own holding the build and nothing of a server."""

_SERVER_FILE = ("which is not in the image; its folder is not in the image either and does not decide its "
                "architecture")
"""binary-missing's words for a file whose folder the image lacks: alone, a file outside the build (a handler's
``scriptProcessor`` under C:\\), which is the server's, not the build's."""


def _build_words(text: str) -> str:
    """``text`` (of the build checked alone: a finding's, a problem's, a coverage reason) in a build's words: a file
    the check did not find is not in the build folder (not "the image", which the user never gave), and one outside
    it is the server's, which only ``--server`` reads."""
    text = text.replace(_SERVER_FILE, "which is not in the build folder: a file of the server, whose architecture "
                                      "only check-app PUBLISH_DIR --server IMAGE --site SITE/APP can check")
    text = text.replace("the image holds no GAC folder", "no server is given, so there is no GAC")
    # NOTE: the synthetic server declares no section: isapiFilters is locked as on a stock IIS (SectionLocks.locked)
    text = text.replace(STOCK_DENY_WHERE, 'overrideModeDefault="Deny" in a stock IIS applicationHost.config; a server '
                                          "that unlocked it: check-app PUBLISH_DIR --server IMAGE --site SITE/APP")
    return text.replace("The image holds", "The build folder holds").replace("not in the image",
                                                                             f"not in {BUILD_FOLDER}")


def refused_in_build(report: Report, publish: Path) -> tuple[Problem, ...]:
    """The problems of ``report`` (from :func:`check_alone` or :func:`check_on_server`) about configuration of the
    build folder ``publish`` itself that IIS refuses (:attr:`Problem.refused`: a web.config that is not well-formed
    XML, sets a section IIS allows only in applicationHost.config, holds an element a collection does not take
    (``<add>`` in ``<isapiFilters>``, a misspelt ``<ad>``: "Unrecognized element", 0x8007000D), or sets a section the
    server locks): IIS answers HTTP 500.19
    for every request at or below that folder (KB 942055), so the build is not served at all, whatever its
    binaries. Problems of the server's own files (``--server``) are not the build's and are left out."""
    shown = shown_path(publish)
    below = "" if shown == "." else shown.rstrip("/") + "/"
    return tuple(p for p in report.problems if p.refused and (p.file == shown or p.file.startswith(below)))


def refused_over_target(report: Report, publish: Path) -> tuple[Problem, ...]:
    """The problems of ``report`` (from :func:`check_on_server`) about the server's own configuration that IIS refuses
    over the application checked: the server's applicationHost.config adding an entry twice at a ``<location path>``
    at or above it, or a web.config of the server at or above its URL that IIS refuses (HTTP 500.19 for every request
    of it, KB 942055; :attr:`iisbitness.report.Coverage.refused` names it). The application is then not checked
    (none of its loads happens): ``check-app`` exits 2, "could not check", as for the build's own
    (:func:`refused_in_build`, whose problems are left out here)."""
    where = {c.refused for c in report.coverage if c.refused}
    own = set(refused_in_build(report, publish))
    return tuple(p for p in report.problems if p.refused and p.where in where and p not in own)


def _renamed(findings: tuple[Finding, ...], physical: str, shown: str) -> tuple[Finding, ...]:
    def name(v: str | None) -> str | None:
        return None if v is None else _from_publish_drive(v, physical, shown)

    def rename(line: str, replacement: str) -> str:
        return _from_publish_drive(line, physical, replacement)

    def rename_ps(line: str, replacement: str) -> str:
        return _from_publish_drive(line, ps_escaped(physical), replacement)

    return tuple(replace(
        f, binary=name(f.binary), resolved=name(f.resolved), symptom=_from_publish_drive(f.symptom, physical, shown),
        cause=_from_publish_drive(f.cause, physical, shown), chain=tuple(_from_publish_drive(c, physical, shown)
                                                                        for c in f.chain),
        config=replace(f.config, file=_from_publish_drive(f.config.file, physical, shown)) if f.config else None,
        # NOTE: a command naming a file of the build (corflags on a bin assembly) names it as the user gave it
        # NOTE: and its text names them so too ("Install the x64 build of 'X.dll' ... in app/bin", not P:\app\bin)
        fixes=tuple(replace(x, summary=_from_publish_drive(x.summary, physical, shown),
                            note=None if x.note is None else _from_publish_drive(x.note, physical, shown),
                            commands=tuple(renamed(c, rename, shown, powershell=False) for c in x.commands),
                            powershell=tuple(renamed(c, rename_ps, shown, powershell=True) for c in x.powershell))
                    for x in f.fixes),
        # NOTE: a fix not offered names what it would break, the build's files among them (P:\pub\bin\X.dll)
        rejected_fixes=tuple(replace(r, summary=_from_publish_drive(r.summary, physical, shown),
                                     reason=_from_publish_drive(r.reason, physical, shown)) for r in f.rejected_fixes),
    ) for f in findings)


def _renamed_problems(report: Report, physical: str, shown: str) -> tuple[Problem, ...]:
    return tuple(replace(p, file=_from_publish_drive(p.file, physical, shown),
                         message=_from_publish_drive(p.message, physical, shown)) for p in report.problems)


def _renamed_coverage(coverage: tuple[Coverage, ...], physical: str, shown: str) -> tuple[Coverage, ...]:
    def name(v: str) -> str:
        return _from_publish_drive(v, physical, shown)

    return tuple(replace(c, physical_path=name(c.physical_path), reasons=tuple(name(r) for r in c.reasons),
                         remedy=name(c.remedy), refused=name(c.refused)) for c in coverage)


_OUT_OF_PROCESS_NOTE = "The app then runs in its own process, whatever the pool's bitness; it is slower."


def _build_side(f: Finding, pool: PoolSpec, words: Callable[[str], str] = str) -> Finding:
    """``f`` with build-side fixes: its fixes that change a server (a pool's setting, a new pool, an appcmd line)
    become advice on the target pool, and a rebuild of an assembly as the build's ``<PlatformTarget>`` comes first
    (:func:`_platform_target`). A server fix's reason it is not verified goes with the advice made of it, in its note
    as every format shows it, put in ``words`` (:func:`_build_words` for a build checked alone)."""
    arch = f.process_arch or pool.arch

    def unverified(fix: Fix) -> tuple[str | None, str | None]:
        """(the reason in ``words``, "Not verified: <reason>.") of a server fix not verified, else (None, None)."""
        if fix.verified is not False or not fix.unverified_because:
            return None, None
        reason = words(fix.unverified_because)
        return reason, f"Not verified: {reason}."

    build: list[Fix] = []
    kept: list[Fix] = []
    pool_advice: list[Fix] = []
    for fix in f.fixes:
        # NOTE: by what the fix is, not by words in its lines: a cmd.exe "rem Not written" line names appcmd too,
        # and a corflags fix whose path holds % was taken for a server's and dropped
        because, said = unverified(fix)
        if fix.label == OUT_OF_PROCESS:
            kept.append(Fix(summary="Host the app out of process: hostingModel=\"outofprocess\" on <aspNetCore> in the "
                                    "published web.config, or <AspNetCoreHostingModel>OutOfProcess"
                                    "</AspNetCoreHostingModel> in the project",
                            label="out-of-process hosting (web.config)", verified=fix.verified,
                            unverified_because=because,
                            note=" ".join(filter(None, (_OUT_OF_PROCESS_NOTE, said)))))
        elif (name := rebuilt(fix)) is not None:
            build.append(_platform_target(fix, name, arch))
        elif fix.edits or any(c.startswith(APPCMD + " ") for c in fix.commands):
            to = next((e.arch for e in fix.edits if isinstance(e, SetPoolArch)), None)
            if to is not None:
                pool_advice.append(Fix(
                    summary=f"Or deploy to a pool that runs as {_runs_as(to, pool)}: {_pool_attributes(to, pool)} on "
                            "the server's pool (not a setting of the build)",
                    label=(f"or an {'' if to is Arch.ARM64 else 'emulated '}{to.value} target pool"
                           if pool.arch is Arch.ARM64 else f"or a {to.bits}-bit target pool"), verified=fix.verified,
                    unverified_because=because, note=said))
        else:
            kept.append(fix)
    if (any(c.startswith("dotnet publish") for k in f.fixes for c in k.commands)
            and not any(fix.label == ANYCPU_LABEL for fix in f.fixes)):
        # NOTE: only where the rule itself offers publishing for the worker (aspnetcore-inprocess-arch), as the
        # build's setting: not for aspnetcore-multiple-inprocess (a pool of its own, or out of process, is the fix) nor
        # aspnetcore-runtime-missing (the runtime to install). The rule's own command and note: -r alone no longer
        # implies --self-contained (.NET 8 SDK)
        # Not for an app's own assembly built for another PlatformTarget either (its AnyCPU rebuild is the build's fix;
        # the SDK refuses a RuntimeIdentifier of another architecture than an explicit PlatformTarget, NETSDK1032)
        # The rule's own publish line: it knows the app's deployment (--self-contained, or --self-contained false for
        # a framework-dependent app, which -r --self-contained would turn into one carrying its own runtime)
        own = next(k for k in f.fixes if any(c.startswith("dotnet publish") for c in k.commands))
        cmds, ps, note = own.commands, own.powershell, own.note or publish_parts(arch)[2]
        build.append(Fix(summary=f"Publish for the pool: <RuntimeIdentifier>{RID[arch]}</RuntimeIdentifier> (or "
                                 f"<PlatformTarget>{PLATFORM[arch]}</PlatformTarget>) in the project, or "
                                 f"dotnet publish -r {RID[arch]}",
                         label=f"RuntimeIdentifier {RID[arch]}", commands=cmds, powershell=ps, note=note))
        kept = [k for k in kept if not any(c.startswith("dotnet publish") for c in k.commands)]
    return replace(f, fixes=tuple(build + kept + pool_advice), rejected_fixes=())


def _platform_target(fix: Fix, name: str, arch: Arch) -> Fix:
    """The rules' rebuild of assembly ``name`` (:func:`iisbitness.rules._assembly.rebuilt`: as AnyCPU or for the
    process, or its 32BITREQ flag cleared with the CorFlags line it keeps) as the build's setting: one fix, where
    check-app listed its own ``<PlatformTarget>`` beside the rules' rebuild of the same file. Its note and commands
    stay; every finding that offers the rebuild (a worker's, IIS Manager's, an assembly that needs it) gets this one
    (one number). Not for native code (a native DLL, a mixed-mode or ReadyToRun assembly: no AnyCPU build exists;
    :func:`iisbitness.rules._assembly.arch_build_fix`)."""
    clear = "; or clear its 32BITREQ flag (it is IL-only): the command" if fix.commands else ""
    return replace(fix, summary=(f"Build '{name}' for the pool: <PlatformTarget>AnyCPU</PlatformTarget> (or "
                                 f"{PLATFORM[arch]}) in the project that builds it, or reference its AnyCPU / "
                                 f"{PLATFORM[arch]} package{clear}"),
                   label=f"PlatformTarget AnyCPU or {PLATFORM[arch]}" + (", or clear 32BITREQ" if clear else ""))


def _runs_as(to: Arch, pool: PoolSpec) -> str:
    """``32-bit (x86)``; on ARM64 Windows (a target pool of arm64) x86 and x64 workers are emulated (facts A6, A7)."""
    emulated = pool.arch is Arch.ARM64 and to is not Arch.ARM64
    return f"{to.bits}-bit ({to.value}{', emulated' if emulated else ''})"


def _pool_attributes(to: Arch, pool: PoolSpec) -> str:
    """The pool attributes that make its worker run as ``to``, as :func:`iisbitness.fixes.commands.pool_arch_commands`
    sets them: ``enable32BitAppOnWin64`` alone on x64 Windows; on ARM64 Windows (a target pool of arm64) with
    ``enableEmulationOnWinArm64`` too: x86 true/true, x64 emulated false/true, native ARM64 false/false (facts A6)."""
    e32 = "true" if to is Arch.X86 else "false"
    if pool.arch is not Arch.ARM64:
        return f'enable32BitAppOnWin64="{e32}"'
    emu = "false" if to is Arch.ARM64 else "true"
    return f'enable32BitAppOnWin64="{e32}" and enableEmulationOnWinArm64="{emu}"'


def _split(site_app: str) -> tuple[str, str]:
    site, sep, app = site_app.partition("/")
    return site, "/" + app.strip("/") if sep else "/"


def _url(path: str) -> str:
    return ("/" + path.strip().replace("\\", "/").strip("/")).lower()


def _named(el: etree._Element, tag: str) -> bool:
    return isinstance(el.tag, str) and local_name(el) == tag


def _lines(el: etree._Element) -> range:
    """The lines of applicationHost.config that ``el`` and its children span."""
    lines: list[int] = []
    for e in el.iter():
        line = e.sourceline
        if isinstance(e.tag, str) and isinstance(line, int):
            lines.append(line)
    return range(min(lines), max(lines) + 1) if lines else range(0)


def _apphost_with(image: Path, site: str, app: str, options: ScanOptions, physical: str
                  ) -> tuple[bytes, str, frozenset[int]]:
    """The image's applicationHost.config (the shared one when redirection.config enables it and ``--share`` gives
    it) with ``site``/``app``'s root folder on the publish drive, and the lines of every other ``<application>``
    element (their virtual directories' problems are not the check's)."""
    path, shown, _, _ = find_apphost(ServerImage.offline(image, dict(options.drives), options.shares))
    doc = Document.read(path.read_bytes(), shown)
    for s in (s for s in doc.root.iter() if _named(s, "site") and attr(s, "name").lower() == site.lower()):
        for a in (a for a in s if _named(a, "application") and _url(attr(a, "path", "/")) == _url(app)):
            for v in (v for v in a if _named(v, "virtualDirectory") and _url(attr(v, "path", "/")) == "/"):
                edits = Edits.of(doc)
                edits.set(v, "physicalPath", physical)
                others = frozenset(n for o in doc.root.iter() if _named(o, "application") and o is not a
                                   for n in _lines(o))
                return edits.result(), shown, others
    kept = next((attr(s, "configSource") for s in doc.root.iter() if _named(s, "sites") and attr(s, "configSource")),
                "")  # NOTE: the sites are in a file the scan does not read: say so, not only "no application"
    has = [f"{attr(s, 'name')}{attr(a, 'path', '/')}" for s in doc.root.iter() if _named(s, "site")
           for a in s if _named(a, "application")]
    raise ServerImageError(_no_application(f"{shown}: no application {site}{app} with a root virtual directory",
                                           kept, has))


def _no_application(error: str, kept: str, has: list[str]) -> str:
    """``error`` (no such application) with why: the ``<sites>`` kept in file ``kept``, which is not read; else the
    applications the file ``has`` (the first 12, and how many more), when it has any."""
    if kept:
        return (f'{error} (<sites configSource="{kept}">: the sites kept in {kept} are not read; put the section back '
                "into applicationHost.config in the copy to check against it)")
    if not has:
        return error
    more = f" and {len(has) - 12} more" if len(has) > 12 else ""
    return f"{error}; it has {', '.join(has[:12])}{more}"


def check_on_server(publish: Path, image: Path, site_app: str, options: ScanOptions | None = None) -> Report:
    """Check ``publish`` as application ``site_app`` (``Site/app``) of the server image ``image``.

    Raises:
        ServerImageError: no such application, or ``publish`` holds no build (:func:`require_build`), or the
            server's shared configuration (redirection.config) is not in the image.
        ConfigError: a configuration file cannot be parsed.
    """
    require_build(publish)
    options = options or ScanOptions()
    site, app = _split(site_app)
    before = scan(image, options)
    if (shared := shared_config_unread(before.problems)) is not None:
        # NOTE: the application would be checked in the local file, which IIS does not run under shared configuration
        raise ServerImageError(f"{shared.where}: {shared.message}; check-app checks no build against it")
    publish_drive, physical = _publish(publish)
    data, shown, others = _apphost_with(image, site, app, options, physical)
    with tempfile.TemporaryDirectory(prefix="iisbitness-check-app-") as tmp:
        config = Path(tmp) / "applicationHost.config"
        config.write_bytes(data)
        drives = dict(options.drives) | publish_drive
        # NOTE: Given.BUILD_ON_SERVER: coverage tells to run check-app again, not scan (Given.again)
        after = scan(image, replace(options, drives=drives, config=config, given=Given.BUILD_ON_SERVER))
    label = f"{site}{app}".lower()
    pools = {p.name for p in after.pools if any(a.lower() == label for a in p.applications)}
    known = {f.key for f in before.findings}

    def about_app(f: Finding) -> bool:
        if f.site is not None:
            return f"{f.site}{f.application or ''}".lower() == label
        return f.pool in pools and f.key not in known

    findings = tuple(f for f in after.findings if about_app(f))
    workers = {p.worker_arch for p in after.pools if p.name in pools}

    def in_its_worker(f: Finding) -> bool:
        """A finding of the server (it had it before the build) about the whole worker that serves the application:
        of its pool, or of every IIS worker of its architecture (no pool), with no site of its own."""
        return f.site is None and f.key in known and (
            f.pool in pools or (f.pool is None and f.process == "w3wp.exe" and f.process_arch in workers))

    # NOTE: kept apart, never dropped in silence: a worker that cannot start answers 503 whatever the build (audit7 F17)
    server_findings = tuple(f for f in after.findings if in_its_worker(f))
    coverage = tuple(c for c in after.coverage if c.application.lower() == label)  # NOTE: the application checked
    # NOTE: another application's problems are not the check's: those of its <application> element (a folder on a
    # drive not mapped) and those its coverage counts (a file in its folder that could not be read)
    elsewhere = {r for c in after.coverage if c.application.lower() != label for r in c.reasons}
    elsewhere -= {r for c in coverage for r in c.reasons}

    def about_others(p: Problem) -> bool:
        return ((p.file == str(config) and p.line in others) or f"{p.file}: {p.message}" in elsewhere)

    problems = tuple(p for p in after.problems if not about_others(p))
    folder = shown_path(publish)
    return _named_as(replace(after, findings=_renamed(findings, physical, folder), server_findings=server_findings,
                             application_pools=tuple(p.name for p in after.pools if p.name in pools),
                             coverage=_renamed_coverage(coverage, physical, folder),
                             problems=_renamed_problems(replace(after, problems=problems), physical, folder),
                             server=replace(after.server, image=f"{folder} as {site}{app} of {image}",
                                            config_file=shown)), str(config), shown)


def _named_as(report: Report, temporary: str, shown: str) -> Report:
    """``report`` with the temporary applicationHost.config (``temporary``, gone once the check ends) named as the
    server's own file (``shown``) in findings, problems and coverage: the lines are the same, one attribute aside."""
    def source(s: ConfigSource | None) -> ConfigSource | None:
        return replace(s, file=shown) if s is not None and s.file == temporary else s

    # NOTE: texts name it too: a lock or an AppHostOnly declaration "at <file>:<line>" (the build's web.config refused
    # for a section the server declares so), the ISAPI and CGI Restrictions entry of isapi-not-allowed's cause, and
    # coverage reasons quote such messages
    def named(text: str) -> str:
        return text.replace(temporary, shown)

    def finding(f: Finding) -> Finding:
        return replace(f, config=source(f.config), symptom=named(f.symptom), cause=named(f.cause),
                       fixes=tuple(replace(x, summary=named(x.summary), note=named(x.note) if x.note else x.note)
                                   for x in f.fixes))

    return replace(report, findings=tuple(finding(f) for f in report.findings),
                   server_findings=tuple(finding(f) for f in report.server_findings),
                   problems=tuple(replace(p, file=shown if p.file == temporary else p.file, message=named(p.message))
                                  for p in report.problems),
                   coverage=tuple(replace(c, config=source(c.config), reasons=tuple(named(r) for r in c.reasons),
                                          refused=named(c.refused))
                                  for c in report.coverage))

