"""``iisbitness inspect`` as an API: what each binary under some paths is, and who can load it.

Public API::

    inspect_paths(paths, *, metadata=True, deps_arches=None, search_dirs=(), on_file=None)
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
from iisbitness.pe.types import PeImage

if TYPE_CHECKING:
    # NOTE: imported when ``deps_arches`` asks for the dependency search (pe.deps brings pe.facts, pe.readahead,
    # concurrent.futures and logging: a fifth of what ``inspect`` imports; issue 25)
    from iisbitness.pe.deps import DependencyResult
    from iisbitness.pe.facts import BinaryFacts

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
) -> list[InspectedFile]:
    """Inspect files and folders; results sorted by path.

    Args:
        paths: files or folders.
        metadata: read .NET metadata (name, version, references) of managed images.
        deps_arches: follow dependencies for these process architectures; ``[]`` means "each
            architecture the file itself loads in"; None (default) means do not follow.
        search_dirs: folders searched for dependencies after the file's own folder.
        on_file: called once per file before it is read (progress display).
    """
    results = []
    facts = None
    if deps_arches is not None:
        from iisbitness.pe.facts import BinaryFacts

        facts = BinaryFacts()
    for item in iter_candidate_files(paths):
        if isinstance(item, InspectedFile):
            results.append(item)
            continue
        path, explicit = item
        if on_file is not None:
            on_file(path)
        result = inspect_file(path, metadata=metadata, deps_arches=deps_arches, search_dirs=search_dirs,
                              facts=facts)
        if explicit or not _no_mz(result):
            results.append(result)
    results.sort(key=lambda r: str(r.path))
    return results


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
