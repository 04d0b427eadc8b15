"""``iisbitness inspect`` as an API: what each binary under some paths is, and who can load it.

Public API::

    inspect_paths(paths, *, metadata=True, deps_arches=None, search_dirs=(), on_file=None, read_ahead=True)
        -> list[InspectedFile]
    iter_candidate_files(paths) -> Iterator[tuple[Path, bool] | InspectedFile]
    cannot_load(item, arch) -> bool

Which files count (folders are walked recursively, following symlinks but never entering the same
folder twice, so link loops end): every file named explicitly; in folders, files whose first two
bytes are ``MZ`` (the PE signature decides, not the extension). Before reading anything, files are
skipped when their extension is one of :data:`SKIP_EXTENSIONS` (text, config, markup, images,
source: never PE images on an IIS server) or they are smaller than 64 bytes (no DOS header fits);
that costs a ``stat`` from the directory listing, not a read. Other files are read once (the 4 KB
header read) and dropped silently if they do not start with ``MZ``. An ``MZ`` file that is not a
valid PE is listed as ``not-pe`` with its reason. A name that is not a regular file and would block
or fail on opening (a FIFO, a device, a socket, a dangling symbolic link) is never opened: when it
is named explicitly or named like a binary (:data:`BINARY_EXTENSIONS`), it is listed with
``error`` and ``skipped`` set (what it is), never left out in silence.

Reading ahead (a cold folder: its files not in the page cache; issue 25): the whole walk is listed first, and where
it lists :data:`AHEAD_FILES` files or more and a sample of the first ones is not in the page cache,
:class:`iisbitness.pe.prefetch.Prefetch` (the scan's helper process, POSIX) is given them all, in the order they are
read, and brings them into the page cache ahead of the reads (``posix_fadvise``), told of each file as it is reached;
its parse is not asked for (it reads what the scan needs, not the attributes shown here). It opens the files
read-only, not through a last symbolic link, and never maps, loads or runs one; a file it may not open is read here
as before, so the results are the same with or without it, only sooner (3,000 cold files: 0.5 to 0.63x the time;
benchmarks/README.md, inspectcold). It ends with the call, also on an exception or Ctrl-C. A warm folder (the sample's heads in
the page cache, a preadv of at most 4 KB each that may not wait: Linux 4.14+; one not cached starts the
kernel's read of it), one of fewer files, or a platform without ``fork`` and
``posix_fadvise`` (Windows, macOS) starts no helper and imports nothing for it.

Errors: nothing is raised for a file; an unreadable one comes back with ``error`` set. A path
that does not exist comes back the same way.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from iisbitness.arch import Arch, sort_arches
from iisbitness.errors import ImageReadError
from iisbitness.pe.classify import read_image, read_image_and_assembly
from iisbitness.pe.metadata import AssemblyInfo
from iisbitness.pe.source import HEAD_BYTES
from iisbitness.pe.types import PeImage

if TYPE_CHECKING:
    # NOTE: imported when ``deps_arches`` asks for the dependency search (pe.deps brings pe.facts, pe.readahead,
    # concurrent.futures and logging: a fifth of what ``inspect`` imports; issue 25)
    from iisbitness.pe.deps import DependencyResult
    from iisbitness.pe.facts import BinaryFacts
    from iisbitness.pe.prefetch import Prefetch

SKIP_EXTENSIONS = frozenset(
    {
        ".txt", ".log", ".md", ".config", ".xml", ".json", ".yml", ".yaml", ".ini", ".inf", ".cs", ".vb",
        ".cpp", ".c", ".h", ".hpp", ".js", ".ts", ".css", ".scss", ".map", ".html", ".htm", ".aspx", ".ascx",
        ".ashx", ".asmx", ".asax", ".master", ".cshtml", ".vbhtml", ".razor", ".svc", ".resx", ".resources",
        ".pdb", ".xsd", ".png", ".jpg", ".jpeg", ".gif", ".ico", ".svg", ".bmp", ".webp", ".woff", ".woff2",
        ".ttf", ".eot", ".otf", ".mp4", ".mp3", ".zip", ".gz", ".7z", ".nupkg", ".csproj", ".sln", ".props",
        ".targets", ".editorconfig", ".gitignore", ".sql", ".csv", ".ps1", ".cmd", ".bat", ".sh", ".php",
        ".py", ".split",
    }
)
"""Extensions never read while walking folders (files named explicitly are always read)."""


@dataclass(frozen=True, slots=True)
class InspectedFile:
    """One file's result.

    Attributes:
        path: the file, as found (joined onto the folder given).
        image: its classification, or None when it could not be read.
        error: why it could not be read ("<path>: cannot read: Permission denied"), else None.
        assembly: .NET metadata for managed images when requested, else None.
        deps: per process architecture checked, the dependency search result (``--deps``).
        skipped: why the file was not opened, when it is not a regular file: ``"fifo"``, ``"device"``,
            ``"socket"``, ``"dangling-link"`` or ``"other"`` (``error`` says it in words); else None.
    """

    path: Path
    image: PeImage | None = None
    error: str | None = None
    assembly: AssemblyInfo | None = None
    deps: tuple[tuple[Arch, DependencyResult], ...] = field(default=())
    skipped: str | None = None


def inspect_paths(
    paths: Iterable[str | os.PathLike[str]],
    *,
    metadata: bool = True,
    deps_arches: Sequence[Arch] | None = None,
    search_dirs: Sequence[Path] = (),
    on_file: Callable[[Path], None] | None = None,
    read_ahead: bool = True,
) -> list[InspectedFile]:
    """Inspect files and folders; results sorted by path.

    Args:
        paths: files or folders.
        metadata: read .NET metadata (name, version, references) of managed images.
        deps_arches: follow dependencies for these process architectures; ``[]`` means "each
            architecture the file itself loads in"; None (default) means do not follow.
        search_dirs: folders searched for dependencies after the file's own folder.
        on_file: called once per file before it is read (progress display).
        read_ahead: let a helper process bring a cold folder's files into the page cache ahead of the reads (see
            the module's docstring); False: never (the results are the same).
    """
    results = []
    facts = None
    if deps_arches is not None:
        from iisbitness.pe.facts import BinaryFacts

        facts = BinaryFacts()
    items = list(iter_candidate_files(paths))  # NOTE: the whole walk first, so that the helper can read ahead of it
    ahead = _helper([item[0] for item in items if not isinstance(item, InspectedFile)]) if read_ahead else None
    try:
        for item in items:
            if isinstance(item, InspectedFile):
                results.append(item)
                continue
            path, explicit = item
            if on_file is not None:
                on_file(path)
            if ahead is not None:
                ahead.take(path)  # NOTE: its progress only: its answer, when it has one, is the scan's, not ours
            result = inspect_file(path, metadata=metadata, deps_arches=deps_arches, search_dirs=search_dirs,
                                  facts=facts)
            if explicit or not _no_mz(result):
                results.append(result)
    finally:
        if ahead is not None:
            ahead.close()
    results.sort(key=lambda r: str(r.path))
    return results


AHEAD_FILES = 64
"""Files to read from which :func:`inspect_paths` looks for a cold folder (the helper's own threshold,
:data:`iisbitness.pe.prefetch.START_FILES`): below, nothing is looked up or imported for it."""

_AHEAD_SAMPLE = 8
"""Files among the first :data:`AHEAD_FILES` whose heads are looked up in the page cache (those the helper looks up,
:data:`iisbitness.pe.prefetch.WARM_SAMPLE`)."""


def _helper(files: list[Path]) -> Prefetch | None:
    """The helper process given ``files`` (read in this order), or None where it does not pay: fewer than
    :data:`AHEAD_FILES`, a warm folder (:func:`_cold`), a platform without ``fork`` and ``posix_fadvise``.

    NOTE: :mod:`iisbitness.pe.prefetch` is imported only for a cold folder: it brings :mod:`iisbitness.pe.deps` and
    :mod:`iisbitness.pe.readahead`, 70 to 120 ms of a warm run's 1.7 s on this machine with compiled files."""
    if len(files) < AHEAD_FILES or not hasattr(os, "posix_fadvise") or not _cold(files[:AHEAD_FILES]):
        return None
    from iisbitness.pe import prefetch

    if not (prefetch.PROCESS and prefetch.CAN_FORK):
        return None
    helper = prefetch.Prefetch(parse=False)
    try:
        helper.files_ahead(files)
    except BaseException:
        helper.close()
        raise
    return helper


def _cold(files: list[Path]) -> bool:
    """Whether the head (:data:`~iisbitness.pe.source.HEAD_BYTES`) of one of a sample of ``files`` is not in the page
    cache: a read that may not wait for the disk (Linux ``preadv(RWF_NOWAIT)``, 4.14+) does not get it all. True
    where that cannot be told (no ``RWF_NOWAIT``, or not on this file system: the helper judges); False when none of
    the sample opens (read-only, not through a last symbolic link, as the helper opens them)."""
    nowait: int | None = getattr(os, "RWF_NOWAIT", None)
    if nowait is None:
        return True
    buffer = bytearray(HEAD_BYTES)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    for path in files[:: max(1, len(files) // _AHEAD_SAMPLE)]:
        try:
            fd = os.open(path, flags)
        except (OSError, ValueError):
            continue
        try:
            if os.preadv(fd, [buffer], 0, nowait) < min(os.fstat(fd).st_size, HEAD_BYTES):
                return True
        except OSError:  # NOTE: BlockingIOError: not cached; EOPNOTSUPP: not known
            return True
        finally:
            os.close(fd)
    return False


def inspect_file(path: Path, *, metadata: bool = True, deps_arches: Sequence[Arch] | None = None,
                 search_dirs: Sequence[Path] = (), facts: BinaryFacts | None = None) -> InspectedFile:
    """Inspect one file (see :func:`inspect_paths`); ``facts`` remembers what was read for the
    dependency search, so that no file is read twice in one run."""
    try:
        # NOTE: one open for headers and metadata (issue 11)
        image, assembly, error = read_image_and_assembly(path) if metadata else (read_image(path), None, None)
    except ImageReadError as e:
        return InspectedFile(path, error=str(e))
    if error is not None:
        return InspectedFile(path, image, error=error)
    deps: list[tuple[Arch, DependencyResult]] = []
    if deps_arches is not None and image.is_pe:
        from iisbitness.pe.deps import find_mismatch
        from iisbitness.pe.facts import BinaryFacts

        arches = list(deps_arches) or sort_arches(image.loadable_by)
        folders = [path.parent, *search_dirs]
        facts = facts if facts is not None else BinaryFacts()
        facts.seed(path, image, assembly)
        for arch in arches:
            try:
                deps.append((arch, find_mismatch(path, arch, folders, facts=facts)))
            except ImageReadError as e:
                return InspectedFile(path, image, error=str(e), assembly=assembly)
    return InspectedFile(path, image, None, assembly, tuple(deps))


def cannot_load(item: InspectedFile, arch: Arch) -> bool:
    """True when a process of ``arch`` cannot load the file or one of its found dependencies."""
    if item.image is None:
        return False
    if arch not in item.image.loadable_by:
        return True
    return any(a is arch and r.mismatch is not None for a, r in item.deps)


def iter_candidate_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[tuple[Path, bool] | InspectedFile]:
    """(file, named explicitly) to read, in walk order; unreadable paths come out as an
    :class:`InspectedFile` with ``error``."""
    seen_dirs: set[tuple[int, int]] = set()
    for raw in paths:
        path = Path(raw)
        try:
            mode = path.stat().st_mode
        except OSError as e:
            yield _not_regular(path) if path.is_symlink() else InspectedFile(
                path, error=f"{path}: cannot read: {e.strerror or e}")
            continue
        if stat.S_ISDIR(mode):
            yield from _walk(path, seen_dirs)
        elif stat.S_ISREG(mode):
            yield path, True
        else:
            yield _not_regular(path)


def _walk(top: Path, seen: set[tuple[int, int]]) -> Iterator[tuple[Path, bool] | InspectedFile]:
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            st = folder.stat()
            key = (st.st_dev, st.st_ino)
            if key in seen:
                continue  # NOTE: a symlink loop or a second route to the same folder
            seen.add(key)
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            yield InspectedFile(folder, error=f"{folder}: cannot read: {e.strerror or e}")
            continue
        subdirs = []
        for entry in entries:
            try:
                if entry.is_dir():
                    subdirs.append(Path(entry.path))
                elif entry.is_file():
                    if _may_be_pe(entry):
                        yield Path(entry.path), False
                elif _named_as_binary(entry.name):
                    yield _not_regular(Path(entry.path))
            except OSError as e:
                yield InspectedFile(Path(entry.path), error=f"{entry.path}: cannot read: {e.strerror or e}")
        stack.extend(reversed(subdirs))


BINARY_EXTENSIONS = frozenset({".dll", ".exe", ".ocx", ".cpl", ".drv"})
"""Names a loader is asked to load: listed from a folder walk even when they are not valid PE files
(a truncated or zero-filled ``.dll`` in ``bin`` breaks an application with 0x800700C1; issue 12)."""


_NOT_REGULAR = {"fifo": "a FIFO (named pipe)", "device": "a device", "socket": "a socket",
                "dangling-link": "a symbolic link to nothing", "other": "not a regular file"}


def _not_regular(path: Path) -> InspectedFile:
    """A name that is not a regular file, listed without opening it (opening a FIFO waits for a writer)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        kind = "dangling-link"
    else:
        kind = ("fifo" if stat.S_ISFIFO(mode) else "device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                else "socket" if stat.S_ISSOCK(mode) else "other")
    return InspectedFile(path, error=f"{path}: not read: {_NOT_REGULAR[kind]}, not a regular file", skipped=kind)


def _named_as_binary(path: str | os.PathLike[str]) -> bool:
    return os.path.splitext(os.fspath(path))[1].lower() in BINARY_EXTENSIONS


def _may_be_pe(entry: os.DirEntry[str]) -> bool:
    if _named_as_binary(entry.name):
        return True
    if os.path.splitext(entry.name)[1].lower() in SKIP_EXTENSIONS:
        return False
    return entry.stat().st_size >= 64


def _no_mz(result: InspectedFile) -> bool:
    """A walked file that is simply not a binary (no MZ, and not named like one): not worth listing."""
    reason = result.image.reason if result.image is not None else None
    return reason is not None and reason.endswith("no MZ signature") and not _named_as_binary(result.path)
