"""A fix's side effects: the load plan before it and the load plan after it, compared per process.

Verification (:mod:`iisbitness.fixes.verify`) already re-plans the server with each fix made; the difference
between that plan and the plan before, process by process, is everything else the fix changes
(review 2026-12-06 §2), with no hand-written text per fix:

- a module or filter a process no longer loads (a preCondition now false in that worker, an application moved
  to a worker that does not load it): :attr:`EffectKind.UNLOADED`, marked when it is a security module; so is a
  handler's ISAPI extension whose own bitness preCondition is false where its application then runs (the mapping
  no longer applies: a fix that clears its 500 that way takes the handler out); the handler mappings of the
  applications the worker serves whose ``modules`` name an entry it no longer loads are named with it
  (:attr:`SideEffect.handlers`): IIS answers their requests with HTTP 500.21 "Handler ... has a bad module ... in
  its module list" (KB 943891, "The HTTP status code in IIS 7 and later": 500.21 module not recognized); those
  whose own preCondition is false there after the fix (a ``bitness64`` handler in a worker now 32-bit) are named
  apart (:attr:`SideEffect.bypassed`): IIS skips a mapping whose preCondition does not hold, so their requests go
  to the next mapping (``StaticFile``, say) and the application's code silently stops serving them;
- one it now loads: :attr:`EffectKind.LOADED`;
- a worker that runs at another architecture, with the applications and binaries in it: :attr:`EffectKind.ARCH`
  (IIS 6, where the switch is server-wide: with the ISAPI filters and extensions it runs at the new bitness, named;
  the ``bin`` assemblies of its ASP.NET applications are among its binaries);
- a new worker (a split pool) with the settings it gets: :attr:`EffectKind.NEW_POOL` (IIS 6 leaving IIS 5 isolation
  mode: each pool's w3wp.exe, with the ISAPI filters and extensions that ran at another bitness in inetinfo.exe or
  dllhost.exe before, named);
- IIS 6 in IIS 5 isolation mode: ASP.NET's own ``aspnet_wp.exe`` at another architecture (ASP.NET registered from the
  other Framework folder), with the applications it runs, from the metabase (:func:`_aspnet_wp`).

A module replaced by its own build for the other architecture (``ManagedEngineV4.0_32bit`` for
``ManagedEngineV4.0_64bit``: the same file name under Framework and Framework64; a vendor's pair of entries of
the two bitnesses whose names differ only in it, ``SentinelWSFilter64`` bitness64 and ``SentinelWSFilter32`` bitness32)
is not lost: the worker's architecture change says it. An ISAPI filter is the worker's once, whatever the number
of its sites that list it. A plan's processes are its workers whether or not they load anything of ours
(:func:`_workers`: a worker whose every entry a preCondition keeps out is the same worker at another architecture
after a flip, not a new one). Only the processes both plans hold are compared, so a plan of the pools a fix
touches (issue 11) gives the same effects as a plan of the whole server.
"""

from __future__ import annotations

import ntpath
import re
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import replace

from iisbitness.arch import Arch
from iisbitness.config.precondition import evaluate
from iisbitness.findings import EffectKind, SideEffect
from iisbitness.loadplan.iis6 import aspnet_processes
from iisbitness.loadplan.plan import APP_LEVEL_KINDS, Load, LoadKind, LoadPlan, Process
from iisbitness.model.iis7 import Application, AppPool, Handler

SECURITY_MODULES = frozenset(name.lower() for name in (
    # IIS's own native modules (applicationHost.config <globalModules>; "IIS Manager Feature to Configuration
    # Mapping", learn.microsoft.com/iis/get-started/planning-your-iis-architecture/feature-to-configuration-reference:
    # the [Authentication], [Authorization], IPv4 and Domain Restrictions and Request Filtering features)
    "AnonymousAuthenticationModule", "BasicAuthenticationModule", "CertificateMappingAuthenticationModule",
    "DigestAuthenticationModule", "IISCertificateMappingAuthenticationModule", "WindowsAuthenticationModule",
    "UrlAuthorizationModule", "RequestFilteringModule", "IpRestrictionModule", "DynamicIpRestrictionModule",
    # ASP.NET's managed modules (<modules> type), by type
    "System.Web.Security.FormsAuthenticationModule", "System.Web.Security.WindowsAuthenticationModule",
    "System.Web.Security.UrlAuthorizationModule", "System.Web.Security.FileAuthorizationModule",
    "System.Web.Security.RoleManagerModule",
))
"""IIS's own authentication, authorization and request-filtering modules, by name (native) and type (managed)."""

_IIS_OWN = frozenset(name.lower() for name in (
    "IsapiFilterModule", "IsapiModule", "StaticFileModule", "UriCacheModule", "FileCacheModule", "TokenCacheModule",
    "HttpCacheModule", "DynamicCompressionModule", "StaticCompressionModule", "DefaultDocumentModule",
    "DirectoryListingModule", "ProtocolSupportModule", "HttpRedirectionModule", "ServerSideIncludeModule",
    "CustomErrorModule", "CustomLoggingModule", "HttpLoggingModule", "FailedRequestsTracingModule",
    "RequestMonitorModule", "CgiModule", "FastCgiModule", "ConfigurationValidationModule", "WebDAVModule",
    "ApplicationInitializationModule", "WebSocketModule", "ManagedEngine", "ManagedEngine64",
    "ManagedEngineV4.0_32bit", "ManagedEngineV4.0_64bit", "TracingModule", "AspNetCoreModule", "AspNetCoreModuleV2",
))
"""IIS's own modules that are not security modules (a word like "Filter" in their names says nothing)."""

_APP_FILES = APP_LEVEL_KINDS | {LoadKind.BIN_NATIVE}
"""Loads of an application's own files: they move with it, so they are no side effect of a worker."""

_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_SECURITY_WORDS = ("auth", "sso", "waf", "saml", "oauth", "openid", "secur", "shib", "siteminder")


def is_security(name: str, image: str = "", kind: LoadKind | None = LoadKind.GLOBAL_MODULE) -> bool:
    """True for an authentication, authorization or request-filtering module or filter: IIS's own by name or
    type (:data:`SECURITY_MODULES`), a vendor's when a word of its name, type or file name says auth, SSO,
    WAF (or security, URLScan, SAML, OAuth, OpenID, Shibboleth, SiteMinder), or, for a module, filter: a site
    it protected is served without it when a fix takes it out of the site's worker (issue 20).

    Heuristic for vendors' entries: a name can hide what a module does; a false warning costs a line, a missed
    one an open site."""
    low = name.lower()
    if low in SECURITY_MODULES:
        return True
    if low in _IIS_OWN:
        return False
    words = [w.lower() for text in (name, ntpath.basename(image)) for w in _WORDS.findall(text.replace(".dll", ""))]
    stems = _SECURITY_WORDS + (("filter",) if kind is not LoadKind.ISAPI_FILTER else ())
    return "urlscan" in low or any(w.startswith(s) for w in words for s in stems)


def _load_key(ld: Load) -> tuple[str, str, str, str]:
    if ld.kind is LoadKind.ISAPI_FILTER:  # NOTE: listed once per site the worker serves, loaded once by the worker
        return ld.kind.value, ld.name.lower(), "", ""
    return ld.kind.value, ld.name.lower(), (ld.site or "").lower(), (ld.application or "").lower()


def _ran(ld: Load) -> bool | None:
    """Whether ``ld``'s binary loads (runs) in its process, for :attr:`SideEffect.ran`: :attr:`Load.fits`, and False for
    a file missing on the server (absent from a folder the image holds, or where no server has it: the loader fails
    with ERROR_MOD_NOT_FOUND, binary-missing's error), which ``fits`` leaves unknown (None). A file that is only
    perhaps missing (its folder not in the image, or a partial copy of Windows' own modules) stays unknown."""
    if ld.binary.missing_on_server:
        return False
    return ld.fits


def _worker_level(ld: Load) -> bool:
    """A load of the worker itself (a global module, an ISAPI filter of a site it serves), not an application's own
    entry that moves with its application."""
    return ld.kind not in _APP_FILES and (ld.site is None or ld.kind is LoadKind.ISAPI_FILTER)


def _added(before: _Process, after: _Process, pool: str | None, twins: set[tuple[str, ...]]) -> list[SideEffect]:
    """Worker-level entries ``after`` loads and ``before`` did not (not a build of one ``before`` loads for the
    other architecture)."""
    return [SideEffect(EffectKind.LOADED, pool, after.name, ld.name, ld.kind.value, _ran(ld),
                       is_security(ld.name, ld.binary.configured, ld.kind), before.arch, after.arch)
            for k, ld in after.loads.items() if k not in before.loads and _worker_level(ld) and not _replaced(ld, twins)]


_BITNESS = re.compile(r"\bbitness(32|64)\b", re.IGNORECASE)


def _file(ld: Load) -> str:
    """The file name a load's entry names (as written: ``isapi.dll``)."""
    return ntpath.basename((ld.binary.windows_path or ld.binary.configured).strip().strip('"'))


def _twin(ld: Load) -> tuple[str, str]:
    """What a module's build for the other architecture shares with it: its kind and file name."""
    return ld.kind.value, _file(ld).lower()


_ARCH_WORD = re.compile(r"[_.-]?(?:x86|x64|amd64|wow64|(?:32|64)(?:bit)?)", re.IGNORECASE)


def _pair(ld: Load) -> tuple[str, str, str] | None:
    """A vendor's pair of entries for both bitnesses (``SentinelWSFilter64`` preCondition="bitness64" and
    ``SentinelWSFilter32`` preCondition="bitness32"): ``(kind, name without its bitness, bitness)`` of an entry
    whose preCondition names a bitness; None for others. Two entries of one kind whose names differ only in the
    bitness they name, each restricted to its bitness, are one product's two builds: the worker that loads one
    instead of the other loses nothing. Entries of other names (an SSO module for 64-bit, a helper for 32-bit)
    are not a pair, even from one folder."""
    m = _BITNESS.search(getattr(ld.entry, "precondition", "") or "")
    if m is None:
        return None
    stem = _ARCH_WORD.sub("", ld.name).lower()
    return (ld.kind.value, stem, m.group(1)) if stem and stem != ld.name.lower() else None


def _twins(loads: Iterable[Load]) -> set[tuple[str, ...]]:
    """What the entries ``loads`` stand for once a worker changes architecture: their file names (a module's
    build for the other architecture under the same name) and, for a bitness pair (:func:`_pair`), the other
    entry of the pair."""
    out: set[tuple[str, ...]] = set()
    for ld in loads:
        out.add(_twin(ld))
        pair = _pair(ld)
        if pair is not None:
            out.add((pair[0], pair[1], "64" if pair[2] == "32" else "32"))
    return out


def _replaced(ld: Load, twins: set[tuple[str, ...]]) -> bool:
    """Whether ``ld`` has its other architecture's build among ``twins`` (:func:`_twins` of the other worker)."""
    pair = _pair(ld)
    return _twin(ld) in twins or (pair is not None and pair in twins)


class _Process:
    def __init__(self) -> None:
        self.arch: Arch | None = None
        self.pool: AppPool | None = None
        self.name = ""
        self.site: str | None = None
        """IIS Express: the site of the project the process runs (:attr:`Process.site`)."""
        self.loads: dict[tuple[str, str, str, str], Load] = {}
        self.sites: dict[tuple[str, str, str, str], set[str]] = {}
        """Per ISAPI filter: the sites (lower case) it is loaded for."""
        self._twins: set[tuple[str, ...]] | None = None

    @property
    def twins(self) -> set[tuple[str, ...]]:
        """:func:`_twins` of the process's loads, worked out at the first call (a process of the plan before every
        fix is asked once per fix: issue 25)."""
        if self._twins is None:
            self._twins = _twins(self.loads.values())
        return self._twins


def _workers(plan: LoadPlan) -> Iterator[Process]:
    """Every process ``plan`` holds, loads or not: those of its loads and skipped loads, and the worker of each pool it
    planned: IIS 7+, each of :attr:`LoadPlan.outlook` (a declared pool that hosts applications; its
    :meth:`LoadPlan.worker_of`); IIS Express, one ``iisexpress.exe`` per project (:attr:`Process.key`); IIS 6 in worker
    process isolation mode, each declared pool not idle, at the server-wide bitness (facts G4). A pool's worker exists
    whether or not it loads anything of ours: WAS starts a w3wp.exe for it at the pool's bitness ("Application Pools",
    iis-docs configuration/system.applicationHost/applicationPools; facts A4), so a worker whose entries a preCondition
    all keeps out (or that serves static files only) is still the same worker when a fix runs it at another
    architecture, not a new one, and it runs its applications there."""
    for ld in plan.loads:
        yield ld.process
    for sk in plan.skipped:
        yield sk.process
    for outlook in plan.outlook:
        worker = plan.worker_of(outlook.pool)
        if worker is not None:
            yield worker
    if plan.iis6 is not None and not plan.iis6.iis5_mode:  # NOTE: IIS 5 isolation mode runs no w3wp.exe
        idle = {name.lower() for name in plan.idle_pools}
        for pool in plan.server.pools:
            if pool.declared and pool.name.lower() not in idle:
                yield Process("w3wp.exe", plan.iis6.worker_arch, pool)


def _by_process(plan: LoadPlan) -> dict[tuple[str, str, str], _Process]:
    """The processes of ``plan`` (:func:`_workers`), by :attr:`Process.key` (IIS Express: two projects of one pool are
    two processes), each with its loads."""
    out: dict[tuple[str, str, str], _Process] = {}
    for proc in _workers(plan):
        key = proc.key
        if key not in out:
            p = out[key] = _Process()
            p.arch, p.pool, p.name, p.site = proc.arch, proc.pool, proc.name, proc.site
    for ld in plan.loads:
        p = out[ld.process.key]
        p.loads.setdefault(_load_key(ld), ld)
        if ld.kind is LoadKind.ISAPI_FILTER and ld.site is not None:
            p.sites.setdefault(_load_key(ld), set()).add(ld.site.lower())
    return out


class _Before:
    """What :func:`side_effects` asks of the plan before a fix, worked out once per plan (:meth:`LoadPlan.derived`):
    verification compares the same plan with the plan after each fix, and rebuilt per fix, the processes of the plan
    before and their :func:`_twins` were most of the comparison (issue 25)."""

    def __init__(self, plan: LoadPlan) -> None:
        self.processes = _by_process(plan)
        self._plan = plan
        self._elsewhere: dict[Arch, set[tuple[str, str]]] = {}
        self._origins: dict[str, set[tuple[str, str, str]]] | None = None
        self._aspnet: dict[str, tuple[str, Arch]] | None = None

    def elsewhere(self, arch: Arch) -> set[tuple[str, str]]:
        """:func:`_twin` of every load of a process at another architecture than ``arch``."""
        if arch not in self._elsewhere:
            self._elsewhere[arch] = {_twin(ld) for ld in self._plan.loads if ld.process.arch is not arch}
        return self._elsewhere[arch]

    def origins(self, apps: Iterable[str]) -> set[tuple[str, str, str]]:
        """The processes (:attr:`Process.key`) that load an entry of one of ``apps`` (``Site/path`` labels, as
        :func:`_apps` gives them)."""
        if self._origins is None:
            self._origins = {}
            for ld in self._plan.loads:
                if ld.site is not None:
                    self._origins.setdefault(f"{ld.site}{ld.application or ''}", set()).add(ld.process.key)
        return {key for app in apps for key in self._origins.get(app, ())}

    @property
    def aspnet(self) -> dict[str, tuple[str, Arch]]:
        """:func:`iisbitness.loadplan.iis6.aspnet_processes` of the plan's IIS 6 model (a plan of IIS 6 only)."""
        if self._aspnet is None:
            assert self._plan.iis6 is not None
            self._aspnet = aspnet_processes(self._plan.iis6)
        return self._aspnet


def _before(plan: LoadPlan) -> _Before:
    """The plan's :class:`_Before`, kept with it."""
    return plan.derived("fixes/effects-before", _Before)


def _apps(plan: LoadPlan, process: _Process) -> tuple[str, ...]:
    """The applications ``process`` (a pool's worker) serves in ``plan``: IIS Express, those of its own site (Visual
    Studio starts ``iisexpress.exe /site:NAME``, one site a process, :attr:`Process.site`; the other sites of the
    pool, another project's or of no project the folder holds, are not this process's), not every application of the
    file that names the pool."""
    if process.pool is None:
        return ()
    found = plan.server.pool(process.pool.name)
    if found is None:
        return ()
    if plan.iisexpress is None:
        return tuple(a.label for a in plan.server.applications_in(found))
    site = (process.site or "").lower()
    return tuple(a.label for a in plan.server.applications_in(found) if a.site.lower() == site)


Mappings = tuple[tuple[str, str, str, tuple[str, ...]], ...]
"""Handler mappings as ``(name, path, verb, applications)`` each (:func:`mapping_fates`)."""

_STATIC = frozenset({"staticfilemodule", "defaultdocumentmodule", "directorylistingmodule"})
"""IIS's own modules that serve files: a mapping of the same path naming only these is where requests fall to."""


def mapping_fates(plan: LoadPlan, pool: AppPool, arch: Arch, apps: Iterable[Application], module: str,
                  before: tuple[AppPool, Arch] | None = None) -> tuple[Mappings, Mappings]:
    """The handler mappings of ``apps`` (run by ``pool``'s worker at ``arch``) whose ``modules`` name global module
    ``module``, when that module is not loaded there: ``(failing, bypassed)``, ``(name, path, verb, applications)``
    each, in configuration order.

    Failing: the mapping's own preCondition holds in that worker, so IIS maps requests to a module it never loaded:
    HTTP 500.21 "Handler ... has a bad module ... in its module list" (IIS's error page; KB 943891: 500.21 "Module
    not recognized"). Bypassed: its own preCondition is
    false there (facts C7: IIS skips the mapping; its requests go to the next one that matches, StaticFile, say) and
    no other mapping of its path applies there with a module of its own (the vendor's build for this bitness, where
    the requests go instead); with ``before`` (the worker that ran them before a fix), only a mapping that applied
    there. Empty for IIS 6 (no ``modules`` list). One walk for :mod:`iisbitness.rules.handler_module_skipped` (a
    worker that runs so now) and :func:`side_effects` (a fix that makes it so)."""
    return mappings_fates(plan, pool, arch, apps, (module,), before)[module.lower()]


def mappings_fates(plan: LoadPlan, pool: AppPool, arch: Arch, apps: Iterable[Application], modules: Iterable[str],
                   before: tuple[AppPool, Arch] | None = None) -> dict[str, tuple[Mappings, Mappings]]:
    """:func:`mapping_fates` of each of ``modules`` (keyed by its lower-case name), from one walk of the handler
    mappings of ``apps`` for all of them (a worker whose preConditions keep several global modules out: one walk
    per worker, not one per module)."""
    lows = {m.lower(): None for m in modules}
    found: dict[str, tuple[dict[tuple[str, str, str], dict[str, None]], ...]] = {low: ({}, {}) for low in lows}
    if plan.iis6 is None:
        _walk_fates(found, pool, arch, apps, before, plan.server.os_arch)
    return {low: (_mappings(failing), _mappings(bypassed)) for low, (failing, bypassed) in found.items()}


def _mappings(found: dict[tuple[str, str, str], dict[str, None]]) -> Mappings:
    return tuple((*key, tuple(labels)) for key, labels in found.items())


def _walk_fates(found: dict[str, tuple[dict[tuple[str, str, str], dict[str, None]], ...]], pool: AppPool, arch: Arch,
                apps: Iterable[Application], before: tuple[AppPool, Arch] | None, os_arch: Arch) -> None:
    for app in apps:
        for effect in app.effects:  # NOTE: its merged configuration, and each folder's below it
            for h in effect.handlers:
                listed = h.modules.lower()
                if not any(low in listed for low in found):
                    continue
                named = [low for low in h.module_names if low in found]
                if not named:
                    continue
                if evaluate(h.precondition, pool, arch, os_arch).may_load:
                    side = 0
                elif ((before is None or evaluate(h.precondition, before[0], before[1], os_arch).may_load)
                      and not _twin_applies(effect.handlers, h, pool, arch, os_arch)):
                    side = 1
                else:
                    continue
                for low in named:
                    found[low][side].setdefault((h.name, h.path, h.verb), {})[app.label] = None


def _twin_applies(handlers: tuple[Handler, ...], h: Handler, pool: AppPool, arch: Arch, os_arch: Arch) -> bool:
    """Whether another mapping of ``h``'s path applies in the worker with a module of its own (not only IIS's file
    modules): the vendor's mapping for this bitness, where the requests go instead."""
    path = h.path.strip().lower()
    return any(o is not h and o.path.strip().lower() == path and o.module_names
               and not set(o.module_names) <= _STATIC and evaluate(o.precondition, pool, arch, os_arch).may_load
               for o in handlers)


def _handlers(plan: LoadPlan, before: _Process, after: _Process | None, apps: tuple[str, ...],
              name: str) -> tuple[Mappings, Mappings]:
    """:func:`mapping_fates` of the applications ``apps`` (``Site/app`` labels) that ``after``'s worker runs, against
    ``before``'s worker. Empty without a worker."""
    if after is None or after.pool is None or after.arch is None or not apps:
        return (), ()
    pool = plan.server.pool(after.pool.name) or after.pool
    wanted = {a.lower() for a in apps}
    was = (before.pool, before.arch) if before.pool is not None and before.arch is not None else None
    chosen = [a for a in plan.server.applications_in(pool) if a.label.lower() in wanted]
    if was is None:  # NOTE: nothing ran them before: no mapping applied there to be bypassed
        return mapping_fates(plan, pool, after.arch, chosen, name)[0], ()
    return mapping_fates(plan, pool, after.arch, chosen, name, was)


def _removed(before: _Process, after: _Process | None, pool: str | None, moved: tuple[str, ...] = (),
             stay: tuple[str, ...] = (), *, plan: LoadPlan) -> list[SideEffect]:
    """Server-level entries (modules, filters, compression schemes removed from the server) ``before`` loads and
    ``after`` does not, less those replaced by their build for the other architecture; and the ISAPI extensions of the applications ``after`` runs (those ``moved``
    to it, else those that ``stay`` in it) that it no longer loads. A module's effect names the handler mappings of
    those applications that name it (:func:`_handlers`, from ``plan``, the plan after)."""
    kept = after.loads if after is not None else {}
    twins = after.twins if after is not None else set()
    configured = {c.name.lower() for c in plan.server.compression_schemes}
    out = []
    for key, ld in before.loads.items():
        if key in kept or _replaced(ld, twins):
            continue
        if ld.kind is LoadKind.COMPRESSION_SCHEME and ld.name.lower() in configured:
            # NOTE: still configured, no longer loaded: the compression modules left the worker, and their own effect
            # says it; a scheme's effect stands for the scheme removed from the server (no pool compresses with it)
            continue
        app = f"{ld.site}{ld.application or ''}" if ld.site is not None else ""
        if ld.kind is LoadKind.ISAPI_EXTENSION and app in (moved or stay):
            # NOTE: a handler whose own bitness preCondition is false where its application now runs: the mapping no
            # longer applies, and the requests it took go to another handler (the fix "works" by leaving it out)
            out.append(SideEffect(EffectKind.UNLOADED, pool, before.name, ld.name, ld.kind.value, _ran(ld),
                                  is_security(ld.name, ld.binary.configured, ld.kind), before.arch,
                                  after.arch if after is not None else None, (app,)))
            continue
        if ld.kind in _APP_FILES:
            continue
        if moved and ld.site is not None and not (
                ld.kind is LoadKind.ISAPI_FILTER and any(m.split("/", 1)[0].lower() in before.sites.get(key, ())
                                                         for m in moved)):
            continue  # NOTE: an application-level entry moves with its application; a filter of its site does not
        handlers, bypassed = (_handlers(plan, before, after, moved or stay, ld.name) if ld.kind is LoadKind.GLOBAL_MODULE
                              else ((), ()))
        out.append(SideEffect(EffectKind.UNLOADED, pool, before.name, ld.name, ld.kind.value, _ran(ld),
                              is_security(ld.name, ld.binary.configured, ld.kind), before.arch,
                              after.arch if after is not None else None, moved, handlers=handlers, bypassed=bypassed))
    return out


_ISAPI = (LoadKind.ISAPI_FILTER, LoadKind.ISAPI_EXTENSION)


def _isapi(after: _Process, before: AbstractSet[tuple[str, ...]]) -> tuple[str, ...]:
    """The ISAPI filter and extension DLLs (file names, in load order) that ``after`` loads and that its process
    loaded before too, as the same file or its build for the other architecture (``before``: :func:`_twin` of each
    load before): what runs at the new architecture with the worker."""
    return tuple(dict.fromkeys(_file(ld) for ld in after.loads.values() if ld.kind in _ISAPI and _twin(ld) in before))


def side_effects(before: LoadPlan, after: LoadPlan) -> tuple[SideEffect, ...]:
    """What changes from ``before`` to ``after``, per process both plans could hold, in process order.

    A process that only ``after`` has is a new pool (its settings from ``after``'s model), and the modules its
    moved applications leave behind in their old worker are :attr:`EffectKind.UNLOADED` for them; a process only
    ``before`` has (a pool left without applications) changes nothing that runs.
    """
    was = _before(before)
    old, new = was.processes, _by_process(after)
    out: list[SideEffect] = []
    for key, b in old.items():
        a = new.get(key)
        pool = b.pool.name if b.pool is not None else None
        if a is None or (a.arch is b.arch and a.loads.keys() == b.loads.keys()):
            continue  # NOTE: the same entries at the same architecture: nothing loaded, unloaded nor moved
        b_twins = b.twins
        first = len(out)
        if a.arch is not b.arch and (b.pool is not None or after.iis6 is None):  # NOTE: IIS 6 aspnet_wp.exe below
            moving = {_twin(ld) for k, ld in a.loads.items() if k in b.loads or _replaced(ld, b_twins)}
            out.append(SideEffect(EffectKind.ARCH, pool, b.name, pool or b.name, before=b.arch, after=a.arch,
                                  applications=_apps(after, a), binaries=len(moving),
                                  isapi=_isapi(a, b_twins) if after.iis6 is not None else ()))
        out += _removed(b, a, pool, stay=_apps(after, a), plan=after)
        out += _added(b, a, pool, b_twins)
        if b.site is not None:  # NOTE: IIS Express: each project's iisexpress.exe named by its site (Process.site)
            out[first:] = [replace(e, site=b.site) for e in out[first:]]
    for key, a in new.items():
        if key in old or a.pool is None:
            continue
        apps = _apps(after, a)
        isapi: tuple[str, ...] = ()
        if after.iis6 is not None and a.arch is not None:
            # NOTE: IIS 5 isolation mode left: what inetinfo.exe/dllhost.exe ran at another bitness, now in this worker
            isapi = _isapi(a, was.elsewhere(a.arch))
        origins = sorted(was.origins(apps))
        # NOTE: the architecture the moved applications ran at, where they all ran at one (a split moves them from a
        # 64-bit worker; aspnetcore-multiple-inprocess's new pool copies its pool's, 32-bit or not)
        ran = {old[o].arch for o in origins}
        out.append(SideEffect(EffectKind.NEW_POOL, a.pool.name, a.name, a.pool.name, after=a.arch, applications=apps,
                              settings=a.pool.settings, like=a.pool.copied_from, isapi=isapi,
                              moved_from=ran.pop() if len(ran) == 1 else None))
        # NOTE: what the moved applications' old worker loaded and the new one does not
        for origin in origins:
            b = old[origin]
            out += _removed(b, a, a.pool.name, apps, plan=after)
    return tuple(out + _aspnet_wp(before, after))


def _aspnet_wp(before: LoadPlan, after: LoadPlan) -> list[SideEffect]:
    """IIS 6 in IIS 5 isolation mode after the fix: the ASP.NET applications whose ``aspnet_wp.exe`` then runs at
    another architecture than their ASP.NET ran before (:func:`iisbitness.loadplan.iis6.aspnet_processes`: ASP.NET
    registered from the other Framework folder), one :attr:`EffectKind.ARCH` per change, whether or not their
    ``bin`` was read (a folder not in the image holds no load, yet the application moves: verification names it).
    Empty otherwise (the w3wp.exe of each pool says it)."""
    if before.iis6 is None or after.iis6 is None or not after.iis6.iis5_mode:
        return []
    was, now = _before(before).aspnet, aspnet_processes(after.iis6)
    labels = {a.location.lower(): a.label for a in after.iis6.apps}
    moved: dict[tuple[Arch, Arch], list[str]] = {}
    for loc, (_, arch) in now.items():
        old = was.get(loc)
        if old is not None and old[1] is not arch:
            moved.setdefault((old[1], arch), []).append(labels[loc])
    out = []
    for (old_arch, arch), apps in moved.items():
        files = {_twin(ld) for ld in after.loads if ld.process.name == "aspnet_wp.exe" and ld.process.arch is arch
                 and f"{ld.site}{ld.application or ''}" in apps}
        out.append(SideEffect(EffectKind.ARCH, None, "aspnet_wp.exe", "aspnet_wp.exe", before=old_arch, after=arch,
                              applications=tuple(apps), binaries=len(files)))
    return out
