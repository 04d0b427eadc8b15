"""The IIS server model: what the configuration says, merged as IIS merges it.

Every configuration object carries a :class:`ConfigSource` (file and 1-based line) so that a
finding can point at the exact place to edit. Objects are frozen; a fix is checked by building
a changed copy with :func:`dataclasses.replace` (see :mod:`iisbitness.fixes.verify`).

Sources: IIS settings schema (lextm/iis_schema IIS_schema.xml), "Introduction to
ApplicationHost.config" and "Understanding Sites, Applications, and Virtual Directories"
(MicrosoftDocs/iis-docs).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from enum import Enum

from iisbitness.arch import Arch
from iisbitness.model.source import ConfigSource, Problem, ServerKind


class PipelineMode(str, Enum):
    """``managedPipelineMode`` of an application pool."""

    INTEGRATED = "Integrated"
    CLASSIC = "Classic"


COLLECTION_TAGS = frozenset({"add", "remove", "clear"})
"""The tags of a configuration collection's items (``<environmentVariables><add .../>``, ``<schedule><clear/>``)."""

ENCRYPTED = "(encrypted)"
"""How :attr:`AppPool.settings` shows an attribute stored encrypted (``[enc:Provider:...:enc]``)."""

NOT_SHOWN = "(not shown)"
"""How :attr:`AppPool.settings` shows a secret stored in clear text (a password written by hand)."""

SECRET_ATTRIBUTES = frozenset({"password"})
"""Attributes IIS's schema stores encrypted (``encrypted="true"``); of a pool's, only ``processModel``'s
``password`` (``%windir%\\System32\\inetsrv\\config\\schema\\IIS_schema.xml``, section
``system.applicationHost/applicationPools``). Set by hand in the file, it stays clear text until IIS rewrites it."""


def secret_shown(name: str, value: str) -> str | None:
    """How a stored attribute ``name`` = ``value`` may be shown when it is a secret, never to be printed or passed
    on a command line: :data:`ENCRYPTED` for a value IIS stored encrypted (``[enc:Provider:...:enc]``, whatever
    the attribute), :data:`NOT_SHOWN` for one of :data:`SECRET_ATTRIBUTES` in clear text; None: not a secret.
    The one check for every secret a pool carries (its settings, the split's commands)."""
    if value.startswith("[enc:"):
        return ENCRYPTED
    return NOT_SHOWN if name.lower() in SECRET_ATTRIBUTES else None


_XML_ATTRIBUTE = re.compile(r"""([A-Za-z_][\w.:-]*)(\s*=\s*)(["'])(.*?)\3""", re.DOTALL)


def without_secrets(text: str) -> str:
    """``text`` (XML: a configuration file's lines, a diff of them) with the value of every secret attribute
    (:func:`secret_shown`) replaced by how it may be shown: for a diff or a report, never for a file to write."""
    def shown(m: re.Match[str]) -> str:
        said = secret_shown(m.group(1), m.group(4))
        return m.group(0) if said is None else f"{m.group(1)}{m.group(2)}{m.group(3)}{said}{m.group(3)}"

    return _XML_ATTRIBUTE.sub(shown, text) if "=" in text else text


@dataclass(frozen=True, slots=True)
class PoolElement:
    """One element of a pool's ``<add>`` as stored in applicationHost.config (issue 20: a split pool copies them).

    Attributes:
        path: the tags from the ``<add>`` down, ``()`` for the ``<add>`` itself, e.g. ``("processModel",)``,
            ``("recycling", "periodicRestart", "schedule", "add")``, ``("environmentVariables", "add")``.
        attributes: ``(name, value)`` in document order, values exactly as stored (an encrypted password keeps its
            ``[enc:...:enc]`` form).
    """

    path: tuple[str, ...]
    attributes: tuple[tuple[str, str], ...]

    @property
    def item(self) -> bool:
        """True for a collection item (``add``, ``remove``, ``clear``)."""
        return bool(self.path) and self.path[-1] in COLLECTION_TAGS


@dataclass(frozen=True, slots=True)
class AppPool:
    """An application pool (``system.applicationHost/applicationPools/add``).

    Attributes:
        name: pool name (case-insensitive in IIS).
        enable_32bit_app_on_win64: the effective value after inheritance (facts A1/A2).
        enable_32bit_from: where that value came from: ``"pool"``, ``"applicationPoolDefaults"``
            or ``"schema default"``.
        enable_emulation_on_arm64: effective ``enableEmulationOnWinArm64`` (missing = True, A6).
        managed_runtime_version: ``"v2.0"``, ``"v4.0"``, ``"v1.1"`` or ``""`` (No Managed Code).
        pipeline_mode: Integrated or Classic.
        source: the pool's ``<add>`` element (or applicationPoolDefaults for a pool only named
            by an application).
        declared: False for a pool an application names but applicationPools does not define.
        elements: the pool's ``<add>`` and every element below it, as stored (:class:`PoolElement`), in document
            order; empty for an undeclared pool.
        copied_from: for a pool a fix creates, the pool whose elements it copies.
        auto_start: effective ``autoStart`` (pool, then applicationPoolDefaults; default true). False: WAS
            leaves the pool stopped when IIS starts, until someone starts it ("Adding Application Pools <add>",
            IIS configuration reference: "autoStart ... automatically started when it is created or when IIS
            is started").
    """

    name: str
    enable_32bit_app_on_win64: bool
    enable_32bit_from: str
    enable_emulation_on_arm64: bool
    managed_runtime_version: str
    pipeline_mode: PipelineMode
    source: ConfigSource
    declared: bool = True
    elements: tuple[PoolElement, ...] = ()
    copied_from: str | None = None
    auto_start: bool = True

    @property
    def settings(self) -> tuple[tuple[str, str], ...]:
        """Every stored setting but the name, as ``(path, value)``: ``processModel.userName`` for an element's
        attribute, ``environmentVariables[name='X'].value`` for a collection item's; secrets as
        :func:`secret_shown` shows them (:data:`ENCRYPTED`, :data:`NOT_SHOWN`)."""
        out: list[tuple[str, str]] = []

        def shown(name: str, value: str) -> str:
            return secret_shown(name, value) or value

        for el in self.elements:
            prefix = ".".join(el.path[:-1] if el.item else el.path)
            if el.item and el.attributes:
                (k, v), rest = el.attributes[0], el.attributes[1:]
                head = f"{prefix}[{k}='{shown(k, v)}']" if el.path[-1] == "add" else \
                    f"{prefix}[{el.path[-1]} {k}='{shown(k, v)}']"
                out += [(f"{head}.{name}", shown(name, value)) for name, value in rest] or [(head, "")]
            elif el.item:
                out.append((f"{prefix}[{el.path[-1]}]", ""))
            else:
                out += [(f"{prefix}.{name}" if prefix else name, shown(name, value)) for name, value in el.attributes
                        if el.path or name != "name"]
        return tuple(out)

    def worker_arch(self, os_arch: Arch) -> Arch:
        """Architecture of this pool's w3wp.exe on an OS of ``os_arch`` (facts A4-A7).

        32-bit OS: always x86. 64-bit x64 OS: x86 when enable32BitAppOnWin64, else x64.
        ARM64 OS: x86 when enable32BitAppOnWin64; else x64 (emulated) unless
        enableEmulationOnWinArm64 is false, then native arm64.
        """
        if os_arch is Arch.X86 or self.enable_32bit_app_on_win64:
            return Arch.X86
        if os_arch is Arch.ARM64 and not self.enable_emulation_on_arm64:
            return Arch.ARM64
        return Arch.X64


@dataclass(frozen=True, slots=True)
class GlobalModule:
    """A native module in ``system.webServer/globalModules`` (loaded by every worker at start)."""

    name: str
    image: str
    precondition: str
    source: ConfigSource


@dataclass(frozen=True, slots=True)
class ModuleEntry:
    """One ``system.webServer/modules`` ``<add>`` that is in effect at the level that declares it: what appcmd's
    ``set config [PATH] -section:system.webServer/modules /[name='X']...`` finds there ("Getting Started with
    AppCmd.exe", collection items; a ``<remove>`` or ``<clear/>`` after it at that level takes it out).

    Attributes:
        name: the entry's ``name`` (a native module's names its global module). precondition: its own ``preCondition``
            as written ("" when absent; comma-separated tokens, iis-docs ``system.webServer/modules/add``).
        type: the managed type ("" for a native module's entry).
        location: where applicationHost.config declares it: "" at server level (top-level ``<system.webServer>`` or
            ``<location path="">`` / ``"."``), else the ``<location path>`` as written, e.g. ``Default Web Site/app``;
            for a web.config entry, the config path below ``MACHINE/WEBROOT/APPHOST`` (lower-case).
        source: the ``<add>`` element read (file and line).
        web_config: True for an entry a web.config declares (not applicationHost.config).
    """

    name: str
    precondition: str
    type: str
    location: str
    source: ConfigSource
    web_config: bool = False


@dataclass(frozen=True, slots=True)
class CompressionScheme:
    """A compression scheme provider (``system.webServer/httpCompression/scheme``): a native DLL that the static and
    dynamic compression modules (``StaticCompressionModule``, ``DynamicCompressionModule``) load into the worker and
    call (``InitCompression``, "InitCompression Function", IIS native-code API reference). ``dll`` is expanded in the
    worker (``expanded="true"``, facts B10, B11). The section is AppHostOnly: read from applicationHost.config."""

    name: str
    dll: str
    source: ConfigSource


@dataclass(frozen=True, slots=True)
class IsapiFilter:
    """An ISAPI filter (``system.webServer/isapiFilters/filter``), server-level or site-level."""

    name: str
    path: str
    precondition: str
    source: ConfigSource
    site: str | None = None
    """The site it is declared for (a ``<location path="Site">`` or the site's web.config), None at server level."""


@dataclass(frozen=True, slots=True)
class Handler:
    """A handler mapping (``system.webServer/handlers/add``).

    ``modules`` names the module that serves it: ``IsapiModule`` (an ISAPI extension in
    ``script_processor``), ``FastCgiModule``, ``CgiModule``, a managed ``type``, etc.
    """

    name: str
    path: str
    verb: str
    modules: str
    script_processor: str
    type: str
    precondition: str
    source: ConfigSource

    @property
    def module_names(self) -> tuple[str, ...]:
        """The ``modules`` attribute split on commas, lowercased."""
        return tuple(m.strip().lower() for m in self.modules.split(",") if m.strip())

    @property
    def is_isapi_extension(self) -> bool:
        """True when IsapiModule loads ``script_processor`` into the worker (facts D4)."""
        return "isapimodule" in self.module_names and bool(self.script_processor.strip())

    @property
    def runs_out_of_process(self) -> bool:
        """True for FastCGI and CGI: the program runs in its own process (facts D7)."""
        return any(m in ("fastcgimodule", "cgimodule") for m in self.module_names)


_VERSION = re.compile(r"\d{1,5}(?:\.\d{1,5}){1,3}")
_TOKEN = re.compile(r"[0-9a-f]{16}")
_SIMPLE = re.compile(r"[^\\/:*?\"<>|\x00-\x1f]+")
"""A simple name or culture that can be a file or folder name (it becomes one in the GAC layout)."""


@dataclass(frozen=True, slots=True)
class AssemblyName:
    """A .NET assembly's display name as configuration writes it: ``Name, Version=1.0.0.0, Culture=neutral,
    PublicKeyToken=0123456789abcdef`` ("Assembly Names", learn.microsoft.com).

    Attributes:
        name: the simple name. version: ``Version`` ("" when not given). culture: ``Culture`` (lower case;
            "" and ``neutral`` both mean neutral). public_key_token: ``PublicKeyToken`` in lower-case hex
            ("" when absent or ``null``).
    """

    name: str
    version: str = ""
    culture: str = ""
    public_key_token: str = ""

    @property
    def strong(self) -> bool:
        """True when the name is fully specified and well formed (a simple name that is no path, a version of two
        to four numbers, a 16-digit hex public key token, a culture that is a name): only such a reference is
        looked for in the GAC ("How the Runtime Locates Assemblies", step 3; a partial name is probed in the
        application folder only, and a malformed one fails to parse: "Assembly Names", learn.microsoft.com)."""
        return bool(_VERSION.fullmatch(self.version) and _TOKEN.fullmatch(self.public_key_token)
                    and _SIMPLE.fullmatch(self.name) and self.name.strip(".") and _SIMPLE.fullmatch(self.culture or "x"))

    @property
    def display(self) -> str:
        """``Name, Version=…, Culture=…, PublicKeyToken=…`` with the parts that were given."""
        parts = [self.name]
        if self.version:
            parts.append(f"Version={self.version}")
        if self.version or self.culture:
            parts.append(f"Culture={self.culture or 'neutral'}")
        if self.public_key_token:
            parts.append(f"PublicKeyToken={self.public_key_token}")
        return ", ".join(parts)

    @classmethod
    def parse(cls, text: str) -> AssemblyName | None:
        """The assembly display name ``text`` (e.g. ``compilation/assemblies/add/@assembly``); None when empty or
        ``*`` (every assembly of bin)."""
        parts = [p.strip() for p in _split_top(text)]
        if not parts or not parts[0] or parts[0] == "*":
            return None
        fields: dict[str, str] = {}
        for part in parts[1:]:
            key, _, value = part.partition("=")
            fields[key.strip().lower()] = value.strip()
        token = fields.get("publickeytoken", "").lower()
        culture = fields.get("culture", "").lower()
        return cls(parts[0], fields.get("version", ""), "" if culture == "neutral" else culture,
                   "" if token == "null" else token)

    @classmethod
    def of_type(cls, type_name: str) -> AssemblyName | None:
        """The assembly part of an assembly-qualified type name (``Ns.Type, Assembly, Version=…``); None when the
        type names no assembly (ASP.NET then looks in System.Web, App_Code and the application's assemblies)."""
        return _assembly_of_type(type_name) if "," in type_name else None


@functools.lru_cache(maxsize=1024)
def _assembly_of_type(type_name: str) -> AssemblyName | None:
    """NOTE: cached: every application's merged configuration names the same server-level types again."""
    parts = _split_top(type_name)
    return AssemblyName.parse(",".join(parts[1:])) if len(parts) > 1 else None


def _split_top(text: str) -> list[str]:
    """``text`` split on commas outside brackets (a generic type's arguments are bracketed)."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return [p.strip() for p in out] if text.strip() else []


@dataclass(frozen=True, slots=True)
class ManagedType:
    """A managed type (or assembly) that the merged configuration names: the pool's CLR loads its assembly.

    Attributes:
        section: ``system.webServer/modules`` or ``system.webServer/handlers`` (Integrated pipeline),
            ``system.web/httpModules`` or ``system.web/httpHandlers`` (Classic pipeline), or
            ``system.web/compilation/assemblies`` (either: ASP.NET compiles pages against them).
        name: the entry's name (module or handler name; ``verb path`` for httpHandlers; the assembly for
            compilation/assemblies).
        type: the type as configured ("" for compilation/assemblies).
        assembly: its assembly (entries whose type names none are not kept: ASP.NET finds such types in
            System.Web, App_Code or the application's own assemblies).
        precondition: the entry's preCondition (system.webServer only).
        source: the entry (file and line).
    """

    section: str
    name: str
    type: str
    assembly: AssemblyName
    precondition: str
    source: ConfigSource

    @property
    def integrated(self) -> bool:
        """True for the system.webServer sections, which the Integrated pipeline reads; the Classic pipeline reads
        system.web/httpModules and httpHandlers instead ("ASP.NET Integration with IIS 7", iis-docs)."""
        return self.section.startswith("system.webServer/")


@dataclass(frozen=True, slots=True)
class AspNetCore:
    """The ``system.webServer/aspNetCore`` element of an application (ASP.NET Core Module)."""

    process_path: str
    hosting_model: str
    arguments: str
    source: ConfigSource
    inherited: bool = False
    """Declared above the application (a parent application's web.config, a ``<location>`` for its path):
    ANCM then serves this application only if the ASP.NET Core handler is still mapped in it; Microsoft's
    "sub-applications" guidance removes it (``<remove name="aspNetCore" />``) for a non-Core child."""
    environment: tuple[tuple[str, str], ...] = ()
    """The ``<environmentVariables>`` it sets, ``(name, value)`` in order, merged from every level (an
    ``<environmentVariable>`` of a lower level replaces one of the same name, compared case-insensitively as Windows
    compares variable names; ``<remove>`` and ``<clear/>`` take them out). In process, ANCM sets them on the worker
    before it loads hostfxr (dotnet/aspnetcore AspNetCoreModuleV2 ``inprocessapplication.cpp``
    ``SetEnvironmentVariablesOnWorkerProcess``), so the .NET host reads them (``DOTNET_RUNTIME_ID``)."""

    def variable(self, name: str) -> str | None:
        """The value the element gives the variable ``name`` (case-insensitive), or None where it sets none."""
        low = name.lower()
        return next((v for k, v in reversed(self.environment) if k.lower() == low), None)

    @property
    def in_process(self) -> bool:
        """True for ``hostingModel="inprocess"`` (case-insensitive); V2 default is out-of-process."""
        return self.hosting_model.strip().lower() == "inprocess"


@dataclass(frozen=True, slots=True)
class VirtualDirectory:
    """A virtual directory: URL ``path`` (relative to its application) to ``physical_path``.

    ``allow_sub_dir_config`` is ``allowSubDirConfig`` (from the element, else ``virtualDirectoryDefaults``
    of the site, then of ``sites``; default true): when false, IIS reads no web.config below the
    virtual directory's own folder ("Virtual Directory Defaults", iis-docs configuration reference).
    """

    path: str
    physical_path: str
    source: ConfigSource
    allow_sub_dir_config: bool = True


@dataclass(frozen=True, slots=True)
class WebConfigEffect:
    """What the merged configuration gives one application (or a URL below it).

    Attributes:
        config_path: the IIS config path, e.g. ``MACHINE/WEBROOT/APPHOST/Site/app``.
        handlers: effective handler mappings, in match order.
        filters: effective ISAPI filters for the site.
        aspnetcore: the effective aspNetCore element, if any.
        web_configs: the web.config files that took part, as ConfigSource files.
        managed: the managed types and assemblies it names with an assembly name (:class:`ManagedType`), in
            section order.
        modules: the names (lower-case) of the ``system.webServer/modules`` entries in effect there after
            ``<clear/>`` and ``<remove>``; None when no ``<modules>`` section applies (a configuration that does not
            say: nothing is taken for removed). A handler mapping whose ``modules`` names one not listed gets HTTP
            500.21 "Handler ... has a bad module ... in its module list" (IIS's error page; KB 943891 lists 500.21 as
            "Module not recognized") and its ISAPI extension is never loaded.
    """

    config_path: str
    handlers: tuple[Handler, ...]
    filters: tuple[IsapiFilter, ...]
    aspnetcore: AspNetCore | None
    web_configs: tuple[str, ...] = ()
    managed: tuple[ManagedType, ...] = ()
    modules: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Application:
    """An application of a site.

    Attributes:
        site: the site's name.
        path: the application's URL path (``/`` for the root application).
        pool: the application pool name it runs in.
        vdirs: its virtual directories; the one with path ``/`` is the root.
        effects: merged configuration at the application root first, then at URLs below it
            that carry their own configuration.
        refused: the problem (``refused``) of a web.config IIS refuses at the application's root folder or at a URL
            above it, or of an entry applicationHost.config adds twice at a ``<location path>`` at or above it (that
            reaches it), the one nearest the site's root, when there is one: IIS answers every request of the
            application with HTTP 500.19 (KB 942055; a web.config is read for every URL at and below its folder,
            facts B3), so nothing of it loads (no ``bin``, handler, ASP.NET Core or COM load). None otherwise.
    """

    site: str
    path: str
    pool: str
    vdirs: tuple[VirtualDirectory, ...]
    source: ConfigSource
    effects: tuple[WebConfigEffect, ...] = ()
    refused: Problem | None = None

    @property
    def root_vdir(self) -> VirtualDirectory | None:
        """The virtual directory whose path is ``/``, or None."""
        return next((v for v in self.vdirs if v.path == "/"), None)

    @property
    def label(self) -> str:
        """``Site/app`` as appcmd names an application (``Site/`` for the root)."""
        return f"{self.site}{self.path}"


@dataclass(frozen=True, slots=True)
class Site:
    """A site: name, id, and its applications.

    ``server_auto_start`` is the effective ``serverAutoStart`` (the site, then ``sites/siteDefaults``; default
    true). False: the site stays stopped when IIS starts, until someone starts it, so no request reaches its
    applications ("Site <site>", IIS configuration reference).
    """

    name: str
    id: str
    applications: tuple[Application, ...]
    source: ConfigSource
    server_auto_start: bool = True


@dataclass(frozen=True, slots=True)
class RestrictionEntry:
    """One ``system.webServer/security/isapiCgiRestriction/add``: an ISAPI DLL or CGI program allowed or not."""

    path: str
    allowed: bool
    source: ConfigSource


@dataclass(frozen=True, slots=True)
class IsapiCgiRestriction:
    """The ISAPI and CGI Restrictions list (``system.webServer/security/isapiCgiRestriction``).

    IIS refuses a request mapped to an ISAPI extension the list does not allow with HTTP 404.2
    ("ISAPI or CGI restriction", KB 943891); the DLL is never loaded. Paths are compared after
    environment expansion, case-insensitively.

    Attributes:
        entries: the list, in order. not_listed_isapis_allowed: ``notListedIsapisAllowed`` (default false).
        source: the section element.
    """

    entries: tuple[RestrictionEntry, ...]
    not_listed_isapis_allowed: bool
    source: ConfigSource

    def verdict(self, expanded_path: str, expand: Callable[[str], str]) -> tuple[bool, RestrictionEntry | None]:
        """``(allowed, the entry that decided or None when not listed)`` for an expanded, normalised path."""
        low = expanded_path.lower()
        for e in self.entries:
            if expand(e.path).lower() == low:
                return e.allowed, e
        return self.not_listed_isapis_allowed, None


@dataclass(frozen=True, slots=True)
class Server:
    """An IIS 7+ server as its configuration describes it.

    Attributes:
        os_arch: the OS architecture (x64 unless stated or seen otherwise).
        os_arch_from: how os_arch was decided (option, image folders, assumed).
        config_file: the applicationHost.config read, as a ConfigSource file.
        pools: application pools, declared ones first.
        sites: sites with their applications and merged configuration.
        global_modules: effective globalModules list.
        problems: what could not be read, with file and line.
        isapi_cgi_restriction: the ISAPI and CGI Restrictions list, or None when not configured (all allowed).
        compression_schemes: ``httpCompression/scheme`` entries at server level, in order (name unique).
        module_entries: the ``system.webServer/modules`` ``<add>`` entries that name a global module, each at the
            level that declares it and in effect there (:class:`ModuleEntry`): applicationHost.config's, then those
            of web.config files.
        shared_config: the folder redirection.config names when :attr:`config_file` is that shared configuration
            (``\\\\fs01\\IISConfig``): every server of the farm whose redirection.config names it runs this file, so a
            change to it reaches each; "" for a server's own applicationHost.config.
    """

    os_arch: Arch
    os_arch_from: str
    config_file: str
    pools: tuple[AppPool, ...]
    sites: tuple[Site, ...]
    global_modules: tuple[GlobalModule, ...]
    problems: tuple[Problem, ...] = field(default=())
    kind: ServerKind = ServerKind.IIS7
    isapi_cgi_restriction: IsapiCgiRestriction | None = None
    compression_schemes: tuple[CompressionScheme, ...] = ()
    module_entries: tuple[ModuleEntry, ...] = ()
    shared_config: str = ""
    # NOTE: indexes, each built when first asked; with_pool and with_new_pool carry them into their copies by hand
    # (a copy per verified fix, issue 25): tests/loadmodel/test_server_indexes.py checks copies against a rebuild
    _apps_by_pool: dict[str, tuple[Application, ...]] | None = field(default=None, init=False, repr=False,
                                                                       compare=False)
    _pool_at: dict[str, list[int]] | None = field(default=None, init=False, repr=False, compare=False)
    _site_at: dict[str, list[int]] | None = field(default=None, init=False, repr=False, compare=False)
    _undeclared: tuple[AppPool, ...] | None = field(default=None, init=False, repr=False, compare=False)
    _manual: bool | None = field(default=None, init=False, repr=False, compare=False)
    _folders_as: tuple[Site, ...] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def os_arch_assumed(self) -> bool:
        """True when :attr:`os_arch` is the default assumption (:attr:`os_arch_from` begins "assumed": no
        ``--os-arch``, and neither the image nor the running Windows showed it), not a fact of the server."""
        return self.os_arch_from.startswith("assumed")

    def _apps_index(self) -> dict[str, tuple[Application, ...]]:
        # NOTE: planning asks for every pool's applications, and fix verification re-plans once per fix:
        # an index built once per server copy, when first asked, not a walk of every site per pool (issue 11);
        # a copy that keeps the sites keeps the index (with_pool: one copy per verified pool fix, issue 25)
        index = self._apps_by_pool
        if index is None:
            lists: dict[str, list[Application]] = {}
            for s in self.sites:
                for a in s.applications:
                    lists.setdefault(a.pool.lower(), []).append(a)
            index = {k: tuple(v) for k, v in lists.items()}
            object.__setattr__(self, "_apps_by_pool", index)
        return index

    def _site_positions(self) -> dict[str, list[int]]:
        # NOTE: asked per pool and per finding (manual_start): a lookup, not a walk of every site (issue 25)
        if self._site_at is None:
            object.__setattr__(self, "_site_at", _positions(self.sites))
        assert self._site_at is not None
        return self._site_at

    def _pool_positions(self) -> dict[str, list[int]]:
        if self._pool_at is None:
            object.__setattr__(self, "_pool_at", _positions(self.pools))
        assert self._pool_at is not None
        return self._pool_at

    def pool(self, name: str) -> AppPool | None:
        """The pool called ``name`` (case-insensitive; the first of that name), or None."""
        at = self._pool_positions().get(name.lower())
        return self.pools[at[0]] if at else None

    def global_module(self, name: str) -> GlobalModule | None:
        """The global module called ``name`` (case-insensitive), or None. Names are unique in the effective list
        (``globalModules`` is merged on its ``name`` key)."""
        key = name.lower()
        return next((m for m in self.global_modules if m.name.lower() == key), None)

    def pools_named(self, names: Collection[str]) -> tuple[AppPool, ...]:
        """The pools whose lower-case names are in ``names``, in configuration order (a lookup per name)."""
        at = self._pool_positions()
        return tuple(self.pools[i] for i in sorted(i for n in names for i in at.get(n, ())))

    def manual_start(self, pool: AppPool, site: str | None = None) -> str | None:
        """Why ``pool``'s worker (or, with ``site``, that site's applications in it) does not start by itself,
        e.g. ``pool 'X' has autoStart="false"``, or None when it does: the pool has ``autoStart="false"``, or
        the site (without ``site``: every site with an application in the pool) has ``serverAutoStart="false"``.
        What is configured still loads on the next start, so findings stand; this says when they bite."""
        if not pool.auto_start:
            return f"pool '{pool.name}' has autoStart=\"false\""
        names = {a.site.lower() for a in self.applications_in(pool)} if site is None else {site.lower()}
        at = self._site_positions()
        sites = [self.sites[i] for i in sorted(i for n in names for i in at.get(n, ()))]
        if sites and all(not s.server_auto_start for s in sites):
            which = ", ".join(f"'{s.name}'" for s in sites)
            return f"site {which} has serverAutoStart=\"false\"" if len(sites) == 1 else \
                f"sites {which} have serverAutoStart=\"false\""
        return None

    def starts_manually(self) -> bool:
        """True when some pool has ``autoStart="false"`` or some site ``serverAutoStart="false"``
        (:meth:`manual_start` then has something to say)."""
        found = self._manual
        if found is None:
            found = any(not p.auto_start for p in self.pools) or any(not s.server_auto_start for s in self.sites)
            object.__setattr__(self, "_manual", found)
        return found

    def undeclared_pools(self) -> tuple[AppPool, ...]:
        """The pools applicationPools does not define (only applications name them), in order."""
        found = self._undeclared
        if found is None:
            found = tuple(p for p in self.pools if not p.declared)
            object.__setattr__(self, "_undeclared", found)
        return found

    def applications_in(self, pool: AppPool) -> tuple[Application, ...]:
        """Every application whose pool is ``pool``."""
        return self._apps_index().get(pool.name.lower(), ())

    def with_pool(self, pool: AppPool) -> Server:
        """A copy with the pool of the same name replaced (in its place; several of that name: all removed and it
        added last) or added last - for fix verification."""
        from dataclasses import replace

        at = self._pool_positions().get(pool.name.lower(), [])
        if len(at) == 1:  # NOTE: in its place, so the copy shares the name index (issue 25)
            copy = replace(self, pools=self.pools[:at[0]] + (pool,) + self.pools[at[0] + 1:])
            object.__setattr__(copy, "_pool_at", self._pool_at)
            old = self.pools[at[0]]
            if pool.declared and old.declared:
                object.__setattr__(copy, "_undeclared", self._undeclared)
            if pool.auto_start == old.auto_start:
                object.__setattr__(copy, "_manual", self._manual)
        else:
            pools = self.pools
            for i in reversed(at):
                pools = pools[:i] + pools[i + 1:]
            copy = replace(self, pools=pools + (pool,))
        object.__setattr__(copy, "_apps_by_pool", self._apps_by_pool)
        object.__setattr__(copy, "_site_at", self._site_at)
        object.__setattr__(copy, "_folders_as", self._folders_as)
        return copy

    def with_new_pool(self, pool: AppPool, apps: Collection[tuple[str, str]]) -> Server:
        """A copy with ``pool`` added last and the applications ``apps`` (lower-case ``(site, path)`` pairs) moved
        into it; unknown applications are left out - for fix verification (a split of a pool).

        Only the sites of the moved applications are copied, and the copy keeps the indexes, updated for the two
        pools that change: a split per application of a server of 10,000 pools would otherwise copy and index
        every site and pool once per fix (issue 25)."""
        from dataclasses import replace

        names = {site for site, _ in apps}
        at = self._site_positions()
        sites = list(self.sites)
        moved: list[Application] = []
        left: set[int] = set()
        sources: set[str] = set()
        for i in sorted(i for n in names for i in at.get(n, ())):
            site = sites[i]
            if not any((a.site.lower(), a.path.lower()) in apps for a in site.applications):
                continue
            kept = []
            for a in site.applications:
                if (a.site.lower(), a.path.lower()) in apps:
                    left.add(id(a))
                    sources.add(a.pool.lower())
                    a = replace(a, pool=pool.name)
                    moved.append(a)
                kept.append(a)
            sites[i] = replace(site, applications=tuple(kept))
        copy = replace(self, sites=tuple(sites), pools=self.pools + (pool,))
        key = pool.name.lower()
        if self._pool_at is not None:
            positions = dict(self._pool_at)
            positions[key] = [*positions.get(key, ()), len(self.pools)]
            object.__setattr__(copy, "_pool_at", positions)
        # NOTE: a new pool's name that applications already name (an undeclared pool): the index is built when asked
        if self._apps_by_pool is not None and key not in self._apps_by_pool:
            index = dict(self._apps_by_pool)
            for k in sources:
                still = tuple(a for a in index.get(k, ()) if id(a) not in left)
                if still:
                    index[k] = still
                else:
                    index.pop(k, None)
            if moved:
                index[key] = tuple(moved)
            object.__setattr__(copy, "_apps_by_pool", index)
        object.__setattr__(copy, "_site_at", self._site_at)
        if self._undeclared is not None:
            object.__setattr__(copy, "_undeclared", self._undeclared + (() if pool.declared else (pool,)))
        if self._manual is not None:
            object.__setattr__(copy, "_manual", self._manual or not pool.auto_start)
        object.__setattr__(copy, "_folders_as", self.folder_sites())
        return copy

    def folder_sites(self) -> tuple[Site, ...]:
        """Sites whose applications have the same physical folders as this server's (as a set): :attr:`sites`, or
        those of the server this is a copy of with applications moved between pools (:meth:`with_new_pool`), so
        that what is worked out from every application's folder once is not worked out again per copy."""
        return self._folders_as if self._folders_as is not None else self.sites


def _positions(items: Sequence[AppPool | Site]) -> dict[str, list[int]]:
    """Lower-case name -> the positions of the items of that name, in order."""
    at: dict[str, list[int]] = {}
    for i, x in enumerate(items):
        at.setdefault(x.name.lower(), []).append(i)
    return at
