"""The load map (``scan --loads``): every binary each process would load, with a verdict and why.

It answers "why is there no finding for X?": a binary that loads, one skipped by a preCondition or a
restriction list, one inferred from its folder, one the image does not hold. Built from the load plan
after the rules, read by formats through :class:`iisbitness.report.LoadEntry`.
"""

from __future__ import annotations

from iisbitness.arch import Arch, format_arches, sort_arches
from iisbitness.image.paths import undecided
from iisbitness.image.stock import is_iis_express_folder
from iisbitness.loadplan.iisexpress import IISEXPRESS
from iisbitness.loadplan.plan import (
    Absence,
    AspNetCoreHost,
    BinaryRef,
    BinFile,
    ComServer,
    Coverage,
    CoverageStatus,
    Evidence,
    GacAssembly,
    Load,
    LoadPlan,
    Skipped,
)
from iisbitness.model.source import ConfigSource
from iisbitness.pe.classify import off_arm
from iisbitness.report import LoadEntry, Verdict

APPLICATION = "application"
"""The ``kind`` of a load-map entry that stands for an application the scan did not (fully) read."""

_NONE: frozenset[Arch] = frozenset()

REFERENCE_REASON = ("reference assembly (ReferenceAssemblyAttribute): metadata only, the CLR refuses to load it for "
                    "execution in any process, whatever its header says (BadImageFormatException 0x80131058)")
"""Why a reference assembly in ``bin`` (:attr:`BinFile.reference`) loads nowhere (bin-reference-assembly)."""

_SHOWN: dict[frozenset[Arch], tuple[str, tuple[Arch, ...]]] = {}
"""Per set of architectures (eight at most): :func:`format_arches` and :func:`sort_arches` of it (NOTE: asked per
load, 20,000 of them for a server of 10,000 assemblies: issue 25)."""


def _shown(arches: frozenset[Arch] | None) -> tuple[str, tuple[Arch, ...]]:
    """``(format_arches(arches), sort_arches(arches))``, remembered (:data:`_SHOWN`); None is the empty set."""
    arches = _NONE if arches is None else arches
    found = _SHOWN.get(arches)
    if found is None:
        found = _SHOWN[arches] = (format_arches(arches), tuple(sort_arches(arches)))
    return found


def load_map(plan: LoadPlan, coverage: tuple[Coverage, ...] = ()) -> tuple[LoadEntry, ...]:
    """The map of ``plan``: its loads, then what it skipped, then an ``application`` entry for each application
    of ``coverage`` not (fully) checked (whatever its folder holds is missing from the map), grouped by process in
    plan order."""
    unchecked = [c for c in coverage if c.status is not CoverageStatus.CHECKED]
    os_arch = plan.server.os_arch
    entries = ([_entry(ld, os_arch, plan.os_undecided(ld.binary)) for ld in plan.loads]
               + [_skipped(s) for s in plan.skipped] + [_unchecked(plan, c) for c in unchecked])
    order = {key: i for i, key in enumerate(dict.fromkeys(_process_of(e) for e in entries))}
    return tuple(sorted(entries, key=lambda e: order[_process_of(e)]))


def _process_of(e: LoadEntry) -> tuple[str, str, str]:
    """The process an entry is under (:attr:`Process.key`, with the pool as the entry names it): IIS Express's
    processes are one per project's site, not one per pool."""
    return e.process, e.pool or "", (e.process_site or "").lower()


def _not_checked(absent: Absence) -> str:
    """Why the load map cannot say whether a file not in the image is on the server (:attr:`Absence.not_checked`), in
    the words binary-missing's warning uses for each case."""
    if absent.other_build_only:
        return (f"not in {absent.folder}, which the image does not hold; the image has only the other architecture's "
                f"build, {absent.other_view}: not checked")
    if absent.redirected:
        return ("not in the image; a 32-bit process reaches it through System32 -> SysWOW64 redirection, and which "
                "builds a product's installer puts in SysWOW64 is its own choice: not checked")
    own = "IIS Express's own modules" if is_iis_express_folder(absent.folder) else "Windows' own IIS modules"
    return (f"not in {absent.folder}, which the image holds with {absent.binaries} other binaries but not all of "
            f"{own}: the copy may be partial, not checked")


def _verdict(load: Load, os_arch: Arch, os_undecided: bool = False) -> tuple[Verdict, str]:
    """The verdict of ``load`` and why, on ``os_arch`` Windows; ``os_undecided``: whether any process loads it
    depends on an OS architecture the scan only assumed (:meth:`LoadPlan.os_undecided`)."""
    b = load.binary
    if isinstance(load.entry, GacAssembly) and load.entry.unchecked:
        return Verdict.UNKNOWN, load.entry.unchecked
    if b.problem is not None:
        return Verdict.UNKNOWN, b.problem
    if b.image is not None and not b.image.is_pe:
        return Verdict.INVALID, b.image.reason or "not a valid PE"
    if b.absent is not None and b.absent.why is not None:
        return Verdict.MISSING, f"not on any server: {b.absent.why}"
    if b.absent is not None and b.absent.not_checked:  # NOTE: the one notion, as binary-missing's warning and coverage
        return Verdict.UNKNOWN, _not_checked(b.absent)
    if b.absent is not None and b.absent.on_server and b.absent.gone is not None:  # NOTE: a drive the server lacks
        return Verdict.MISSING, f"{b.absent.gone}, which the scan read itself: missing on the server"
    if b.absent is not None and b.absent.on_server:
        return Verdict.MISSING, f"not in {b.absent.folder} on the server, which the scan read itself: missing on the server"
    if b.absent is not None:
        return Verdict.MISSING, (f"not in {b.absent.folder}, which the image holds with {b.absent.binaries} other "
                                 "binaries: missing on the server")
    runtime = load.entry.runtime if isinstance(load.entry, AspNetCoreHost) else None
    if runtime is not None and runtime.unread and b.missing:  # NOTE: coverage's Unchecked.RUNTIME, in its words
        return Verdict.UNKNOWN, f"the .NET install {runtime.dotnet_root} was not read: {runtime.unread}"
    if b.missing and b.inferred is None:
        why = undecided(b.windows_path, os_arch) if b.windows_path else None
        return Verdict.UNKNOWN, f"not in the image, and {why or 'its folder does not decide its architecture'}"
    if isinstance(load.entry, GacAssembly) and not load.entry.in_view:
        return Verdict.CANNOT_LOAD, (f"not in {', '.join(load.entry.searched)} nor bin: only in {load.entry.found_in} "
                                     f"({_shown(b.arches)[0]}), where a {load.process.arch.value} "
                                     "process never looks")
    if os_undecided and b.image is not None:
        # NOTE: as binary-invalid says it (a could-not-check warning): whether any process loads an ARM64X/ARM64EC
        # image depends on the OS, which the scan only assumed; the file itself is a sign of Windows on Arm
        return Verdict.UNKNOWN, (f"{b.image.describe()}: loads only on Windows on Arm, and the OS architecture was "
                                 "assumed: give --os-arch")
    if isinstance(load.entry, BinFile) and load.entry.reference:
        return Verdict.CANNOT_LOAD, REFERENCE_REASON
    fits = load.fits
    inferred = f" (inferred: {b.inferred.reason})" if b.inferred and b.evidence is Evidence.INFERRED else ""
    if isinstance(load.entry, ComServer) and load.entry.other_view is not None:
        # NOTE: as com-inproc-arch says it: the registration decides, whatever the DLL is (Load.fits)
        dll = f"; the DLL loads in {_shown(b.arches)[0]}{inferred}" if b.arches is not None else ""
        return Verdict.CANNOT_LOAD, (f"registered only in the {load.entry.other_view} registry view; an "
                                     f"{load.process.arch.value} process reads the {load.entry.view} view, where the "
                                     f"class does not exist{dll}")
    if fits is True:
        # NOTE: the enum's _value_, not .value (a descriptor call per load in Python 3.11: issue 25)
        return Verdict.LOADS, f"{load.process.arch._value_} process, binary loads in {_shown(b.arches)[0]}{inferred}"
    if fits is False and isinstance(load.entry, BinFile) and (copy := load.entry.fitting_copy(load.process.arch)):
        # NOTE: as native-library-arch: the package's per-architecture copy loads, not bin's own (facts D5)
        return Verdict.LOADS, (f"{load.process.arch.value} process loads the package's {copy.layout}\\{load.name} "
                               f"({format_arches(copy.binary.arches or frozenset())}), which its managed wrapper "
                               f"picks for this architecture; bin\\{load.name} itself loads only in "
                               f"{_shown(b.arches)[0]}")
    if fits is False and b.chain:
        return Verdict.CANNOT_LOAD, "a dependency does not fit: " + " -> ".join(b.chain)
    if fits is False and not b.arches and b.image is not None:
        # NOTE: not "loads only in none": IA64, ARM32, an ARM64X/ARM64EC image off Windows on Arm (off_arm says why)
        off = off_arm(b.image, os_arch, load.process.arch) if b.image.hybrid is not None else None
        why = f": {off.reason}" if off is not None else ""
        return Verdict.CANNOT_LOAD, (f"{load.process.arch.value} process, binary loads in no process of this "
                                     f"server ({b.image.describe()}){why}")
    if fits is False:
        return Verdict.CANNOT_LOAD, (f"{load.process.arch.value} process, binary loads only in "
                                     f"{_shown(b.arches)[0]}{inferred}")
    return Verdict.UNKNOWN, "architecture not known"


def _arches(b: BinaryRef | None) -> tuple[Arch, ...]:
    arches = b.arches if b is not None else None
    return _shown(arches)[1] if arches is not None else ()


def _entry(load: Load, os_arch: Arch, os_undecided: bool = False) -> LoadEntry:
    verdict, reason = _verdict(load, os_arch, os_undecided)
    b = load.binary
    process = load.process
    return LoadEntry(process.name, process.arch, process.pool.name if process.pool else None,
                     load.kind._value_, load.name, load.site, load.application, b.configured, b.windows_path,
                     b.resolved, _arches(b), b.evidence._value_, verdict, reason, load.source, None, process.site)


def _skipped(s: Skipped) -> LoadEntry:
    b = s.binary
    return LoadEntry(s.process.name, s.process.arch, s.process.pool.name if s.process.pool else None,
                     s.kind.value if s.kind else "", s.name, s.site, s.application, b.configured if b else s.configured,
                     b.windows_path if b else None, b.resolved if b else None, _arches(b),
                     b.evidence.value if b else Evidence.UNKNOWN.value, Verdict.SKIPPED, s.reason, s.source,
                     s.why.value, s.process.site)


def _unchecked(plan: LoadPlan, c: Coverage) -> LoadEntry:
    """An application not (fully) read, under the process that would serve it (:meth:`LoadPlan.worker_of` its pool;
    IIS Express: its project's ``iisexpress.exe``, even when the plan holds no load of it): ``unknown``, with why and
    what to give."""
    pool = plan.server.pool(c.pool)
    process = plan.worker_of(c.pool, c.site or None) if c.pool else None
    project = plan.iisexpress.project_for_site(c.site) if plan.iisexpress is not None and c.site else None
    site = project.site if project is not None else None
    if process is not None:
        name, arch = process.name, process.arch
    elif project is not None:
        name, arch = IISEXPRESS, project.arch
    elif plan.iis6 is not None and plan.iis6.iis5_mode:
        name, arch = "inetinfo.exe", plan.server.os_arch  # NOTE: IIS 5 isolation mode has no worker processes
    else:
        name, arch = "w3wp.exe", pool.worker_arch(plan.server.os_arch) if pool is not None else plan.server.os_arch
    reason = f"{c.status.value.replace('-', ' ')}: {'; '.join(c.reasons)}" + (f"; give: {c.remedy}" if c.remedy else "")
    return LoadEntry(name, arch, c.pool or None, APPLICATION, c.application, c.site or None, c.path or None,
                     c.physical_path, None, None, (), Evidence.UNKNOWN.value, Verdict.UNKNOWN, reason,
                     c.config or ConfigSource(plan.server.config_file), None, site)
