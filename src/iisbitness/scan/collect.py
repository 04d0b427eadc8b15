"""``iisbitness collect``: the scan run with a recorder on the server image, everything it read written to a zip;
and the scan of such a zip, which gives the same report as the scan of the server (docs/images.md).

Collect runs the ordinary scan (:func:`iisbitness.scan.pipeline.scan_image`, fixes verified, so that re-plans
read what they need) with a :class:`~iisbitness.image.record.Recorder` and the registry's answers recorded, then
writes the zip (:mod:`iisbitness.image.archive`): every folder the scan listed, every file it opened (whole,
under a size cap), the registry answers, the event logs asked for, and a manifest.
"""

from __future__ import annotations

import contextlib
import os
import platform
import socket
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from iisbitness import __version__
from iisbitness.arch import Arch
from iisbitness.errors import ConfigError, ServerImageError
from iisbitness.image import windows
from iisbitness.image.archive import EVENT_LOGS, MAX_MEMBER_BYTES, ArchiveWriter, open_collected, zip_name
from iisbitness.image.detect import detect_os_arch
from iisbitness.image.folders import Listing
from iisbitness.image.record import Recorder
from iisbitness.image.registry import SOFTWARE_HIVE, ComRegistry, RecordingRegistry
from iisbitness.image.server_image import ServerImage
from iisbitness.model.source import Problem
from iisbitness.report import Report
from iisbitness.scan.pipeline import ScanOptions, open_image, scan_image, wants_iisexpress


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
                     replace(options, drives={k: Path(os.path.abspath(v)) for k, v in options.drives.items()}))
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
    image label aside), plus a problem for each file the collector left out.

    Raises:
        ServerImageError: the zip is not a collected server, or hostile (:mod:`iisbitness.image.archive`);
            ``options.drives`` is set (the zip holds the drives the collecting scan read: a folder given for
            another drive would never be read), or ``options.cache`` (facts stored under a new temporary folder
            each run would never be found again); as :func:`iisbitness.scan.pipeline.scan` otherwise.
        ConfigError: a configuration file in the zip is unusable, named ``<zip>: <file in the zip>``.
    """
    if options.drives:
        raise ServerImageError(f"{path}: --drive does not apply to a collected zip, which holds the drives the "
                               "collecting scan read: collect again with --drive (iisbitness collect IMAGE --drive "
                               "D=/path/to/copy -o x.zip), or scan the folders themselves")
    if options.cache is not None:
        raise ServerImageError(f"{path}: --cache does not apply to a collected zip: each scan lays it out in a new "
                               "temporary folder, so the cache would only grow and never be used; scan the zip "
                               "without --cache")
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
            report = scan_image(copy.image, options, str(path), detected)
        except ServerImageError as e:  # NOTE: named by the zip, not by the temporary folder it is laid out in
            raise ServerImageError(str(e).replace(str(copy.root / "C"), str(path)).replace(str(copy.root), str(path))
                                   ) from e
        except ConfigError as e:  # NOTE: the file inside the zip, named with the zip
            raise ConfigError(f"{path}: {e.path}", e.message, e.line) from e
        missing = tuple(Problem(shown, None, f"not in the collected copy: {why}") for shown, why in copy.left_out)
        yield (replace(report, problems=report.problems + missing) if missing else report), copy.event_logs
