"""A server image: a folder standing for a Windows system drive, or the live system.

Windows paths resolve into it case-insensitively (Windows is case-insensitive; a copy on Linux
is not). A path never leaves the image: ``..`` cannot climb above a drive root, and a symlink
or junction whose target lies outside the drive's folder is refused and reported.

A developer machine (IIS Express, :mod:`iisbitness.config.iisexpress`) adds *mounts*: a Windows
folder named in configuration (a project's ``physicalPath``, ``C:\\Users\\me\\source\\repos\\App\\App``)
standing for a folder given on the command line; drives nobody gave are then simply absent rather than
a problem, so that binaries outside the project fall back to inference from their folder.

Live on Windows, the image is the real drive; a 32-bit Python on 64-bit Windows reads
``System32`` through ``%windir%\\Sysnative`` (facts E4), since it would otherwise be
redirected to SysWOW64 and read the wrong binaries and configuration.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from iisbitness.image.inputs import note
from iisbitness.image.paths import is_absolute, is_unc, normalize


@dataclass(frozen=True, slots=True)
class Resolved:
    """A Windows path located in the image.

    Attributes:
        windows_path: the normalised Windows path that was looked up.
        host_path: the real file, or None when absent or not resolvable.
        problem: why it could not be located (UNC share, unmapped drive, relative path,
            outside the image), or None when the lookup ran (found or simply absent).
    """

    windows_path: str
    host_path: Path | None
    problem: str | None = None
    shown: str | None = None
    """``host_path`` as the user names it (:meth:`ServerImage.display`), when found."""
    is_dir: bool = False
    """``host_path`` is a folder (following links), as its folder's listing said: no ``stat`` per file."""

    @property
    def found(self) -> bool:
        """True when the file exists in the image."""
        return self.host_path is not None


@dataclass
class ServerImage:
    """The files of a server: a folder per drive letter.

    Attributes:
        drives: drive letter (upper case, no colon) -> folder standing for that drive.
        sysnative: live 32-bit Python on 64-bit Windows: read System32 via Sysnative.
        live: True when this is the running system rather than a copy.
        mounts: Windows folder (normalised) -> host folder standing for it; looked up before drives.
        absent_drives: an unmapped drive letter means "absent" (not a problem): a project scan.
        label_root: host files below it are shown relative to it (the scanned project folder).
    """

    drives: dict[str, Path]
    sysnative: bool = False
    live: bool = False
    mounts: dict[str, Path] = field(default_factory=dict)
    absent_drives: bool = False
    label_root: Path | None = None
    _listing: dict[Path, _Listing | None] = field(default_factory=dict, repr=False)
    _folders: dict[tuple[Path, str], Path | None] = field(default_factory=dict, repr=False)
    _located: dict[str, Resolved] = field(default_factory=dict, repr=False)
    _real: dict[Path, Path | None] = field(default_factory=dict, repr=False)
    _inside: dict[tuple[Path, Path], bool] = field(default_factory=dict, repr=False)

    @classmethod
    def offline(cls, root: Path, extra_drives: dict[str, Path] | None = None) -> ServerImage:
        """An offline image with ``root`` as C: and optional other drives (``--drive D=/path``)."""
        drives = {"C": root}
        for letter, folder in (extra_drives or {}).items():
            drives[letter.upper().rstrip(":")] = folder
        return cls(drives=drives)

    @classmethod
    def live_system(cls) -> ServerImage:
        """The running Windows system (read-only use). Reads System32 via Sysnative from WOW64."""
        system_drive = os.environ.get("SystemDrive", "C:")
        wow64 = "PROCESSOR_ARCHITEW6432" in os.environ
        drives = {system_drive[0].upper(): Path(system_drive + "\\")}
        return cls(drives=drives, sysnative=wow64, live=True)

    @property
    def root(self) -> Path:
        """The folder standing for C:."""
        return self.drives["C"]

    def locate(self, windows_path: str) -> Resolved:
        """Find ``windows_path`` (absolute, already expanded and redirected) in the image. Cached."""
        # NOTE: cached like the listings: a bin of 20,000 DLLs is located once per worker and per re-plan (issue 7)
        hit = self._located.get(windows_path)
        if hit is None:
            hit = self._located[windows_path] = self._locate(windows_path)
        return hit

    def _locate(self, windows_path: str) -> Resolved:
        p = normalize(windows_path)
        if is_unc(p):
            return Resolved(p, None, "UNC share: not part of the server image")
        if not is_absolute(p):
            return Resolved(p, None, "relative path: IIS resolves it against the worker's current folder, which is unknown offline")
        drive, rest = p[0].upper(), p[3:]
        base = self.drives.get(drive)
        for prefix in sorted(self.mounts, key=len, reverse=True):
            low, pre = p.lower(), prefix.lower().rstrip("\\")
            if low == pre or low.startswith(pre + "\\"):
                base, rest = self.mounts[prefix], p[len(pre):]
                break
        if base is None:
            if self.absent_drives:
                return Resolved(p, None)
            return Resolved(p, None, f"drive {drive}: is not mapped (use --drive {drive}=/path/to/copy)")
        if self.sysnative and rest.lower().startswith("windows\\system32"):
            rest = "Windows\\Sysnative" + rest[len("windows\\system32"):]
        parts = [c for c in rest.split("\\") if c]
        folder = self._folder(base, parts[:-1])
        host = self.find_child(folder, parts[-1]) if parts and folder is not None else folder
        if host is None:
            return Resolved(p, None)
        if not self._inside_image(base, folder if parts else None, host):
            try:
                why = f"resolves outside the server image (a link to {host.resolve(strict=True)})"
            except (OSError, RuntimeError):  # NOTE: a link loop cannot be resolved (issue 7)
                why = "is a symbolic link loop or a dangling link"
            return Resolved(p, None, f"{why}; not followed")
        listing = self._list(folder) if parts and folder is not None else None
        is_dir = host.name in listing.folders if listing is not None else host.is_dir()
        return Resolved(p, host, shown=self.display(host), is_dir=is_dir)

    def display(self, host_path: Path) -> str:
        """A host path as the user names it: relative to its drive folder (or the scanned project folder), with
        forward slashes."""
        if self.label_root is not None:
            try:
                return host_path.relative_to(self.label_root).as_posix()
            except ValueError:
                pass
        for letter, base in self.drives.items():
            try:
                rel = host_path.relative_to(base)
            except ValueError:
                continue
            shown = rel.as_posix()
            return shown if letter == "C" else f"{letter}:/{shown}"
        return str(host_path)

    def find_child(self, folder: Path, name: str) -> Path | None:
        """The entry of ``folder`` called ``name`` case-insensitively, or None."""
        listing = self._list(folder)
        if listing is None:
            return None
        actual = listing.names.get(name.lower())
        return folder / actual if actual is not None else None

    def _folder(self, base: Path, parts: list[str]) -> Path | None:
        """The folder ``parts`` below ``base``, matched case-insensitively; walked once per folder, not per file."""
        key = (base, "\\".join(parts).lower())
        if key not in self._folders:
            node: Path | None = base
            for part in parts:
                node = self.find_child(node, part) if node is not None else None
            self._folders[key] = node
        return self._folders[key]

    def _list(self, folder: Path) -> _Listing | None:
        if folder in self._listing:
            return self._listing[folder]
        listing: _Listing | None
        note(folder)
        try:
            with os.scandir(folder) as it:
                entries = sorted((e.name, e.is_symlink(), _is_dir(e)) for e in it)
        except (OSError, ValueError):
            listing = None
        else:
            names: dict[str, str] = {}
            for n, _, _ in entries:  # NOTE: sorted so that a case clash resolves the same way every run
                names.setdefault(n.lower(), n)
            listing = _Listing(names, frozenset(n for n, link, _ in entries if link),
                               frozenset(n for n, _, is_folder in entries if is_folder))
        self._listing[folder] = listing
        return listing

    def _resolved(self, path: Path) -> Path | None:
        """``path.resolve()``, once per folder; None for a link loop."""
        if path not in self._real:
            try:
                self._real[path] = path.resolve()
            except (OSError, RuntimeError):
                self._real[path] = None
        return self._real[path]

    def _inside_image(self, base: Path, folder: Path | None, host: Path) -> bool:
        """``host`` (an entry of ``folder``; ``base`` itself when ``folder`` is None) resolves inside ``base``:
        no symbolic link leads out of the image (issue 7).

        NOTE: a file that is not itself a link resolves to its folder's real path plus its name, so each
        folder is resolved and checked once rather than each file (``Path.resolve`` stats every component).
        """
        real_base = self._resolved(base)
        if real_base is None:
            return False
        if folder is None:
            return True  # NOTE: the drive folder itself, which resolved
        listing = self._list(folder)
        if listing is not None and host.name in listing.links:
            try:
                real = host.resolve()
            except (OSError, RuntimeError):
                return False  # a link loop: treat as outside, never follow
            return real == real_base or real_base in real.parents
        inside = self._inside.get((base, folder))
        if inside is None:
            real_folder = self._resolved(folder)
            inside = self._inside[(base, folder)] = real_folder is not None and (
                real_folder == real_base or real_base in real_folder.parents)
        if inside:
            return True
        real_folder = self._resolved(folder)
        if real_folder is None:
            return False
        real = real_folder / host.name  # NOTE: a folder outside the image may still hold the image's own root
        return real == real_base or real_base in real.parents


@dataclass(frozen=True, slots=True)
class _Listing:
    """A folder's entries, read once: lower-case name -> name as on disk (first in sorted order wins), and the
    names of the entries that are symbolic links, and that are folders (following links, as ``Path.is_dir``):
    ``os.scandir`` knows both without a ``stat`` per entry, except for links."""

    names: dict[str, str]
    links: frozenset[str]
    folders: frozenset[str]


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False
