"""A collected server as a zip: what a scan read, written by ``iisbitness collect`` and read back by
``iisbitness scan server.zip`` (docs/images.md).

Layout: ``manifest.json`` (:data:`FORMAT`), then one folder per root: ``C/...``, ``D/...`` for drive letters,
``UNC/server/share/...`` for shares, and ``eventlogs/`` for exported event logs. The manifest holds the tool
version, date, host name, OS architecture, the drive map (and which drives were network drives the workers do not
see), the sha256 and size of every file, each recorded
folder's entries (so that a file the scan only saw listed keeps its place and "absent from a populated folder"
keeps its meaning), the registry answers, and what was left out and why.

Reading never trusts the zip: before anything is written every member's name must be a plain relative path
under a known root (no ``..``, no absolute or drive names, no backslashes, no duplicates that differ only in
case), no member may be a link or encrypted, sizes must stay under :data:`MAX_MEMBER_BYTES`,
:data:`MAX_TOTAL_BYTES` and :data:`MAX_RATIO` (a zip bomb), and every file must be the one the manifest names
(size and sha256). Only then is the copy laid out, below a new private temporary folder that is removed
afterwards; names are joined one checked component at a time. Any failure raises
:class:`~iisbitness.errors.ServerImageError` naming the zip, and leaves nothing behind.

A zip with no ``manifest.json`` is a zip of an image folder as someone made it by hand (:func:`open_plain`): the
same refusals, any plain relative path, laid out whole; the folder holding the IIS configuration is the image.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iisbitness.errors import ServerImageError
from iisbitness.image.folders import Listing
from iisbitness.image.registry import RecordedRegistry
from iisbitness.image.server_image import ServerImage

FORMAT = "iisbitness/collect/1"
MANIFEST = "manifest.json"
SHARES = "UNC"
EVENT_LOGS = "eventlogs"
MAX_MEMBER_BYTES = 1 << 30
"""The largest file a collected zip may hold (1 GiB); ``collect --max-file-size`` leaves larger ones out."""
MAX_TOTAL_BYTES = 8 << 30
"""The most a collected zip may unpack to (8 GiB)."""
MAX_MEMBERS = 500_000
MAX_RATIO = 200
"""The most a member may expand (uncompressed / compressed); a zip bomb expands by thousands."""
MAX_MANIFEST_BYTES = 256 << 20

_COMPONENT = re.compile(r"^[^\x00-\x1f/\\:*?\"<>|]+$")


@dataclass
class Collected:
    """A collected zip laid out for scanning.

    Attributes:
        root: the temporary folder the copy is laid out in (removed after the ``with`` block).
        image: the server image over the copy (the drive map and shares of the manifest; the registry answers).
        manifest: the manifest, as read and checked.
        os_arch: ``(architecture, how it was decided)`` on the source server.
        event_logs: the copy's exported event logs.
        left_out: ``(Windows path or zip name, why)`` for what the collector did not copy.
    """

    root: Path
    image: ServerImage
    manifest: dict[str, Any]
    os_arch: tuple[str, str]
    event_logs: list[Path] = field(default_factory=list)
    left_out: list[tuple[str, str]] = field(default_factory=list)


def zip_name(image: ServerImage, host: Path) -> str | None:
    """The name in the zip of a host file or folder of ``image`` (``C/Windows/...``, ``UNC/server/share/...``, also
    for a share given offline with ``--share``),
    or None when it is under none of the image's roots. A 32-bit Python on 64-bit Windows reads System32 as
    ``Windows\\Sysnative``: recorded as ``C/Windows/System32``."""
    host = Path(os.path.abspath(host))
    share: tuple[Path, str] | None = None
    for name, folder in image.share_folders.items():  # NOTE: a share's copy may sit inside C:'s folder: it wins there
        with contextlib.suppress(ValueError):
            rel = host.relative_to(os.path.abspath(folder)).parts
            share = Path(os.path.abspath(folder)), "/".join((SHARES, *name.strip("\\").split("\\"), *rel))
            break
    for letter, base in image.drives.items():
        if share is not None and Path(os.path.abspath(base)) in share[0].parents:
            return share[1]
        with contextlib.suppress(ValueError):
            parts = list(host.relative_to(os.path.abspath(base)).parts)
            if image.sysnative and letter == "C" and [p.lower() for p in parts[:2]] == ["windows", "system32"]:
                return None  # NOTE: a 32-bit process's System32 is SysWOW64 (WOW64): never the System32 of the copy
            if image.sysnative and letter == "C" and [p.lower() for p in parts[:2]] == ["windows", "sysnative"]:
                parts[1] = "System32"  # NOTE: what the scan read as System32 (facts E4)
            return "/".join((letter, *parts))
    if share is not None:
        return share[1]
    if image.shares is not None:
        with contextlib.suppress(ValueError):
            return "/".join((SHARES, *host.relative_to(os.path.abspath(image.shares)).parts))
    if image.live and str(host).startswith(("\\\\", "//")):
        parts = [p for p in str(host).replace("\\", "/").split("/") if p]
        return "/".join((SHARES, *parts))
    return None


@dataclass
class ArchiveWriter:
    """Writes a collected zip: :meth:`add_file`, :meth:`add_folder`, then :meth:`close` with the manifest.

    The zip is written to ``<out>.part`` and renamed over ``out`` when complete (never a half zip under the
    name asked for).
    """

    out: Path
    max_file_bytes: int = MAX_MEMBER_BYTES
    files: dict[str, dict[str, object]] = field(default_factory=dict)
    folders: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    left_out: list[dict[str, str]] = field(default_factory=list)
    _zip: zipfile.ZipFile | None = None
    _total: int = 0

    def __post_init__(self) -> None:
        self._part = self.out.with_name(self.out.name + ".part")
        try:
            self._zip = zipfile.ZipFile(self._part, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)
        except OSError as e:
            raise ServerImageError(f"{self.out}: cannot write: {e.strerror or e}") from e

    def add_folder(self, name: str, listing: Listing) -> None:
        """Record a folder's entries: its files and sub-folders (links as what they lead to)."""
        self.folders[name] = {"files": sorted(listing.files.values()),
                              "folders": sorted(listing.folders)}

    def add_file(self, name: str, host: Path, shown: str) -> None:
        """Copy a host file into the zip under ``name`` (streamed, hashed); too large or unreadable: left out,
        with the reason, under ``shown`` (the path as the user names it)."""
        assert self._zip is not None
        try:
            size = host.stat().st_size
            if not stat.S_ISREG(host.stat().st_mode):
                return
        except OSError as e:
            self.left_out.append({"path": shown, "why": f"cannot read: {e.strerror or e}"})
            return
        if size > self.max_file_bytes:
            self.left_out.append({"path": shown, "why": f"{size} bytes: larger than the size cap "
                                                        f"({self.max_file_bytes} bytes)"})
            return
        if self._total + size > MAX_TOTAL_BYTES:
            self.left_out.append({"path": shown, "why": f"the zip would exceed {MAX_TOTAL_BYTES} bytes"})
            return
        digest = hashlib.sha256()
        written = 0
        try:
            with host.open("rb") as src, tempfile.SpooledTemporaryFile(32 << 20) as spool:
                while chunk := src.read(1 << 20):
                    written += len(chunk)
                    if written > self.max_file_bytes:
                        raise OSError(f"grew past the size cap ({self.max_file_bytes} bytes) while read")
                    digest.update(chunk)
                    spool.write(chunk)
                spool.seek(0)
                with self._zip.open(name, "w", force_zip64=True) as dst:
                    shutil.copyfileobj(spool, dst, 1 << 20)
        except OSError as e:
            self.left_out.append({"path": shown, "why": f"cannot read: {getattr(e, 'strerror', None) or e}"})
            return
        self._total += written
        self.files[name] = {"sha256": digest.hexdigest(), "size": written}

    def close(self, manifest: dict[str, object]) -> None:
        """Write the manifest and put the zip in place. Raises ServerImageError when it cannot be written."""
        assert self._zip is not None
        doc = {"format": FORMAT, **manifest, "files": self.files, "folders": self.folders,
               "left_out": self.left_out}
        try:
            self._zip.writestr(MANIFEST, json.dumps(doc, indent=1, sort_keys=True))
            self._zip.close()
            self._part.replace(self.out)
        except OSError as e:
            self.abort()
            raise ServerImageError(f"{self.out}: cannot write: {e.strerror or e}") from e

    def abort(self) -> None:
        """Drop the partial zip."""
        if self._zip is not None:
            with contextlib.suppress(OSError, ValueError):
                self._zip.close()
        self._part.unlink(missing_ok=True)


@contextlib.contextmanager
def open_collected(path: Path) -> Iterator[Collected]:
    """Check the collected zip ``path`` and lay it out in a private temporary folder for the length of the
    ``with`` block (removed afterwards).

    Raises:
        ServerImageError: not a zip, truncated or damaged, a hostile member (see the module), or a manifest
            that does not match the members; nothing is left on disk.
    """
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise ServerImageError(f"{path}: not a folder standing for C:\\ nor a readable zip made by iisbitness "
                               f"collect ({e})") from e
    with zf:
        manifest, members = _check(path, zf)
        root = Path(tempfile.mkdtemp(prefix="iisbitness-collected-"))
        try:
            try:
                _lay_out(path, zf, manifest, members, root)
            except OSError as e:  # NOTE: a name the host cannot hold (too long, reserved), a full disk
                raise _bad(path, f"cannot be laid out: {e.strerror or e}") from e
            yield _collected(path, root, manifest)
        finally:
            shutil.rmtree(root, ignore_errors=True)


def _bad(path: Path, why: str) -> ServerImageError:
    return ServerImageError(f"{path}: not a collected server zip: {why}")


def _bad_plain(path: Path, why: str) -> ServerImageError:
    return ServerImageError(f"{path}: a zip of a server image that cannot be read: {why}")


def is_collected(path: Path) -> bool:
    """Whether the zip ``path`` is one ``iisbitness collect`` wrote (it holds ``manifest.json`` at its top); a zip
    that cannot be opened counts as collected, so that :func:`open_collected` says why."""
    try:
        with zipfile.ZipFile(path) as zf:
            return any(i.filename == MANIFEST for i in zf.infolist())
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return True


@dataclass
class PlainCopy:
    """A zip of a server image folder, laid out for scanning.

    Attributes:
        root: the temporary folder it is laid out in (removed after the ``with`` block).
        image: the folder in it standing for C:\\ (it holds the IIS configuration).
        drives: other drives the zip holds beside it: when that folder is named ``C``, its siblings named by one
            letter (``D/``, as ``collect`` and a copy by hand lay drives out).
        shown: the image folder as named in the zip (``coso/``; ``""`` at its top).
    """

    root: Path
    image: Path
    drives: dict[str, Path]
    shown: str


_CONFIGS = ("windows/system32/inetsrv/config/applicationhost.config", "windows/system32/inetsrv/metabase.xml")


@contextlib.contextmanager
def open_plain(path: Path) -> Iterator[PlainCopy]:
    """Check a zip of a server image folder (a customer's copy of C:\\ zipped as it is, with no ``manifest.json``)
    and lay it out in a private temporary folder for the ``with`` block, as :func:`open_collected` does and with the
    same refusals (module docstring), no manifest to check against. The image is the folder holding
    ``Windows/System32/inetsrv/config/applicationHost.config`` (or the IIS 6 ``MetaBase.xml``), at any depth.

    Raises:
        ServerImageError: damaged, hostile, or holding no IIS configuration or two images (named); nothing is left
            on disk.
    """
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise _bad_plain(path, str(e)) from e
    with zf:
        members = _members(path, zf, plain=True)
        found = sorted({name[:len(name) - len(c)] for name in members for c in _CONFIGS
                        if name.lower() == c or name.lower().endswith("/" + c)}, key=lambda p: (p.count("/"), p))
        if not found:
            raise _bad_plain(path, "no manifest.json (it is not one iisbitness collect made) and no "
                                   "Windows/System32/inetsrv/config/applicationHost.config (nor IIS 6 MetaBase.xml) "
                                   "at any depth: zip the folder standing for C:\\, or run iisbitness collect")
        if len(found) > 1 and found[0].count("/") == found[1].count("/"):
            raise _bad_plain(path, f"it holds more than one server image ({', '.join(repr(f) for f in found[:3])}): "
                                   "unzip it and scan each folder")
        root = Path(tempfile.mkdtemp(prefix="iisbitness-zipped-image-"))
        try:
            try:
                for info in zf.infolist():  # NOTE: an empty folder is a fact too (a folder the image holds)
                    folder = _plain_name(info).rstrip("/")
                    if (info.is_dir() or info.filename.endswith(("/", "\\"))) and _parts(folder) is not None:
                        _place(path, root, folder).mkdir(parents=True, exist_ok=True)
                for name, info in members.items():
                    target = _place(path, root, name)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    _extract(path, zf, info, target, _bad_plain)
            except OSError as e:  # NOTE: a name the host cannot hold (too long, reserved), a full disk
                raise _bad_plain(path, f"cannot be laid out: {e.strerror or e}") from e
            image = _place(path, root, found[0].rstrip("/")) if found[0] else root
            image.mkdir(parents=True, exist_ok=True)
            drives: dict[str, Path] = {}
            if found[0] and _drive_ok(image.name.upper()) and image.name.upper() == "C":
                drives = {d.name.upper(): d for d in image.parent.iterdir()
                          if d.is_dir() and not d.is_symlink() and _drive_ok(d.name.upper()) and d != image}
            yield PlainCopy(root, image, drives, found[0])
        finally:
            shutil.rmtree(root, ignore_errors=True)


def _plain_name(info: zipfile.ZipInfo) -> str:
    """A member name of a zip of a copy (:func:`open_plain`), a backslash read as a separator. A name without the
    UTF-8 flag (general purpose bit 11, APPNOTE 4.4.4) is decoded by ``zipfile`` as code page 437; where its bytes are
    UTF-8 (Info-ZIP's zip in a locale it does not take for UTF-8 writes them so, without the flag), they are read as
    UTF-8: a folder ``café`` stays ``café``, as unzip shows it on a UTF-8 system (it was ``caf├⌐``, and the folder
    "not in the image"). A name whose bytes are not UTF-8 (an OEM code page's, as older Windows Explorer wrote) is
    kept as code page 437 reads it."""
    name = info.filename
    if not info.flag_bits & 0x800 and not name.isascii():
        try:
            name = name.encode("cp437").decode("utf-8")
        except UnicodeError:
            pass
    return name.replace("\\", "/")


def _parts(name: str) -> list[str] | None:
    """The components of a member name, or None when it is not a plain relative path."""
    if not name or name.startswith("/") or "\\" in name or "\x00" in name:
        return None
    parts = name.rstrip("/").split("/")
    if any(p in ("", ".", "..") or not _COMPONENT.match(p) or p != p.rstrip(" .") for p in parts):
        return None
    return parts


def _drive_ok(letter: str) -> bool:
    """A drive letter as the zip names it: one of ``A``-``Z`` (Windows' drive letters, never another script's)."""
    return len(letter) == 1 and "A" <= letter <= "Z"


def _root_ok(first: str) -> bool:
    return _drive_ok(first) or first in (SHARES, EVENT_LOGS)


def _members(path: Path, zf: zipfile.ZipFile, plain: bool = False) -> dict[str, zipfile.ZipInfo]:
    """The zip's files by name, each checked (module docstring); ``plain``: any plain relative path (a zip of an
    image folder, :func:`open_plain`), a backslash read as the separator old Windows zip tools wrote."""
    bad = _bad_plain if plain else _bad
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise bad(path, f"{len(infos)} members (at most {MAX_MEMBERS})")
    members: dict[str, zipfile.ZipInfo] = {}
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = _plain_name(info) if plain else info.filename
        parts = _parts(name)
        if plain and parts is None:
            raise bad(path, f"member {info.filename!r} is not a plain relative path")
        if not plain and (parts is None or (name != MANIFEST and not _root_ok(parts[0]))):
            raise _bad(path, f"member {name!r} is not a plain relative path under a drive, UNC or eventlogs")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise bad(path, f"member {name!r} is a symbolic link")
        if info.flag_bits & 0x1:
            raise bad(path, f"member {name!r} is encrypted")
        if info.is_dir() or name.endswith("/"):
            continue
        if name.lower() in seen:
            raise bad(path, f"member {name!r} appears twice (names differ only in case)")
        seen.add(name.lower())
        if info.file_size > MAX_MEMBER_BYTES:
            raise bad(path, f"member {name!r} unpacks to {info.file_size} bytes (at most {MAX_MEMBER_BYTES})")
        if info.file_size > (1 << 20) and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise bad(path, f"member {name!r} expands {info.file_size // max(info.compress_size, 1)} times "
                            f"(at most {MAX_RATIO}): a zip bomb")
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise bad(path, f"members unpack to more than {MAX_TOTAL_BYTES} bytes")
        members[name] = info
    return members


def _check(path: Path, zf: zipfile.ZipFile) -> tuple[dict[str, Any], dict[str, zipfile.ZipInfo]]:
    members = _members(path, zf)
    if MANIFEST not in members:
        raise _bad(path, "no manifest.json (made by iisbitness collect)")
    raw = _read(path, zf, members.pop(MANIFEST), MAX_MANIFEST_BYTES)
    try:
        manifest = json.loads(raw)
    except ValueError as e:
        raise _bad(path, f"manifest.json is not JSON: {e}") from e
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _bad(path, f"manifest.json is not {FORMAT}")
    files, folders = manifest.get("files"), manifest.get("folders")
    if not isinstance(files, dict) or not isinstance(folders, dict):
        raise _bad(path, "manifest.json has no files and folders")
    for key, want in (("drives", dict), ("left_out", list), ("network_drives", list)):
        if manifest.get(key) is not None and not isinstance(manifest[key], want):
            raise _bad(path, f"manifest.json: {key} is not {'an object' if want is dict else 'a list'}")
    for letter in manifest.get("drives") or {}:  # NOTE: shares are the UNC/ root, never a drive of the map
        if not _drive_ok(letter.upper()):
            raise _bad(path, f"manifest.json: the drive map names {letter!r}, which is not a drive letter A-Z "
                             f"(shares are under {SHARES}/, event logs under {EVENT_LOGS}/)")
    if set(files) != set(members):
        extra = sorted(set(members) ^ set(files))[:3]
        raise _bad(path, f"members and manifest.json disagree ({', '.join(extra)})")
    for name, listing in folders.items():
        parts = _parts(name) if isinstance(name, str) else None
        if parts is None or not _root_ok(parts[0]) or not isinstance(listing, dict):
            raise _bad(path, f"manifest.json: folder {name!r} is not a plain relative path")
        for kind in ("files", "folders"):
            entries = listing.get(kind, [])
            if not isinstance(entries, list) or not all(isinstance(e, str) and _parts(e) == [e] for e in entries):
                raise _bad(path, f"manifest.json: folder {name!r} has an entry that is not a plain name")
    return manifest, members


def _read(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    out = bytearray()
    try:
        with zf.open(info) as src:
            while chunk := src.read(1 << 20):
                out += chunk
                if len(out) > min(cap, info.file_size):
                    raise _bad(path, f"member {info.filename!r} is larger than its header says")
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError) as e:
        raise _bad(path, f"member {info.filename!r} cannot be read (truncated or damaged: {e})") from e
    return bytes(out)


def _place(path: Path, root: Path, name: str) -> Path:
    """Where member ``name`` goes below ``root``, joined one checked component at a time."""
    target = root
    for part in name.split("/"):
        target = target / part
        if target.is_symlink():
            raise _bad(path, f"{name!r}: laid out over a link")
    return target


def _extract(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path,
             bad: Callable[[Path, str], ServerImageError]) -> tuple[int, str]:
    """Member ``info`` written to the new file ``target``, never more than its header says: ``(size, sha256)``.

    Raises:
        ServerImageError (``bad``): larger than its header, truncated or damaged. OSError: ``target`` cannot be written.
    """
    digest = hashlib.sha256()
    size = 0
    try:
        with zf.open(info) as src, target.open("xb") as dst:
            while chunk := src.read(1 << 20):
                size += len(chunk)
                if size > info.file_size:
                    raise bad(path, f"member {info.filename!r} is larger than its header says")
                digest.update(chunk)
                dst.write(chunk)
    except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError) as e:
        raise bad(path, f"member {info.filename!r} cannot be read (truncated or damaged: {e})") from e
    return size, digest.hexdigest()


def _lay_out(path: Path, zf: zipfile.ZipFile, manifest: dict[str, Any], members: dict[str, zipfile.ZipInfo],
             root: Path) -> None:
    def place(name: str) -> Path:
        return _place(path, root, name)

    for name in sorted(manifest["folders"]):
        place(name).mkdir(parents=True, exist_ok=True)
    for name, info in members.items():
        expected = manifest["files"][name]
        if not isinstance(expected, dict) or not isinstance(expected.get("sha256"), str):
            raise _bad(path, f"manifest.json: no sha256 for {name!r}")
        target = place(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            size, sha256 = _extract(path, zf, info, target, _bad)
        except OSError as e:
            raise _bad(path, f"member {name!r} cannot be read (truncated or damaged: {e})") from e
        if size != expected.get("size") or sha256 != expected["sha256"]:
            raise _bad(path, f"member {name!r} does not match the sha256 and size in manifest.json")
    present = {n.lower() for n in members}
    for name, listing in sorted(manifest["folders"].items()):
        folder = place(name)
        for sub in listing.get("folders", []):
            if f"{name}/{sub}".lower() not in present:
                (folder / sub).mkdir(exist_ok=True)
        for entry in listing.get("files", []):
            if f"{name}/{entry}".lower() not in present:
                (folder / entry).touch()  # NOTE: seen listed only: present, never read by the scan
                present.add(f"{name}/{entry}".lower())


def _collected(path: Path, root: Path, manifest: dict[str, Any]) -> Collected:
    drives = manifest.get("drives") or {"C": "C"}
    held = {n.lower() for n in manifest["files"]}
    placeholders = frozenset(str(root.joinpath(*name.split("/"), entry)) for name, listing in manifest["folders"].items()
                             for entry in listing.get("files", []) if f"{name}/{entry}".lower() not in held)
    image = ServerImage(drives={k.upper(): root / k.upper() for k in drives},
                        collected="server" if manifest.get("host") is not None else "image",
                        recorded=frozenset(root.joinpath(*name.split("/")) for name in manifest["folders"]),
                        placeholders=placeholders,
                        network_drives=frozenset(d.upper() for d in manifest.get("network_drives") or ()
                                                 if isinstance(d, str) and _drive_ok(d.upper())))
    for folder in image.drives.values():
        folder.mkdir(exist_ok=True)
    if (root / SHARES).is_dir():
        image.shares = root / SHARES
    answers = manifest.get("registry")
    try:
        registry = RecordedRegistry(answers) if answers is not None else None
    except (TypeError, ValueError) as e:
        raise _bad(path, f"manifest.json: {e}") from e
    why = manifest.get("registry_problem")
    image.com_registry = (registry, why if isinstance(why, str) else None)
    arch = manifest.get("os_arch"), manifest.get("os_arch_from")
    logs = sorted((root / EVENT_LOGS).iterdir()) if (root / EVENT_LOGS).is_dir() else []
    left = [(str(x.get("path")), str(x.get("why"))) for x in manifest.get("left_out", []) if isinstance(x, dict)]
    return Collected(root, image, manifest, (str(arch[0]), str(arch[1])), logs, left)
