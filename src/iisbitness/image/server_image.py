"""A server image: a folder standing for a Windows system drive, or the live system.

Windows paths resolve into it case-insensitively (Windows is case-insensitive; a copy on Linux
is not). A path never leaves the image: ``..`` cannot climb above a drive root, and a symlink
or junction whose target lies outside the drive's folder is refused and reported.

A developer machine (IIS Express, :mod:`iisbitness.config.iisexpress`) adds *mounts*: a Windows
folder named in configuration (a project's ``physicalPath``, ``C:\\Users\\me\\source\\repos\\App\\App``)
standing for a folder given on the command line; drives nobody gave are then simply absent rather than
a problem, so that binaries outside the project fall back to inference from their folder.

Live on Windows, the image is the machine: the same code with another root map (:meth:`ServerImage.machine`):
every drive letter, UNC paths the process can read, and links followed wherever they lead (they are part of the
machine). Only the root map comes from Windows (:mod:`iisbitness.image.windows`), so tests run the live
resolution over a folder tree standing for the machine. A 32-bit Python on 64-bit Windows reads ``System32``
through ``%windir%\\Sysnative`` (facts E4), since it would otherwise be redirected to SysWOW64 and read the wrong
binaries and configuration.

Every folder listing and real path comes from one :class:`~iisbitness.image.folders.Folders` (:attr:`ServerImage.
folders`), shared with the dependency search and the ``bin`` collectors: the one place the scan reads folders.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from iisbitness.image import windows
from iisbitness.image.folders import Folders, Listing
from iisbitness.image.paths import is_absolute, is_unc, normalize, share_argument, unc_share
from iisbitness.image.registry import SOFTWARE_HIVE, ComRegistry, open_registry

COLLECT_AGAIN = "iisbitness collect again, with the --env and --os-arch values given to this scan"
"""The remedy of what a collected zip does not hold because the scan of it resolves other paths (or asks other registry
views) than the scan that collected it: a folder its recorder never listed, a registry answer never asked."""


@dataclass(frozen=True, slots=True)
class Resolved:
    """A Windows path located in the image.

    Attributes:
        windows_path: the normalised Windows path that was looked up.
        host: the real file (``str`` of its host path), or None when absent or not resolvable.
        problem: why it could not be located (UNC share, unmapped drive, relative path,
            outside the image), or None when the lookup ran (found or simply absent).
        remedy: what to give a new scan so that it finds the path, where an option does (``--drive D=/path/to/copy``
            for an unmapped drive, ``--share //server/share=/path/to/copy`` for a share offline: the ``use ...`` of
            :attr:`problem`; a new ``collect`` for a folder a collected zip's recorder never listed); "" otherwise.
        gone: set, with no :attr:`host` and no :attr:`problem`, when the path is absent from the server for a reason
            beyond its folder's listing: on the server itself (:attr:`ServerImage.is_the_server`), a drive letter it
            does not have (``"drive E: is not a drive of this server"``); "" otherwise.
    """

    windows_path: str
    host: str | None
    problem: str | None = None
    shown: str | None = None
    """``host_path`` as the user names it (:meth:`ServerImage.display`), when found."""
    is_dir: bool = False
    """``host_path`` is a folder (following links), as its folder's listing said: no ``stat`` per file."""
    folder: Path | None = None
    """The folder whose listing held ``host_path`` (its parent, one object per folder), when found in one."""
    remedy: str = ""
    gone: str = ""

    @property
    def host_path(self) -> Path | None:
        """:attr:`host` as a ``Path``, made when asked (NOTE: the image keeps a string per file it located, not a
        ``Path`` and its list of parts: 100,000 binaries, issue 25)."""
        return Path(self.host) if self.host is not None else None

    @property
    def found(self) -> bool:
        """True when the file exists in the image."""
        return self.host is not None


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
        shares: folder standing for the UNC namespace (``\\\\server\\share\\x`` is ``shares/server/share/x``,
            matched case-insensitively); None: UNC paths are not part of the image, except live, where they are
            read where they are.
        share_folders: offline, one share each (``--share \\\\server\\share=PATH``): ``\\\\server\\share`` as given ->
            the host folder holding a copy of that share (``\\\\server\\share\\app`` is ``PATH/app``), matched
            case-insensitively, looked up before :attr:`shares`; a link leaving it is refused as for a drive.
        follow_links: links are followed wherever they lead (the live machine); else a link leaving its drive's
            folder is refused and reported (an offline copy must not read the analyst's own files).
        folders: the listings and real paths read (:class:`~iisbitness.image.folders.Folders`).
        com_registry: the registry :meth:`open_registry` gives, once opened or when set (a collected image).
        on_registry: applied to the registry when :meth:`open_registry` opens it (``collect`` records answers).
        collected: where a collected zip's copy was made: ``server`` (``iisbitness collect`` on the server itself:
            what it lacks was not on the server, or not readable there), ``image`` (from an image folder: what it
            lacks was not in that folder, and only a new ``collect`` adds it, as a scan of the zip takes no
            ``--drive`` or ``--share``); "" when this is no collected zip.
        placeholders: a collected zip: the host paths (``str``) of the files its recorder saw listed but never read,
            laid out empty so that the listing keeps its meaning: located as not checked, never read (an empty file
            would be "not a Windows binary"); empty otherwise.
        network_drives: on the server (:attr:`is_the_server`), the drive letters that were network drives mapped in
            the logon session of the scan (live: ``GetDriveTypeW``'s ``DRIVE_REMOTE``, :func:`iisbitness.image.windows.
            network_drives`; a zip collected there: its manifest's ``network_drives``). IIS worker processes run in
            logon sessions of their own and do not see such a mapping ("Services and Redirected Drives"): a path on one
            is not checked (what the scan reads there is not what the worker reaches), never read as the worker's.
        recorded: a collected zip: the host folders (of the laid out copy) whose listing the zip holds, the only
            folders whose lack of an entry is evidence (a folder the recorder never listed is laid out empty, or not
            at all: a path into it is not checked, never absent); None otherwise (every folder is read as it is).
    """

    drives: dict[str, Path]
    sysnative: bool = False
    live: bool = False
    mounts: dict[str, Path] = field(default_factory=dict)
    absent_drives: bool = False
    label_root: Path | None = None
    shares: Path | None = None
    share_folders: dict[str, Path] = field(default_factory=dict)
    follow_links: bool = False
    collected: str = ""
    recorded: frozenset[Path] | None = None
    network_drives: frozenset[str] = frozenset()
    placeholders: frozenset[str] = frozenset()
    _placeholder_folders: frozenset[str] | None = field(default=None, repr=False)
    folders: Folders = field(default_factory=Folders, repr=False)
    com_registry: tuple[ComRegistry | None, str | None] | None = field(default=None, repr=False)
    on_registry: Callable[[ComRegistry | None], ComRegistry | None] | None = field(default=None, repr=False)
    _folders: dict[tuple[Path, str], Path | None] = field(default_factory=dict, repr=False)
    _located: dict[str, Resolved] = field(default_factory=dict, repr=False)
    _inside: dict[tuple[Path, Path], bool] = field(default_factory=dict, repr=False)
    _shown: dict[Path, tuple[str, str] | None] = field(default_factory=dict, repr=False)
    _entry_folders: dict[tuple[Path, str], _FolderEntries | None] = field(default_factory=dict, repr=False)
    _files_of: dict[str, FilesOf | None] = field(default_factory=dict, repr=False)

    @classmethod
    def offline(cls, root: Path, extra_drives: dict[str, Path] | None = None,
                shares: dict[str, Path] | None = None) -> ServerImage:
        """An offline image with ``root`` as C:, optional other drives (``--drive D=/path``) and shares
        (``--share \\\\server\\share=/path``: ``{"\\\\server\\share": Path}``, ``//server/share`` alike, see
        :attr:`share_folders`).

        Raises:
            ValueError: a key of ``shares`` names no ``\\\\server\\share`` (a drive, a folder below a share).
        """
        drives = {"C": root}
        for letter, folder in (extra_drives or {}).items():
            drives[letter.upper().rstrip(":")] = folder
        return cls(drives=drives, share_folders=cls.share_map(shares or {}))

    @staticmethod
    def share_map(shares: dict[str, Path]) -> dict[str, Path]:
        """``--share`` values (``{"\\\\server\\share": Path}``, ``//server/share`` alike) as :attr:`share_folders`
        holds them (``\\\\server\\share``): what :meth:`offline` takes, for an image built otherwise (IIS Express).

        Raises:
            ValueError: a key names no ``\\\\server\\share`` (a drive, a folder below a share).
        """
        folders: dict[str, Path] = {}
        for name, folder in shares.items():
            named = unc_share(name)
            if named is None or named[2]:
                raise ValueError(f"{name!r} names no \\\\server\\share")
            folders[f"\\\\{named[0]}\\{named[1]}"] = folder
        return folders

    @property
    def is_the_server(self) -> bool:
        """True when what this image lacks, the server lacks: the live server (:attr:`live`) or a zip ``iisbitness
        collect`` made on the server itself (:attr:`collected` ``server``), where every drive and folder the scan asked
        for was answered; not a copy made by hand, nor a zip made from one."""
        return self.live or self.collected == "server"

    @classmethod
    def machine(cls, drives: dict[str, Path], shares: Path | None = None, sysnative: bool = False,
                live: bool = True, network_drives: frozenset[str] = frozenset()) -> ServerImage:
        """A whole machine: every drive in ``drives``, UNC paths (below ``shares``, or where they are when None),
        links followed; ``network_drives``: :attr:`network_drives`. :meth:`live_system` is this with Windows' own
        drives; tests give a folder tree."""
        return cls(drives=dict(drives), sysnative=sysnative, live=live, shares=shares, follow_links=True,
                   network_drives=network_drives)

    @classmethod
    def live_system(cls) -> ServerImage:
        """The running Windows system (read-only use): every drive, UNC, links followed; reads System32 via
        Sysnative from WOW64; the network drives of the scan's logon session (:attr:`network_drives`)."""
        drives = windows.logical_drives()
        return cls.machine(drives, sysnative=windows.wow64(), network_drives=windows.network_drives(drives))

    @property
    def root(self) -> Path:
        """The folder standing for C:."""
        return self.drives["C"]

    @property
    def host_roots(self) -> list[Path]:
        """The host folders standing for the server: each drive folder, then the share folders if any."""
        return [*self.drives.values(), *self.share_folders.values(), *([self.shares] if self.shares is not None else [])]

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
            return self._locate_unc(p)
        if not is_absolute(p):
            return Resolved(p, None, "relative path: IIS resolves it against the worker's current folder, which is unknown offline")
        where = self._base(p)
        return where if isinstance(where, Resolved) else self._below(p, *where)

    def _base(self, p: str) -> tuple[Path, str] | Resolved:
        """The host folder standing for the start of the drive-absolute path ``p`` (a mount, or its drive's folder)
        and the rest of ``p`` below it; a :class:`Resolved` when there is none (an unmapped drive)."""
        drive, rest = p[0].upper(), p[3:]
        base = self.drives.get(drive)
        mounted = self._mounted(p)
        if mounted is not None:
            base, rest = mounted
        if base is None:
            if self.absent_drives:
                return Resolved(p, None)
            if self.is_the_server:  # NOTE: every drive of the server is mapped: it has no such drive, so no such file
                return Resolved(p, None, gone=f"drive {drive}: is not a drive of {self._the_server}")
            remedy = f"--drive {drive}=/path/to/copy"
            return Resolved(p, None, f"drive {drive}: is not mapped (use {remedy})", remedy=remedy)
        if drive in self.network_drives and mounted is None and self.is_the_server:
            return Resolved(p, None, f"drive {drive}: is a network drive mapped in the logon session of the scan "
                                     f"{'' if self.live else 'that collected the zip '}(GetDriveType: DRIVE_REMOTE); IIS "
                                     "worker processes run in logon sessions of their own and do not see another "
                                     "session's mapped drives (Microsoft: Services and Redirected Drives): not checked; "
                                     "configure the file by its UNC path (\\\\server\\share\\...)")
        if self.sysnative and rest.lower().startswith("windows\\system32"):
            rest = "Windows\\Sysnative" + rest[len("windows\\system32"):]
        return base, rest

    @property
    def _the_server(self) -> str:
        """The server as a reason names it: ``this server`` live, else ``the server when it was collected``."""
        return "this server" if self.live else "the server when it was collected"

    def _mounted(self, p: str) -> tuple[Path, str] | None:
        """The mount (:attr:`mounts`, the longest) that ``p`` is or is below, as its host folder and the rest of
        ``p``; None when there is none. A drive path or a UNC one (a project folder on a share, IIS Express)."""
        low = p.lower()
        for prefix in sorted(self.mounts, key=len, reverse=True):
            pre = prefix.lower().rstrip("\\")
            if low == pre or low.startswith(pre + "\\"):
                return self.mounts[prefix], p[len(pre):]
        return None

    def _placeholder_parents(self) -> frozenset[str]:
        """The host folders (``str``) holding a :attr:`placeholders` file, worked out once."""
        if self._placeholder_folders is None:
            self._placeholder_folders = frozenset(os.path.dirname(f) for f in self.placeholders)
        return self._placeholder_folders

    def files_of(self, windows_folder: str) -> FilesOf | None:
        """The folder ``windows_folder`` (a normal drive-absolute Windows path) for locating many of its files at
        once (:meth:`FilesOf.locate`: what :meth:`locate` finds, without a :class:`Resolved` or a ``Path`` per file;
        issue 25: a ``bin`` of 20,000 DLLs at every worker architecture); None when its files take :meth:`locate`
        one by one: the image lacks the folder, it resolves outside the image (its entries are then checked one by
        one), a mount lies below it, its entries are not named from it (a WOW64 Python's Sysnative), or the path is
        not normal. Cached (NOTE: asked per ``bin`` folder at each worker architecture and re-plan; issue 25)."""
        if windows_folder in self._files_of:
            return self._files_of[windows_folder]
        found = self._files_of[windows_folder] = self._find_files_of(windows_folder)
        return found

    def _find_files_of(self, windows_folder: str) -> FilesOf | None:
        probe = windows_folder + "\\x"  # NOTE: the folder part of every file path below it is the same
        low = windows_folder.lower() + "\\"
        if (self.sysnative or is_unc(probe) or not is_absolute(probe) or normalize(probe) != probe
                or any(m.lower().rstrip("\\").startswith(low) for m in self.mounts)):
            return None
        where = self._base(probe)
        if isinstance(where, Resolved):
            return None
        base, rest = where
        at = self._entries(base, [c for c in rest.split("\\") if c][:-1])
        if at is None or at.shown is None or not (at.inside or self.follow_links):
            return None
        if self.placeholders and str(at.folder) in self._placeholder_parents():
            return None  # NOTE: a collected zip's folder with files never read: each through locate, which says so
        return FilesOf(at.folder, os.path.join(at.folder, ""), at.listing, at.shown)

    def _locate_unc(self, p: str) -> Resolved:
        """``\\\\server\\share\\rest`` (or ``\\\\?\\UNC\\server\\share\\rest``): below a mount it is in (a
        scanned project), its folder in :attr:`share_folders`, below :attr:`shares`, or live where it is."""
        named = unc_share(p)
        if named is None:
            return Resolved(p, None, "not a \\\\server\\share path: not read")
        server, share, rest = named
        mounted = self._mounted(p)  # NOTE: IIS Express: the scanned project is where its site's share path says
        if mounted is not None:
            return self._below(p, *mounted)
        mapped = self.share_folder(server, share)
        if mapped is not None:
            return self._below(p, mapped, rest)
        if self.shares is not None:
            node = self.find_child(self.shares, server)
            base = self.find_child(node, share) if node is not None else None
            if base is None:
                if self.live or self.recorded is not None:  # NOTE: a share not read is not a share that lacks it
                    return self._share_unread(p, server, share, None)
                return Resolved(p, None)
        elif self.live:
            base = Path(f"//{server}/{share}/")
        elif self.recorded is not None:  # NOTE: a collected zip takes no --share: collect did not read the share
            return self._share_unread(p, server, share, None)
        else:
            remedy = share_argument(server, share)
            return Resolved(p, None, f"UNC share: not part of the server image (use {remedy})", remedy=remedy)
        return self._below(p, base, rest)

    def _absent(self, p: str, base: Path, parts: list[str]) -> Resolved:
        """``p`` (``parts`` below ``base``) not found: absent where the folder the lookup stopped in was read (listed,
        and, in a collected zip, listed by its recorder); else not checked, with why (a folder that could not be
        listed, a share not reached, a folder the recorder never listed) and what to do. Never "absent" for what the
        scan did not look at: on the server that would say the file is missing there."""
        node = base
        below = "\\".join(parts)
        head = p[:len(p) - len(below)] if p.lower().endswith(below.lower()) else None  # NOTE: not via Sysnative
        for i, part in enumerate(parts):
            listing = self.folders.listing(node)
            named = self._folder_name(node) if head is None else (head if i == 0 else head.rstrip("\\") + "\\"
                                                                  + "\\".join(parts[:i]))
            unread = self._unread(p, node, named, listing.error, i == 0)
            if unread is not None:
                return unread
            actual = listing.names.get(part.lower())
            if actual is None and _SHORT_NAME.fullmatch(part) is not None:
                return Resolved(p, None, f"{named.rstrip(chr(92) + '/')}\\{part} may be an 8.3 short name (NTFS gives "
                                         "one to a long name, \"Naming Files, Paths, and Namespaces\"), which the scan "
                                         "does not resolve: not checked (give its long path, from dir /x)")
            if actual is None or actual not in listing.folders:
                return Resolved(p, None)  # NOTE: the folder read lacks it (or holds a file by that name)
            node = node / actual
        return Resolved(p, None)

    def _unread(self, p: str, folder: Path, named: str, error: str | None, top: bool) -> Resolved | None:
        """Why the listing of ``folder`` (a folder on the way to ``p``, its Windows path ``named``; ``top``: the
        drive, share or mount folder) is no evidence of what it lacks: it could not be listed (``error``), or a
        collected zip's recorder never listed it; None when it is evidence."""
        share = unc_share(p) if top and is_unc(p) else None
        if error is not None and share is not None and self.live and self.shares is None:
            return self._share_unread(p, share[0], share[1], error.removeprefix("cannot list: "))
        if error is not None:
            return Resolved(p, None, f"folder {named} could not be listed "
                                     f"({error.removeprefix('cannot list: ')}): not checked")
        if self.recorded is not None and folder not in self.recorded:
            if share is not None:
                return self._share_unread(p, share[0], share[1], None)
            remedy = COLLECT_AGAIN
            return Resolved(p, None, f"folder {named} was never listed by the scan that collected "
                                     "the zip (a scan of the zip with other --env or --os-arch values than collect's "
                                     f"looks in other folders): not checked ({remedy})", remedy=remedy)
        return None

    def _folder_name(self, folder: Path) -> str:
        """:meth:`display` of a folder, a drive's own folder named as its root (``C:/``, ``D:/``), not ``.``."""
        shown = self.display(folder)
        return next((f"{letter}:/" for letter, base in self.drives.items() if base == folder), shown)

    def _share_unread(self, p: str, server: str, share: str, error: str | None) -> Resolved:
        """``p`` on the share ``\\\\server\\share`` that the server (live) or the collecting scan could not read: not
        checked, never missing (the share may be there for the worker's account). A zip collected from an image
        folder: the share was not given to ``collect`` (``--share``), and a new ``collect`` is the remedy."""
        if self.collected == "image":
            remedy = f"iisbitness collect again with {share_argument(server, share)}"
            return Resolved(p, None, f"share \\\\{server}\\{share} is not in the collected copy: not checked "
                                     f"({remedy})", remedy=remedy)
        why = f": {error}" if error else ""
        return Resolved(p, None, f"share \\\\{server}\\{share} could not be read from {self._the_server} (it does "
                                 f"not exist, or the scan's account cannot reach it{why}): not checked",
                        remedy="scan on the server with an account that can read the share (iisbitness collect then "
                               "copies it)")

    def share_folder(self, server: str, share: str) -> Path | None:
        """The folder standing for ``\\\\server\\share`` (:attr:`share_folders`, ``--share``), matched
        case-insensitively as Windows matches server and share names; None when the share is not mapped."""
        want = f"\\\\{server}\\{share}".lower()
        return next((v for k, v in self.share_folders.items() if k.lower() == want), None)

    def _below(self, p: str, base: Path, rest: str) -> Resolved:
        """``rest`` (backslashes) below the folder ``base`` standing for the start of ``p``."""
        parts = [c for c in rest.split("\\") if c]
        if not parts:
            if self.follow_links or self._inside_image(base, None, base):
                return Resolved(p, str(base), shown=self.display(base), is_dir=base.is_dir())
            return Resolved(p, None, f"{_outside(base)}; not followed")
        at = self._entries(base, parts[:-1])
        actual = at.listing.names.get(parts[-1].lower()) if at is not None else None
        if at is None or actual is None:
            return self._absent(p, base, parts)
        folder = at.folder
        host = folder / actual
        if self.follow_links:
            if self._loops(folder, host):
                return Resolved(p, None, "is a symbolic link loop; not followed")
        elif (not at.inside or actual in at.listing.links) and not self._inside_image(base, folder, host):
            return Resolved(p, None, f"{_outside(host)}; not followed")
        shown = self.display(host) if at.shown is None else _entry_name(at.shown, actual)
        if self.placeholders and str(host) in self.placeholders:
            return Resolved(p, None, f"{shown} is only a name in the zip: the scan that collected it saw it listed but "
                                     "did not copy it (it did not read it: a scan of the zip with other --env or "
                                     "--os-arch values than collect's reads other files; or it left it out, as the "
                                     f"problems say): not checked ({COLLECT_AGAIN})", remedy=COLLECT_AGAIN)
        return Resolved(p, str(host), shown=shown, is_dir=actual in at.listing.folders, folder=folder)

    def _entries(self, base: Path, parts: list[str]) -> _FolderEntries | None:
        """The folder ``parts`` below ``base`` (:meth:`_folder`) with what every lookup of one of its entries reads,
        worked out once per folder (issue 25: a bin of 20,000 DLLs); None when there is no such folder."""
        key = (base, "\\".join(parts).lower())
        if key in self._entry_folders:
            return self._entry_folders[key]
        folder = self._folder(base, parts)
        at = None
        if folder is not None:
            inside = False
            if not self.follow_links:  # NOTE: live, links are followed: nothing to check
                real_base, real_folder = self.folders.real(base), self.folders.real(folder)
                inside = real_base is not None and real_folder is not None and (
                    real_folder == real_base or real_base in real_folder.parents)
            at = _FolderEntries(folder, self.folders.listing(folder), inside, self._shown_parts(folder))
        self._entry_folders[key] = at
        return at

    def escapes(self, host: Path) -> str | None:
        """Why ``host``, an entry found in a folder of the image (by :meth:`find_child` or a folder walk), is not
        to be followed: it is a link that resolves outside the drive (or mount) folder it was found in, or loops;
        None when it stays inside (issue 26: a web.config that links out of an offline image is not read). On the
        live machine (:attr:`follow_links`) only a loop is not followed."""
        if self.follow_links:
            return "is a symbolic link loop; not followed" if self._loops(host.parent, host) else None
        bases = sorted((*self.mounts.values(), *self.drives.values(), *self.share_folders.values()),
                       key=lambda b: len(b.parts), reverse=True)
        for base in bases:
            if host == base or base in host.parents:
                return None if self._inside_image(base, host.parent, host) else f"{_outside(host)}; not followed"
        return None

    def display(self, host_path: Path) -> str:
        """A host path as the user names it: relative to its drive folder (or the scanned project folder), with
        forward slashes."""
        found = self._relative(host_path)
        if found is not None:
            where, shown = found
            if self.sysnative and where == "C" and shown.lower().startswith("windows/sysnative"):
                shown = "Windows/System32" + shown[len("windows/sysnative"):]  # NOTE: the name the user knows
            return _HEADS.get(where, f"{where}:/") + shown
        text = str(host_path)
        if text.startswith(("\\\\", "//")):  # NOTE: live, a share read where it is: named as from a copy
            return "//" + text.lstrip("\\/").replace("\\", "/")
        return text

    def _relative(self, host_path: Path) -> tuple[str, str] | None:
        """Where :meth:`display` names ``host_path`` from: ``("", path)`` below the label root, ``(letter, path)``
        below a drive folder, ``("//", path)`` below the shares (the first that holds it, in that order; a folder of
        :attr:`share_folders`, ``("//", "server/share/path")``, before a drive folder that holds it too, unless
        it is that folder or holds it; the path relative to it with forward slashes, ``.`` for the folder itself);
        None below none."""
        if self.label_root is not None:
            try:
                return "", host_path.relative_to(self.label_root).as_posix()
            except ValueError:
                pass
        share: tuple[Path, tuple[str, str]] | None = None
        for name, base in self.share_folders.items():  # NOTE: a copy of a share may sit inside the C: folder
            try:
                rel = host_path.relative_to(base).as_posix()
            except ValueError:
                continue
            head = name.lstrip("\\").replace("\\", "/")
            share = base, ("//", head if rel == "." else f"{head}/{rel}")
            break
        for letter, base in self.drives.items():
            try:
                rel = host_path.relative_to(base).as_posix()
            except ValueError:
                continue
            return share[1] if share is not None and base in share[0].parents else (letter, rel)
        if share is not None:
            return share[1]
        if self.shares is not None:
            try:
                return "//", host_path.relative_to(self.shares).as_posix()
            except ValueError:
                pass
        return None

    def _display_in(self, folder: Path, host: Path) -> str:
        """:meth:`display` of ``host``, an entry of ``folder``: the folder's, worked out once, and the entry's name.

        NOTE: ``Path.relative_to`` per file was a tenth of a scan's planning (issue 25). An entry is below a base
        folder (the label root, a drive, the shares) exactly when its folder is or is below it, unless the entry is
        that base itself: a folder holding a base, a WOW64 Python's Sysnative renaming and a host path outside
        every base take :meth:`display` (:meth:`_display_parts`).
        """
        parts = self._shown_parts(folder)
        return self.display(host) if parts is None else _entry_name(parts, host.name)

    def _shown_parts(self, folder: Path) -> tuple[str, str] | None:
        """:meth:`_display_parts` of ``folder``, once per folder."""
        if folder in self._shown:
            return self._shown[folder]
        parts = self._shown[folder] = self._display_parts(folder)
        return parts

    def _display_parts(self, folder: Path) -> tuple[str, str] | None:
        """``(head, relative path)`` of ``folder`` as :meth:`display` names it (its name is ``head`` and the relative
        path, ``.`` for the base itself); None when its entries must go through :meth:`display`."""
        bases = [*([self.label_root] if self.label_root is not None else []), *self.drives.values(),
                 *self.share_folders.values(), *([self.shares] if self.shares is not None else [])]
        if self.sysnative or any(b.parent == folder for b in bases):
            return None
        found = self._relative(folder)
        return None if found is None else (_HEADS.get(found[0], f"{found[0]}:/"), found[1])

    def host_of(self, shown: str) -> Path:
        """The host path of a name :meth:`display` gave (``D:/x`` on drive D, ``//server/share/x`` below
        :attr:`shares`, ``Windows/System32/x`` through ``Sysnative`` for a WOW64 Python); an absolute host path as
        it is."""
        if len(shown) > 2 and shown[1:3] == ":/" and shown[0].upper() in self.drives:
            return self.drives[shown[0].upper()] / shown[3:]
        named = unc_share(shown) if shown.startswith("//") else None
        mapped = self.share_folder(named[0], named[1]) if named is not None else None
        if named is not None and mapped is not None:
            return mapped.joinpath(*named[2].split("\\")) if named[2] else mapped
        if shown.startswith("//") and self.shares is not None:
            return self.shares / shown[2:]
        p = Path(shown)
        if p.is_absolute():
            return p
        if self.sysnative and shown.lower().startswith("windows/system32"):
            shown = "Windows/Sysnative" + shown[len("windows/system32"):]
        return self.root / shown

    def _loops(self, folder: Path | None, host: Path) -> bool:
        """A link (``host``, or a link on the way to ``folder``) that cannot be resolved: a loop, never followed."""
        if folder is not None and host.name in self.folders.listing(folder).links:
            return self.folders.real(host) is None
        return False

    def find_child(self, folder: Path, name: str) -> Path | None:
        """The entry of ``folder`` called ``name`` case-insensitively, or None."""
        actual = self.folders.listing(folder).names.get(name.lower())
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

    def unproven(self, folder: Path, name: str | None) -> str | None:
        """Why the listing of ``folder`` (a host folder a dependency search looks in) proves nothing of a file there:
        it could not be listed, or a collected zip's recorder never listed it (laid out empty, or not at all: a scan
        of the zip with other ``--os-arch`` or ``--env`` values than collect's looks in other folders); or, ``name``
        being the entry found, the zip holds only its name (seen listed, never read: laid out empty). None when the
        listing (and the file) are evidence. What :attr:`BinaryFacts.unproven <iisbitness.pe.facts.BinaryFacts.
        unproven>` asks (:class:`~iisbitness.loadplan.context.PlanContext` sets it), as :meth:`locate` says of a
        configured path."""
        if name is not None:
            if self.placeholders and str(folder / name) in self.placeholders:
                return (f"{self._windows_name(folder)}\\{name} is only a name in the zip: the scan that collected it "
                        f"saw it listed but did not copy it: not checked ({COLLECT_AGAIN})")
            return None
        error = self.folders.listing(folder).error
        if error is not None:
            return (f"folder {self._windows_name(folder)} could not be listed ({error.removeprefix('cannot list: ')}): "
                    "not checked")
        if self.recorded is not None and folder not in self.recorded:
            return (f"folder {self._windows_name(folder)} was never listed by the scan that collected the zip (a scan of the zip with other "
                    f"--env or --os-arch values than collect's looks in other folders): not checked ({COLLECT_AGAIN})")
        return None

    def _windows_name(self, folder: Path) -> str:
        """The host folder ``folder`` as Windows names it (``C:\\Windows\\SysWOW64``, ``\\\\fs\\share\\x``); below
        the label root, as :meth:`display` names it."""
        found = self._relative(folder)
        where, rest = found if found is not None else ("", str(folder))
        head = f"{where}:\\" if len(where) == 1 else "\\\\" if where == "//" else ""
        return head + ("" if rest == "." else rest.replace("/", "\\"))

    def listing(self, folder: Path) -> Listing:
        """The entries of ``folder`` (a host folder of this image), read once per scan; empty with
        :attr:`~iisbitness.image.folders.Listing.error` set when unreadable."""
        return self.folders.listing(folder)

    def open_registry(self) -> tuple[ComRegistry | None, str | None]:
        """The image's registry (COM registrations, both views), opened once: ``(registry, None)`` or ``(None, why
        not)``. Live on Windows: winreg; offline: the ``SOFTWARE`` hive; collected: the recorded answers."""
        if self.com_registry is None:
            hive = self.locate("C:\\" + SOFTWARE_HIVE)
            host = hive.host_path if hive.host_path is not None and not hive.is_dir else None
            registry, why = open_registry(host, self.live, hive.problem)
            self.com_registry = (self.on_registry(registry) if self.on_registry is not None else registry), why
        return self.com_registry

    def _inside_image(self, base: Path, folder: Path | None, host: Path) -> bool:
        """``host`` (an entry of ``folder``; ``base`` itself when ``folder`` is None) resolves inside ``base``:
        no symbolic link leads out of the image (issue 7).

        NOTE: a file that is not itself a link resolves to its folder's real path plus its name, so each
        folder is resolved and checked once rather than each file (``Path.resolve`` stats every component).
        """
        real_base = self.folders.real(base)
        if real_base is None:
            return False
        if folder is None:
            return True  # NOTE: the drive folder itself, which resolved
        if host.name in self.folders.listing(folder).links:
            real = self.folders.real(host)
            if real is None:
                return False  # a link loop: treat as outside, never follow
            return real == real_base or real_base in real.parents
        inside = self._inside.get((base, folder))
        if inside is None:
            real_folder = self.folders.real(folder)
            inside = self._inside[(base, folder)] = real_folder is not None and (
                real_folder == real_base or real_base in real_folder.parents)
        if inside:
            return True
        real_folder = self.folders.real(folder)
        if real_folder is None:
            return False
        real = real_folder / host.name  # NOTE: a folder outside the image may still hold the image's own root
        return real == real_base or real_base in real.parents


@dataclass(frozen=True, slots=True)
class _FolderEntries:
    """What looking up an entry of ``folder`` reads, once per folder (:meth:`ServerImage._entries`).

    Attributes:
        folder: the host folder.
        listing: its listing.
        inside: the folder resolves inside the image's base folder it was found below (an entry that is not a
            link is then inside too; otherwise :meth:`ServerImage._inside_image` decides).
        shown: :meth:`ServerImage._display_parts` of the folder.
    """

    folder: Path
    listing: Listing
    inside: bool
    shown: tuple[str, str] | None


@dataclass(frozen=True, slots=True)
class FilesOf:
    """A folder of the image whose files are located by name (:meth:`ServerImage.files_of`).

    Attributes:
        folder: the host folder (the :attr:`Resolved.folder` of its files).
        prefix: ``os.path.join(str(folder), "")``: an entry's host path is it and the entry's name (as
            ``os.path.join``, for a name without a separator: the string ``str(folder / name)`` is).
        listing: its listing.
        shown: :meth:`ServerImage._display_parts` of the folder.
    """

    folder: Path
    prefix: str
    listing: Listing
    shown: tuple[str, str]

    def locate(self, name: str) -> tuple[str, str] | None:
        """``(host, shown)`` of the file ``name`` of this folder: the :attr:`Resolved.host` and :attr:`Resolved.shown`
        that :meth:`ServerImage.locate` gives for the folder's Windows path and ``"\\" + name``; None when that
        file must take :meth:`ServerImage.locate`: absent, a folder, a link (to be checked), or a name holding a
        backslash (a path below another folder on Windows)."""
        listing = self.listing
        actual = listing.names.get(name.lower())
        if actual is None or "\\" in name or actual in listing.links or actual in listing.folders:
            return None
        return self.prefix + actual, _entry_name(self.shown, actual)


def _entry_name(parts: tuple[str, str], name: str) -> str:
    """The entry ``name`` of a folder shown as ``parts`` (:meth:`ServerImage._display_parts`)."""
    head, rel = parts
    return head + name if rel == "." else f"{head}{rel}/{name}"


_SHORT_NAME = re.compile(r"[^.\\/~]{1,6}~[0-9]{1,6}(\.[^.\\/]{0,3})?")
"""A name an 8.3 short name may be (``PROGRA~1``, ``MICROS~2.DLL``: at most 8 characters and a ``~`` and digits before a
dot, at most 3 after it; "Naming Files, Paths, and Namespaces", learn.microsoft.com: Windows opens a file by it when
NTFS generated one, which no listing shows)."""

_HEADS = {"": "", "C": "", "//": "//"}
"""What :meth:`ServerImage.display` puts before a path relative to the base :meth:`ServerImage._relative` gives
(any other drive letter: ``D:/``)."""


def _outside(host: Path) -> str:
    """Why ``host`` leaves the image: the link's real target, or a loop."""
    try:
        return f"resolves outside the server image (a link to {host.resolve(strict=True)})"
    except (OSError, RuntimeError):  # NOTE: a link loop cannot be resolved (issue 7)
        return "is a symbolic link loop or a dangling link"
