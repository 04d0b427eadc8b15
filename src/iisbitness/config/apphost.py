"""Read an IIS 7+ server: applicationHost.config (via redirection.config) and web.config files.

Produces a :class:`iisbitness.model.Server` with pools (inheritance from
``applicationPoolDefaults``), sites, applications, virtual directories, global modules, and for
every application the merged handlers, ISAPI filters and aspNetCore element (see
:mod:`iisbitness.config.merge`). Problems in individual files become
:class:`iisbitness.model.Problem` entries; only an unreadable applicationHost.config raises.

Sources: IIS settings schema (lextm/iis_schema), iis-docs "Introduction to ApplicationHost.config",
"configurationRedirection", "Understanding Sites, Applications, and Virtual Directories".
"""

from __future__ import annotations

import ntpath
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from iisbitness.arch import Arch
from iisbitness.config.kind import require_apphost
from iisbitness.config.locks import SectionLocks, section_elements
from iisbitness.config.merge import (
    Breach,
    Contribution,
    Entry,
    applicable,
    collection_breaches,
    contributions,
    merge_collection,
    sections_named,
    split_location_path,
)
from iisbitness.config.schema_keys import COLLECTIONS, KeyedCollection, declared, repeated_entries
from iisbitness.config.xml import attr, child, children, line_of, local_name, not_well_formed, parse_file
from iisbitness.config.xml import parse_bool as _bool
from iisbitness.errors import ConfigError, ServerImageError
from iisbitness.image.paths import expand, normalize, process_environment
from iisbitness.image.server_image import ServerImage
from iisbitness.model.iis7 import (
    Application,
    AppPool,
    AspNetCore,
    AssemblyName,
    CompressionScheme,
    GlobalModule,
    Handler,
    IsapiCgiRestriction,
    IsapiFilter,
    ManagedType,
    ModuleEntry,
    PipelineMode,
    PoolElement,
    RestrictionEntry,
    Server,
    Site,
    VirtualDirectory,
    WebConfigEffect,
)
from iisbitness.model.source import ConfigSource, DuplicateEntry, Problem

CONFIG_DIR = "C:\\Windows\\System32\\inetsrv\\config"
APPHOST = CONFIG_DIR + "\\applicationHost.config"
REDIRECTION = CONFIG_DIR + "\\redirection.config"
WOW64_APPHOST = "C:\\Windows\\SysWOW64\\inetsrv\\config\\applicationHost.config"
"""Where a 32-bit editor's save of applicationHost.config lands (facts E4); IIS never reads it."""

SYSTEM_WEB = "system.web"
"""The ASP.NET section group: read from web.config files for the managed types it names (httpModules,
httpHandlers, compilation/assemblies); kept apart from system.webServer when merging."""

MAX_WEBCONFIG_DIRS = 4000
"""Folders walked per virtual directory when looking for web.config files."""
MAX_WEBCONFIG_DEPTH = 8
"""Folder depth walked below a virtual directory."""
_SKIP_DIRS = {"bin", "app_data", "node_modules", ".git", "obj", "packages", "aspnet_client", "app_code"}

Progress = Callable[[str], None]


def pool_elements(add: etree._Element) -> tuple[PoolElement, ...]:
    """A pool's ``<add>`` and every element below it, attributes as stored, in document order (comments left out)."""
    out: list[PoolElement] = []

    def walk(el: etree._Element, path: tuple[str, ...]) -> None:
        out.append(PoolElement(path, tuple((str(k), str(v)) for k, v in el.attrib.items())))
        for c in el:
            if name := local_name(c):
                walk(c, path + (name,))

    walk(add, ())
    return tuple(out)


def find_apphost(image: ServerImage) -> tuple[Path, str, list[Problem], str]:
    """Locate applicationHost.config, following redirection.config's shared configuration.

    Returns:
        ``(file, shown_as, problems, shared)``: ``shared`` is the folder redirection.config's enabled
        ``configurationRedirection`` names (``\\\\fs01\\IISConfig``) when the file found is that shared one, which
        every server whose redirection.config names it runs ("Configuration Redirection <configurationRedirection>",
        learn.microsoft.com/iis/configuration); "" otherwise.

    Raises:
        ServerImageError: no applicationHost.config in the image.
    """
    problems: list[Problem] = []
    stray = image.locate(WOW64_APPHOST).host_path
    if stray is not None and stray.is_file():
        problems.append(Problem(image.display(stray), None, "IIS never reads this file: a 32-bit program (a 32-bit "
                                "editor, 32-bit PowerShell) that opens System32\\inetsrv\\config\\applicationHost.config "
                                "is redirected here by WOW64, so its edits never took effect; make them in the "
                                "System32 file with a 64-bit program (facts E4). Not analysed"))
    redir = image.locate(REDIRECTION)
    if redir.host_path is not None and redir.host_path.is_file():
        shown = image.display(redir.host_path)
        try:
            root = parse_file(redir.host_path, shown)
            cr = child(root, "configurationRedirection")
            if cr is not None and _bool(cr.get("enabled")):
                target = normalize(attr(cr, "path"))
                shared = image.locate(ntpath.join(target, "applicationHost.config"))
                if shared.host_path is not None:
                    return shared.host_path, image.display(shared.host_path), problems, target
                # NOTE: IIS reads the shared file, never the local one (facts: configurationRedirection): what the local
                # file says is no verdict on the server; unread, so that coverage counts it against every application
                problems.append(Problem(shown, line_of(cr), f"shared configuration at '{target}' is not in the image "
                                        f"({shared.problem or 'not found'}); the local applicationHost.config was "
                                        "read instead, which IIS does not use while redirection is enabled",
                                        unread=True, remedy=shared.remedy))
        except ConfigError as e:
            problems.append(Problem(e.path, e.line, e.message))
    found = image.locate(APPHOST)
    if found.problem is not None:
        raise ServerImageError(f"{image.root}: Windows/System32/inetsrv/config/applicationHost.config {found.problem}; "
                               "copy the file into the image, or name it with --config")
    metabase = image.locate("C:\\Windows\\System32\\inetsrv\\MetaBase.xml")
    if found.host_path is None and metabase.problem is not None:
        raise ServerImageError(f"{image.root}: no applicationHost.config, and Windows/System32/inetsrv/MetaBase.xml "
                               f"{metabase.problem}; copy the file into the image, or name it with --config")
    if found.host_path is None or not found.host_path.is_file():
        raise ServerImageError(
            f"{image.root}: no Windows/System32/inetsrv/config/applicationHost.config (nor IIS 6 MetaBase.xml) "
            "in this server image; give the folder that stands for C:\\ or name the file with --config")
    return found.host_path, image.display(found.host_path), problems, ""


POOL_NAME_REFUSED = '\\/"|<>:*?[]+=;,@&'
"""The characters IIS refuses in an application pool name: the ``applicationPoolName`` validator that IIS_schema.xml
(lextm/iis_schema) sets on ``applicationPools/add/@name`` and ``application/@applicationPool``, which "fails on these
characters: |<>&\\ / [] +=;:,?* @ \"" (iis-docs "Introduction to ApplicationHost.config", ApplicationPoolName
validator; an older copy of that page lists only ``|<>&\\"``), the same set as Microsoft.Web.Administration's
``ApplicationPoolCollection.InvalidApplicationPoolNameCharacters`` (learn.microsoft.com)."""


def is_redirection(file: str) -> bool:
    """Whether ``file`` (as a :class:`Problem` names it) is ``inetsrv\\config\\redirection.config``: a problem of it
    that is ``unread`` is shared configuration :func:`find_apphost` could not follow (``configurationRedirection``
    enabled, the target not in the image), so the applicationHost.config read is not the one IIS runs
    ("Configuration Redirection <configurationRedirection>", learn.microsoft.com/iis/configuration; facts S25d)."""
    return file.replace("\\", "/").lower().endswith("inetsrv/config/redirection.config")


def shared_config_unread(problems: Sequence[Problem]) -> Problem | None:
    """The problem saying redirection.config's shared configuration was not read (the applicationHost.config read
    is then the local one, which IIS does not run: "Configuration Redirection <configurationRedirection>",
    learn.microsoft.com/iis/configuration), or None. ``problems``: the scan's, any order."""
    return next((p for p in problems if p.unread and is_redirection(p.file)), None)


def config_refused(problems: Sequence[Problem], server: Server) -> Problem | None:
    """The first problem saying IIS refuses part of the server's own configuration file (``server.config_file``, as
    problems name it: applicationHost.config with a pool name IIS's schema validation rejects, an ``<application>``
    without ``path``, a pool defined twice; :attr:`iisbitness.model.source.Problem.refused`), or None. IIS fails
    reading that section, so nothing runs as the file configures it (iis-docs "Introduction to
    ApplicationHost.config", Attribute Validation; for a pool defined twice KB 942055, HRESULT 0x800700b7). A problem that is some application's
    :attr:`Application.refused` (a duplicate entry at a ``<location path>``: HTTP 500.19 for the requests at or below
    that path only, KB 942055) is not one: those applications are not checked, the rest of the server runs as
    written; nor is one at a folder of one application (:attr:`Problem.scope`): that application is partly checked."""
    scoped = {a.refused for s in server.sites for a in s.applications if a.refused is not None}
    return next((p for p in problems if p.refused and p.file == server.config_file and p not in scoped
                 and not p.scope), None)


def refused_pool_name(name: str | None, required: bool = True) -> str | None:
    """Why IIS's schema validation refuses ``name`` as an application pool name, or None.

    ``"holds '/' ':', which IIS refuses in a pool name"`` for characters of :data:`POOL_NAME_REFUSED`;
    ``"is missing, which IIS requires"`` for no name at all where one
    is ``required`` (a pool's own ``name`` is ``required="true"`` in IIS_schema.xml; an application's
    ``applicationPool`` is not: its pool is then the default).
    """
    if name is None:
        return "is missing, which IIS requires" if required else None
    bad = "".join(dict.fromkeys(c for c in name if c in POOL_NAME_REFUSED))
    quoted = " ".join(f"'{c}'" for c in bad)
    return f"holds {quoted}, which IIS refuses in a pool name" if bad else None


@dataclass
class _Reader:
    image: ServerImage
    apphost_path: Path
    """applicationHost.config (the image's, or ``--config``) as a host path; ``apphost_file`` names it in problems."""
    apphost_file: str
    root: etree._Element
    os_arch: Arch
    progress: Progress
    problems: list[Problem] = field(default_factory=list)
    _web: dict[tuple[str, str], list[Contribution]] = field(default_factory=dict)
    _site_names: dict[str, str] = field(default_factory=dict)
    _locks: SectionLocks | None = None
    _refusing: list[tuple[tuple[str, ...], Problem]] = field(default_factory=list)
    """Each web.config IIS refuses (:meth:`_read_webconfig`), as read: its config path (the folder's URL segments,
    site first) and the first problem for which IIS refuses it: every request at or below that URL gets HTTP 500.19."""
    _web_refused: dict[tuple[str, str], list[tuple[tuple[str, ...], Problem]]] = field(default_factory=dict)
    """:attr:`_refusing` per virtual directory walked, keyed as :attr:`_web`."""
    _scopes: dict[int, tuple[list[Contribution], list[Contribution], list[Contribution]]] = field(default_factory=dict)
    """:meth:`_scope` of each application of the site being read (by ``id``), as :meth:`_inherited_refusals` found it
    and :meth:`_with_effects` takes it when no file was refused."""
    _apphost_refusing: list[tuple[tuple[str, ...], bool, Problem]] = field(default_factory=list)
    """Each duplicate entry of applicationHost.config at a ``<location path>`` that IIS answers with HTTP 500.19 for
    the applications at or below that path (:meth:`apphost_breaches`): its config path, whether child applications
    inherit it (``inheritInChildApplications``) and its problem, for :meth:`_with_effects`."""
    _apphost_breached: dict[etree._Element, Problem] = field(default_factory=dict)
    """The elements of applicationHost.config :meth:`apphost_breaches` said, and their problems: what
    :meth:`_inherited_refusals` finds again with a site's web.config files in place is not said twice."""
    pools_by_name: dict[str, AppPool] = field(default_factory=dict)
    """The pools read (:meth:`pools`), by lower-case name: the pool of the application whose folders are walked decides
    which Framework machine.config is a web.config's parent (:meth:`_declared_again`)."""
    _walking_pool: AppPool | None = None
    """The pool of the application whose virtual directories :meth:`_web_contribs` walks now."""
    _machine_sections: dict[str, tuple[frozenset[str], str]] = field(default_factory=dict)
    """:meth:`_machine_declarations` by machine.config path."""
    _file_of: dict[Contribution, str] = field(default_factory=dict)
    """The web.config (as problems name it) each contribution of :attr:`_web` was read from (a section kept in a
    ``configSource`` file names that file, not the web.config that IIS refuses with it)."""

    def src(self, el: etree._Element) -> ConfigSource:
        return ConfigSource(self.apphost_file, line_of(el))

    def section_file(self, config: Path, shown: str) -> Callable[[etree._Element], tuple[etree._Element, str] | None]:
        """Reads the sections of ``config`` (named ``shown``) kept in another file (:data:`merge.SectionFile`).

        ``configSource`` names a file relative to the configuration file's folder whose root element is the
        section (.NET configuration: learn.microsoft.com/dotnet/api/system.configuration.sectioninformation
        .configsource). For IIS sections no Microsoft page says how IIS treats it: in a web.config it is a common
        layout (URL Rewrite's ``<rewrite><rules configSource="...">``, ``<httpErrors configSource="...">``:
        github.com/Taritsyn/WebMarkupMin/issues/1), so it is read as .NET reads it (UNSOURCED for IIS). In
        applicationHost.config a Microsoft engineer answered that only ``childSource`` (for sites) is supported
        there, not ``configSource`` (github.com/dotnet/aspnetcore/issues/4151): IIS may refuse such a section
        instead. The scan still reads it (what it names is checked) and, for applicationHost.config, says so in a
        problem (not ``unread``). A file that is absent, climbs out of the folder, is not XML or holds another
        element leaves that section unread: a problem (``unread``, so its application counts as partly checked)
        naming ``shown`` and the section's line.
        """
        def read(el: etree._Element) -> tuple[etree._Element, str] | None:
            value = attr(el, "configSource").strip()
            parts = [s for s in value.replace("\\", "/").split("/") if s not in ("", ".")]
            why = ""
            found: Path | None = config.parent
            if not parts or ntpath.isabs(value) or ":" in value or ".." in parts:
                why = "IIS takes only a file name relative to this file's folder, at or below it"
            for part in parts if not why else ():
                found = self.image.find_child(found, part) if found is not None else None
            if not why and (found is None or not found.is_file()):
                why = "the file is not in the image"
            elif not why and found is not None and (escape := self.image.escapes(found)) is not None:
                why = escape
            section: etree._Element | None = None
            if not why and found is not None:
                try:
                    section = parse_file(found, self.image.display(found))
                except ConfigError as e:
                    why = e.message + (f" (line {e.line})" if e.line else "")
            if section is not None and local_name(section) != local_name(el):
                why, section = f"its root element is <{local_name(section)}>, not <{local_name(el)}>", None
            if section is None or found is None:
                self.problems.append(Problem(shown, line_of(el), f"<{local_name(el)} configSource=\"{value}\">: {why}; "
                                             "the section was not read", unread=True))
                return None
            if config == self.apphost_path:
                self.problems.append(Problem(shown, line_of(el), f"<{local_name(el)} configSource=\"{value}\">: read "
                                             f"from {self.image.display(found)}; IIS may not honour configSource in "
                                             "applicationHost.config (only childSource, for sites: "
                                             "github.com/dotnet/aspnetcore/issues/4151) and refuse the section "
                                             "instead: check on the server that IIS reads it"))
            return section, self.image.display(found)
        return read

    def note_kept_elsewhere(self, section: etree._Element, what: str) -> None:
        """A problem (``unread``) when a system.applicationHost ``section`` names a ``configSource`` file: the scan
        reads these sections only from applicationHost.config itself, so ``what`` they hold there is not checked
        (an empty ``<sites configSource="sites.config"/>`` gave a clean report over no site at all). Whether IIS
        honours configSource there is not documented (see :meth:`section_file`)."""
        value = section.get("configSource")
        if value is not None:
            self.problems.append(Problem(
                self.apphost_file, line_of(section), f"<{local_name(section)} configSource=\"{value}\">: the {what} "
                f"kept in {value} are not read (this version reads configSource files only for system.webServer and "
                "system.web sections): none of them was checked; put the section back into applicationHost.config "
                "in the copy to scan it", unread=True))

    # -- pools ---------------------------------------------------------------------------
    def pools(self) -> list[AppPool]:
        section = child(self.root, "system.applicationHost", "applicationPools")
        if section is None:
            return []
        self.note_kept_elsewhere(section, "application pools")
        defaults = child(section, "applicationPoolDefaults")
        out: list[AppPool] = []
        first: dict[str, int | None] = {}
        for el in children(section, "add"):
            name = attr(el, "name")
            # NOTE: without case, as IIS compares a key attribute whose schema does not set caseSensitive (its default
            # is false: IAppHostPropertySchema::IsCaseSensitive) and as the scan looks pools up everywhere else
            key = name.lower() if name is not None else None
            if key is not None and key in first:
                # NOTE: IIS refuses a second entry of one key: "Cannot add duplicate collection entry of type 'add'
                # with unique key attribute 'name'" (KB 942055, HRESULT 0x800700b7: "a duplicate entry ... The error
                # message itself points out the location"; the message's wording: Microsoft's WSUS troubleshooting
                # page, "Cannot add duplicate collection entry of type 'mimeMap'"; the KB 949349 once named here is in no
                # stored corpus: the message names KB 942055); one pool listed twice, at two architectures, misled
                self.problems.append(Problem(
                    self.apphost_file, line_of(el), f"application pool '{name}' is defined again (first at line "
                    f"{first[key]}): IIS reports \"Cannot add duplicate collection entry of type 'add' with unique key "
                    f"attribute 'name' set to '{name}'\" for this file (0x800700B7, KB 942055); this entry is left out",
                    refused=True))
                continue
            if key is not None:
                first[key] = line_of(el)
            self._check_pool_name(el, "name", "an application pool's name" if el.get("name") is None
                                  else f"application pool name '{el.get('name')}'")
            out.append(self._pool(el, defaults, declared=True))
        return out

    def _check_pool_name(self, el: etree._Element, attribute: str, what: str) -> None:
        """A problem (``refused``) when ``el``'s pool name ``attribute`` is one IIS's schema validation
        refuses (:func:`refused_pool_name`; ``what`` names it for the message). IIS validates attributes "when parsing
        the XML to get a section from the file" and a failed validation "fails the desired operation (getting the
        section ...)" (iis-docs "Introduction to ApplicationHost.config", Attribute Validation; IIS_schema.xml's
        header): the section holding it is not read, so the scan's verdicts rest on a configuration IIS does not
        run (:meth:`_refuse`)."""
        value = el.get(attribute)
        why = refused_pool_name(value, required=attribute == "name")
        if why is None:
            return
        self._refuse("applicationPools" if attribute == "name" else "sites", line_of(el), f"{what} {why}", value)

    def _refuse(self, section: str, line: int | None, what: str, pool: str | None = None) -> None:
        """A problem (``refused``, not ``unread``: the scan read it) of applicationHost.config: ``what`` (at ``line``)
        makes IIS fail reading its ``system.applicationHost/<section>``, so no verdict of the scan is about a server
        IIS runs (:meth:`iisbitness.report.Report.refusals` keeps the report from reading clean); ``pool``: the pool
        name it is about, if any (:attr:`Problem.pool`)."""
        self.problems.append(Problem(
            self.apphost_file, line, f"{what}: IIS fails reading the system.applicationHost/{section} section of "
            "this file, so it does not run the server as configured here; every application was checked as "
            "written, not as IIS would run it", refused=True, pool=pool))

    def _pool(self, el: etree._Element, defaults: etree._Element | None, declared: bool) -> AppPool:
        def pick(name: str) -> tuple[str | None, str]:
            if el is not None and el.get(name) is not None:
                return el.get(name), "pool"
            if defaults is not None and defaults.get(name) is not None:
                return defaults.get(name), "applicationPoolDefaults"
            return None, "schema default"

        e32, e32_from = pick("enable32BitAppOnWin64")
        e32b = _bool(e32)
        if e32 is not None and e32b is None:
            self.problems.append(Problem(self.apphost_file, line_of(el),
                                         f"enable32BitAppOnWin64={e32!r} is not a boolean; taken as false"))
        emu, _ = pick("enableEmulationOnWinArm64")
        rt, _ = pick("managedRuntimeVersion")
        if rt is None:
            rt = self.schema_runtime_default()
        mode, _ = pick("managedPipelineMode")
        auto, _ = pick("autoStart")
        return AppPool(
            name=attr(el, "name"),
            enable_32bit_app_on_win64=bool(e32b),
            enable_32bit_from=e32_from,
            enable_emulation_on_arm64=_bool(emu) is not False,
            managed_runtime_version=(rt or "").strip(),
            pipeline_mode=PipelineMode.CLASSIC if (mode or "").strip().lower() in ("classic", "1") else PipelineMode.INTEGRATED,
            source=self.src(el),
            declared=declared,
            elements=pool_elements(el) if declared else (),
            auto_start=_bool(auto) is not False,
        )

    def undeclared_pool(self, name: str, where: ConfigSource) -> AppPool:
        section = child(self.root, "system.applicationHost", "applicationPools")
        defaults = child(section, "applicationPoolDefaults") if section is not None else None
        fake = etree.Element("add", name=name)
        pool = self._pool(fake, defaults, declared=False)
        return AppPool(pool.name, pool.enable_32bit_app_on_win64, pool.enable_32bit_from,
                       pool.enable_emulation_on_arm64, pool.managed_runtime_version, pool.pipeline_mode,
                       where, declared=False, auto_start=pool.auto_start)

    def schema_runtime_default(self) -> str:
        """Schema default of managedRuntimeVersion: ``v2.0`` on IIS 7.0/7.5, ``""`` from IIS 8.0
        (facts A9). INFERENCE: a pool named "Classic .NET AppPool" is only created by IIS 7.x
        setup (IIS 8+ creates ".NET v4.5 Classic"), so its presence marks an IIS 7.x config."""
        section = child(self.root, "system.applicationHost", "applicationPools")
        names = {attr(e, "name").lower() for e in children(section, "add")} if section is not None else set()
        return "v2.0" if "classic .net apppool" in names else ""

    # -- global sections -------------------------------------------------------------------
    def apphost_contribs(self) -> list[Contribution]:
        return contributions(self.root, self.apphost_file, (), 0, "system.webServer",
                             section_file=self.section_file(self.apphost_path, self.apphost_file))

    def isapi_cgi_restriction(self, contribs: list[Contribution]) -> IsapiCgiRestriction | None:
        """The ISAPI and CGI Restrictions list at server level (the section is AppHostOnly)."""
        sections = sections_named(applicable(contribs, ()), "security", "isapiCgiRestriction")
        if not sections:
            return None
        not_listed = False
        for el, _ in sections:
            value = _bool(el.get("notListedIsapisAllowed"))
            if value is not None:
                not_listed = value
        entries = tuple(RestrictionEntry(e.get("path"), _bool(e.get("allowed")) is True, e.source)
                        for e in merge_collection(sections, "add", ("path",)))
        last, file = sections[-1]
        return IsapiCgiRestriction(entries, not_listed, ConfigSource(file, line_of(last)))

    @property
    def locks(self) -> SectionLocks:
        """Which sections web.config files may set where (overrideModeDefault, location overrideMode)."""
        if self._locks is None:
            self._locks = SectionLocks.read(self.root, self.apphost_file)
        return self._locks

    def compression_schemes(self, contribs: list[Contribution]) -> list[CompressionScheme]:
        """``httpCompression/scheme`` at server level, merged by name (the section is AppHostOnly; its schema keys
        the collection on ``name``)."""
        entries = merge_collection(sections_named(applicable(contribs, ()), "httpCompression"), "scheme", ("name",))
        return [CompressionScheme(e.get("name"), e.get("dll"), e.source) for e in entries]

    def module_entries(self, contribs: list[Contribution], names: set[str]) -> list[ModuleEntry]:
        """Every ``system.webServer/modules`` ``<add>`` naming a global module (``names``, lower-case: the entries a
        preCondition fix sets or names) in effect at the level that declares it (:class:`ModuleEntry`):
        applicationHost.config's (``contribs``: its top level, ``<location path="">`` and each ``<location path>``
        naming a site), then the web.config files' read for the sites (a file IIS refuses, a locked section in it
        included, is left out whole: :meth:`_refusals`). An ``<add>`` that a ``<remove>`` or ``<clear/>`` of its own level takes out again is
        not in effect there: appcmd does not find it at that path. Whether it is depends on that level alone (what
        is inherited comes first), so each level is merged once: time linear in the sections. Read after
        :meth:`sites` (the web.config files)."""
        written: dict[tuple[str, ...], str] = {}
        for loc in children(self.root, "location"):
            written.setdefault(split_location_path(attr(loc, "path")), attr(loc, "path").strip().strip("/\\"))
        web = [c for found in self._web.values() for c in found]
        levels: dict[tuple[str, ...], list[Contribution]] = {}
        in_web: dict[etree._Element, bool] = {}
        for c in contribs + web:
            for section, _ in sections_named([c], "modules"):
                levels.setdefault(c.segments, []).append(c)
                in_web[section] = c.file_depth > 0
        out: list[ModuleEntry] = []
        for segments, here in levels.items():
            if segments and segments[0] not in self._site_names:
                continue  # NOTE: a <location path> naming no site applies nowhere (a problem says so)
            here.sort(key=lambda c: (c.file_depth, c.order))
            sections = sections_named(here, "modules")
            if not any(attr(el, "name").strip().lower() in names for section, _ in sections for el in children(section)):
                continue  # NOTE: most web.config files list managed modules only: nothing to merge
            for e in merge_collection(sections, "add", ("name",), case_sensitive=True):
                if e.get("name").strip().lower() not in names:
                    continue
                parent = e.element.getparent()
                web_config = parent is not None and in_web.get(parent, False)
                out.append(ModuleEntry(e.get("name"), e.get("preCondition"), e.get("type"),
                                       "/".join(segments) if web_config else written.get(segments, "/".join(segments)),
                                       e.source, web_config=web_config))
        out.sort(key=lambda e: e.web_config)  # NOTE: applicationHost.config's first, each group in level order
        return out

    def global_modules(self, contribs: list[Contribution]) -> list[GlobalModule]:
        entries = merge_collection(sections_named(applicable(contribs, ()), "globalModules"), "add", ("name",),
                                   case_sensitive=True)
        return [GlobalModule(e.get("name"), e.get("image"), e.get("preCondition"), e.source) for e in entries]

    # -- sites -----------------------------------------------------------------------------
    def sites(self, contribs: list[Contribution]) -> list[Site]:
        section = child(self.root, "system.applicationHost", "sites")
        if section is None:
            return []
        self.note_kept_elsewhere(section, "sites and their applications")
        app_defaults = child(section, "applicationDefaults")
        default_pool = attr(app_defaults, "applicationPool", "DefaultAppPool") if app_defaults is not None else "DefaultAppPool"
        self._check_default_pool(app_defaults, "<sites>")
        sub_dir = _sub_dir_default(section, True)
        site_defaults_el = child(section, "siteDefaults")
        auto_default = _bool(site_defaults_el.get("serverAutoStart")) if site_defaults_el is not None else None
        out: list[Site] = []
        first: dict[tuple[str, str], int | None] = {}
        for s in children(section, "site"):
            name = attr(s, "name")
            if self._repeated_key(s, first, "site", ("name", "id"), "<sites>", "sites"):
                continue
            self._site_names[name.lower()] = name
            self.progress(f"reading site {name}")
            site_defaults = child(s, "applicationDefaults")
            site_pool = attr(site_defaults, "applicationPool", default_pool) if site_defaults is not None else default_pool
            self._check_default_pool(site_defaults, f"site '{name}'")
            site_sub_dir = _sub_dir_default(s, sub_dir)
            paths: dict[tuple[str, str], int | None] = {}
            apps = [app for a in children(s, "application")
                    if not self._repeated_key(a, paths, "application", ("path",), f"site '{name}'", "sites")
                    and (app := self._application(name, a, site_pool, site_sub_dir)) is not None]
            index = _SiteApps(name, apps)
            self._inherited_refusals(apps, index, contribs)
            apps = [self._with_effects(a, apps, index, contribs) for a in apps]
            auto = _bool(s.get("serverAutoStart"))
            out.append(Site(name, attr(s, "id"), tuple(apps), self.src(s),
                            server_auto_start=(auto if auto is not None else auto_default) is not False))
        return out

    def _repeated_key(self, el: etree._Element, first: dict[tuple[str, str], int | None], tag: str,
                      keys: Sequence[str], whose: str, section: str) -> bool:
        """Whether ``el`` (a ``<tag>`` of ``whose``: ``site 'Default Web Site'``) repeats the value of one of its
        collection's unique keys ``keys`` (each ``isUniqueKey`` on its own in IIS_schema.xml, lextm/iis_schema:
        ``system.applicationHost/sites``' ``site`` has two, ``name`` and ``id``; ``application`` and
        ``virtualDirectory`` one, ``path``; none ``caseSensitive``, so compared without case, ``id`` as a number)
        that an earlier sibling holds (``first``: each key's value seen -> its line, filled here). If so, a problem
        (``refused``): IIS refuses a second entry of one key, "Cannot add duplicate collection entry of type
        '<tag>' with unique key attribute '<key>'" (0x800700B7, KB 942055), and fails reading the whole
        ``system.applicationHost/<section>`` section (:meth:`_refuse`); the entry is left out of the scan (as a pool
        defined twice, :meth:`pools`), so a second site or application does not stand in for the first."""
        held = [(key, raw, str(int(value)) if key == "id" and value.isdigit() else value) for key in keys
                if (raw := el.get(key)) is not None and (value := raw.strip().lower())]
        for key, raw, value in held:
            at = first.get((key, value), -1)
            if at != -1:
                self._refuse(section, line_of(el), f"<{tag} {key}=\"{raw}\"> of {whose} repeats the {key} of the "
                             f"{tag} at line {at}: IIS reports \"Cannot add duplicate collection entry of type '{tag}' "
                             f"with unique key attribute '{key}' set to '{raw}'\" (0x800700B7, KB 942055); this entry "
                             "is left out")
                return True
        for key, _, value in held:
            first.setdefault((key, value), line_of(el))
        return False

    def _check_default_pool(self, defaults: etree._Element | None, whose: str) -> None:
        """:meth:`_check_pool_name` for an ``<applicationDefaults applicationPool>`` (the schema gives it the same
        ``applicationPoolName`` validator as an application's own), ``whose`` naming where it is."""
        if defaults is not None and defaults.get("applicationPool") is not None:
            self._check_pool_name(defaults, "applicationPool", f"the applicationDefaults of {whose}: applicationPool "
                                                               f"'{defaults.get('applicationPool')}'")

    def _application(self, site: str, el: etree._Element, default_pool: str, sub_dir: bool) -> Application | None:
        """The application ``el``, or None (a problem said, ``refused``) for one without ``path``: the attribute is
        ``required="true"`` in IIS_schema.xml (lextm/iis_schema, ``system.applicationHost/sites``), and IIS fails
        reading the section that lacks it (see :meth:`_check_pool_name`)."""
        if not attr(el, "path").strip():
            # NOTE: "/" taken for a missing path made a second root application out of an entry IIS refuses
            self._refuse("sites", line_of(el), f"<application> of site '{site}' has no path, which IIS requires (this "
                         "application is left out)")
            return None
        if el.get("applicationPool") is not None:
            self._check_pool_name(el, "applicationPool", f"application {site}{_url(attr(el, 'path'))}'s "
                                                         f"applicationPool '{el.get('applicationPool')}'")
        vdir_default = _sub_dir_default(el, sub_dir)
        seen: dict[tuple[str, str], int | None] = {}
        vdirs = tuple(
            VirtualDirectory(_url(attr(v, "path", "/")), attr(v, "physicalPath"), self.src(v),
                             _bool(v.get("allowSubDirConfig")) is not False if v.get("allowSubDirConfig") is not None
                             else vdir_default)
            for v in children(el, "virtualDirectory")
            if not self._repeated_key(v, seen, "virtualDirectory", ("path",),
                                      f"application {site}{_url(attr(el, 'path'))}", "sites")
        )
        return Application(site, _url(attr(el, "path", "/")), attr(el, "applicationPool", default_pool) or default_pool,
                           vdirs, self.src(el))

    # -- web.config and merged effects -----------------------------------------------------------
    def _scope(self, app: Application, site_apps: list[Application], index: _SiteApps, apphost: list[Contribution],
               ) -> tuple[list[Contribution], list[Contribution], list[Contribution]]:
        """``(asp, sitewide, allc)`` of ``app``: the ``system.web`` contributions that reach it, the
        ``system.webServer`` ones of applicationHost.config (``apphost``) and of the web.config files read for it and
        its ancestors, and those of them that reach it (its own configuration's, in merge order once
        :func:`applicable` sorts them)."""
        app_seg = index.site_seg + split_location_path(app.path)
        web: list[Contribution] = []
        for other in index.ancestors(app_seg) + [app]:
            # Config paths follow URLs (facts B3): a parent application's web.config reaches this one,
            # except its folders that a deeper application's URL covers (that application serves them).
            web.extend(c for c in self._web_contribs(other, site_apps)
                       if other is app or index.owner(c.segments[: c.file_depth - 1]) is other)
        # <location inheritInChildApplications="false"> stops at the application that owns its path; ISAPI filters
        # are read at the site's path for every worker that serves the site, so they see the site's level whole.
        asp = [c for c in web if local_name(c.element) == SYSTEM_WEB and (c.inherit or index.owner(c.segments) is app)]
        web = [c for c in web if local_name(c.element) != SYSTEM_WEB]
        sitewide = apphost + web
        return asp, sitewide, [c for c in sitewide if c.inherit or index.owner(c.segments) in (app, None)]

    def _with_effects(self, app: Application, site_apps: list[Application], index: _SiteApps,
                      apphost: list[Contribution]) -> Application:
        site_seg = index.site_seg
        app_seg = site_seg + split_location_path(app.path)
        asp, sitewide, allc = (self._scopes.pop(id(app)) if id(app) in self._scopes
                               else self._scope(app, site_apps, index, apphost))
        targets = [app_seg]
        for c in allc:
            # deeper configuration (a location or a sub-folder web.config) that belongs to this app
            if (len(c.segments) > len(app_seg) and c.segments[: len(app_seg)] == app_seg and c.segments not in targets
                    and index.owner(c.segments) is app):
                targets.append(c.segments)
        effects = []
        for t in targets:
            effects.append(self._effect(t, allc, site_seg, app_seg, sitewide, asp))
        # NOTE: a web.config IIS refuses at its root or at a URL above it (as configuration follows URLs: the one the
        # application owning that URL serves), the nearest the site's root first, answers every request of the
        # application with 500.19
        # applicationHost.config's duplicates at a <location path> at or above the application first (IIS reads that
        # file before any web.config)
        refusing = [(at, p) for at, inherit, p in self._apphost_refusing
                    if at == app_seg[:len(at)] and (inherit or at == app_seg)]
        refusing += [(at, p) for other in index.ancestors(app_seg) + [app] for at, p in self._refused_in(other)
                     if at == app_seg[:len(at)] and index.owner(at) is other]
        refused = min(((len(at), p) for at, p in refusing), key=lambda r: r[0], default=(0, None))[1]
        return Application(app.site, app.path, app.pool, app.vdirs, app.source, tuple(effects), refused)

    def _inherited_refusals(self, apps: list[Application], index: _SiteApps, apphost: list[Contribution]) -> None:
        """Take out of the analysis each web.config of the site (``apps``, ``index``) that IIS refuses for what it
        inherits (:meth:`_refusals` says what IIS refuses in a file alone), as :meth:`_read_webconfig` leaves out a
        file IIS refuses: its contributions leave :attr:`_web`, a problem (``refused``, ``unread``) says each breach
        by file and line, and its config path joins :attr:`_web_refused` (every request at or below it gets HTTP
        500.19, so :meth:`_with_effects` says the applications there are refused):

        - a directive of a keyed collection (:data:`_WEB_KEYED`: every one IIS's schema declares, URL Rewrite's
          included, ``isapiFilters`` at the site's root only) that the collection
          IIS merges at its config path refuses (:func:`~iisbitness.config.merge.collection_breaches`): an ``<add>``
          of an entry it inherits or holds already, with no ``<remove>``/``<clear/>`` first (0x800700B7), a
          ``<remove>``/``<clear/>`` of an entry a parent locked (``lockItem``), a directive a parent's
          ``lockElements`` locks (0x80070021);
        - a section a parent web.config locks for its path: a ``<location path="..." overrideMode="Deny">`` (or
          ``allowOverride="false"``) holding it, which locks it "from this point downwards" in a web.config as in
          applicationHost.config (iis-docs "How to Use Locking in IIS 7.0 Configuration", Task 1; 0x80070021, KB
          942055). A lock in a ``<location inheritInChildApplications="false">`` is taken to bind child
          applications too: no Microsoft page says whether it does, and the problem says so.

        Each file is judged once, in the configuration of the application that owns its folder, with every file read
        for the site in place (what IIS reads); its breaches are said in document order. applicationHost.config's
        ``<location path>`` of an application below a web.config read for it is judged there too: both apply to that
        path, so an entry both add without a ``<remove>``/``<clear/>`` between is a duplicate (0x800700B7, KB 942055)
        whichever IIS merges first (INFERENCE: no Microsoft page gives the order of an applicationHost.config location
        and a web.config above its path; the message takes the web.config's entry as the first); one that
        :meth:`apphost_breaches`, reading applicationHost.config alone, cannot see; it is said as that method says
        its own (:meth:`_location_refusal`: the applications at or below the path refused, or the one holding the
        folder partly checked), once. Reads the web.config files
        of ``apps`` (:meth:`_web_contribs`), which :meth:`_with_effects` then finds read."""
        found: dict[etree._Element, tuple[Contribution, str, DuplicateEntry | None]] = {}
        keyed: dict[etree._Element, dict[str, etree._Element]] = {}
        self._scopes.clear()
        for app in apps:
            scope = self._scopes[id(app)] = self._scope(app, apps, index, apphost)
            _, sitewide, allc = scope
            owned = [c for c in allc if c.file_depth and index.owner(c.segments) is app]
            read_web = [c for c in allc if c.file_depth]
            # NOTE: applicationHost.config's <location path> of this application below a web.config read for it: an
            # entry both add is a duplicate whichever IIS merges first (docstring: the order is an inference)
            located = [c for c in allc if not c.file_depth and c.segments[:1] == index.site_seg
                       and index.owner(c.segments) is app
                       and any(w.file_depth and c.segments[:len(w.segments)] == w.segments for w in read_web)]
            if not owned and not located:
                continue
            for at in dict.fromkeys(c.segments for c in owned + located):
                here = [(c, _keyed_of(c.element, keyed)) for c in applicable(allc, at)]
                for keyed_collection in _WEB_KEYED:
                    name = keyed_collection.path
                    if name == "isapiFilters" and at != index.site_seg:
                        # NOTE: IIS reads the filters at the site's level only: "You can configure the
                        # <isapiFilters> element at the server level in the ApplicationHost.config file or at the
                        # site level in the appropriate Web.config file" (iis-docs system.webServer/isapiFilters;
                        # facts B7 does not say it)
                        continue
                    held = [(el, c) for c, of in here if (el := of.get(name)) is not None]
                    if not any(c.file_depth for _, c in held):
                        continue  # NOTE: applicationHost.config's alone: apphost_breaches judged them (at any path)
                    for b in _breaches(keyed_collection, [(el, c.file, c.file_depth) for el, c in held]):
                        c = held[b.section][1]
                        if not c.file_depth and b.element not in self._apphost_breached:
                            self._apphost_breached[b.element] = self._location_refusal(
                                b, c, name, _application_paths(self.root))
                            self.problems.append(self._apphost_breached[b.element])
                        if c.file_depth and b.element not in found:
                            found[b.element] = c, (f"HTTP 500.19 ({b.code}, KB 942055) for every request at or below "
                                                   f"{_here(c, self._file_of.get(c, c.file))}: {b.what}"), b.duplicate
            for lock in (c for c in sitewide if c.file_depth and (why := _denied(c)) is not None):
                for c in owned:
                    if not (c.file_depth > lock.file_depth and c.segments[:len(lock.segments)] == lock.segments):
                        continue
                    sections, loc = self.locks.sections_below, lock.element.getparent()
                    denied = {n for p, el in section_elements(lock.element)
                              for n, _ in sections(f"system.webServer/{p}", el)}
                    for p, el in section_elements(c.element):
                        for section, at_el in sections(f"system.webServer/{p}", el):
                            if section in denied and at_el not in found:
                                assumed = ("" if lock.inherit or index.owner(c.segments) is index.owner(lock.segments)
                                           else "; that location says inheritInChildApplications=\"false\": that its "
                                           "lock still binds this child application is ASSUMED (no Microsoft page "
                                           "says)")
                                found[at_el] = c, (f"HTTP 500.19 (0x80070021) for every request at or below "
                                                   f"{_here(c, self._file_of.get(c, c.file))}: this web.config sets {section}, which is locked "
                                                   f"there ({why} at {lock.file}:{line_of(loc) if loc is not None else None}{assumed})"), None
        if not found:
            return
        self._scopes.clear()  # NOTE: the files refused leave them: each application's is read again
        refused: dict[str, list[tuple[Contribution, Problem]]] = {}
        for el, (c, what, duplicate) in sorted(found.items(), key=lambda f: (f[1][0].file, line_of(f[0]) or 0)):
            refused.setdefault(self._file_of.get(c, c.file), []).append((c, Problem(
                c.file, line_of(el), f"{what}; IIS refuses the file there, so nothing configured there runs: this "
                "web.config is left out", unread=True, refused=True, duplicate=duplicate)))
        for problems in refused.values():
            self.problems.extend(p for _, p in problems)
        for vdir, read in self._web.items():
            gone = {f for c in read if (f := self._file_of.get(c)) is not None} & refused.keys()
            if gone:
                self._web[vdir] = [c for c in read if self._file_of.get(c) not in gone]
                self._web_refused.setdefault(vdir, []).extend((c.segments, p) for f in sorted(gone)
                                                              for c, p in refused[f])

    def _effect(self, target: tuple[str, ...], allc: list[Contribution], site_seg: tuple[str, ...],
                app_seg: tuple[str, ...], sitewide: list[Contribution], asp: list[Contribution]) -> WebConfigEffect:
        here = applicable(allc, target)
        handlers = [
            Handler(e.get("name"), e.get("path"), e.get("verb"), e.get("modules"), e.get("scriptProcessor"),
                    e.get("type"), e.get("preCondition"), e.source)
            for e in merge_collection(sections_named(here, "handlers"), "add", ("name",),
                                      prepend=True, case_sensitive=True)
        ]
        at_site = applicable(sitewide, site_seg)
        # NOTE: a set of the elements themselves keeps lxml's proxies alive, so identity holds below
        site_level = {el for section, _ in sections_named([c for c in at_site if c.segments], "isapiFilters")
                      for el in children(section)}
        filters = [
            IsapiFilter(e.get("name"), e.get("path"), e.get("preCondition"), e.source,
                        site=self._site_names.get(site_seg[0]) if e.element in site_level else None)
            for e in merge_collection(sections_named(at_site, "isapiFilters"), "filter", ("name",), case_sensitive=True)
        ]
        anc: AspNetCore | None = None
        for c in here:
            for el, file in sections_named([c], "aspNetCore"):
                prev = anc
                anc = AspNetCore(
                    process_path=attr(el, "processPath", prev.process_path if prev else ""),
                    hosting_model=attr(el, "hostingModel", prev.hosting_model if prev else ""),
                    arguments=attr(el, "arguments", prev.arguments if prev else ""),
                    source=ConfigSource(file, line_of(el)),
                    inherited=len(c.segments) < len(app_seg),
                    environment=_environment(el, prev.environment if prev else ()),
                )
        files = tuple(dict.fromkeys(c.file for c in here if c.file != self.apphost_file))
        listed = sections_named(here, "modules")
        merged = merge_collection(listed, "add", ("name",), case_sensitive=True)
        managed = self._managed(merged, handlers, applicable(asp, target))
        modules = tuple(attr(e.element, "name").lower() for e in merged)
        return WebConfigEffect("MACHINE/WEBROOT/APPHOST/" + "/".join(target), tuple(handlers), tuple(filters), anc, files,
                               tuple(managed), modules if listed else None)

    def _managed(self, modules: list[Entry], handlers: list[Handler], asp: list[Contribution]) -> list[ManagedType]:
        """The managed types and assemblies the merged configuration names that carry an assembly name
        (:class:`ManagedType`): managed modules (``system.webServer/modules`` entries with a ``type``) and handlers
        with a ``type``; ``system.web`` ``httpModules`` (key ``name``), ``httpHandlers`` (key ``verb`` + ``path``) and
        ``compilation/assemblies`` (key ``assembly``) from web.config files. Sources: IIS configuration reference
        "Modules <modules>", "Handlers <handlers>"; ASP.NET configuration schema "httpModules", "httpHandlers",
        "assemblies Element for compilation". ``modules``: the merged ``system.webServer/modules`` entries."""
        found: list[tuple[str, str, str, str, ConfigSource]] = []
        for e in modules:
            found.append(("system.webServer/modules", e.get("name"), e.get("type"), e.get("preCondition"), e.source))
        found.extend(("system.webServer/handlers", h.name, h.type, h.precondition, h.source) for h in handlers)
        for e in merge_collection(sections_named(asp, "httpModules"), "add", ("name",)):
            found.append(("system.web/httpModules", e.get("name"), e.get("type"), "", e.source))
        for e in merge_collection(sections_named(asp, "httpHandlers"), "add", ("verb", "path")):
            found.append(("system.web/httpHandlers", f"{e.get('verb')} {e.get('path')}", e.get("type"), "", e.source))
        out = [ManagedType(section, name, type_, asm, precondition, source)
               for section, name, type_, precondition, source in found
               if (asm := AssemblyName.of_type(type_)) is not None]
        for e in merge_collection(sections_named(asp, "compilation", "assemblies"), "add", ("assembly",)):
            asm = AssemblyName.parse(e.get("assembly"))
            if asm is not None:
                out.append(ManagedType("system.web/compilation/assemblies", e.get("assembly"), "", asm, "", e.source))
        return out

    def _web_contribs(self, app: Application, site_apps: list[Application]) -> list[Contribution]:
        out: list[Contribution] = []
        site_seg = (app.site.lower(),)
        self._walking_pool = self.pools_by_name.get(app.pool.lower())
        for vdir in app.vdirs:
            key = _vdir_key(app, vdir)
            if key not in self._web:
                before = len(self._refusing)
                self._web[key] = self._walk_vdir(vdir, site_seg + split_location_path(key[1]))
                self._web_refused[key] = self._refusing[before:]
            out.extend(self._web[key])
        return out

    def _refused_in(self, app: Application) -> list[tuple[tuple[str, ...], Problem]]:
        """The web.config files IIS refuses that :meth:`_web_contribs` met walking ``app``'s virtual directories (read
        already), each with its config path."""
        return [r for vdir in app.vdirs for r in self._web_refused.get(_vdir_key(app, vdir), ())]

    def _walk_vdir(self, vdir: VirtualDirectory, base: tuple[str, ...]) -> list[Contribution]:
        env = process_environment(self.os_arch, Arch.X64 if self.os_arch.is_64bit else Arch.X86)
        expanded, unresolved = expand(vdir.physical_path, env)
        found = self.image.locate(expanded)
        if unresolved and found.host_path is None:
            # NOTE: IIS leaves an unknown %NAME% as it is (ExpandEnvironmentStrings): a folder named so literally is
            # the one it reads (issue 26); otherwise the variable is most likely one the server sets
            self.problems.append(Problem(vdir.source.file, vdir.source.line,
                                         f"physicalPath '{vdir.physical_path}': %{unresolved[0]}% is not known; web.config files not read"))
            return []
        if found.problem:
            self.problems.append(Problem(vdir.source.file, vdir.source.line,
                                         f"physicalPath '{vdir.physical_path}': {found.problem}; web.config files not read"))
            return []
        if found.host_path is None or not found.host_path.is_dir():
            return []
        out: list[Contribution] = []
        seen = 0
        stack: list[tuple[Path, tuple[str, ...]]] = [(found.host_path, ())]
        walked = {self.image.folders.real(found.host_path)}
        while stack and seen < MAX_WEBCONFIG_DIRS:
            folder, rel = stack.pop()
            seen += 1
            wc = self.image.find_child(folder, "web.config")
            escapes = self.image.escapes(wc) if wc is not None else None
            if wc is not None and escapes is not None:
                self.problems.append(Problem(self.image.display(wc), None, f"{escapes}; this web.config is not analysed",
                                             unread=True))
            elif wc is not None and not wc.is_file() and not wc.is_dir():
                self.problems.append(Problem(self.image.display(wc), None, "not a regular file (a FIFO, a device or a "
                                             "link to nothing); this web.config is not analysed", unread=True))
            elif wc is not None and wc.is_file():
                if rel and not vdir.allow_sub_dir_config:
                    self.problems.append(Problem(self.image.display(wc), None,
                                                 "IIS never reads this web.config: allowSubDirConfig is false for the "
                                                 f"virtual directory at {vdir.source}; it is not analysed"))
                else:
                    out.extend(self._read_webconfig(wc, base + rel))
            if len(rel) >= MAX_WEBCONFIG_DEPTH:
                continue
            listing = self.image.listing(folder)  # NOTE: the door's listing, as every other reader's
            if listing.error is not None:
                self.problems.append(Problem(self.image.display(folder), None,
                                             listing.error.replace("cannot list", "cannot list folder"), unread=True,
                                             search_gap=True))
                continue
            for name in sorted(listing.folders, reverse=True):
                if name.lower() in _SKIP_DIRS:
                    continue
                child = folder / name
                if name in listing.links:
                    # NOTE: IIS reads a web.config below a junction or folder link; one that leaves an offline image
                    # (or loops) is not followed, and a folder already walked is not walked again
                    real = self.image.folders.real(child)
                    if real is None or real in walked or self.image.escapes(child) is not None:
                        continue
                    walked.add(real)
                stack.append((child, rel + (name.lower(),)))
        if stack:
            self.problems.append(Problem(self.image.display(found.host_path), None,
                                         f"more than {MAX_WEBCONFIG_DIRS} folders: web.config search stopped there",
                                         unread=True, search_gap=True))
        return out

    def _read_webconfig(self, path: Path, segments: tuple[str, ...]) -> list[Contribution]:
        shown = self.image.display(path)
        try:
            root = parse_file(path, shown)
        except ConfigError as e:
            refused = not_well_formed(e)
            # NOTE: IIS cannot read it either: every request at or below the folder (whose configuration path reads
            # it: facts B3) gets 500.19, 0x8007000D (KB 942055)
            said = (f"; IIS answers HTTP 500.19 (0x8007000D, KB 942055) for every request at or below {_folder(shown)}, "
                    "so nothing configured there runs" if refused else "")
            problem = Problem(e.path, e.line, e.message + said + "; this web.config is left out", unread=True,
                              refused=refused)
            self.problems.append(problem)
            if refused:
                self._refusing.append((segments, problem))
            return []
        refusals = self._refusals(root, shown, segments)
        if refusals:
            # NOTE: IIS answers every request at or below the folder with the first of them (500.19): nothing of the
            # file runs, so none of it is analysed, as for a file that is not well-formed (a finding from a later
            # line of a refused file described a server IIS does not run)
            self.problems.extend(refusals)
            self._refusing.append((segments, refusals[0]))
            return []
        self.unknown_repeats(root, shown)
        # NOTE: system.web after system.webServer, in order numbers of their own: _with_effects splits them apart
        load = self.section_file(path, shown)
        found = (contributions(root, shown, segments, len(segments) + 1, "system.webServer", section_file=load)
                 + contributions(root, shown, segments, len(segments) + 1, SYSTEM_WEB, section_file=load))
        for c in found:
            self._file_of[c] = shown
        return found

    def _refusals(self, root: etree._Element, shown: str, segments: tuple[str, ...]) -> list[Problem]:
        """The problems (``refused``, ``unread``), in document order, that make IIS refuse the web.config ``root``
        (named ``shown``, read for config path ``segments``), each ending "this web.config is left out":

        - a section IIS allows only in applicationHost.config (:meth:`SectionLocks.apphost_only`: ``globalModules``,
          ``fastCgi``, ``isapiCgiRestriction``, any ``system.applicationHost`` section), at the file's own level or
          in a ``<location>``: ``allowDefinition="AppHostOnly"`` (KB 942055);
        - a section applicationHost.config locks at the path it is set for (:meth:`SectionLocks.locked`:
          ``overrideModeDefault="Deny"`` in ``<configSections>``, a ``<location overrideMode="Deny">`` or
          ``allowOverride="false"``), a section in a declared section group at any depth
          (``security/authentication/windowsAuthentication``): HTTP 500.19 (0x80070021, "the specified portion of the
          IIS configuration file is locked at a higher configuration level", KB 942055; iis-docs "How to Use Locking in
          IIS 7.0 Configuration": a request of the application then shows the error, "the configuration in the
          web.config file is not valid");
        - an element a collection the scan reads does not take (:data:`_WEB_COLLECTIONS`: ``<add>`` in
          ``<isapiFilters>``, a misspelt ``<ad>``): HTTP 500.19 "Unrecognized element" (0x8007000D, "a malformed or
          unidentified XML element", KB 942055). Not for a section the server locks at that path: IIS shows the
          lock (0x80070021) for it, one error, not two.

        IIS answers HTTP 500.19 for every request at or below the file's folder (a web.config is read for the URLs at
        and below its folder's, facts B3), so nothing configured in it runs: the caller leaves the whole file out,
        as one that is not well-formed XML."""
        out: list[Problem] = []
        for group, rel, path, el in _sections(root):
            name = f"{local_name(group)}/{path}"
            where = self.locks.apphost_only(name)
            if where is not None:
                out.append(Problem(
                    shown, line_of(el), f"HTTP 500.19 for every request at or below {_folder(shown)}: this web.config "
                    f"sets {name}, which IIS allows only in applicationHost.config (allowDefinition=\"AppHostOnly\", "
                    f"{where}); IIS refuses the file (KB 942055), so nothing configured there runs: this "
                    "web.config is left out", unread=True, refused=True))
                continue
            locked = [(section, at, why) for section, at in self.locks.sections_below(name, el)
                      if (why := self.locks.locked(section, segments + rel)) is not None]
            if locked:
                out.extend(Problem(
                    shown, line_of(at), f"HTTP 500.19 (0x80070021) for every request at or below {_folder(shown)}: this "
                    f"web.config sets {section}, which is locked there ({why}); IIS refuses the file (KB 942055), so "
                    "nothing configured there runs: this web.config is left out", unread=True, refused=True)
                    for section, at, why in locked)
            elif found := _unrecognized(group, path, el, _WEB_COLLECTIONS):
                out.extend(Problem(
                    shown, line, f"HTTP 500.19 (0x8007000D, KB 942055) for every request at or below {_folder(shown)}: "
                    f"{what}: IIS refuses the file (\"Unrecognized element\"), so nothing configured there runs: "
                    "this web.config is left out", unread=True, refused=True) for line, what in found)
        out.extend(Problem(
            shown, line_of(again), f"HTTP 500.19 for every request at or below {_folder(shown)}: "
            f"{_repeated_what(again, first, name, where)}; IIS refuses the file (KB 942055), so nothing configured "
            "there runs: this web.config is left out", unread=True, refused=True)
            for again, first, name, where in _repeated_sections(root))
        out.extend(self._declared_again(root, shown))
        return sorted(out, key=lambda p: p.line or 0)

    def _declared_again(self, root: etree._Element, shown: str) -> list[Problem]:
        """The problem (``refused``, ``unread``), if any, of a section the web.config ``root`` (named ``shown``)
        declares in its ``<configSections>`` that its parent declares already: the machine.config of the .NET Framework
        its application's pool loads (:attr:`_walking_pool`: ``managedRuntimeVersion`` v4.0 or v2.0, in the
        ``Framework64`` folder for a 64-bit worker, ``Framework`` for a 32-bit one: :meth:`_machine_declarations`), or
        the file itself earlier. The most common case: an ASP.NET 3.5 web.config, which declares the
        ``system.web.extensions`` sections itself, in a v4.0 pool, whose machine.config declares them: IIS Web Core
        answers HTTP 500.19 "There is a duplicate 'system.web.extensions/scripting/scriptResourceHandler' section
        defined", its error page saying "this error is because you are running a .NET Framework 3.5-based application
        in .NET Framework 4" (the page as users paste it: github.com/maartenba/MvcSiteMapProvider/issues/429,
        0x8007000D there; github.com/h5bp/server-configs/issues/26). The first such section only (IIS names one).
        Other parents (the Framework's root web.config, a parent web.config) are not read for this."""
        pool = self._walking_pool
        if pool is None or pool.managed_runtime_version[:2] not in ("v2", "v4"):
            return []
        here = _section_declarations(root)
        if not here:
            return []
        parent, where = self._machine_declarations(pool)
        seen: set[str] = set()
        for name, el in here:
            said = where if name in parent else "this file" if name in seen else None
            seen.add(name)
            if said is not None:
                return [Problem(
                    shown, line_of(el), f"HTTP 500.19 for every request at or below {_folder(shown)} in application "
                    f"pool '{pool.name}' ({pool.managed_runtime_version}): this web.config's <configSections> declares "
                    f"{name}, which {said} declares already: IIS reports \"There is a duplicate '{name}' section "
                    "defined\" (the error of an ASP.NET 3.5 web.config in a .NET Framework 4 pool); IIS refuses the "
                    "file, so nothing configured there runs: this web.config is left out (a v2.0 pool, or the "
                    "declarations taken out of <configSections>, would take it)", unread=True, refused=True)]
        return []

    def _machine_declarations(self, pool: AppPool) -> tuple[frozenset[str], str]:
        """The sections (full names, ``system.web.extensions/scripting/scriptResourceHandler``) the machine.config of
        ``pool``'s Framework declares, and that file as a problem names it: ``C:\\Windows\\Microsoft.NET\\
        Framework64\\v4.0.30319\\Config\\machine.config`` for a 64-bit worker of a v4.0 pool (``Framework`` for a
        32-bit worker, ``v2.0.50727`` for v2.0), read from the image. Not in the image: for v4.0, the
        ``system.web.extensions`` sections (:data:`_NET4_EXTENSIONS`), assumed as .NET Framework 4's own machine.config
        declares them (the reason IIS's error page gives, :meth:`_declared_again`), said so; for v2.0, none."""
        bits64 = self.os_arch.is_64bit and not pool.enable_32bit_app_on_win64
        version = "v4.0.30319" if pool.managed_runtime_version.startswith("v4") else "v2.0.50727"
        path = f"C:\\Windows\\Microsoft.NET\\Framework{'64' if bits64 else ''}\\{version}\\Config\\machine.config"
        got = self._machine_sections.get(path)
        if got is not None:
            return got
        found = self.image.locate(path)
        got = None
        if found.host_path is not None:
            try:
                got = (frozenset(n for n, _ in _section_declarations(parse_file(found.host_path, path))), path)
            except ConfigError:
                got = None
        if got is None:
            assumed = _NET4_EXTENSIONS if version.startswith("v4") else frozenset()
            said = f"{path} (not in the image: taken to be .NET Framework 4's own, which declares the system.web.extensions sections)"
            got = (assumed, said)
        self._machine_sections[path] = got
        return got

    def unknown_repeats(self, root: etree._Element, shown: str) -> None:
        """A problem (``unread``: the application holding the file, or for applicationHost.config the server, is
        partly checked) for each entry of a ``system.webServer`` section whose schema the scan does not know (a
        module's own: WebDAV, ARR's ``proxy``, ``iisnode``...; :func:`~iisbitness.config.schema_keys.declared`) that
        repeats an earlier one of its list attribute for attribute (:func:`~iisbitness.config.schema_keys.repeated_entries`),
        in the configuration file ``root`` (named ``shown``): IIS refuses such a file (500.19, 0x800700B7) unless that
        module's schema gives the list no key or ``allowDuplicates``, which the scan cannot tell. Nothing is said of
        the other entries of such sections (their keys unknown), nor of duplicates across files there."""
        for group, _, path, el in _sections(root):
            if local_name(group) != "system.webServer" or declared(path):
                continue
            for first, again in repeated_entries(el):
                shown_attrs = " ".join(f'{k!s}="{v!s}"' for k, v in again.attrib.items())
                self.problems.append(Problem(
                    shown, line_of(again), f"<{local_name(again)} {shown_attrs}> in system.webServer/{path} repeats "
                    f"the entry at line {line_of(first)} attribute for attribute (values equal without case: IIS's "
                    "default for a key, which a module's schema may make case-sensitive); this section's schema is a "
                    "module's "
                    "own, not IIS_schema.xml's, so whether IIS refuses the file for it (\"Cannot add duplicate "
                    "collection entry\", HTTP 500.19, 0x800700B7, unless the module's schema gives the list no key) was "
                    "not checked: what the file configures was read as written", unread=True))

    def apphost_refusals(self) -> None:
        """A problem (``refused``, not ``unread``: the scan reads the rest of the file) for each element of a
        collection the scan reads from applicationHost.config's ``system.webServer`` (:data:`_WEB_COLLECTIONS`,
        ``globalModules`` and ``httpCompression``, whose schemes it reads), at its own level or in a ``<location>``, that the collection does not take, in document
        order. IIS validates the file against its schema and fails reading that section ("Unrecognized element",
        0x8007000D, KB 942055): ``globalModules``, which every worker process reads when it starts (facts C7),
        keeps every application pool from serving a request (HTTP 503; INFERENCE: no Microsoft page names the
        event); any other section answers HTTP 500.19 to every request whose configuration path reads it (every
        request of the server at its own level). The scan's verdicts rest on the file as written (as for a pool
        name IIS refuses, :meth:`_refuse`)."""
        for group, rel, path, el in _sections(self.root):
            found = _unrecognized(group, path, el, _APPHOST_COLLECTIONS)
            if not found:
                continue
            if path == "globalModules":
                effect = ("IIS fails reading the section a worker process reads when it starts (facts C7), so no "
                          "application pool serves a request (HTTP 503)")
            else:
                loc = group.getparent() if rel else None
                where = f"at or below {attr(loc, 'path')}" if loc is not None else "of every site"
                effect = f"IIS answers HTTP 500.19 to every request {where}"
            self.problems.extend(Problem(
                self.apphost_file, line, f"{what}: IIS refuses this file there (\"Unrecognized element\", "
                f"0x8007000D, KB 942055): {effect}; every application was checked as written, not as IIS "
                "would run it", refused=True) for line, what in found)
        for again, first, name, where in _repeated_sections(self.root):
            kind, _, section = name.partition("/")
            what = _repeated_what(again, first, name, where)
            loc = next((a for a in again.iterancestors() if local_name(a) == "location"), None)
            if kind == "system.applicationHost":
                self._refuse(section, line_of(again), what)
                continue
            if section == "globalModules":
                effect = ("IIS fails reading the section a worker process reads when it starts (facts C7), so no "
                          "application pool serves a request (HTTP 503)")
            elif loc is not None:
                effect = f"IIS answers HTTP 500.19 to every request at or below {attr(loc, 'path')}"
            else:
                effect = "IIS answers HTTP 500.19 to every request of every site"
            self.problems.append(Problem(
                self.apphost_file, line_of(again), f"{what}, KB 942055: {effect}; every application was checked as "
                "written (the first section read), not as IIS would run it", refused=True))


    def apphost_breaches(self, contribs: list[Contribution]) -> None:
        """A problem (``refused``, not ``unread``: the scan reads the rest of the file) for each entry
        applicationHost.config's own ``system.webServer`` (``contribs``) adds twice to a collection the scan reads
        or judges (:data:`_APPHOST_KEYED`: every keyed collection IIS's schema declares; ``globalModules`` and
        ``httpCompression``'s at the server's level only), at one level or at a ``<location path>``
        below one that holds it already, with no ``<remove>``/``<clear/>`` between
        (:func:`~iisbitness.config.merge.collection_breaches`): HTTP 500.19, 0x800700B7 (KB 942055, whose own example
        is a duplicate in ApplicationHost.config). IIS fails that section for every configuration
        path that reads it: every site's requests at the file's own level or ``<location path="">`` (``globalModules``:
        every worker process, which reads it when it starts, facts C7: HTTP 503, INFERENCE as in
        :meth:`apphost_refusals`), else those at or below the location's path. Said once, for the server, not per
        application. At a ``<location path>`` at or above an application (inherited, or the application's own path
        under ``inheritInChildApplications="false"``), the applications there are IIS's refusal's alone
        (:attr:`_apphost_refusing`: :attr:`Application.refused`, not checked, as for a web.config IIS refuses) and the
        rest of the server is checked; anywhere else the scan's verdicts rest on the file as written. That IIS fails
        only the configuration paths that read the location's section is KB 942055's 500.19 applied to configuration
        paths (facts B3); that a child application under ``inheritInChildApplications="false"`` is spared (it does not
        read that section) is INFERENCE from the ``<location>`` reference: no Microsoft page states either case."""
        found: dict[etree._Element, Problem] = {}
        labels = _application_paths(self.root)
        keyed: dict[etree._Element, dict[str, etree._Element]] = {}
        for at in dict.fromkeys(c.segments for c in sorted(contribs, key=lambda c: len(c.segments))):
            here = [(c, _keyed_of(c.element, keyed)) for c in applicable(contribs, at)]
            for keyed_collection in _APPHOST_KEYED:
                name = keyed_collection.path
                if keyed_collection.server_only and at:
                    continue  # NOTE: read at the server's level alone (schema_keys.KeyedCollection.server_only)
                held = [(el, c) for c, of in here if (el := of.get(name)) is not None]
                if not held:
                    continue
                for b in _breaches(keyed_collection, [(el, c.file, 0) for el, c in held]):
                    c = held[b.section][1]
                    if b.element in found or c.file != self.apphost_file:
                        continue
                    found[b.element] = self._location_refusal(b, c, name, labels)
        self._apphost_breached.update(found)
        self.problems.extend(sorted(found.values(), key=lambda p: p.line or 0))

    def _location_refusal(self, b: Breach, c: Contribution, name: str, labels: Mapping[tuple[str, ...], str]) -> Problem:
        """The problem of breach ``b`` in applicationHost.config's contribution ``c`` (collection ``name``), as
        :meth:`apphost_breaches` says it (``labels``: :func:`_application_paths`). At a ``<location path>`` at or above
        an application, the applications there are refused (:attr:`_apphost_refusing`); at a folder of one
        application, the problem's :attr:`Problem.scope` makes that one partly checked."""
        apps = list(labels)
        loc = c.element.getparent()
        scoped = name != "globalModules" and bool(c.segments) and any(
            p[:len(c.segments)] == c.segments and (c.inherit or p == c.segments) for p in apps)
        checked = "every application was checked as written, not as IIS would run it"
        if name == "globalModules":
            effect = ("IIS fails reading the section a worker process reads when it starts (facts C7), so "
                      "no application pool serves a request (HTTP 503)")
        elif not c.segments:
            effect = "IIS answers HTTP 500.19 to every request of every site"
        else:
            effect = (f"IIS answers HTTP 500.19 to every request at or below "
                      f"{attr(loc, 'path') if loc is not None else '/'.join(c.segments)}")
            if scoped:
                checked = ("the applications there were not checked (none of their loads happens); the "
                           "rest of the server was")
        # NOTE: a folder of one application (no application at or below it): that application's requests
        # there fail, the rest of it and of the server run as written
        owner = None if scoped or name == "globalModules" or not c.segments else max(
            (p for p in apps if c.segments[:len(p)] == p), key=len, default=None)
        if owner is not None:
            checked = (f"{labels[owner]} is partly checked (what it configures there was read as written, "
                       "which IIS does not run); the rest of the server was checked")
        problem = Problem(c.file, line_of(b.element), f"{b.what} ({b.code}, KB 942055): {effect}; {checked}",
                          refused=True, duplicate=b.duplicate, scope=c.segments if owner is not None else ())
        if scoped:
            self._apphost_refusing.append((c.segments, c.inherit, problem))
        return problem


def _keyed_of(group: etree._Element, memo: dict[etree._Element, dict[str, etree._Element]]) -> dict[str, etree._Element]:
    """The keyed collections (:data:`_APPHOST_KEYED`) the ``system.webServer`` element ``group`` holds: path below it
    (``defaultDocument/files``) -> the collection element, the first of its name at each step (as
    :func:`~iisbitness.config.merge.sections_named` finds it). Memoized in ``memo`` for one pass: the group's children
    are listed once, not once per collection and configuration path."""
    got = memo.get(group)
    if got is not None:
        return got
    listed: dict[etree._Element, dict[str, etree._Element]] = {}

    def first(node: etree._Element, name: str) -> etree._Element | None:
        names = listed.get(node)
        if names is None:
            names = listed[node] = {}
            for el in children(node):
                names.setdefault(local_name(el), el)
        return names.get(name)

    got = memo[group] = {}
    for path, steps in _KEYED_STEPS:
        node: etree._Element | None = group
        for name in steps:
            node = first(node, name) if node is not None else None
        if node is not None:
            got[path] = node
    return got


def _application_paths(root: etree._Element) -> dict[tuple[str, ...], str]:
    """The config path (site first, lower case: as :attr:`Contribution.segments`) of each ``<application>`` of
    applicationHost.config ``root`` that has a path, in document order, with its label (``Site/app``, as
    :attr:`Application.label`)."""
    section = child(root, "system.applicationHost", "sites")
    if section is None:
        return {}
    return {(attr(s, "name").lower(), *split_location_path(attr(a, "path"))): f"{attr(s, 'name')}{attr(a, 'path')}"
            for s in children(section, "site") for a in children(s, "application") if attr(a, "path").strip()}


def _sections(root: etree._Element) -> Iterator[tuple[etree._Element, tuple[str, ...], str, etree._Element]]:
    """Each section element of the ``system.webServer`` and ``system.applicationHost`` groups of the configuration
    file ``root``, at its own level or in a ``<location>``, in document order: ``(group, the location's path
    segments (``()`` at the file's own level), the section's path below the group, the section)``. The one walk of a
    file's sections for what IIS refuses in it (:meth:`_Reader._refusals`, :meth:`_Reader.apphost_refusals`)."""
    for el in children(root):
        if local_name(el) == "location":
            rel = split_location_path(attr(el, "path"))
            groups = [(g, rel) for g in children(el) if local_name(g) in _GROUPS]
        else:
            groups = [(el, ())] if local_name(el) in _GROUPS else []
        for group, at in groups:
            for path, section in section_elements(group):
                yield group, at, path, section


_SECTION_GROUPS = frozenset({"security", "security/authentication", "rewrite", "tracing", "management"})
"""The elements below ``system.webServer`` that are section groups, not sections (IIS_schema.xml, rewrite_schema.xml
name their sections ``system.webServer/security/authentication/anonymousAuthentication``, ``.../rewrite/rules``...):
written twice with different sections in each, they are legal; :func:`_repeated_sections` looks inside them."""


def _repeated_sections(root: etree._Element) -> list[tuple[etree._Element, etree._Element, str, str]]:
    """Each section element of the configuration file ``root`` that is written a second time at one configuration path
    of the file, in document order: ``(the second, the first, the section's name as IIS gives it
    (``system.webServer/handlers``), where: "this file's own level" or ``<location path="...">``)``.

    One path: the file's own level (every ``<system.webServer>``/``<system.applicationHost>`` directly under
    ``<configuration>``), or the ``<location>`` elements of one ``path`` (compared as config paths: case and slashes
    aside) with the same ``overrideMode``, ``allowOverride`` and ``inheritInChildApplications`` (locations differing in
    them, and a ``<location path=".">`` against the file's own level, are not judged: no Microsoft source found says
    whether IIS joins them). IIS refuses the file there: "Config section 'system.webServer/modules' already defined.
    Sections must only appear once per config file. See the help topic <location> for exceptions" (HTTP 500.19,
    0x800700B7, IIS Web Core: github.com/elmah/Elmah/issues/259; in applicationHost.config, Microsoft's Azure App
    Service team: "Config section 'system.webServer/runtime' already defined" for a second ``<runtime>`` an XDT
    ``Insert`` wrote, azure.github.io/AppService 2024-03-20; KB 942055's 0x800700B7). Two ``<system.webServer>``
    elements of one path each holding the section are taken as one path (the message's "once per config file"; no
    source shows that case itself). Judged: every
    ``system.applicationHost`` section, and the ``system.webServer`` sections IIS's schema files declare
    (:func:`~iisbitness.config.schema_keys.declared`), groups (:data:`_SECTION_GROUPS`) looked into; a module's own
    section (WebDAV's group, ARR's ``proxy``) is not, its schema (section or group) unknown."""
    first: dict[tuple[object, ...], etree._Element] = {}
    out: list[tuple[etree._Element, etree._Element, str, str]] = []

    def walk(node: etree._Element, group: str, prefix: str, at: tuple[object, ...], where: str) -> None:
        web = group == "system.webServer"
        for el in children(node):
            path = f"{prefix}{local_name(el)}"
            if web and path in _SECTION_GROUPS:
                walk(el, group, f"{path}/", at, where)
                continue
            if web and not declared(path):
                continue
            seen = first.setdefault((*at, group, path), el)
            if seen is not el:
                out.append((el, seen, f"{group}/{path}", where))

    for el in children(root):
        name = local_name(el)
        if name == "location":
            loc = attr(el, "path")
            at: tuple[object, ...] = ("location", split_location_path(loc), *(
                (el.get(a) or "").strip().lower() for a in ("overrideMode", "allowOverride", "inheritInChildApplications")))
            groups, where = [g for g in children(el) if local_name(g) in _GROUPS], f'<location path="{loc}">'
        else:
            at, groups, where = ("file",), [el] if name in _GROUPS else [], "this file's own level"
        for g in groups:
            walk(g, local_name(g), "", at, where)
    return sorted(out, key=lambda r: line_of(r[0]) or 0)


_NET4_EXTENSIONS = frozenset({
    "system.web.extensions/scripting/scriptResourceHandler",
    "system.web.extensions/scripting/webServices/jsonSerialization",
    "system.web.extensions/scripting/webServices/profileService",
    "system.web.extensions/scripting/webServices/authenticationService",
    "system.web.extensions/scripting/webServices/roleService",
})
"""The sections an ASP.NET 3.5 web.config declares in ``<configSections>`` (Visual Studio 2008's template, as the
corpus's and github.com/microsoft/aspnet-docker/issues/16's web.config hold them) that .NET Framework 4's machine.config
declares already (ASSUMED where the image holds no machine.config: IIS's error page names the first for that case,
:meth:`_Reader._declared_again`)."""


def _section_declarations(root: etree._Element) -> list[tuple[str, etree._Element]]:
    """Each ``<section>`` the ``<configSections>`` of configuration file ``root`` declares, in document order, with its
    full name (its ``<sectionGroup>`` names first: ``system.web.extensions/scripting/scriptResourceHandler``)."""
    out: list[tuple[str, etree._Element]] = []

    def walk(node: etree._Element, prefix: str) -> None:
        for el in children(node):
            name = local_name(el)
            if name == "sectionGroup":
                walk(el, f"{prefix}{attr(el, 'name').strip()}/")
            elif name == "section" and attr(el, "name").strip():
                out.append((f"{prefix}{attr(el, 'name').strip()}", el))

    for cs in children(root, "configSections"):
        walk(cs, "")
    return out


def _repeated_what(again: etree._Element, first: etree._Element, name: str, where: str) -> str:
    """The words of a section written twice (:func:`_repeated_sections`), ending with IIS's error."""
    return (f"<{local_name(again)}> is written a second time at {where} (first at line {line_of(first)}): IIS reports "
            f"\"Config section '{name}' already defined. Sections must only appear once per config file\" (0x800700B7)")


def _unrecognized(group: etree._Element, path: str, section: etree._Element,
                  collections: Mapping[str, tuple[str, ...]]) -> list[tuple[int | None, str]]:
    """Each child of ``section`` (``<group>/<path>``), where it is one of the ``system.webServer`` ``collections``
    (path -> the child elements it takes), that the section does not take: (its line, what it is, in words); empty
    for any other section. ``<remove>`` and ``<clear/>`` are never said (a section whose schema may take them)."""
    takes = collections.get(path) if local_name(group) == "system.webServer" else None
    if takes is None:
        return []
    said = [f"<{t}/>" if t == "clear" else f"<{t}>" for t in takes]
    listed = f"{', '.join(said[:-1])} and {said[-1]}"
    return [(line_of(item), (f"<{local_name(item)}> in system.webServer/{path} is not an element IIS knows there (it "
                             f"takes {listed})"))
            for item in children(section) if local_name(item) not in (*takes, "remove", "clear")]


_GROUPS = ("system.webServer", "system.applicationHost")
_ITEMS = ("add", "remove", "clear")
_WEB_COLLECTIONS = {"handlers": _ITEMS, "modules": _ITEMS, "isapiFilters": ("filter", "remove", "clear")}
"""The collections the scan reads from a web.config, each with the child elements it takes (IIS_schema.xml; facts
B7)."""
_WEB_KEYED = tuple(c for c in COLLECTIONS if not c.server_only)
"""The keyed collections of a web.config whose duplicates (0x800700B7) :meth:`_Reader._inherited_refusals` says: every
one IIS's schema declares (:data:`~iisbitness.config.schema_keys.COLLECTIONS`, with its key, directives and case
sensitivity), those the scan reads and those it reads for nothing else, because IIS refuses the whole web.config over
a duplicate in any of them (KB 942055), bitness aside, and every application at or below it fails: ``staticContent``'s
``<mimeMap>`` of an extension the server maps already (``.json``, ``.woff`` on a recent IIS: Microsoft's blog "IIS7
Error: cannot add duplicate collection entry of type 'mimeMap'"), ``httpErrors``' ``<error statusCode="404">`` the
server lists already, ``security/authorization``'s ``<add accessType="Deny" users="?">`` beside an inherited Allow for
the same users (the key is ``users``, ``roles`` and ``verbs``, not ``accessType``), a URL Rewrite rule of a name a
parent's rules hold... Not those judged at the server's level alone (``globalModules``, ``httpCompression``'s:
:attr:`~iisbitness.config.schema_keys.KeyedCollection.server_only`), which a web.config may not set (AppHostOnly,
:mod:`.locks`)."""
_APPHOST_KEYED = COLLECTIONS
"""Every keyed collection of :data:`~iisbitness.config.schema_keys.COLLECTIONS`, in applicationHost.config:
:meth:`_Reader.apphost_breaches`."""
_KEYED_STEPS = tuple((c.path, tuple(c.path.split("/"))) for c in COLLECTIONS)
"""Each keyed collection's path (:data:`_APPHOST_KEYED`) with its steps, for :func:`_keyed_of`."""


def _breaches(keyed: KeyedCollection, sections: Sequence[tuple[etree._Element, str, int]]) -> list[Breach]:
    """:func:`~iisbitness.config.merge.collection_breaches` of the collection ``keyed`` (its add, remove and clear
    directives, key and case sensitivity as the schema declares them) over ``sections``."""
    return collection_breaches(sections, keyed.add, keyed.key, collection=keyed.section,
                               case_sensitive=keyed.case_sensitive, remove_tag=keyed.remove, clear_tag=keyed.clear)


_APPHOST_COLLECTIONS = {**_WEB_COLLECTIONS, "globalModules": _ITEMS,
                        "httpCompression": ("scheme", "staticTypes", "dynamicTypes")}
""":data:`_WEB_COLLECTIONS` and those the scan reads from applicationHost.config alone (facts B7): ``httpCompression``
for its scheme DLLs, whose child elements are ``<scheme>``, ``<staticTypes>`` and ``<dynamicTypes>`` ("HTTP
Compression <httpCompression>", learn.microsoft.com/iis/configuration/system.webServer/httpCompression: Child
Elements), and ``<remove>``/``<clear/>`` of its schemes, which that page does not list but IIS_schema.xml declares
(``<collection addElement="scheme" clearElement="clear" removeElement="remove">``, lextm/iis_schema; never said by
:func:`_unrecognized` in any case)."""


def _denied(c: Contribution) -> str | None:
    """How the ``<location>`` holding the section group of ``c`` locks the sections it holds
    (``<location path="child" overrideMode="Deny"> ``, or ``allowOverride="false"``, its legacy form: facts B4), or
    None when it does not (no location, ``Allow``, ``Inherit``)."""
    loc = c.element.getparent()
    if loc is None or local_name(loc) != "location":
        return None
    mode = attr(loc, "overrideMode").strip().lower()
    if mode == "deny" or (mode not in ("allow", "inherit") and _bool(loc.get("allowOverride")) is False):
        said = f'overrideMode="{attr(loc, "overrideMode")}"' if mode == "deny" else 'allowOverride="false"'
        return f'<location path="{attr(loc, "path")}" {said}>'
    return None


def _here(c: Contribution, web_config: str) -> str:
    """Where the refused directive of the web.config contribution ``c`` (read from ``web_config``, as problems name
    it) applies, for a problem of that file: the file's folder (:func:`_folder`), or its ``<location path>``."""
    loc = c.element.getparent()
    if len(c.segments) < c.file_depth or loc is None or local_name(loc) != "location":
        return _folder(web_config)
    return f'its <location path="{attr(loc, "path")}">'


def _folder(web_config: str) -> str:
    """The folder of the web.config ``web_config`` (as problems name it: ``inetpub/intranet/sub/web.config`` ->
    ``inetpub/intranet/sub``), where a refused file's HTTP 500.19 starts: named, as "this folder" read as the
    application's in a coverage line (review13 R9)."""
    cut = max(web_config.rfind("/"), web_config.rfind("\\"))
    return web_config[:cut] if cut > 0 else "this web.config's folder"


def _sub_dir_default(parent: etree._Element, inherited: bool) -> bool:
    """``virtualDirectoryDefaults/@allowSubDirConfig`` of ``parent`` (sites, site or application), else ``inherited``."""
    d = child(parent, "virtualDirectoryDefaults")
    value = _bool(d.get("allowSubDirConfig")) if d is not None else None
    return inherited if value is None else value


def _url(path: str) -> str:
    p = "/" + path.strip().replace("\\", "/").strip("/")
    return p


def _vdir_key(app: Application, vdir: VirtualDirectory) -> tuple[str, str]:
    """``(site, URL)``, lower case, of the virtual directory ``vdir`` of ``app``: the key of a folder's walk."""
    return app.site.lower(), (app.path.rstrip("/") + ("" if vdir.path == "/" else vdir.path)).lower()


def _environment(el: etree._Element, above: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """The environment variables an ``aspNetCore`` element ``el`` sets, on those of the levels ``above`` it: its
    ``<environmentVariables>`` collection (ANCM's schema, aspnetcore_schema_v2.xml: ``environmentVariable`` items keyed
    by ``name``, with ``remove`` and ``clear``), names compared case-insensitively as Windows compares them."""
    found: dict[str, tuple[str, str]] = {k.lower(): (k, v) for k, v in above}
    for coll in children(el, "environmentVariables"):
        for item in children(coll):
            tag = local_name(item)
            name = attr(item, "name")
            if tag == "clear":
                found.clear()
            elif tag == "remove" and name:
                found.pop(name.lower(), None)
            elif tag == "environmentVariable" and name:
                found.pop(name.lower(), None)
                found[name.lower()] = (name, attr(item, "value"))
    return tuple(found.values())

class _SiteApps:
    """The applications of one site by config path, for longest-prefix lookups (facts B9)."""

    def __init__(self, site: str, apps: list[Application]) -> None:
        self.site_seg = (site.lower(),)
        self.by_seg: dict[tuple[str, ...], Application] = {}
        for a in apps:
            self.by_seg.setdefault(self.site_seg + split_location_path(a.path), a)

    def owner(self, segments: tuple[str, ...]) -> Application | None:
        """The application whose path is the longest prefix of ``segments``, None outside the site."""
        for k in range(len(segments), 0, -1):
            found = self.by_seg.get(segments[:k])
            if found is not None:
                return found
        return None

    def ancestors(self, app_seg: tuple[str, ...]) -> list[Application]:
        """The applications above the one at ``app_seg``, outermost first."""
        return [a for k in range(1, len(app_seg)) if (a := self.by_seg.get(app_seg[:k])) is not None]


def read_server(image: ServerImage, os_arch: Arch, os_arch_from: str, config: Path | None = None,
                progress: Progress | None = None, shown_as: str | None = None) -> Server:
    """Read an IIS 7+ server from ``image``.

    Args:
        image: the server image (or live system).
        os_arch: OS architecture; ``os_arch_from`` says how it was decided.
        config: an explicit applicationHost.config (``--config``), else found in the image.
        progress: called with a short status line as sites are read.
        shown_as: how to name ``config`` in findings (default: the path as given).

    Raises:
        ServerImageError: no applicationHost.config.
        ConfigError: applicationHost.config is not usable XML, or is another kind of file (a
            web.config, redirection.config, XDT transform...; :mod:`iisbitness.config.kind`). The
            message names file and line.
    """
    problems: list[Problem] = []
    shared = ""
    if config is not None:
        path, shown = config, shown_as or str(config)
    else:
        path, shown, problems, shared = find_apphost(image)
    root = parse_file(path, shown)
    require_apphost(root, shown)
    reader = _Reader(image, path, shown, root, os_arch, progress or (lambda _m: None), problems)
    reader.apphost_refusals()
    reader.unknown_repeats(root, shown)
    contribs = reader.apphost_contribs()
    reader.apphost_breaches(contribs)
    pools = reader.pools()
    reader.pools_by_name.update((p.name.lower(), p) for p in pools)
    sites = reader.sites(contribs)
    known = {p.name.lower() for p in pools}
    for site in sites:
        for app in site.applications:
            if app.pool.lower() not in known:
                known.add(app.pool.lower())
                pools.append(reader.undeclared_pool(app.pool, app.source))  # NOTE: reported by rule pool-undefined
    site_names = {s.name.lower() for s in sites}
    for c in contribs:  # NOTE: a <location path> naming no site applies nowhere; say so (issue 7)
        if c.segments and c.segments[0] not in site_names:
            loc = c.element.getparent()
            reader.problems.append(Problem(shown, line_of(loc) if loc is not None else line_of(c.element),
                                           f"<location path={attr(loc, 'path') if loc is not None else ''!r}> names "
                                           f"no site ({c.segments[0]!r}); its settings apply nowhere"))
    restriction = reader.isapi_cgi_restriction(contribs)
    global_modules = tuple(reader.global_modules(contribs))
    return Server(os_arch, os_arch_from, shown, tuple(pools), tuple(sites), global_modules,
                  tuple(reader.problems), isapi_cgi_restriction=restriction, shared_config=shared,
                  compression_schemes=tuple(reader.compression_schemes(contribs)),
                  module_entries=tuple(reader.module_entries(contribs, {m.name.strip().lower() for m in global_modules})))
