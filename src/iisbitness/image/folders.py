"""The one place a scan lists folders and resolves real paths: :class:`Folders`.

Every stage that asks "what is in this folder?" or "is this the same file?" asks here (the server image's
case-insensitive lookup, the dependency search's folder lookups, a ``bin`` folder's DLLs, cycle checks), so
that each folder is read once per scan and everything the scan looked at is in one place (what ``collect``
records; docs/images.md).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Listing:
    """A folder's entries, read once.

    Attributes:
        names: lower-case name -> name as on disk (first in sorted order wins on a case clash).
        links: names of the entries that are symbolic links (or junctions).
        folders: names of the entries that are folders, following links (as ``Path.is_dir``).
        files: lower-case name -> name as on disk of the entries that are regular files, following links
            (as ``Path.is_file``); the same dict as ``names`` when every entry is one (neither is ever changed).
        error: why the folder could not be listed (then everything else is empty), or None.
    """

    names: dict[str, str]
    links: frozenset[str]
    folders: frozenset[str]
    files: dict[str, str]
    error: str | None = None


class Folders:
    """Per-scan memo of folder listings and real paths.

    ``os.scandir`` tells links, folders and files apart without a ``stat`` per entry (except for links), so a
    folder of 20,000 DLLs costs one read; real paths are resolved once per folder, and a file that is not a link
    resolves to its folder's real path plus its name.
    """

    def __init__(self) -> None:
        self._listings: dict[Path, Listing] = {}
        self._real: dict[Path, Path | None] = {}
        self._keys: dict[str, str] = {}
        self._folder_keys: dict[Path, str] = {}

    def listing(self, folder: Path) -> Listing:
        """The entries of ``folder``; an empty listing with :attr:`Listing.error` set when it cannot be read."""
        found = self._listings.get(folder)
        if found is None:
            found = self._listings[folder] = _read_listing(folder)
        return found

    def known(self, folder: Path) -> Listing | None:
        """The listing of ``folder`` if it was already read, else None (never reads)."""
        return self._listings.get(folder)

    def listed(self) -> list[tuple[Path, Listing]]:
        """Every folder listed so far and its listing, in the order they were read (what ``collect`` records)."""
        return list(self._listings.items())

    def real(self, path: Path) -> Path | None:
        """``path.resolve()`` (links followed), once per path; None for a link loop.

        NOTE: an entry of a folder whose real path is known and whose listing was read, and that is no link there, is
        that real path and its name: no ``realpath``, which looks at every component again (issue 25: each site's
        folder and ``bin``)."""
        if path in self._real:
            return self._real[path]
        parent = path.parent
        listing = self._listings.get(parent)
        up = self._real.get(parent) if listing is not None and parent != path else None
        name = path.name
        found: Path | None
        if up is not None and listing is not None and listing.names.get(name.lower()) == name \
                and name not in listing.links:
            found = up / name
        else:
            try:
                found = path.resolve()
            except (OSError, RuntimeError):
                found = None
        self._real[path] = found
        return found

    def key(self, path: str | os.PathLike[str]) -> str:
        """The file's identity for cycle checks: its real path, case-folded (``os.path.realpath``), once per path.

        NOTE: the real path of a file that is not a link is its folder's real path plus its name: folders are
        resolved once each, not once per file (``realpath`` stats every component); whether it is a link comes
        from its folder's listing when that was read.
        """
        text = os.fspath(path)
        key = self._keys.get(text)
        if key is None:
            parent, name = os.path.split(text)
            key = self._keys[text] = self._key(Path(parent), name, text)
        return key

    def key_in(self, folder: Path, name: str, path: str) -> str:
        """:meth:`key` of ``path``, the file ``name`` of ``folder`` (``os.path.join(folder, name)``), when the caller
        has the folder: no ``Path`` made (issue 25: the dependency search)."""
        key = self._keys.get(path)
        if key is None:
            key = self._keys[path] = self._key(folder, name, path)
        return key

    def _key(self, parent: Path, name: str, path: str) -> str:
        listing = self._listings.get(parent)
        link = name in listing.links if listing is not None else os.path.islink(path)
        if link or name in ("", ".", ".."):
            return os.path.normcase(os.path.realpath(path)).lower()
        folder = self._folder_keys.get(parent)
        if folder is None:
            folder = self._folder_keys[parent] = os.path.normcase(os.path.realpath(parent)).lower()
        return os.path.normcase(os.path.join(folder, name)).lower()


def _read_listing(folder: Path) -> Listing:
    try:
        with os.scandir(folder) as it:
            found = list(it)
        try:  # NOTE: the entry type from the listing itself (no stat but for links): _is per entry only when one failed
            entries = sorted((e.name, e.is_symlink(), e.is_dir(), e.is_file()) for e in found)
        except OSError:
            entries = sorted((e.name, e.is_symlink(), _is(e.is_dir), _is(e.is_file)) for e in found)
    except OSError as e:
        return Listing({}, frozenset(), frozenset(), {}, f"cannot list: {e.strerror or e}")
    except ValueError as e:  # NOTE: a name with a NUL byte
        return Listing({}, frozenset(), frozenset(), {}, f"cannot list: {e}")
    every_file = all(is_file for _, _, _, is_file in entries)
    names: dict[str, str] = {}
    files: dict[str, str] = names if every_file else {}  # NOTE: a bin folder: one dict for both (issue 25, memory)
    for n, _, _, is_file in entries:  # NOTE: sorted so that a case clash resolves the same way every run
        low = n.lower()
        if low == n:
            low = n  # NOTE: one string, not two, for a name already in lower case
        names.setdefault(low, n)
        if is_file and not every_file:
            files.setdefault(low, n)
    return Listing(names, _set(n for n, link, _, _ in entries if link),
                   _set(n for n, _, is_folder, _ in entries if is_folder), files)


_NONE: frozenset[str] = frozenset()


def _set(names: Iterable[str]) -> frozenset[str]:
    """``frozenset(names)``; the one empty set when there are none (a set object per folder otherwise)."""
    return frozenset(names) or _NONE


def _is(test: Callable[[], bool]) -> bool:
    try:
        return test()
    except OSError:
        return False
