"""binary-missing: a configured binary is not in the image, as the loading process resolves it.

Two cases, decided per folder (:class:`iisbitness.loadplan.plan.Absence`):

- The image holds the folder, with other binaries in it: the file is missing on the server too.
  An error: the process that loads it fails with ERROR_MOD_NOT_FOUND (126, 0x8007007E). The classic
  case is a DLL installed only in System32, which 32-bit workers look for in SysWOW64 (facts B12:
  WSUS suscomp.dll -> HTTP 500.19; aspnetcore.dll missing from SysWOW64 after an OS upgrade).
  Windows' own IIS modules (``authanon.dll`` ...; :mod:`iisbitness.image.stock`) absent from a populated
  ``inetsrv`` give one warning that the copy may be partial instead (a hand copy of some of the folder); another
  file absent from that folder stays an error whose cause says so.
- The image is the server itself (the live server, or a zip collected on it: :attr:`Absence.on_server`): every folder
  of the server is there, so a file absent where the process looks is missing on the server, an error, whatever its
  folder holds; never inferred from the folder, never a partial copy.
- The image does not hold the folder (a configuration-only copy): where the folder decides the
  architecture (SysWOW64, Framework64, Program Files (x86), ...) it is inferred and the mismatch
  rules run on it, and this rule says nothing; elsewhere a warning says it could not be checked. A file a 32-bit
  process reaches through System32 -> SysWOW64 redirection that is not one of Windows' own IIS modules
  (:attr:`Absence.redirected`, decided once in the load plan) is never inferred: Windows installs its own IIS modules
  in both views, but which builds a product's installer puts in SysWOW64 is the installer's choice (WSUS's
  ``suscomp.dll`` is x64 only, facts B12, KB 4468361), so the warning says it could not be checked, with the kind's
  symptom (global modules, filters, extensions and schemes alike). A warning too, naming the copy, where the image
  holds the other architecture's build of the file (the other ``Program Files`` or WOW64 view): the folder alone must
  not call it loadable then. Not for Windows' own files (its IIS modules, the .NET Framework's), installed in both
  views: those are inferred from their folder (``PlanContext.absence``), never a preCondition fix taking them out.

Every warning of this rule is about a file the scan could not check (:attr:`Load.not_checked`, the one notion):
the finding carries it (:attr:`Finding.binary_not_checked`), the applications of its worker are partly checked
(``loadplan.coverage``), and a fix whose worker still loads such a file is not verified (``fixes.verify``).

Symptoms, per kind of load (:data:`_SYMPTOM`, each with its source): a global module that fails to load stops the
worker at start (W3SVC-WP event 2280 "The Module DLL ... failed to load. The data is the error.", data 7E 00 00 00),
and rapid-fail protection then disables the pool (HTTP 503, WAS 5002); an ISAPI filter gives the site HTTP 500.0
"Calling LoadLibraryEx on ISAPI filter ... failed"; an ISAPI extension HTTP 500 "The specified module could not be
found." on mapped requests; an in-process COM server makes ``Server.CreateObject`` fail; an ``httpCompression``
scheme DLL gives HTTP 500.19 (module DynamicCompressionModule or StaticCompressionModule, error 0x8007007E) on
every response of the sites where a compression module is enabled, a static file too, in every pool whose worker looks for it (WSUS's ``suscomp.dll`` installed
only in System32: Lex Li, "IIS 7 and WSUS on Windows Server x64"; KB 4468361, "Management points stop responding to
HTTP requests with error 500.19"). Each missing file is said once, here: compression-scheme-arch says only a scheme
DLL of the other architecture.
"""

from __future__ import annotations

import ntpath
from collections.abc import Iterator
from dataclasses import replace

from iisbitness.arch import Arch
from iisbitness.config.precondition import restrict_to_bitness
from iisbitness.findings import Finding, Fix, Severity, rule
from iisbitness.fixes import iisexpress
from iisbitness.fixes.commands import (
    AppcmdLine,
    filter_precondition,
    global_module_precondition,
    global_module_precondition_lines,
)
from iisbitness.image.paths import undecided
from iisbitness.image.stock import IIS_EXPRESS_OWN, is_iis_express_folder
from iisbitness.loadplan.plan import LOOKED_UP_KINDS, Absence, Load, LoadKind, LoadPlan
from iisbitness.model.iis7 import GlobalModule, IsapiFilter
from iisbitness.rules._common import (
    build_fix,
    compression_modules_fix,
    fixes,
    flip_to,
    module_failing_pools,
    scheme_removal,
    scheme_symptom,
)

_SYMPTOM = {
    # facts D2 (W3SVC-WP 2280, WAS 5002; "IIS W3SVC Module Configuration", "IIS Application Pool Availability")
    LoadKind.GLOBAL_MODULE: "every worker that loads it fails at start (W3SVC-WP event 2280 \"The Module DLL "
                            "'{path}' failed to load. The data is the error.\", data 7E 00 00 00 = error 126), "
                            "then rapid-fail protection disables the pool: HTTP 503",
    # facts D3, correction C4 (technet cc735094: W3SVC-WP 2214; KB 895976)
    LoadKind.ISAPI_FILTER: "the site's requests get HTTP 500.0 \"Calling LoadLibraryEx on ISAPI filter '{path}' "
                           "failed\" (0x8007007E)",
    # facts D4 (KB 895976; KB 943891 "HTTP status codes in IIS")
    LoadKind.ISAPI_EXTENSION: "HTTP 500 on mapped requests: \"The specified module could not be found.\" (0x8007007E)",
    # facts D8 (Persits KB PS080519170: ASP 0177, 8007007e)
    LoadKind.COM_INPROC: "Server.CreateObject fails: \"The specified module could not be found.\" (8007007E)",
    # Lex Li, "IIS 7 and WSUS on Windows Server x64" (suscomp.dll absent from SysWOW64\inetsrv: 500.19, Module
    # DynamicCompressionModule, Notification SendResponseHandler, 0x8007007e); KB 4468361 (the same x64-only DLL
    # that a 32-bit pool looks for in SysWOW64: HTTP 500.19 on every request of the pool)
    LoadKind.COMPRESSION_SCHEME: scheme_symptom("the pool", ", Error Code 0x8007007E \"The specified module could not "
                                                "be found.\""),
}
"""What the user sees when the loading process does not find the file, by kind of load (each with its source)."""
_IISEXPRESS_GLOBAL = ("the {arch} iisexpress.exe does not start (\"Error loading global modules ... Unable to start "
                      "iisexpress.\", as for a module of the other architecture, where the console shows hr = 800700c1; "
                      "for a file not found the hr is inferred, not seen: 8007007e), so F5 fails for every project it "
                      "runs: the module DLL '{path}' is not found (error 126, ERROR_MOD_NOT_FOUND)")
"""A global module under IIS Express: no WAS, so no rapid-fail protection or HTTP 503; the process itself stops at
start, as global-module-arch says for a module of the other architecture (iis-express-facts.md section 5: "Failed
processing with hr = 800700c1 / Error loading global modules. hr = 800700c1 ... Unable to start iisexpress.",
dotnet/aspnetcore #1067, tjanczuk/iisnode #523). INFERENCE, no source found: that a module DLL not found stops
iisexpress.exe the same way, and that its hr is then 8007007e (error 126 as an HRESULT, HRESULT_FROM_WIN32); no
report of that console line was found (searched: issues, pages, public code), so the symptom says it is inferred."""

_KINDS = tuple(_SYMPTOM)
assert frozenset(_KINDS) == LOOKED_UP_KINDS  # NOTE: Load.not_checked is this rule's could-not-check warnings


def _fix_note(absence: Absence, kind: LoadKind) -> str:
    if absence.other_view is not None:
        # NOTE: a compression scheme takes no preCondition (facts C1): the worker's bitness is the other way out
        guard = ("run the pool at the other bitness (a compression scheme takes no preCondition), or remove the scheme "
                 "as KB 4468361 does for WSUS's xpress (no pool compresses with it then)"
                 if kind is LoadKind.COMPRESSION_SCHEME else
                 "guard the entry with a bitness preCondition so that this process skips it")
        return (f" The image has {absence.other_view}: the other architecture's copy was installed and this one "
                "was not. Install the product's build for this process (a separate installer, or the option of its "
                f"installer that adds it), or {guard}.")
    return " Reinstall the product that provides it, or remove the entry if the product was uninstalled."


def _other_build(plan: LoadPlan, load: Load, absence: Absence) -> tuple[Fix, ...]:
    """When the other architecture's copy is installed (``absence.other_view``): a preCondition that keeps the entry
    out of this process's bitness (verified like any fix), and installing this architecture's build (advice). A
    compression scheme, which takes no preCondition (``httpCompression/scheme``, facts C1), has its own
    (:func:`_scheme_fixes`)."""
    if load.kind is LoadKind.COMPRESSION_SCHEME:
        return _scheme_fixes(plan, load, absence)
    if absence.other_view is None or load.process.pool is None or plan.iis6 is not None:
        return ()
    other = load.process.arch.other_bitness
    what = {LoadKind.GLOBAL_MODULE: "global module", LoadKind.ISAPI_FILTER: "ISAPI filter"}.get(load.kind)
    if what is None:
        return ()
    restrict: Fix | None = None
    lines: tuple[AppcmdLine, ...] = ()
    entry = load.entry
    if isinstance(entry, GlobalModule) and (pc := restrict_to_bitness(entry.precondition, other)) is not None:
        # NOTE: the module fails at every worker start there: rapid-fail protection stopped those pools (WAS 5002)
        stopped = plan.derived("binary-missing:stopped", _stopped).get(load.name, ())
        restrict = global_module_precondition(load.name, pc, stopped, plan.server)
        lines = global_module_precondition_lines(load.name, pc, plan.server)
    elif isinstance(entry, IsapiFilter) and (pc := restrict_to_bitness(entry.precondition, other)) is not None:
        in_web_config = entry.source.file != plan.server.config_file
        restrict, lines = filter_precondition(load.name, pc, entry.site or None, in_web_config=in_web_config)
    if restrict is not None and plan.iisexpress is not None:  # NOTE: IIS Express's own appcmd.exe and config, no pool
        restrict = iisexpress.with_iisexpress_appcmd(restrict, plan.iisexpress, lines)
    return fixes(restrict, build_fix(load, what))


def _scheme_fixes(plan: LoadPlan, load: Load, absence: Absence) -> tuple[Fix, ...]:
    """A compression scheme DLL its worker does not find: where the image holds the other copy
    (``absence.other_view``), the pool's worker run at an architecture that loads it (its headers as another worker
    read them; on x64 Windows, when none did, the other WOW64 view's; the flip chosen as every rule's,
    :func:`~iisbitness.rules._common.flip_to`: ARM64's worker architectures, IIS Express's bitness) and installing
    this build (advice); always, as for a scheme DLL of the wrong build (compression-scheme-arch), removing
    the scheme (KB 4468361's own fix for WSUS's ``suscomp.dll``, which has no x86 build) and a bitness preCondition on
    the compression modules, each verified like any fix and ranked after those that keep compression."""
    if load.process.pool is None or plan.iis6 is not None:
        return ()
    flip: Fix | None = None
    build: Fix | None = None
    if absence.other_view is not None:
        # NOTE: the flip chosen as every rule chooses it (rules/_common.flip_to: IIS Express's iisexpress.exe, ARM64's
        # worker architectures), at the architectures that load the copy the image has
        arches = _other_build_arches(plan, load, absence)
        if not arches and plan.server.os_arch is Arch.X64:
            # NOTE: no worker read that copy: on x64 it is the other WOW64 view's
            arches = frozenset({load.process.arch.other_bitness})
        flip = flip_to(plan, load, arches) if arches else None
        build = build_fix(load, "compression scheme DLL")
    return fixes(flip, build, scheme_removal(plan, load), compression_modules_fix(plan, load))


def _other_build_arches(plan: LoadPlan, load: Load, absence: Absence) -> frozenset[Arch]:
    """The architectures that can load the other view's copy of ``load``'s file (``absence.other_view``), from its
    headers as the plan's other workers read them (each resolves the same entry to it); empty when none did."""
    want = (absence.other_view or "").lower()
    out: set[Arch] = set()
    for ld in plan.loads_of(load.kind):
        b = ld.binary
        if b.resolved is not None and b.resolved.lower() == want and b.image is not None and (arches := b.arches):
            out |= arches
    return frozenset(out)


def _stopped(plan: LoadPlan) -> dict[str, tuple[str, ...]]:
    """Per global module name, the declared pools whose worker does not find it, sorted (one walk per plan)."""
    return module_failing_pools(plan, lambda ld: ld.binary.missing_on_server)


def _path(ld: Load) -> str:
    return (ld.binary.windows_path or ld.binary.configured).lower()


def _uses(plan: LoadPlan, paths: set[str]) -> tuple[dict[str, set[str]], dict[tuple[object, ...], set[object]]]:
    """For the binaries ``paths`` (:func:`_path`): the processes that load each, and the ``(site, application)``
    of each entry naming it per kind, pool and process: one walk of the plan, not one per finding (issue 25)."""
    users: dict[str, set[str]] = {}
    places: dict[tuple[object, ...], set[object]] = {}
    for ld in plan.loads:
        if (path := _path(ld)) in paths:
            users.setdefault(path, set()).add(ld.process.describe())
            places.setdefault((ld.kind, ld.process.key, path), set()).add(
                (ld.site, ld.application))
    return users, places


@rule("binary-missing", Severity.WARNING, "A configured binary is not where the loading process looks for it",
      iisexpress_detail=("One finding per absent binary and process that looks for it (each project's iisexpress.exe "
                         "fails on its own): an error when its folder is in the image, else a warning when its folder "
                         "does not decide its architecture."))
def binary_missing(plan: LoadPlan) -> Iterator[Finding]:
    """One finding per absent binary and process that looks for it (each pool's worker fails on its own): an error
    when its folder is in the image, else a warning when its folder does not decide its architecture."""
    seen: set[tuple[str, ...]] = set()
    partial: dict[str, list[Load]] = {}
    missing = [ld for ld in plan.loads_of(*_KINDS)
               if ld.binary.missing and not (ld.binary.inferred is not None and ld.binary.absent is None)]
    using, placed = _uses(plan, {_path(ld) for ld in missing}) if missing else ({}, {})
    stock_absent = _stock_absent(missing)
    for load in missing:
        b = load.binary
        path = _path(load)
        key = (*load.process.key, path)  # NOTE: IIS Express: one iisexpress.exe per project, not per pool
        if key in seen:
            continue
        seen.add(key)
        users = sorted(using[path])
        symptom = _SYMPTOM[load.kind].format(path=b.windows_path or b.configured)
        if plan.iisexpress is not None and load.kind is LoadKind.GLOBAL_MODULE:
            symptom = _IISEXPRESS_GLOBAL.format(arch=load.process.arch.value, path=b.windows_path or b.configured)
        if b.absent is not None and b.absent.partial_copy:
            partial.setdefault(b.absent.folder, []).append(load)
            continue
        # NOTE: one finding for the process: where several applications' entries name the file, none is its place
        # (else the finding's key would follow whichever came first, and a fix that moves one would look new)
        places = placed[load.kind, load.process.key, path]
        if len(places) > 1:
            load = replace(load, site=None, application=None)
        if b.absent is not None and not b.absent.redirected:
            yield _missing_on_server(plan, load, b.absent, symptom, users, stock_absent.get(b.absent.folder, ()))
            continue
        undecided_why = undecided(b.windows_path, plan.server.os_arch) if b.windows_path else None
        where = ((f"; its folder is not in the image either, and {undecided_why}" if undecided_why else
                  "; its folder is not in the image either and does not decide its architecture")
                 if b.absent is None else
                 # NOTE: reached through System32 -> SysWOW64 redirection (Absence.redirected): not inferred
                 f": {load.process.describe()} looks there as WOW64 redirects System32 for 32-bit processes. Windows "
                 "installs its own IIS modules in both views, but which builds a product's installer puts in SysWOW64 "
                 "is its own choice, and some put none (WSUS's suscomp.dll, x64 only: HTTP 500.19, KB 4468361), so "
                 "the folder does not say it is there. Not checked: look for the file there on the server, or give "
                 "the scan a copy of that folder")
        yield Finding.for_load(
            load, binary_missing.id, binary_missing.severity,
            f"If the file is missing on the server too: {symptom}.",
            f"'{b.configured}' resolves to {b.windows_path}, which is not in the image{where}. "
            + _loaded_by(users, load.process.describe()),
        )
    for folder, loads in partial.items():
        yield _partial_copy(folder, loads)


_LOADERS_SHOWN = 8
"""How many of the processes that load a missing file a finding names: one finding per process already says each, so
naming them all in every finding grows with the square of the pools (a vendor DLL a shared-hosting server's 2,000
32-bit pools look for in SysWOW64: 2,000 findings of 2,000 names each)."""


def _loaded_by(users: list[str], own: str) -> str:
    """``Loaded by: ...`` of a finding: every process in ``users`` (sorted) that loads the file, or past
    :data:`_LOADERS_SHOWN` the finding's ``own`` process, the first others and how many more (``--loads`` and the other
    findings name each)."""
    if len(users) <= _LOADERS_SHOWN:
        return f"Loaded by: {'; '.join(users)}."
    shown = [own, *[u for u in users if u != own][:_LOADERS_SHOWN - 1]]
    more = len(users) - len(shown)
    return (f"Loaded by: {'; '.join(shown)}; and {more} more process{'' if more == 1 else 'es'}, each with a finding "
            "of its own (--loads lists every one).")


def _stock_absent(missing: list[Load]) -> dict[str, tuple[str, ...]]:
    """Per folder (as the user names it), the names of Windows' own IIS modules absent from it (of the ``missing``
    loads): a folder that lacks them is more likely a partial copy (:attr:`Absence.partial_copy`)."""
    out: dict[str, set[str]] = {}
    for load in missing:
        absent = load.binary.absent
        if absent is not None and absent.partial_copy:
            out.setdefault(absent.folder, set()).add(_file_name(load))
    return {k: tuple(sorted(v)) for k, v in out.items()}


def _file_name(load: Load) -> str:
    return _path(load).rsplit("\\", 1)[-1]


def _partial_copy(folder: str, loads: list[Load]) -> Finding:
    """One warning for Windows' own IIS modules absent from a populated inetsrv, or IIS Express's own from its install
    folder: a partial hand copy, most likely."""
    names = sorted({_file_name(ld) for ld in loads})
    # NOTE: PlanContext.absence marks a partial copy only in inetsrv or IIS Express's install folder (image.stock)
    template = ""
    if is_iis_express_folder(ntpath.dirname(_path(loads[0]))):
        own, symptom = ("IIS Express's own modules", ("None, if the machine has them: IIS Express installs them in its "
                        "folder and its template configuration names them."))
        # NOTE: no Microsoft document lists IIS Express's install folder; these two rest on its template alone
        if only := sorted(n for n in names if n.lower() in IIS_EXPRESS_OWN):
            template = (f" {' and '.join(only)} {'is' if len(only) == 1 else 'are'} counted as IIS Express's own only "
                        "because its template configuration names them under %IIS_BIN% (no Microsoft document lists "
                        "the files IIS Express installs): check them on the machine before relying on this.")
    else:
        own, symptom = ("Windows' own IIS modules", ("None, if the server has them: the IIS installer adds these entries "
                        "when it installs the module's role service."))
    found = Finding.for_load(
        loads[0], binary_missing.id, Severity.WARNING, symptom,
        f"The image holds {folder} with other binaries, but not {len(names)} of {own} the "
        f"configuration names ({', '.join(names)}): the copy may be partial rather than the server broken. Copy the "
        "whole folder (docs/images.md) or use iisbitness collect to check them." + template)
    # NOTE: one finding for the folder: its binary names them all (text lists it under "Not in the image"); every
    # worker of that bitness reads the folder, so it names the process kind, not the first load's pool
    return replace(found, binary=f"{folder}: {', '.join(names)} ({len(names)} of {own}: "
                                 "the copy may be partial)", pool=None, site=None, application=None,
                   partial_copy=(folder, *names))


def _missing_on_server(plan: LoadPlan, load: Load, absence: Absence, symptom: str, users: list[str],
                       stock_absent: tuple[str, ...] = ()) -> Finding:
    b = load.binary
    if absence.why is not None:
        cause = (f"'{b.configured}' resolves to {b.windows_path} in {load.process.describe()}: {absence.why}. "
                 f"{_loaded_by(users, load.process.describe())} Name the file by its real folder (%windir%\\System32, "
                 "which each process sees as its own view).")
        return Finding.for_load(load, binary_missing.id, Severity.ERROR, symptom[0].upper() + symptom[1:] + ".", cause)
    if absence.on_server:
        # NOTE: the live server or a zip collected on it: every folder of the server is there (PlanContext.absence)
        lacks = absence.gone or f"{absence.folder} does not hold this file there"  # NOTE: gone: a drive it lacks
        cause = (f"'{b.configured}' resolves to {b.windows_path} in {load.process.describe()}, and the scan read the "
                 f"server itself (live, or a zip collected on it): {lacks}, so it is missing on the server. "
                 f"{_loaded_by(users, load.process.describe())}" + _fix_note(absence, load.kind))
        return Finding.for_load(load, binary_missing.id, Severity.ERROR, symptom[0].upper() + symptom[1:] + ".", cause,
                                _other_build(plan, load, absence))
    if absence.other_build_only:
        # NOTE: the folder is not in the image, so nothing says the server lacks the file; the other build in the
        # image says the folder alone must not decide it loads (PlanContext.absence)
        # NOTE: "no binary in": the folder may be absent or there without binaries (inetsrv with only config\)
        cause = (f"'{b.configured}' resolves to {b.windows_path} in {load.process.describe()}. The image holds no "
                 f"binary in {absence.folder}, but it holds the other architecture's build, {absence.other_view}: the "
                 "product's installer may have put only that build on the server (which builds it installs is its "
                 f"own choice), or the copy left {absence.folder}'s binaries out. Not checked: look for the file there "
                 "on the "
                 f"server, or give the scan a copy of that folder. {_loaded_by(users, load.process.describe())}")
        return Finding.for_load(load, binary_missing.id, Severity.WARNING,
                                f"If the file is missing on the server too: {symptom}.", cause,
                                _other_build(plan, load, absence))
    cause = (f"'{b.configured}' resolves to {b.windows_path} in {load.process.describe()}. The image holds "
             f"{absence.folder} with {absence.binaries} other binar{'y' if absence.binaries == 1 else 'ies'} but not "
             "this file, so it is taken as missing on the server (a copy of that folder, not a configuration-only "
             f"image). {_loaded_by(users, load.process.describe())}" + _fix_note(absence, load.kind))
    if stock_absent:  # NOTE: the same folder lacks Windows' own modules too: the evidence for "missing" is weaker
        cause += (f" The copy of {absence.folder} may be partial, though: it lacks {len(stock_absent)} of Windows' own "
                  f"IIS modules as well ({', '.join(stock_absent)}); check the file on the server before acting.")
    return Finding.for_load(load, binary_missing.id, Severity.ERROR, symptom[0].upper() + symptom[1:] + ".", cause,
                            _other_build(plan, load, absence))
