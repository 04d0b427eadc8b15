"""What planning reads from: the server image, the user's environment overrides, and caches.

The context holds only caches (so that re-planning for fix verification is cheap and results never
depend on call order); collectors return what they find (:mod:`iisbitness.loadplan.collectors`).
Path resolution follows the loader (facts B11, B12, E1; "File System Redirector", "Dynamic-Link Library
Search Order").
"""

from __future__ import annotations

import ntpath
import os
import stat
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from iisbitness.arch import Arch, format_arches
from iisbitness.config.precondition import Evaluation, evaluate
from iisbitness.errors import ImageReadError
from iisbitness.image.paths import (
    counterparts,
    expand,
    infer_from_location,
    is_absolute,
    normalize,
    plain_name,
    process_environment,
    redirect,
    seen_alike,
    under_syswow64,
    unseen,
)
from iisbitness.image.server_image import FilesOf, ServerImage
from iisbitness.image.stock import IIS_EXPRESS_VARIABLES, is_windows_iis_binary, is_windows_own
from iisbitness.loadplan.plan import Absence, BinaryRef, Load, LoadKind, Process, Skipped, SkipReason
from iisbitness.model.iis7 import Application, Server
from iisbitness.model.source import ConfigSource, Problem
from iisbitness.pe.classify import ARM64_HYBRIDS, on_os
from iisbitness.pe.deps import NOT_FOUND, Unresolved, dependency_names, find_mismatch
from iisbitness.pe.facts import BinaryFacts
from iisbitness.pe.types import ImageKind, PeImage

_NOT_PE = ImageKind.NOT_PE
"""NOTE: a module constant: an Enum member read through its class costs about four times as much in Python 3.11."""

MAX_BIN_FILES = 20000
"""Files classified per ``bin`` folder; a larger folder is reported and cut there."""


@dataclass
class PlanContext:
    """What planning reads from, with caches so that a re-plan (fix verification) is cheap.

    Attributes:
        image: the server image.
        env_overrides: environment variables given by the user (``--env NAME=VALUE``).
        follow_dependencies: follow imports / assembly references of loaded binaries.
        facts: what was read from each binary and folder, read once per scan (and, with a store,
            served from the previous scan's cache).
        os_assumed: the server's OS architecture is an assumption (:attr:`Server.os_arch_assumed
            <iisbitness.model.iis7.Server.os_arch_assumed>`), given by whoever makes the context for a server (the
            plan builders check it is that server's): an ARM64X/ARM64EC image is then kept as its headers say
            (:meth:`judged_os`), not judged by an OS nobody saw.
    """

    image: ServerImage
    env_overrides: dict[str, str] = field(default_factory=dict)
    follow_dependencies: bool = True
    os_assumed: bool = False
    facts: BinaryFacts = field(default_factory=BinaryFacts, repr=False)
    _dirs: dict[Path, tuple[tuple[str, ...], str | None, dict[str, str]]] = field(default_factory=dict, repr=False)
    _resolved: dict[tuple[Arch, Arch], dict[str, BinaryRef]] = field(default_factory=dict, repr=False)
    _search: dict[tuple[Path | None, Arch, Arch], tuple[Path, ...]] = field(default_factory=dict, repr=False)
    app_folders: dict[tuple[str, str, Arch, Arch], tuple[str, Path | None] | None] = field(default_factory=dict,
                                                                                          repr=False)
    """Application folders as each worker architecture resolves them (:mod:`.collectors.folders`)."""
    app_bins: dict[tuple[str, str, Path], tuple[str, Path] | None] = field(default_factory=dict, repr=False)
    """Each application folder's ``bin`` (:func:`.collectors.folders.app_bin_folder`), by the folder's Windows path
    and host folder."""
    shown: dict[Path, str] = field(default_factory=dict, repr=False)
    """Folders as the user names them (:meth:`ServerImage.display`), where asked per pool (``bin`` folders)."""
    bin_extras: dict[tuple[Arch, Arch], dict[str, tuple[Mapping[str, tuple[Any, ...]],
                                                        Mapping[str, tuple[str, ...]] | None]]] = field(
        default_factory=dict, repr=False)
    """Per OS and worker architecture, per ``bin`` folder's Windows path: its native DLLs' per-architecture
    copies and P/Invoke callers (:func:`.collectors.bin._with_copies`)."""
    bin_refs: dict[tuple[Arch, Arch], dict[str, tuple[tuple[str, ...], tuple[tuple[BinaryRef, ...],
                                                                       tuple[LoadKind, ...],
                                                                       tuple[ConfigSource, ...]]]]] = field(
        default_factory=dict, repr=False)
    """Per OS and worker architecture, per ``bin`` folder's Windows path: the names of its files (from
    :meth:`bin_files`), and per file its reference (:meth:`resolve_files`), kind of load and source
    (:func:`.collectors.bin._files`)."""
    plans: MutableMapping[tuple[object, ...], tuple[tuple[object, ...], object]] = field(default_factory=dict,
                                                                                         repr=False)
    """Results of planning steps (per pool, IIS Manager, every application's folder for the COM scan) of
    :func:`iisbitness.loadplan.build.build`, keyed by the model objects they read, so that re-planning after a
    fix that changes one pool re-collects only that pool."""
    json_files: dict[Path, tuple[str, Any, str]] = field(default_factory=dict, repr=False)
    """Per JSON file of an in-process ASP.NET Core app (its ``<app>.deps.json`` and ``<app>.runtimeconfig.json``): the
    file as shown, parsed (None when not read) and why not read (:func:`.collectors.aspnetcore._json_document`), read
    and parsed once per scan, not once per worker architecture a pool's outlook plans nor per fix re-plan."""
    com_progids: dict[tuple[Path, frozenset[Path]], tuple[list[tuple[str, Path, int]], str | None]] = field(
        default_factory=dict, repr=False)
    """ProgIDs used by the pages of each application folder (see collectors/com.py), per set of application roots."""
    views_unseen: dict[tuple[Arch, Arch], str] = field(default_factory=dict, repr=False)
    """Per OS and worker architecture whose view of System32 (SysWOW64 for a 32-bit worker on 64-bit Windows) the
    image does not hold or its scan could not read, why, said of a dependency not found beside its binary."""
    deps_unchecked: dict[tuple[str, Arch], Unresolved] = field(default_factory=dict, repr=False)
    """Per binary (its host path, :attr:`PeImage.path <iisbitness.pe.types.PeImage.path>`) and worker architecture whose
    dependency search found no mismatch, the first dependency it could not check (:attr:`DependencyResult.unchecked
    <iisbitness.pe.deps.DependencyResult.unchecked>`: a search folder a collected zip's recorder never listed, a file
    it holds only the name of, a folder that could not be listed): its chain is not known to be clean (each plan it
    builds reads it: :meth:`LoadPlan.unchecked_dependency <iisbitness.loadplan.plan.LoadPlan.unchecked_dependency>`)."""

    def __post_init__(self) -> None:
        # NOTE: one folder memo per scan: the dependency search lists folders through the image (issue 21)
        self.facts.folders = self.image.folders
        self.facts.unproven = self.image.unproven  # NOTE: a folder the search looks in that proves nothing of it

    def precondition(self, server: Server, process: Process, precondition: str, name: str,
                     source: ConfigSource, kind: LoadKind, configured: str) -> Evaluation | Skipped:
        """Evaluate a preCondition in ``process``: the evaluation, or a :class:`Skipped` when it is false (facts C7)."""
        assert process.pool is not None
        ev = evaluate(precondition, process.pool, process.arch, server.os_arch)
        if not ev.may_load:
            return Skipped(process, name, source, f"preCondition {precondition!r}: token '{ev.false_token}' is false "
                           "in this worker", SkipReason.PRECONDITION, kind, configured=configured)
        return ev

    def read(self, host: str | Path) -> PeImage | str:
        """The headers of ``host``, or a reason string when it cannot be read. Cached."""
        try:
            return self.facts.image(host)
        except ImageReadError as e:
            # NOTE: "<path>: cannot read: <why>" -> "<why>": every caller says "cannot read: " itself
            return str(e).split(": ", 1)[-1].removeprefix("cannot read: ")

    def judged_os(self, os_arch: Arch) -> Arch | None:
        """The OS an ARM64X/ARM64EC image is judged by (:func:`~iisbitness.pe.classify.on_os`): ``os_arch``, or None
        when it is only assumed (:attr:`os_assumed`: such an image is itself a sign of Windows on Arm, facts A8, and
        the binary-invalid rule asks for ``--os-arch``)."""
        return None if self.os_assumed else os_arch

    def _read_on(self, host: str | Path, os_arch: Arch) -> PeImage | str:
        """:meth:`read`, an ARM64X/ARM64EC image as ``os_arch`` Windows sees it (:func:`~iisbitness.pe.classify.on_os`:
        loadable nowhere outside Windows on Arm; as its headers say when the OS is only assumed, :meth:`judged_os`)."""
        got = self.read(host)
        return got if isinstance(got, str) else on_os(got, self.judged_os(os_arch))

    def resolve(self, configured: str, os_arch: Arch, process_arch: Arch) -> BinaryRef:
        """Resolve a configured binary path as a process of ``process_arch`` would (facts B11, B12, E1). Cached."""
        # NOTE: a bin of 20,000 DLLs is resolved for every worker, candidate and re-plan (issue 7)
        # NOTE: a dict per architecture pair, keyed by the path: no tuple per binary (memory, and the garbage
        # collector walks every tuple that holds an object)
        known = self._resolved.setdefault((os_arch, process_arch), {})
        found = known.get(configured)
        if found is None:
            found = self._as_other_worker(configured, os_arch, process_arch) or self._resolve(configured, os_arch,
                                                                                              process_arch)
            known[found.configured] = found  # NOTE: the other architecture's string when shared: one per binary
        return found

    def resolve_files(self, win: str, host: Path, names: tuple[str, ...], unread: Mapping[str, str],
                      os_arch: Arch, process_arch: Arch) -> tuple[BinaryRef, ...]:
        """:meth:`resolve` of ``win + "\\" + name`` for each file of ``names`` in the folder ``host`` (whose Windows path
        is ``win``), in that order (a tuple as long as ``names``); an entry of ``unread`` (not a file to read,
        :meth:`bin_files`) with why, unread and not remembered.

        NOTE: the folder is located once (:meth:`ServerImage.files_of`) and each plain file's host path and name
        shown are joined from it as strings: no :meth:`ServerImage.locate`, ``Resolved`` or ``Path`` per file (issue
        25: every ``bin`` file at every worker architecture). A file the loader could see otherwise (``%NAME%``,
        below ``%windir%``, a link, a name that is no plain Windows file name) takes :meth:`resolve`.
        """
        known = self._resolved.setdefault((os_arch, process_arch), {})
        others = [k for (o, a), k in self._resolved.items() if o is os_arch and a is not process_arch]
        files: FilesOf | None = None
        looked = False  # NOTE: the folder located at its first file to resolve without a redirection (listed as then)
        # NOTE: the folder's dependency search path, looked up at its first file a search could concern (as
        # dependency_chain would: the same lookups, once per folder, not a Path hashed per file)
        search: tuple[Path, ...] | None = None
        follow = self.follow_dependencies
        deps = self.facts.deps
        out: list[BinaryRef] = []
        alike = seen_alike(win + "\\x")  # NOTE: then each file is, when its name is plain (plain_name)
        for name in names:
            configured = win + "\\" + name
            why = unread.get(name) if unread else None
            if why is not None:
                out.append(BinaryRef(configured, configured, self.image.display(host / name), None, problem=why))
                continue
            found = known.get(configured)
            if found is None:
                plain = alike and plain_name(name)
                if plain and not looked:
                    files, looked = self.image.files_of(win), True
                other = None
                for k in others:
                    other = k.get(configured)
                    if other is not None:
                        break
                if files is None or not plain:
                    found = self.resolve(configured, os_arch, process_arch)
                elif other is not None:
                    # NOTE: as :meth:`_as_other_worker`: the file the other worker read (its image keeps the host path
                    # it was read through), with this worker's chain; a file without dependencies (most: their names
                    # known empty) has none at any architecture, so takes the other's reference without a search
                    found = other
                    image = other.image
                    if (image is not None and follow and process_arch in image.loadable_by
                            and image.kind is not _NOT_PE):
                        if search is None:
                            search = self._search_folders(files.folder, os_arch, process_arch)
                        if other.chain or deps.get(image.path) != ():
                            chain = self._chain(image.path, os_arch, process_arch, image, search)
                            found = other if chain == other.chain else replace(other, chain=chain)
                    elif other.chain:
                        found = replace(other, chain=())  # NOTE: not loaded here, so no dependency is searched for
                elif (where := files.locate(name)) is None:
                    found = self.resolve(configured, os_arch, process_arch)
                else:
                    # NOTE: _read_on written out (asked for each file at each architecture): on_os only of a hybrid
                    # image on an OS not assumed (it returns any other as it is)
                    got = self.read(where[0])
                    if isinstance(got, str):
                        found = BinaryRef(configured, configured, where[1], None, problem=f"cannot read: {got}")
                    else:
                        if got.hybrid is not None:
                            got = on_os(got, self.judged_os(os_arch))
                        if follow and process_arch in got.loadable_by and got.kind is not _NOT_PE:
                            if search is None:
                                search = self._search_folders(files.folder, os_arch, process_arch)
                            found = BinaryRef(configured, configured, where[1], got,
                                              chain=self._chain(where[0], os_arch, process_arch, got, search))
                        else:
                            found = BinaryRef(configured, configured, where[1], got)
                known[found.configured] = found
            out.append(found)
        return tuple(out)

    def _as_other_worker(self, configured: str, os_arch: Arch, process_arch: Arch) -> BinaryRef | None:
        """``configured`` as resolved for a worker of another architecture, when only the dependency chain can
        differ: a path that neither environment expansion nor WOW64 redirection changes (:func:`~iisbitness.image.
        paths.seen_alike`, every ``bin`` file), so the same file, read once. The same reference when the chain is
        the same too (issue 25: a pool's outlook resolves its bin at the architecture it does not run as)."""
        other = next((known[configured] for (os, arch), known in self._resolved.items()
                      if os is os_arch and arch is not process_arch and configured in known), None)
        if other is None or not seen_alike(configured):
            return None
        if other.image is None:
            return other  # NOTE: absent, a folder, unreadable or outside the image: the same for every process
        # NOTE: the image keeps the host path it was read through (:attr:`Resolved.host`), in the folder it was found in
        chain = self.dependency_chain(other.image.path, os_arch, process_arch, other.image)
        return other if chain == other.chain else replace(other, chain=chain)

    def _resolve(self, configured: str, os_arch: Arch, process_arch: Arch) -> BinaryRef:
        # NOTE: no %NAME% to expand (every bin file): no environment to build (issue 25)
        expanded, unresolved = ((configured, ()) if "%" not in configured else
                                expand(configured, process_environment(os_arch, process_arch, self.env_overrides)))
        if unresolved and not self._literally(expanded, os_arch, process_arch):
            who = IIS_EXPRESS_VARIABLES.get(unresolved[0].upper())
            if who is not None:  # NOTE: no --env to give: a server never sets it
                return BinaryRef(configured, None, None, None,
                                 problem=f"%{unresolved[0]}% is IIS Express's: {who}; {process_arch.value} IIS worker processes "
                                         "have no such variable. An IIS Express configuration is scanned with its "
                                         "Visual Studio solution folder (docs/iisexpress.md)")
            return BinaryRef(configured, None, None, None,
                             problem=f"%{unresolved[0]}% is not an environment variable of {process_arch.value} "
                                     "worker processes (pass --env NAME=VALUE if the server sets it)")
        path = normalize(expanded)
        if not path:
            return BinaryRef(configured, None, None, None, problem="empty path")
        if not is_absolute(path):
            return BinaryRef(configured, path, None, None,
                             problem="relative path: resolved against the worker's current folder, unknown offline")
        seen = redirect(path, os_arch, process_arch)
        found = self.image.locate(seen)
        if found.problem:
            return BinaryRef(configured, seen, None, None, problem=found.problem)
        if found.host is None:
            why = unseen(seen, os_arch, process_arch)
            if why is not None:
                return BinaryRef(configured, seen, None, None, absent=Absence(ntpath.dirname(seen), 0, why=why))
            absence = self.absence(seen, os_arch)
            if absence is not None:
                return BinaryRef(configured, seen, None, None, absent=absence)
            if seen != path and under_syswow64(seen) and not is_windows_iis_binary(seen):
                # NOTE: reached through System32 -> SysWOW64 redirection: Windows installs its own IIS modules in both
                # views; which builds a product puts there is its installer's choice (WSUS's suscomp.dll is x64 only,
                # KB 4468361), so SysWOW64 does not decide that the file is there: not checked, never inferred. The
                # one place this is decided (Absence.redirected): binary-missing, coverage and verify read it
                return BinaryRef(configured, seen, None, None,
                                 absent=Absence(ntpath.dirname(seen), 0, redirected=True))
            return BinaryRef(configured, seen, None, None, inferred=infer_from_location(seen, os_arch))
        if found.is_dir:
            return BinaryRef(configured, seen, found.shown, None, problem="is a folder, not a file")
        got = self._read_on(found.host, os_arch)
        shown = found.shown
        if isinstance(got, str):
            return BinaryRef(configured, seen, shown, None, problem=f"cannot read: {got}")
        return BinaryRef(configured, seen, shown, got,
                         chain=self.dependency_chain(found.host, os_arch, process_arch, got, found.folder))

    def _literally(self, expanded: str, os_arch: Arch, process_arch: Arch) -> bool:
        """A path whose unknown ``%NAME%`` stays as it is (as Windows leaves it) names a file of the image."""
        path = normalize(expanded)
        return is_absolute(path) and self.image.locate(redirect(path, os_arch, process_arch)).host is not None

    def absence(self, windows_path: str, os_arch: Arch) -> Absence | None:
        """Whether a file absent from the image is missing on the server: its folder is in the image and holds other
        binaries (see :class:`Absence`); or, its folder not in the image (or without binaries), the image holds the
        same file in the other ``Program Files`` / WOW64 / ``Framework`` folder
        (:func:`~iisbitness.image.paths.counterparts`): then the other build is named (:attr:`Absence.other_build_only`)
        instead of an architecture inferred from the folder. A product's x86 and x64 builds come from separate
        installers (IIS Compression's MSIs, github.com/microsoft/IIS.Compression releases; facts B12's ANCM missing
        from SysWOW64): the image shows one installed and nothing shows the other, so the folder alone must not call
        it loadable. Not for Windows' own files (:func:`~iisbitness.image.stock.is_windows_own`: its IIS modules, the
        .NET Framework's), which Windows installs in both views (facts B12): their folder tells their build, so they
        are inferred from it like any file of a folder the image lacks. None when neither holds.

        On the live server, or a zip collected on it (``ServerImage.live``, ``ServerImage.collected == "server"``),
        every drive and folder of the server is there: a file absent where the process looks is missing on the
        server, whatever its folder holds (:attr:`Absence.on_server`, never a partial copy), and its architecture is
        never inferred from the folder of a file that does not exist."""
        where = self.image.locate(ntpath.dirname(windows_path))
        folder = where.host_path
        binaries = 0
        if folder is not None and where.is_dir:
            name = ntpath.basename(windows_path).lower()
            binaries = sum(1 for n in self.image.listing(folder).files if n.endswith((".dll", ".exe")) and n != name)
        other = None
        for alternative in counterparts(windows_path, os_arch):
            hit = self.image.locate(alternative)
            if hit.host_path is not None and not hit.is_dir:
                other = self.image.display(hit.host_path)
                break
        if self.image.is_the_server:
            shown = self.image.display(folder) if folder is not None and where.is_dir else ntpath.dirname(windows_path)
            return Absence(shown, binaries, other, on_server=True, gone=where.gone or None)
        if binaries:
            assert folder is not None
            return Absence(self.image.display(folder), binaries, other, partial_copy=is_windows_iis_binary(windows_path))
        if other is None or is_windows_own(windows_path, os_arch):
            # NOTE: Windows installs its own IIS modules in both views, and the .NET Framework its Framework and
            # Framework64 builds (facts B12: "IIS ships two copies"): the other view's copy says the copy left this
            # folder out, not that this build is absent, so the folder tells its build (inferred, and said so)
            return None
        return Absence(ntpath.dirname(windows_path), 0, other)

    def dependency_chain(self, host: str | Path, os_arch: Arch, process_arch: Arch, image: PeImage,
                         folder: Path | None = None) -> tuple[str, ...]:
        """The chain to the first dependency of ``host`` that a ``process_arch`` process cannot load; ``()`` when
        dependencies are not followed (:attr:`follow_dependencies`) or ``image`` is not a PE file such a process
        loads (its own mismatch is a finding of its own), as when no dependency fails.

        Searches the binary's own folder, then the process's view of System32 (SysWOW64 for a
        32-bit process), as the loader does (facts D1; "Dynamic-Link Library Search Order").
        P/Invoke targets are not followed here: they load only when called (native-library-arch).
        Not cached here: :meth:`resolve` caches the reference that holds the chain, and the dependency
        search remembers each file's dependencies (:class:`~iisbitness.pe.facts.BinaryFacts`). ``image``: the
        headers of ``host``; a file with no dependency to search (most files) is answered without a search (issue
        25). ``host``: a host path, a string when the caller has one (no ``Path`` per file unless its dependencies
        are searched). ``folder``: its parent when the caller has it (:attr:`Resolved.folder
        <iisbitness.image.server_image.Resolved.folder>`, :attr:`FilesOf.folder
        <iisbitness.image.server_image.FilesOf.folder>`).
        """
        if not (self.follow_dependencies and image.is_pe and process_arch in image.loadable_by):
            return ()
        # NOTE: looked up even without a search: System32's listing is part of what collect records
        return self._chain(host, os_arch, process_arch, image,
                           self._search_folders(Path(host).parent if folder is None else folder, os_arch, process_arch))

    def _chain(self, host: str | Path, os_arch: Arch, process_arch: Arch, image: PeImage,
               folders: tuple[Path, ...]) -> tuple[str, ...]:
        """:meth:`dependency_chain` of a file a ``process_arch`` process loads, dependencies followed, whose search
        path (:meth:`_search_folders`) is ``folders``."""
        names = self.facts.deps.get(host) if isinstance(host, str) else None  # NOTE: dependency_names' own memo
        if not (names if names is not None else dependency_names(host, image, self.facts)):
            return ()
        try:
            result = find_mismatch(host, process_arch, folders, facts=self.facts,
                                   os_arch=self.judged_os(os_arch))
        except ImageReadError:
            return ()
        if result.mismatch is None or len(result.mismatch.links) <= 1 or any(
                link.via == "pinvoke" for link in result.mismatch.links):
            # NOTE: P/Invoke targets load only when called (native-library-arch's), not followed here
            unchecked = next((u for u in result.unchecked if u.via != "pinvoke"), None)
            unseen = self.views_unseen.get((os_arch, process_arch)) if len(folders) == 1 else None
            if unchecked is None and unseen is not None:
                # NOTE: the loader's search, not the CLR's: an assembly reference is bound from the GAC and the
                # application's folders, never from System32 (it was "the worker then looks in System32")
                missing = next((u for u in result.unresolved if u.via not in ("pinvoke", "assembly-ref")
                                and u.reason == NOT_FOUND), None)
                unchecked = None if missing is None else replace(missing, reason=unseen, unchecked=True)
            if unchecked is not None:
                self.deps_unchecked[(os.fspath(host), process_arch)] = unchecked
            return ()
        links = result.mismatch.links
        return tuple(link.path.name for link in links[:-1]) + (f"{links[-1].path.name} ({_loads_in(links[-1].image)})",)

    def _search_folders(self, folder: Path, os_arch: Arch, process_arch: Arch) -> tuple[Path, ...]:
        """``folder``, then the process's view of System32 when the image has it: one tuple per folder and
        architecture, shared by the dependency searches of every binary in it (a memo key, and memory)."""
        key = (folder, os_arch, process_arch)
        found = self._search.get(key)
        if found is None:
            views = self._search.get((None, os_arch, process_arch))  # NOTE: System32's view, once per architecture
            if views is None:
                seen = redirect("C:\\Windows\\System32", os_arch, process_arch)
                hit = self.image.locate(seen)
                sys_view = hit.host_path if hit.is_dir else None
                bare = sys_view is not None and not self.image.is_the_server and not any(
                    n.endswith((".dll", ".exe")) for n in self.image.listing(sys_view).files)
                views = self._search[(None, os_arch, process_arch)] = () if sys_view is None or bare else (sys_view,)
                if sys_view is None or bare:
                    # NOTE: the loader looks there next: a dependency not beside the binary is then not checked, never
                    # taken as absent (nor the chain as clean). A copy holding System32's sub-folders only
                    # (inetsrv, config) is no copy of System32's own DLLs: not checked either (it was a clean chain)
                    self.views_unseen[(os_arch, process_arch)] = (
                        f"not beside it, and the worker then looks in {seen}, "
                        + ("which the image holds without its own DLLs (only sub-folders of it were copied): not "
                           "checked" if bare else
                           hit.problem.rstrip(".") if hit.problem else "which the image does not hold: not checked"))
            found = self._search[key] = (folder, *views)
        return found

    def bin_files(self, folder: Path) -> tuple[tuple[str, ...], str | None, dict[str, str]]:
        """The names of the ``*.dll`` entries of a bin folder that are not folders (sorted, capped at MAX_BIN_FILES),
        a note if cut or unreadable, and the entries among them that are not files to read, each with why (a FIFO,
        a device, a link to one or to nothing: issue 26): the image's one listing of the folder, filtered. A link to
        a file is read like a file (:meth:`ServerImage.locate` refuses it when it leads out of the image).

        NOTE: names, not paths: a ``Path`` per file is several strings, and a server holds 100,000 of them.
        """
        found = self._dirs.get(folder)
        if found is None:
            listing = self.image.listing(folder)
            # NOTE: sorted by the lower-case names the listing is keyed by (one entry each): no lower() per file
            names = [n for low, n in sorted(listing.names.items()) if low.endswith(".dll") and n not in listing.folders]
            note = listing.error
            if len(names) > MAX_BIN_FILES:
                names = names[:MAX_BIN_FILES]
                note = f"more than {MAX_BIN_FILES} DLLs: only the first {MAX_BIN_FILES} were read"
            # NOTE: a folder of regular files alone (most bins) has none: no lookup per file (issue 25)
            unread = {} if listing.files is listing.names and not listing.links else {
                n: why for n in names if (n in listing.links or listing.files.get(n.lower()) != n)
                and (why := _not_a_file(folder / n, n in listing.links)) is not None}
            found = self._dirs[folder] = (tuple(names), note, unread)
            # NOTE: no link read ahead, nor a folder reached through one (bin\runtimes linked elsewhere): either may
            # lead out of the image (the parser resolves each file, and refuses that; read-ahead would not)
            if self.image.escapes(folder) is None:
                self.facts.ahead(folder, (n for n in found[0] if n not in unread and n not in listing.links))
        return found


def _loads_in(image: PeImage) -> str:
    """Where the last file of a dependency chain loads: its architectures (``x86``), ``ARM64X: Windows on Arm only``
    for a hybrid that loads nowhere on this server (:func:`~iisbitness.pe.classify.on_os`), ``<target>: none`` for
    another file no process loads (IA64, ARM32), ``not a valid PE``."""
    if not image.is_pe:
        return "not a valid PE"
    if image.loadable_by:
        return format_arches(image.loadable_by)
    target = image.platform_target.value
    return f"{target}: Windows on Arm only" if image.hybrid in ARM64_HYBRIDS else f"{target}: none"


def _not_a_file(path: Path, link: bool) -> str | None:
    """Why a bin entry that is not a regular file is not read (issue 26), or None for a link to a regular file."""
    kinds = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))
    try:
        st = os.stat(path) if link else os.lstat(path)
    except (OSError, ValueError):
        return "a symbolic link to nothing (dangling, or a loop): not read" if link else None
    if stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode):
        return None
    kind = next((k for test, k in kinds if test(st.st_mode)), "not a regular file")
    if not link:
        return f"{kind}, not a file: not read"
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    return f"a symbolic link to {target} ({kind}), not a file: not read"


Found = Load | Skipped | Problem
"""What a collector yields: a load, a load that never happens and why, or a file it could not read."""

Collector = Callable[[PlanContext, Server, Process, tuple[Application, ...]], Iterator[Found]]
"""A source of loads for one worker process: ``(ctx, server, process, applications) -> found``."""
