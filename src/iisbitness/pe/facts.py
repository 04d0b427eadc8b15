"""Read each binary once per scan: its headers, native imports and .NET metadata (folders: the image's one memo).

A scan asks about the same file many times: once per worker architecture a pool could run as,
once per re-plan while fixes are verified, once per binary whose dependencies lead to it. A
:class:`BinaryFacts` answers every question after the first from memory (auditwheel's ``lddtree``
passes such a memo explicitly; so do we). With a :class:`~iisbitness.pe.store.FactStore` it also
answers from the previous scan's cache, for files whose identity (:class:`FileIdentity`) has not
changed.

Errors are remembered too: a file that could not be read raises the same
:class:`~iisbitness.errors.ImageReadError` every time it is asked for, without another read.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from iisbitness.arch import Arch
from iisbitness.errors import ImageReadError
from iisbitness.image import windows
from iisbitness.image.folders import Folders
from iisbitness.pe.classify import read_image_and_references
from iisbitness.pe.imports import Imports, read_imports
from iisbitness.pe.metadata import (
    AssemblyInfo,
    AssemblyReferences,
    read_assembly_info,
    read_assembly_references,
)
from iisbitness.pe.readahead import Ahead, Parsed
from iisbitness.pe.types import PeImage

if TYPE_CHECKING:
    from iisbitness.pe.deps import FoundDependencies, SharedSearch


_WINDOWS = sys.platform == "win32"


@dataclass(frozen=True, slots=True)
class FileIdentity:
    """What must be equal for a stored fact about a file to still hold.

    ``ctime_ns`` changes whenever the file's content or metadata is written, and no user tool can set
    it back (unlike ``mtime``, which copy tools preserve); with size, inode and device it makes a
    changed file a cache miss. Source: POSIX ``stat`` (st_ctime: "time of last status change").
    On Windows ``os.stat``'s ``st_ctime`` is the creation time, which a file overwritten in place keeps (robocopy
    ``/COPY:DAT`` of a same-size build with the same write time would have been served stale), so there ``ctime_ns``
    is the file system's change time (:func:`iisbitness.image.windows.change_time_ns`), and the creation time only
    where that cannot be read; ``inode`` and ``device`` are the file index and volume serial number ``os.stat`` gives.
    """

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    device: int

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> FileIdentity | None:
        """The identity of ``path`` (following symlinks), or None when it cannot be stat'ed."""
        try:
            st = os.stat(path)
        except (OSError, ValueError):
            return None
        changed = windows.change_time_ns(path) if _WINDOWS else None
        return cls(st.st_size, st.st_mtime_ns, st.st_ctime_ns if changed is None else changed, st.st_ino, st.st_dev)


Fact = PeImage | Imports | AssemblyInfo | AssemblyReferences
"""What is remembered about a file."""

T = TypeVar("T", PeImage, Imports, AssemblyInfo, AssemblyReferences)


class FactStore(Protocol):
    """A persistent cache of facts about files, keyed by path, kind of fact and file identity."""

    def get(self, path: str, kind: str, identity: FileIdentity) -> Fact | None:
        """The stored fact, or None when absent, stale or unreadable (never a wrong one)."""
        ...

    def put(self, path: str, kind: str, identity: FileIdentity, fact: Fact) -> None:
        """Remember ``fact`` (written when the store is flushed)."""
        ...


class BinaryFacts:
    """Per-scan memo of what was read from each file and folder.

    Args:
        store: an optional persistent cache consulted before reading a file.
        on_read: called with the path of every file actually read (progress reporting).
        folders: the folder listings and real paths to share (a server image's :attr:`ServerImage.folders
            <iisbitness.image.server_image.ServerImage.folders>`); a memo of its own when None (``inspect``).
        read_ahead: reads the files :meth:`ahead` names ahead of the parser (a scan of a cold server, issue 25:
            :func:`iisbitness.pe.prefetch.read_ahead`).
    """

    def __init__(self, store: FactStore | None = None, on_read: Callable[[Path], None] | None = None,
                 folders: Folders | None = None, read_ahead: Ahead | None = None) -> None:
        self._store = store
        self._on_read = on_read
        self._ahead = read_ahead
        self._memo: dict[str, dict[str, Fact | ImageReadError]] = {
            "image": {}, "imports": {}, "assembly": {}, "references": {}}
        """Per kind of fact, per file (its path as a string): what was read (NOTE: a dict per kind, not a ``(kind,
        path)`` key per file: 100,000 fewer tuples for memory and for the garbage collector to walk; strings, not
        ``Path`` objects: a string per file where the image is read through one, the same as its
        :attr:`PeImage.path <iisbitness.pe.types.PeImage.path>`; issue 25)."""
        self._images = self._memo["image"]
        self.folders = folders if folders is not None else Folders()
        """Folder listings and real paths: the server image's own when planning (one memo per scan)."""
        self.deps: dict[str, tuple[tuple[str, str], ...]] = {}
        """Dependency names per file (:mod:`iisbitness.pe.deps`), the same for every architecture: see
        :meth:`dependencies`."""
        self.unproven: Callable[[Path, str | None], str | None] | None = None
        """Why a search folder's listing proves nothing of a dependency (:mod:`iisbitness.pe.deps`), given the folder
        and the entry found in it (None: the name is not in it), or None when it does: set by whoever knows where the
        listings come from (a collected zip: a folder its recorder never listed, a file it only saw listed). None:
        every listing is evidence (``inspect``)."""
        self.unread_metadata: set[str] = set()
        """.NET images whose metadata could not be read (their references are then unknown, not empty), by path
        string (as :attr:`deps`)."""
        self.resolved: dict[tuple[Path, ...], dict[str, FoundDependencies]] = {}
        """Dependencies found per search path and file (its path as a string) (:mod:`iisbitness.pe.deps`)."""
        self.searched: dict[tuple[str, Path | None, int, int, Arch | None], SharedSearch] = {}
        """Dependency searches whose result holds at other architectures too (:func:`iisbitness.pe.deps.find_mismatch`),
        by file, first search folder, bounds and the OS architecture the files were taken on (an ARM64X file loads
        in x64 processes of Windows on Arm only)."""
        self.reads = 0
        """Files read from disk (not served from memory or the store)."""
        self.stored = 0
        """Facts served from the persistent store."""

    def image(self, path: str | os.PathLike[str]) -> PeImage:
        """The headers of ``path`` (:func:`iisbitness.pe.classify.read_image`). Raises ImageReadError.

        NOTE: a .NET image's references are read in the same open and remembered (the dependency search
        asks for them next): one open per file instead of two (issue 11). :meth:`_get` written out: asked for
        each file at each worker architecture (issue 25).
        """
        key = os.fspath(path)
        got = self._images.get(key)
        if got is None:
            got = self._images[key] = self._load("image", key, self._read_image)
        if isinstance(got, PeImage):
            return got
        assert isinstance(got, ImageReadError)
        raise got

    def _read_image(self, path: str | os.PathLike[str]) -> PeImage:
        # NOTE: through the bytes read ahead when the file was (no second open or read of them, issue 25), or its
        # facts when the helper process read them (Parsed: as read_image_and_references would give them, with the
        # dependency names instead of the references when those are all of them: seeded as dependency_names would
        # give them, no object made of its references)
        got = self._ahead.take(path) if self._ahead is not None else None
        if isinstance(got, Parsed):
            image, references, error = got.image, got.references, None
            if got.dependencies is not None:
                self.deps[image.path] = got.dependencies
        else:
            image, references, error = read_image_and_references(path, got)
        known = self._memo["references"]
        key = image.path  # NOTE: os.fspath(path), the string the image memo keeps
        if key not in known and image.is_managed:
            if references is not None:
                known[key] = references  # NOTE: stored too, by _load, with the same identity
            elif error is not None:
                known[key] = ImageReadError(error)
        return image

    def imports(self, path: str | os.PathLike[str]) -> Imports:
        """The native imports of ``path`` (:func:`iisbitness.pe.imports.read_imports`). Raises ImageReadError."""
        return self._get("imports", path, read_imports, Imports)

    def assembly(self, path: str | os.PathLike[str]) -> AssemblyInfo:
        """The .NET metadata of ``path`` (:func:`iisbitness.pe.metadata.read_assembly_info`). Raises ImageReadError."""
        return self._get("assembly", path, read_assembly_info, AssemblyInfo)

    def references(self, path: str | os.PathLike[str]) -> AssemblyReferences:
        """What ``path`` references (:func:`iisbitness.pe.metadata.read_assembly_references`), forgotten once
        returned: the dependency search keeps only the names it needs, in :attr:`deps` (a server of 100,000
        assemblies would otherwise hold every reference list). Raises ImageReadError."""
        try:
            return self._get("references", path, read_assembly_references, AssemblyReferences)
        finally:
            self._memo["references"].pop(os.fspath(path), None)

    def seed(self, path: str | os.PathLike[str], image: PeImage, assembly: AssemblyInfo | None = None) -> None:
        """Remember facts a caller read itself (``inspect`` reads headers and metadata in one open): the headers,
        and the references of ``assembly`` for the dependency search."""
        key = os.fspath(path)
        self._memo["image"][key] = image
        if assembly is not None:
            self._memo["references"][key] = AssemblyReferences.of(assembly)

    def dependencies(self, path: str | Path, read: Callable[[], tuple[tuple[str, str], ...]]) -> tuple[tuple[str, str], ...]:
        """The ``(name, via)`` dependencies of ``path`` (:mod:`iisbitness.pe.deps`), ``read()`` at the first call and
        kept in :attr:`deps` under the string its image is kept under (one string per file, not one per memo)."""
        key = os.fspath(path)
        found = self.deps.get(key)
        if found is None:
            image = self._memo["image"].get(key)
            if isinstance(image, PeImage) and image.path == key:
                key = image.path
            found = self.deps[key] = read()
        return found

    def key(self, path: str | os.PathLike[str]) -> str:
        """The file's identity for cycle checks (real path, case-folded): :meth:`Folders.key
        <iisbitness.image.folders.Folders.key>` of the scan's one folder memo."""
        return self.folders.key(path)

    def ahead(self, folder: Path, names: Iterable[str]) -> None:
        """The files ``names`` of ``folder`` (file names, without a separator) will be read next, in this order: read
        them ahead (when reading ahead is on; not the files already known)."""
        if self._ahead is None or self._ahead.stopped:
            return
        known = self._images
        prefix = os.path.join(folder, "")  # NOTE: then each file's path is it and its name (a name has no separator)
        self._ahead.files_ahead(p for n in names if (p := prefix + n) not in known)

    @property
    def ahead_parses(self) -> bool:
        """Whether the read-ahead also parses what it is given (:attr:`~iisbitness.pe.readahead.Ahead.parses`: a
        helper process with a core of its own), so that it pays to name every file early (on one core, the
        helper's extra work is the parser's time)."""
        return self._ahead is not None and not self._ahead.stopped and self._ahead.parses

    def close(self) -> None:
        """Stop reading ahead (the scan is over)."""
        if self._ahead is not None:
            self._ahead.close()

    def inputs(self) -> list[str]:
        """Every file asked about, as strings, whether read or answered from the store (what a whole-report
        cache must check besides what the scan opened; the folders listed are the image's)."""
        paths: dict[str, None] = {}
        for memo in self._memo.values():
            paths.update(dict.fromkeys(map(str, memo)))
        paths.update(dict.fromkeys(map(str, self.deps)))
        return list(paths)

    def listing(self, folder: Path) -> Mapping[str, str]:
        """The files of ``folder``, lower-case name -> name as on disk (first wins); empty when unreadable:
        the ``files`` of the scan's one listing of it (:class:`~iisbitness.image.folders.Folders`)."""
        return self.folders.listing(folder).files

    def _get(self, kind: str, path: str | os.PathLike[str], read: Callable[[str], T], cls: type[T]) -> T:
        memo = self._memo[kind]
        key = os.fspath(path)
        got = memo.get(key)
        if got is None:
            got = memo[key] = self._load(kind, key, read)
        if isinstance(got, ImageReadError):
            raise got
        assert isinstance(got, cls)
        return got

    def _load(self, kind: str, path: str, read: Callable[[str], Fact]) -> Fact | ImageReadError:
        identity = FileIdentity.of(path) if self._store is not None else None
        if identity is not None and self._store is not None:
            hit = self._store.get(path, kind, identity)
            if hit is not None:
                self.stored += 1
                return hit
        try:
            fact = read(path)
        except ImageReadError as e:
            return e
        self.reads += 1
        if self._on_read is not None:
            self._on_read(Path(path))
        if identity is not None and self._store is not None:
            self._store.put(path, kind, identity, fact)
            seeded = self._memo["references"].get(path) if kind == "image" else None
            if isinstance(seeded, AssemblyReferences):
                self._store.put(path, "references", identity, seeded)
        return fact
