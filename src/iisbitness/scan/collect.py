"""``iisbitness collect``: the scan run with a recorder on the server image, everything it read written to a zip;
and the scan of such a zip, which gives the same report as the scan of the server (docs/images.md).

Collect runs the ordinary scan (:func:`iisbitness.scan.pipeline.scan_image`, fixes verified, so that re-plans
read what they need) with a :class:`~iisbitness.image.record.Recorder` and the registry's answers recorded, then
writes the zip (:mod:`iisbitness.image.archive`): every folder the scan listed, every file it opened (whole,
under a size cap), the registry answers, the event logs asked for, and a manifest. The scan of a zip under
``--cache`` is keyed by its manifest and each file's sha256 (:class:`CollectedFacts`), never by the temporary
folder it is laid out in.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import socket
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from iisbitness import __version__
from iisbitness.arch import Arch
from iisbitness.errors import ConfigError, ServerImageError
from iisbitness.image import windows
from iisbitness.image.archive import (
    EVENT_LOGS,
    MAX_MEMBER_BYTES,
    ArchiveWriter,
    Collected,
    PlainCopy,
    is_collected,
    open_collected,
    open_plain,
    zip_name,
)
from iisbitness.image.detect import detect_os_arch
from iisbitness.image.folders import Listing
from iisbitness.image.record import Recorder
from iisbitness.image.registry import SOFTWARE_HIVE, ComRegistry, RecordingRegistry
from iisbitness.image.server_image import ServerImage
from iisbitness.model.source import Problem
from iisbitness.pe.facts import BinaryFacts, Fact, FactStore, FileIdentity
from iisbitness.pe.store import SqliteFactStore
from iisbitness.report import Report
from iisbitness.scan import report_cache
from iisbitness.scan.pipeline import (
    ScanOptions,
    cached_report,
    open_image,
    report_key,
    scan_image,
    wants_iisexpress,
)


@dataclass(frozen=True)
class Collection:
    """What ``collect`` wrote.

    Attributes:
        out: the zip. files: files copied. size: their bytes. folders: folder listings recorded.
        left_out: ``(path, why)`` of what was not copied. report: the scan that was recorded.
    """

    out: Path
    files: int
    size: int
    folders: int
    left_out: list[tuple[str, str]]
    report: Report


def collect(image: Path | None, out: Path, options: ScanOptions, event_logs: Sequence[str] = (),
            max_file_bytes: int = MAX_MEMBER_BYTES, stage: Callable[[str], None] | None = None) -> Collection:
    """Scan ``image`` (the live server when None) with a recorder and write what it read to the zip ``out``.

    Args:
        event_logs: ``Application``/``System`` (live: exported with ``wevtutil epl``) or ``.evtx``/XML files.
        max_file_bytes: files larger than this are left out (named in the manifest).
        stage: called with short status lines (progress on stderr).

    Raises:
        ServerImageError, ConfigError: as :func:`iisbitness.scan.pipeline.scan`; ``out`` cannot be written;
            an event log cannot be exported. Nothing is left at ``out`` then.
    """
    if image is not None and wants_iisexpress(image, options):
        raise ServerImageError(f"{image}: collect copies a server (a folder standing for C:\\ or the live "
                               "server), not a Visual Studio solution")
    img = open_image(Path(os.path.abspath(image)) if image is not None else None,
                     replace(options, drives={k: Path(os.path.abspath(v)) for k, v in options.drives.items()},
                             shares={k: Path(os.path.abspath(v)) for k, v in options.shares.items()}))
    return collect_image(img, str(image) if image is not None else "live", out, options, event_logs, max_file_bytes,
                         stage)


def collect_image(img: ServerImage, label: str, out: Path, options: ScanOptions, event_logs: Sequence[str] = (),
                  max_file_bytes: int = MAX_MEMBER_BYTES, stage: Callable[[str], None] | None = None) -> Collection:
    """:func:`collect` for an opened image (absolute roots), shown as ``label``."""
    recording: list[RecordingRegistry] = []

    def record_registry(registry: ComRegistry | None) -> ComRegistry | None:
        if registry is None:
            return None
        recording.append(RecordingRegistry(registry))
        return recording[-1]

    img.on_registry = record_registry
    hive = img.locate("C:\\" + SOFTWARE_HIVE).host_path
    if stage:
        stage("scanning (recording what is read)")
    with Recorder(img, {hive} if hive is not None else set(), unc=img.live and img.shares is None) as recorder:
        os_arch = (options.os_arch, "--os-arch") if options.os_arch is not None else detect_os_arch(img)
        report = scan_image(img, options, label)
    writer = ArchiveWriter(out, max_file_bytes)
    try:
        folders = _folders(img, recorder, writer)
        if stage:
            stage(f"writing {out.name}: {len(recorder.opened)} files, {len(folders)} folders")
        for n, opened in enumerate(recorder.opened, 1):
            if stage and n % 500 == 0:
                stage(f"writing {out.name}: {n}/{len(recorder.opened)} files")
            host = Path(opened)
            name = zip_name(img, host)
            if name is not None:
                writer.add_file(name, host, img.display(host))
        _add_event_logs(writer, event_logs, img.live, stage)
        registry = img.com_registry
        writer.close({
            "tool": f"iisbitness {__version__}",
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "host": socket.gethostname() if img.live else None,
            "source": label,
            "os_arch": os_arch[0].value,
            "os_arch_from": os_arch[1],
            "collector_os": f"{platform.system()} {platform.machine()}",
            "drives": {letter: letter for letter in img.drives},
            "network_drives": sorted(img.network_drives),  # NOTE: what the worker does not see (ServerImage)
            "env": dict(options.env),
            "registry": recording[0].answers() if recording else None,
            "registry_problem": registry[1] if registry is not None else None,
        })
    except BaseException:
        writer.abort()
        raise
    left = [(x["path"], x["why"]) for x in writer.left_out]
    return Collection(out, len(writer.files), sum(int(str(f["size"])) for f in writer.files.values()),
                      len(writer.folders), left, report)


def _folders(img: ServerImage, recorder: Recorder, writer: ArchiveWriter) -> list[str]:
    """Record every folder the scan listed (through the image, or by itself); links leaving an offline image are
    left out (the copy shows them absent)."""
    listed = {f: img.folders.listing(f) for f in recorder.folders()}
    names: list[str] = []
    roots = [r for r in map(img.folders.real, img.host_roots) if r]
    for folder, listing in listed.items():
        name = zip_name(img, folder)
        if name is None:
            continue
        if listing.error is not None:
            writer.left_out.append({"path": img.display(folder), "why": listing.error})
            continue
        if not img.follow_links:
            for link in sorted(listing.links):
                real = img.folders.real(folder / link)
                if real is None or not any(real == r or r in real.parents for r in roots):
                    listing = _without(listing, link)
                    writer.left_out.append({"path": img.display(folder / link),
                                            "why": "a link leading out of the server image: not followed"})
        writer.add_folder(name, listing)
        names.append(name)
    return names


def _without(listing: Listing, name: str) -> Listing:
    return Listing({k: v for k, v in listing.names.items() if v != name}, listing.links - {name},
                   listing.folders - {name}, {k: v for k, v in listing.files.items() if v != name}, listing.error)


def _add_event_logs(writer: ArchiveWriter, logs: Sequence[str], live: bool, stage: Callable[[str], None] | None) -> None:
    for log in logs:
        if stage:
            stage(f"adding event log {log}")
        given = Path(log)
        if given.is_file():
            writer.add_file(f"{EVENT_LOGS}/{given.name}", given, str(given))
            continue
        if log not in windows.LIVE_LOGS or not live:
            raise ServerImageError(f"--event-log {log}: no such file (live, Application or System is exported)")
        with tempfile.TemporaryDirectory(prefix="iisbitness-evtx-") as tmp:
            exported = windows.export_event_log(log, Path(tmp) / f"{log}.evtx")
            writer.add_file(f"{EVENT_LOGS}/{log}.evtx", exported, log)


@contextlib.contextmanager
def scan_collected(path: Path, options: ScanOptions) -> Iterator[tuple[Report, list[Path]]]:
    """Scan the collected zip ``path`` (``iisbitness scan server.zip``): ``(report, the zip's event logs)``, the
    logs readable while the ``with`` block runs. The report is the one the scan of the source server gave (its
    image label aside), plus a problem for each file the collector left out. A zip with no ``manifest.json`` is
    taken as a zip of an image folder (a customer's copy zipped as it is): laid out as safely and scanned as
    that folder would be (:func:`iisbitness.image.archive.open_plain`, :func:`_scan_plain`).

    With ``options.cache``, the report is stored under the zip's manifest (which names the sha256 of every file
    in it, checked as the zip is laid out): a zip that holds what it held last time gives the stored report, and
    a changed zip is scanned again, reading only the binaries whose sha256 is new (:func:`_scan_cached`).

    Raises:
        ServerImageError: the zip is not a collected server, or hostile (:mod:`iisbitness.image.archive`);
            ``options.drives`` or ``options.shares`` is set (the zip holds the drives and shares the collecting
            scan read: a folder given for another would never be read); as :func:`iisbitness.scan.pipeline.scan` otherwise.
        ConfigError: a configuration file in the zip is unusable, named ``<zip>: <file in the zip>``.
        CacheError: ``options.cache`` cannot be opened or created.
    """
    if not is_collected(path):
        with open_plain(path) as plain:
            yield _scan_plain(path, plain, options), []
        return
    if options.drives or options.shares:
        flag = "--drive" if options.drives else "--share"
        raise ServerImageError(f"{path}: {flag} does not apply to a collected zip, which holds the drives and shares "
                               f"the collecting scan read: collect again with {flag} (iisbitness collect IMAGE --drive "
                               "D=/path/to/copy --share //server/share=/path/to/copy -o x.zip), or scan the "
                               "folders themselves")
    with open_collected(path) as copy:
        detected = None
        if options.os_arch is None:
            try:
                detected = Arch(copy.os_arch[0]), copy.os_arch[1]
            except ValueError as e:
                raise ServerImageError(f"{path}: manifest.json: unknown os_arch {copy.os_arch[0]!r}") from e
        env = copy.manifest.get("env")
        if isinstance(env, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
            options = replace(options, env={**env, **options.env})  # NOTE: the --env the collecting scan had
        try:
            report = (scan_image(copy.image, options, str(path), detected) if options.cache is None
                      else _scan_cached(path, copy, options, detected, options.cache))
        except ServerImageError as e:  # NOTE: named by the zip, not by the temporary folder it is laid out in
            raise ServerImageError(str(e).replace(str(copy.root / "C"), str(path)).replace(str(copy.root), str(path))
                                   ) from e
        except ConfigError as e:  # NOTE: the file inside the zip, named with the zip
            raise ConfigError(f"{path}: {e.path}", e.message, e.line) from e
        missing = tuple(Problem(shown, None, f"not in the collected copy: {why}") for shown, why in copy.left_out)
        yield (replace(report, problems=report.problems + missing) if missing else report), copy.event_logs


def _scan_plain(path: Path, plain: PlainCopy, options: ScanOptions) -> Report:
    """The scan of a zip of an image folder laid out in ``plain``, named by the zip: its drives beside C (``D/``)
    unless ``--drive`` names them, ``--share`` as for a folder; ``--cache`` is not used (the copy is new each time).

    Raises:
        ServerImageError, ConfigError: as :func:`iisbitness.scan.pipeline.scan_image`, naming the zip.
    """
    options = replace(options, drives={**plain.drives, **options.drives}, cache=None)
    inside = f"{path}:{plain.shown}" if plain.shown else f"{path}:"
    try:
        return scan_image(open_image(plain.image, options), options, str(path))
    except ServerImageError as e:  # NOTE: named by the zip, not by the temporary folder it is laid out in
        raise ServerImageError(str(e).replace(str(plain.image), inside.rstrip("/")).replace(str(plain.root), str(path))
                               ) from e
    except ConfigError as e:
        raise ConfigError(f"{inside}{e.path}", e.message, e.line) from e


def _scan_cached(path: Path, copy: Collected, options: ScanOptions, detected: tuple[Arch, str] | None,
                 cache: Path) -> Report:
    """The scan of the laid out zip ``path`` with ``--cache``: the report is keyed by the sha256 of the zip's
    manifest (every file's sha256 and size, every folder's entries, the drive map, the registry answers, the
    date it was made) beside the usual key (:func:`iisbitness.scan.pipeline.report_key`), its only other input a
    ``--config`` file; binaries are read through :class:`CollectedFacts`. A report that names the temporary
    folder (it would name a folder that is gone when served) is not stored.

    Raises:
        CacheError: ``cache`` cannot be opened or created. As :func:`iisbitness.scan.pipeline.scan_image`.
    """
    manifest = hashlib.sha256(json.dumps(copy.manifest, sort_keys=True).encode()).hexdigest()

    def run(store: SqliteFactStore) -> tuple[Report, list[str] | None]:
        facts = BinaryFacts(CollectedFacts(store, copy.root, copy.manifest["files"]), options.on_read)
        report = scan_image(copy.image, options, str(path), detected, store=store, facts=facts)
        if str(copy.root) in report_cache.encode(report):
            return report, None
        return report, [str(options.config)] if options.config else []

    return cached_report(cache, json.dumps(["collected", manifest, report_key(path, options)]), run)


_ROOT = "\x00collected copy\x00"
"""Stands for the temporary folder a zip is laid out in, in the facts stored about its files."""


class CollectedFacts:
    """The :class:`~iisbitness.pe.facts.FactStore` of a collected zip laid out in ``root``: facts keyed by what
    the zip says of each file (its name in the zip and its sha256 and size from the manifest, checked as it was
    laid out), not by the temporary folder nor the file's timestamps there, so that a file the next zip holds
    unchanged is answered from ``store`` wherever that zip is laid out, and a changed one is read again.

    The strings of a stored fact (its path, reasons, notes) hold a placeholder for ``root``, put back as the
    current folder when served: a report never names a temporary folder that is gone. A file the zip does not
    hold (only seen listed, laid out empty) or a path outside ``root`` is neither served nor stored.

    Args:
        store: the ``--cache``. root: the laid out copy (:attr:`iisbitness.image.archive.Collected.root`).
        files: the manifest's ``files`` (name in the zip -> ``{"sha256", "size"}``).
    """

    def __init__(self, store: FactStore, root: Path, files: Mapping[str, object]) -> None:
        self._store = store
        self._root = root
        self._files = files

    def _key(self, path: str) -> tuple[str, FileIdentity] | None:
        try:
            name = "/".join(Path(path).relative_to(self._root).parts)
        except ValueError:
            return None
        entry = self._files.get(name)
        if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str):
            return None
        size = entry.get("size")
        if not isinstance(size, int) or isinstance(size, bool):
            return None
        return f"collected:{entry['sha256']}:{name}", FileIdentity(size, 0, 0, 0, 0)

    def get(self, path: str, kind: str, identity: FileIdentity) -> Fact | None:
        """The stored fact of the zip's file at ``path`` (``identity``, of the laid out file, is not used)."""
        key = self._key(path)
        fact = self._store.get(key[0], kind, key[1]) if key is not None else None
        return None if fact is None else _swap(fact, _ROOT, str(self._root))

    def put(self, path: str, kind: str, identity: FileIdentity, fact: Fact) -> None:
        """Remember ``fact`` under the zip's name and sha256 of the file at ``path``."""
        key = self._key(path)
        if key is not None:
            self._store.put(key[0], kind, key[1], _swap(fact, str(self._root), _ROOT))


def _swap(fact: Fact, old: str, new: str) -> Fact:
    """``fact`` with ``old`` replaced by ``new`` in its strings (a tuple's too); a fact that is no dataclass
    (``Imports``: DLL names only) as it is."""
    if not is_dataclass(fact):
        return fact

    def sub(v: object) -> object:
        if type(v) is str:  # NOTE: not an enum's value (ImageKind is a str)
            return v.replace(old, new)
        return tuple(sub(x) for x in v) if isinstance(v, tuple) else v

    changes: dict[str, Any] = {f.name: sub(getattr(fact, f.name)) for f in fields(fact) if f.init}
    return replace(fact, **changes)
