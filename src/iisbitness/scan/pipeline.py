"""The scan pipeline, one path for both IIS generations.

sources (image, config) -> :class:`~iisbitness.scan.backend.Backend` (the model) -> load plan ->
rules -> verified findings -> :class:`~iisbitness.report.Report`.

The backend is chosen by what the image holds (:func:`read_backend`): applicationHost.config is
IIS 7+; only ``Windows/System32/inetsrv/MetaBase.xml`` is IIS 6; ``--config`` decides by content.
A Visual Studio solution or project folder (``--iisexpress``, or a folder with ``.vs``/``.sln``/``.csproj``
and no ``Windows``) is IIS Express on a developer machine (:func:`scan_iisexpress`).
"""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
import threading
from collections import ChainMap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from iisbitness.arch import Arch
from iisbitness.config.apphost import APPHOST, read_server
from iisbitness.config.iisexpress import has_project, read_workspace
from iisbitness.config.metabase import find_metabase, is_metabase, read_iis6
from iisbitness.errors import CacheError, FixError, ServerImageError
from iisbitness.findings import FileEdit, Finding, Rule
from iisbitness.fixes.plan import Documents
from iisbitness.fixes.verify import Analysis, fixes_unverifiable, verify
from iisbitness.image.detect import detect_os_arch
from iisbitness.image.record import Recorder
from iisbitness.image.server_image import ServerImage
from iisbitness.loadplan.context import PlanContext
from iisbitness.loadplan.coverage import Given, plan_coverage
from iisbitness.loadplan.plan import CoverageStatus, Load, LoadPlan, Skipped
from iisbitness.model.edits import Edit, touched_pools
from iisbitness.model.iis7 import without_secrets
from iisbitness.model.source import Problem
from iisbitness.pe.facts import BinaryFacts
from iisbitness.pe.prefetch import read_ahead
from iisbitness.pe.store import SqliteFactStore
from iisbitness.report import Report
from iisbitness.rules import RULES
from iisbitness.scan import report_cache
from iisbitness.scan.backend import Backend, Iis6Backend, Iis7Backend, iisexpress_modules
from iisbitness.scan.iisexpress import IisExpressBackend
from iisbitness.scan.loadmap import load_map

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ScanOptions:
    """Options of a scan.

    Attributes:
        os_arch: force the OS architecture (else detected from the image).
        drives: extra drive letters, ``{"D": Path(...)}``.
        shares: offline copies of UNC shares, ``{"\\\\server\\share": Path(...)}`` (``--share``): a ``physicalPath`` or
            binary on ``\\\\server\\share\\...`` is read below that folder
            (:attr:`~iisbitness.image.server_image.ServerImage.share_folders`).
        config: an explicit applicationHost.config (or IIS 6 MetaBase.xml) to read instead of the image's.
        env: environment variables the server sets (``--env NAME=VALUE``).
        rules: the rules whose findings are reported (default: all); fix verification always runs every rule,
            so that what is shown never changes what "verified" means (issue 20).
        progress: called with short status lines during long scans.
        on_read: called with the path of every binary read from disk (for a progress count).
        cache: a SQLite file remembering what was read from each binary, and the whole report with the identity
            of every input it read (``--cache``): a rescan of a server none of whose inputs changed returns the
            stored report (:mod:`iisbitness.scan.report_cache`); else it reads only the binaries that changed
            (:mod:`iisbitness.pe.store`). Not for the live system or IIS Express (facts only there).
        load_map: also build the load map (``Report.loads``, ``scan --loads``).
        iisexpress: scan a Visual Studio solution/project folder for IIS Express (True), a server image
            (False), or decide from the folder (None).
        iisexpress_arch: IIS Express: the ``iisexpress.exe`` bitness Visual Studio's global option gives
            (``--iisexpress-arch``), instead of reading/assuming it (iis-express-facts.md F2.1).
        text_fixes: give each verified fix its configuration change as text edits
            (``Fix.file_edits``, for SARIF ``fixes``); reads the configuration files once more.
        given: what the user gave as the image (:class:`iisbitness.loadplan.coverage.Given`): a server image (the
            default), a configuration file alone (``scan --config FILE`` without an image: an empty folder stands for
            C:\\, and a folder coverage says to copy goes into a server image folder to make, with the file in it), a
            build folder alone (``check-app`` without ``--server``: a file outside it is the server's), a server image
            with a build as one of its applications (``check-app --server``); coverage words its remedies, and which
            command to run again, from it (:func:`iisbitness.loadplan.coverage.plan_coverage`).
        reference_assemblies: kept for callers of earlier versions, and changes nothing: every scan, fix and
            check-app finds reference assemblies in ``bin`` (bin-reference-assembly), from the marker read with each
            assembly's references (:attr:`PeImage.reference_assembly <iisbitness.pe.types.PeImage.reference_assembly>`).
    """

    os_arch: Arch | None = None
    drives: dict[str, Path] = field(default_factory=dict)
    shares: dict[str, Path] = field(default_factory=dict)
    config: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    rules: tuple[Rule, ...] = RULES
    progress: Progress | None = None
    on_read: Callable[[Path], None] | None = None
    cache: Path | None = None
    load_map: bool = False
    iisexpress: bool | None = None
    iisexpress_arch: Arch | None = None
    text_fixes: bool = False
    given: Given = Given.IMAGE
    reference_assemblies: bool = False


def run_rules(plan: LoadPlan, rules: tuple[Rule, ...], problems: list[Problem] | None = None) -> list[Finding]:
    """Run ``rules`` on ``plan``; a rule that crashes is reported in ``problems`` and the rest go on."""
    out: list[Finding] = []
    for r in rules:
        try:
            out.extend(r.check(plan))
        except Exception as e:
            log.exception("rule %s failed", r.id)
            if problems is not None:
                problems.append(Problem("(iisbitness)", None, f"rule {r.id} failed: {type(e).__name__}: {e}"))
    manual = plan.iisexpress is None and plan.server.starts_manually()  # NOTE: cached per server copy (issue 25)
    return sorted((with_start_note(plan, f) for f in out) if manual else out, key=lambda f: f.sort_key)


def with_start_note(plan: LoadPlan, finding: Finding) -> Finding:
    """``finding`` with its cause saying when its pool or site does not start by itself (autoStart /
    serverAutoStart false, :meth:`iisbitness.model.iis7.Server.manual_start`): the finding stands, it bites
    on the next start."""
    if plan.iisexpress is not None:
        return finding  # NOTE: Visual Studio starts IIS Express sites itself, whatever serverAutoStart says
    pool = plan.server.pool(finding.pool) if finding.pool else None
    # NOTE: an undefined pool (rule pool-undefined) never starts, by itself or by hand
    why = plan.server.manual_start(pool, finding.site) if pool is not None and pool.declared else None
    if why is None:
        return finding
    # NOTE: "applies", not "fails": the finding may be a could-not-check warning (a partial copy) rather than a failure
    return replace(finding, cause=f"{finding.cause} It does not start by itself ({why}): it stays stopped when IIS "
                                  "starts, and this applies once someone starts it.")


def _of_pools(plan: LoadPlan, pools: frozenset[str]) -> LoadPlan:
    """``plan`` with only the loads, skips and outlooks of ``pools`` (lower-case names; see ``verify``)."""
    return replace(plan, loads=tuple(ld for ld in plan.loads if ld.process.pool is not None
                                     and ld.process.pool.name.lower() in pools),
                   skipped=tuple(s for s in plan.skipped if s.process.pool is not None
                                 and s.process.pool.name.lower() in pools),
                   outlook=tuple(o for o in plan.outlook if o.pool.lower() in pools))


def open_image(image: Path | None, options: ScanOptions) -> ServerImage:
    """The server image at ``image``, or the live system when ``image`` is None."""
    if image is None:
        return ServerImage.live_system()
    return ServerImage.offline(image, options.drives, options.shares)


def with_file_edits(findings: list[Finding], backend: Backend, img: ServerImage) -> list[Finding]:
    """``findings`` with each verified fix's configuration change as text edits (``Fix.file_edits``).

    A fix whose change cannot be planned (an element moved, a file that cannot be decoded) keeps none.
    """
    files: dict[str, bytes] = {}

    def read(shown: str) -> bytes:
        if shown not in files:
            try:
                files[shown] = img.host_of(shown).read_bytes()
            except OSError as e:
                raise FixError(f"{shown}: cannot read: {e.strerror or e}") from e
        return files[shown]

    # NOTE: each file parsed once for the report, not once per fix; each fix's change read from its edits' offsets
    documents = Documents(read, text_edits=True)
    done: dict[tuple[Edit, ...], tuple[FileEdit, ...]] = {}
    out = []
    for f in findings:
        fixes = []
        for fix in f.fixes:
            if fix.verified is True and fix.edits:
                if fix.edits not in done:
                    try:
                        changes = backend.changes(fix.edits, documents)
                    except FixError as e:
                        log.info("no text edits for %r: %s", fix.summary, e)
                        changes = []
                    edits = tuple(FileEdit(c.shown, c.replacements) for c in changes)
                    # NOTE: a split copying a pool's password writes it into the file: the report (SARIF's
                    # artifactChanges) gets no text edits for it, the commands copy it by reading the old pool
                    secret = any(without_secrets(r.text) != r.text for e in edits for r in e.replacements)
                    done[fix.edits] = () if secret else edits
                fix = replace(fix, file_edits=done[fix.edits])
            fixes.append(fix)
        out.append(replace(f, fixes=tuple(fixes)))
    return out


def metabase_source(img: ServerImage, config: Path | None) -> tuple[Path, str] | None:
    """The IIS 6 metabase to read, or None for an IIS 7+ scan.

    ``--config`` decides by content; without it, an image with applicationHost.config stays IIS 7+
    and one with only MetaBase.xml is IIS 6.
    """
    if config is not None:
        return (config, str(config)) if is_metabase(config) else None
    found = img.locate(APPHOST)
    if found.host_path is not None and found.host_path.is_file():
        return None
    return find_metabase(img)


def read_backend(img: ServerImage, os_arch: Arch, os_from: str, options: ScanOptions) -> Backend:
    """Read the server's configuration into the backend of its IIS generation.

    Raises:
        ServerImageError: no configuration found. ConfigError: applicationHost.config (or the IIS 6
            MetaBase.xml) unusable (the message names file and line).
    """
    metabase = metabase_source(img, options.config)
    if metabase is not None:
        if options.progress:
            options.progress("reading MetaBase.xml")
        return Iis6Backend(read_iis6(metabase[0], metabase[1], os_arch, os_from))
    server = read_server(img, os_arch, os_from, options.config, options.progress)
    express = iisexpress_modules(server)
    if express:
        server = replace(server, problems=(*server.problems, Problem(
            express[0].source.file, express[0].source.line, "this is an IIS Express configuration (its global modules are under %IIS_BIN%): "
            "its sites run in iisexpress.exe, whose bitness Visual Studio picks, not in one w3wp.exe per pool at the "
            "pool's bitness as read here; scan the Visual Studio solution folder with it (docs/iisexpress.md)")))
    return Iis7Backend(server)


def scan(image: Path | None, options: ScanOptions | None = None) -> Report:
    """Scan a server image (or the live server when ``image`` is None, on Windows).

    Raises:
        ServerImageError: no configuration found. ConfigError: applicationHost.config (or the IIS 6
            MetaBase.xml) unusable.
    """
    options = options or ScanOptions()
    if image is not None and wants_iisexpress(image, options):
        return scan_iisexpress(image, options)
    if image is not None and options.cache is not None:
        return _scan_with_report_cache(image, options, options.cache)
    return scan_image(open_image(image, options), options, str(image) if image is not None else "live")


def scan_image(img: ServerImage, options: ScanOptions, label: str, detected: tuple[Arch, str] | None = None,
               store: SqliteFactStore | None = None, facts: BinaryFacts | None = None) -> Report:
    """Scan an already opened server image (a folder, the live machine, a collected zip), shown as ``label``;
    ``detected``: the OS architecture and how it was decided, when known (a collected zip's manifest);
    ``store``, ``facts``: the ``--cache`` already open and the facts reading through it (see :func:`analyse`).

    Raises:
        ServerImageError: no configuration found. ConfigError: applicationHost.config (or the IIS 6
            MetaBase.xml) unusable.
    """
    if options.os_arch is not None:
        os_arch, os_from = options.os_arch, "--os-arch"
    else:
        os_arch, os_from = detected or detect_os_arch(img)
    backend = read_backend(img, os_arch, os_from, options)
    return analyse(backend, img, given_for(backend, options), label, store, facts)


def given_for(backend: Backend, options: ScanOptions) -> ScanOptions:
    """``options`` with :attr:`ScanOptions.given` :attr:`Given.IISEXPRESS_CONFIG` when ``backend`` reads an IIS Express
    configuration as a server's (:func:`iisbitness.scan.backend.iisexpress_modules`), so that coverage's remedies say
    to scan the solution folder with it, not to make a server image or pass ``--env``; ``scan`` and ``fix`` both
    (``fix`` reports the scan's coverage). Not under check-app (:attr:`Given.BUILD`, :attr:`Given.BUILD_ON_SERVER`):
    its coverage says to run check-app again (:attr:`Given.again`), which the override would turn into "scan again".
    Raises nothing."""
    if (isinstance(backend, Iis7Backend) and options.given not in (Given.BUILD, Given.BUILD_ON_SERVER)
            and iisexpress_modules(backend.server)):
        return replace(options, given=Given.IISEXPRESS_CONFIG)
    return options


def report_key(image: Path, options: ScanOptions) -> str:
    """What the report of a scan depends on besides its inputs: the code, the image and every option that
    changes the report (not the progress callbacks); a JSON text."""
    def where(p: Path | None) -> list[str] | None:
        return None if p is None else [str(p), os.path.abspath(p)]

    return json.dumps([report_cache.code_fingerprint(), where(image), options.os_arch and options.os_arch.value,
                       sorted((k, where(v)) for k, v in options.drives.items()), where(options.config),
                       sorted((k.lower(), where(v)) for k, v in options.shares.items()),
                       sorted(options.env.items()), [r.id for r in options.rules], options.load_map,
                       options.iisexpress, options.iisexpress_arch and options.iisexpress_arch.value,
                       options.text_fixes, options.given.value])


def _scan_with_report_cache(image: Path, options: ScanOptions, cache: Path) -> Report:
    """:func:`scan` with ``--cache``: the stored report when none of its inputs changed (and the cache opened
    clean), else a scan that reads only changed binaries and stores its report for the next time
    (:mod:`iisbitness.scan.report_cache`)."""
    def run(store: SqliteFactStore) -> tuple[Report, list[str]]:
        img = open_image(image, options)
        facts = BinaryFacts(store, options.on_read)
        # NOTE: the image's recorder (what ``collect`` uses) sees every file opened and folder listed below the
        # image; the facts add the binaries answered from the cache unopened
        with Recorder(img) as recorder:
            report = scan_image(img, options, str(image), store=store, facts=facts)
        return report, [*recorder.opened, *map(str, recorder.folders()), *facts.inputs(),
                        # NOTE: outside the image's roots, so unrecorded
                        *([str(options.config)] if options.config else [])]

    return cached_report(cache, report_key(image, options), run)


def cached_report(cache: Path, key: str,
                  run: Callable[[SqliteFactStore], tuple[Report, list[str] | None]]) -> Report:
    """The report stored in ``cache`` under ``key`` when every input it was made from is unchanged (and the cache
    opened clean); else ``run(store)`` (a scan reading binaries through the open cache: ``(report, the paths of
    its inputs)``), its report stored under ``key`` with those inputs' identities (:mod:`.report_cache`); inputs
    None: the report is not to be stored (the facts are).

    Raises:
        CacheError: ``cache`` cannot be opened or created (a failed write is a problem in the report instead);
            whatever ``run`` raises.
    """
    with SqliteFactStore(cache) as store:
        stored = store.report(key) if not store.notes else None
        if stored is not None and report_cache.unchanged(stored[0]):
            hit = report_cache.decode(stored[1])
            if hit is not None:
                return hit
        report, inputs = run(store)
        notes = {Problem(str(cache), None, f"cache {n}") for n in store.notes}
        plain = replace(report, problems=tuple(p for p in report.problems if p not in notes))
        if inputs is not None:
            store.put_report(key, json.dumps(report_cache.identities(dict.fromkeys(inputs)), separators=(",", ":")),
                             report_cache.encode(plain))
        try:
            store.flush()
        except CacheError as e:
            return replace(report, problems=report.problems + (Problem(str(cache), None, str(e)),))
        return report


def wants_iisexpress(folder: Path, options: ScanOptions) -> bool:
    """``--iisexpress``, or a Visual Studio solution/project folder that is not a server image."""
    if options.iisexpress is not None:
        return options.iisexpress
    return has_project(folder) and ServerImage.offline(folder).find_child(folder, "Windows") is None


def scan_iisexpress(folder: Path, options: ScanOptions) -> Report:
    """Scan a Visual Studio solution or project folder: each web project in the ``iisexpress.exe`` that runs it.

    The machine's own files (``Program Files\\IIS Express``, ``dotnet``) come from ``--drive C=...`` or, on
    Windows, the live system drive; without them they are absent and their architecture is inferred from
    their folder. The OS is x64 unless ``--os-arch`` or that drive says otherwise.
    A physicalPath on a UNC share is read from its ``--share`` folder (``options.shares``), as on a server.

    ``--iisexpress-arch arm64`` with the OS only assumed takes the OS as arm64 (an ARM64 ``iisexpress.exe`` runs on
    Windows on Arm only, facts F1.7).

    Raises:
        ServerImageError: no IIS Express configuration; ``--iisexpress-arch arm64`` with an OS given (``--os-arch``)
            or read (``--drive C=``, the live system) as another. ConfigError: it is not usable XML.
    """
    if options.drives:
        machine = ServerImage.offline(options.drives.get("C", folder), options.drives)
        if "C" not in options.drives:
            machine.drives.pop("C")
    elif sys.platform == "win32":
        machine = ServerImage.live_system()
    else:
        machine = ServerImage({})
    if options.shares:  # NOTE: a site's application on a UNC share reads its copy, as a server's does
        machine = replace(machine, share_folders=ServerImage.share_map(options.shares))
    if options.os_arch is not None:
        os_arch, os_from = options.os_arch, "--os-arch"
    elif "C" in machine.drives:
        os_arch, os_from = detect_os_arch(machine)
    else:
        os_arch, os_from = Arch.X64, "assumed: a developer machine; no --drive C= given; --os-arch to change"
    if options.iisexpress_arch is Arch.ARM64 and os_arch is not Arch.ARM64:
        # NOTE: an ARM64 iisexpress.exe runs on Windows on Arm only (facts F1.7): the option says which Windows it is,
        # unless --os-arch or the machine's drive said another
        if options.os_arch is None and "C" not in machine.drives:
            os_arch, os_from = Arch.ARM64, "from --iisexpress-arch arm64: an ARM64 iisexpress.exe runs on Windows on Arm only"
        else:
            raise ServerImageError(f"--iisexpress-arch arm64: an ARM64 iisexpress.exe runs on Windows on Arm only, and "
                                   f"the OS is {os_arch.value} ({os_from}): give --iisexpress-arch x64 or --os-arch arm64")
    workspace, img = read_workspace(folder, machine, os_arch, os_from, options.iisexpress_arch, options.config)
    return analyse(IisExpressBackend(workspace), img, options, str(folder))


_GC_LOCK = threading.Lock()
_gc_depth = 0
_gc_saved: tuple[int, int, int] | None = None


@contextmanager
def _rarer_collections() -> Iterator[None]:
    """Run CPython's cyclic garbage collector less often while scans run; restore its thresholds when the last
    overlapping scan ends.

    NOTE: a scan builds a few objects per binary that live until the report is made and form no cycles,
    and the collector's full passes walk every one of them again each time the heap grows by a quarter:
    a fifth of a 99,315-binary scan (issue 11). mypy tunes its build the same way ("Run gc less
    frequently, as otherwise we can spend a large fraction of cpu in gc", ``mypy/build.py``). Scans in
    threads share one setting (a depth count under a lock: the outermost restores it), and a host that
    turned automatic collection off (``gc.disable()`` or threshold 0) is left as it is.
    """
    global _gc_depth, _gc_saved
    with _GC_LOCK:
        if _gc_depth == 0 and gc.isenabled() and gc.get_threshold()[0] > 0:
            _gc_saved = gc.get_threshold()
            gc.set_threshold(200_000, 30, 30)
        _gc_depth += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _gc_depth -= 1
            if _gc_depth == 0 and _gc_saved is not None:
                gc.set_threshold(*_gc_saved)
                _gc_saved = None


def analyse(backend: Backend, img: ServerImage, options: ScanOptions, image_label: str,
            store: SqliteFactStore | None = None, facts: BinaryFacts | None = None) -> Report:
    """Plan, run the rules, verify fixes and build the report for an already-read server.

    ``store`` and ``facts``: the cache already open and the facts reading through it (the caller flushes it);
    ``facts`` alone: the binaries are read through them, kept by the caller to plan again (``fix``) and closed
    by it, and ``options.cache`` is not opened; with neither, ``options.cache`` is opened (and flushed) here.

    Raises:
        CacheError: ``options.cache`` cannot be opened or created.
    """
    with _rarer_collections():
        if store is not None or facts is not None:
            return analysed(backend, img, options, image_label, facts or BinaryFacts(store, options.on_read),
                            store).report
        return _analyse_with_cache(backend, img, options, image_label)


@dataclass(frozen=True)
class Analysed:
    """A scan's report with what it was made from, for ``fix`` to choose its fixes on the scan's own plan
    (:func:`iisbitness.scan.fix.plan_fix`) instead of planning the server and running every rule again (issue 25).

    Attributes:
        report: the report (:func:`analyse`'s). ctx: the planning context the plan was built in (its caches, and
        the binaries' facts, still reading). plan: the server's load plan as it is. every: every rule that applies
        to the server's IIS generation (verification runs them all). everything: their findings on ``plan``, before
        verification and whatever rules the report shows (``--select``, ``--ignore``).
    """

    report: Report
    ctx: PlanContext
    plan: LoadPlan
    every: tuple[Rule, ...]
    everything: tuple[Finding, ...]


def analysed(backend: Backend, img: ServerImage, options: ScanOptions, image_label: str, facts: BinaryFacts,
             store: SqliteFactStore | None = None) -> Analysed:
    """:func:`analyse` with the binaries read through ``facts`` (kept, and closed, by the caller; ``store``: the
    cache they read through, flushed by the caller), returning the report with its plan and every rule's findings.

    Raises:
        ServerImageError, ConfigError: as :func:`analyse` (nothing else: a rule that fails is a problem in the report).
    """
    with _rarer_collections():
        ctx = PlanContext(img, dict(options.env), os_assumed=backend.os_assumed, facts=facts)
        notes = [Problem(str(options.cache), None, f"cache {n}") for n in store.notes] if store else []
        return _analyse(backend, ctx, options, image_label, notes)


def _analyse_with_cache(backend: Backend, img: ServerImage, options: ScanOptions, image_label: str) -> Report:
    if options.cache is None:
        # NOTE: read ahead only without a cache: with one, most binaries are answered from it, unread
        facts = BinaryFacts(on_read=options.on_read, read_ahead=read_ahead())
        try:
            ctx = PlanContext(img, dict(options.env), os_assumed=backend.os_assumed, facts=facts)
            return _analyse(backend, ctx, options, image_label, []).report
        finally:
            facts.close()
    with SqliteFactStore(options.cache) as store:
        ctx = PlanContext(img, dict(options.env), os_assumed=backend.os_assumed,
                          facts=BinaryFacts(store, options.on_read))
        notes = [Problem(str(options.cache), None, f"cache {n}") for n in store.notes]
        report = _analyse(backend, ctx, options, image_label, notes).report
        try:
            store.flush()
        except CacheError as e:
            return replace(report, problems=report.problems + (Problem(str(options.cache), None, str(e)),))
        return report


def _scratch(ctx: PlanContext) -> PlanContext:
    """``ctx`` for the re-plan of one fix's edited model: what that plan adds to the planning memo serves no other
    fix (each has its own edited model), so it goes in a layer dropped afterwards, reading through to the first
    plan's (issue 25: 10,000 pools, 40,000 global module loads per server-wide re-plan). Every other cache
    (binaries, paths, listings) is shared."""
    return replace(ctx, plans=ChainMap({}, ctx.plans))


class Reanalysis:
    """Re-analyses of edited copies of the server model against ``plan`` (the server as it is), for fix verification
    (:func:`reanalysers`) and ``fix``'s choice of fixes (:func:`iisbitness.scan.fix.plan_fix`), which keeps one edited
    model per step and adds each new fix's edits to it (:meth:`edited`) rather than making every edit again.

    A re-analysis is of the whole server, or of some pools only (:meth:`analyse`): their plan is built alone and
    compared with ``plan``'s loads, skipped loads and outlooks of the same pools."""

    def __init__(self, backend: Backend, ctx: PlanContext, plan: LoadPlan, rules: tuple[Rule, ...]) -> None:
        self.backend, self.ctx, self.plan, self.rules = backend, ctx, plan, rules
        self._by_pool: dict[str, tuple[list[Load], list[Skipped]]] = {}

    def start(self) -> Backend:
        """The model as it is (no edit made)."""
        return self.backend

    def edited(self, model: Backend, edits: tuple[Edit, ...]) -> Backend:
        """``model`` with ``edits`` made too (a copy; edits are made in order, so that ``edited(edited(b, x), y)``
        is ``b.edited(x + y)``)."""
        return model.edited(edits)

    def analyse(self, model: Backend, pools: frozenset[str] | None) -> Analysis:
        """Every finding of every rule of ``model``'s plan, with ``plan`` and that plan: of the whole server when
        ``pools`` is None, else of those pools (lower-case names) only, both plans cut to them."""
        if pools is None:
            after = model.plan(_scratch(self.ctx))
            return Analysis(run_rules(after, self.rules), self.plan, after)
        after = _of_pools(model.plan(_scratch(self.ctx), pools), pools)
        return Analysis(run_rules(after, self.rules), self._before(pools), after)

    def _before(self, pools: frozenset[str]) -> LoadPlan:
        """``plan``'s loads, skipped loads and outlooks of ``pools``, from an index built once (not a pass over the
        server per fix: issue 11; the outlooks by :meth:`LoadPlan.outlook_of`). Its skips and outlooks too, as
        :func:`_of_pools` keeps them in the plan after: a worker whose entries a preCondition all keeps out is in both
        plans, so a fix that runs it at another architecture is not taken for a new worker
        (:func:`iisbitness.fixes.effects.side_effects`).

        NOTE: a process's loads follow one another in the plan (:attr:`LoadPlan.loads`): its pool's lists are looked
        up (and its name lower-cased) once per run of them, not per load (19,194 loads of 101 processes in a
        10,000-assembly scan: issue 25)."""
        plan, by_pool = self.plan, self._by_pool
        if not by_pool:
            process, loads = None, None
            for ld in plan.loads:
                if ld.process is not process:
                    process, pool = ld.process, ld.process.pool
                    loads = by_pool.setdefault(pool.name.lower(), ([], []))[0] if pool is not None else None
                if loads is not None:
                    loads.append(ld)
            for sk in plan.skipped:
                if sk.process.pool is not None:
                    by_pool.setdefault(sk.process.pool.name.lower(), ([], []))[1].append(sk)
        touched = sorted(pools)
        parts = [by_pool.get(p, ([], [])) for p in touched]
        return replace(plan, loads=tuple(ld for part in parts for ld in part[0]),
                       skipped=tuple(sk for part in parts for sk in part[1]),
                       outlook=tuple(o for p in touched if (o := plan.outlook_of(p)) is not None))


def reanalysers(backend: Backend, ctx: PlanContext, plan: LoadPlan, rules: tuple[Rule, ...]
                ) -> tuple[Callable[[tuple[Edit, ...]], Analysis], Callable[[tuple[Edit, ...]], Analysis]]:
    """``(reanalyse, reanalyse_pools)`` for :func:`iisbitness.fixes.verify.verify`: ``plan`` (the server as it is)
    against the edited server's plan, of the whole server or of the pools the edits touch
    (:func:`iisbitness.model.edits.touched_pools`; the whole server when they can change any)."""
    again = Reanalysis(backend, ctx, plan, rules)

    def whole(edits: tuple[Edit, ...]) -> Analysis:
        return again.analyse(backend.edited(edits), None)

    def pools(edits: tuple[Edit, ...]) -> Analysis:
        return again.analyse(backend.edited(edits), touched_pools(edits))

    return whole, pools


def _analyse(backend: Backend, ctx: PlanContext, options: ScanOptions, image_label: str,
             notes: list[Problem]) -> Analysed:
    # NOTE: every rule runs, for verification; options.rules (--select, --ignore) only chooses what is reported
    every = tuple(r for r in RULES if backend.applies(r))
    rules = tuple(r for r in options.rules if backend.applies(r))
    shown = {r.id for r in rules}
    if options.progress:
        options.progress("reading binaries")
    plan = backend.plan(ctx)
    problems: list[Problem] = list(backend.problems) + list(plan.problems) + notes
    everything = run_rules(plan, every + tuple(r for r in rules if r not in every), problems)
    findings = [f for f in everything if f.rule in shown]
    if options.progress:
        options.progress("verifying fixes")
    whole, pools = reanalysers(backend, ctx, plan, every)
    coverage = plan_coverage(ctx, plan, problems, given=options.given)
    unchecked = {c.application.lower(): c for c in coverage if c.status is not CoverageStatus.CHECKED}
    findings = verify(findings, whole, backend.breakage, scope=touched_pools, reanalyse_pools=pools,
                      everything=everything, unchecked=unchecked,
                      unverifiable=fixes_unverifiable(problems, plan.server))
    if options.text_fixes:
        findings = with_file_edits(findings, backend, ctx.image)
    report = Report(
        loads=load_map(plan, coverage) if options.load_map else None,
        server=backend.server_summary(image_label, plan),
        pools=backend.pool_summaries(plan),
        findings=tuple(findings),
        problems=tuple(dict.fromkeys(problems)),
        rules=tuple(r.id for r in rules),
        projects=backend.project_summaries(),
        coverage=coverage,
        unreported=tuple(f.rule for f in everything if f.rule not in shown),
        unreported_findings=tuple(f for f in everything if f.rule not in shown),
    )
    return Analysed(report, ctx, plan, every, tuple(everything))
