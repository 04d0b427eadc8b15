"""What a scan read from a server: :class:`Recorder`, the recorder ``iisbitness collect`` puts on the door.

Two sources, so that nothing the scan looked at is missed:
- the image's own memo (:meth:`iisbitness.image.folders.Folders.listed`): every folder listed through the door;
- Python's audit events (PEP 578, ``sys.addaudithook``): every file opened for reading (``open``: the built-in
  ``open`` and ``os.open``) and every folder listed (``os.scandir``, ``os.listdir``) below the image's roots while
  the recorder is active, whichever module reads it (configuration readers walk application folders themselves).
  Sources: "Audit events table" (docs.python.org/3/library/audit_events.html), PEP 578.

The hook is installed once per process (audit hooks cannot be removed) and does nothing while no recorder is
active; files opened for writing are never recorded.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import Self

from iisbitness.image.server_image import ServerImage

_ACTIVE: list[Recorder] = []
_LOCK = threading.Lock()
_INSTALLED = False
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


class Recorder:
    """The files opened and folders listed below the server image ``img`` while active (a context manager).

    Args:
        img: the server: below its drive folders and share folder, and what its folder memo
            (:attr:`ServerImage.folders <iisbitness.image.server_image.ServerImage.folders>`) listed.
        exclude: host files never recorded (the registry hive: its answers are recorded instead).
        unc: also record ``\\\\server\\share`` paths (the live machine reads shares where they are).

    Attributes:
        opened: host paths (absolute, not resolved) of files opened for reading, in first-read order.
        listed: host paths of folders listed by the scan's own ``os.scandir``/``os.listdir``, in first-list
            order (see :meth:`folders` for every folder listed).
    """

    def __init__(self, img: ServerImage, exclude: set[Path] | None = None, unc: bool = False) -> None:
        self._memo = img.folders
        self._unc = unc
        self._roots = [os.path.normcase(os.path.abspath(r)) for r in img.host_roots]
        self._exclude = {os.path.normcase(os.path.abspath(p)) for p in exclude or set()}
        self.opened: dict[str, None] = {}
        self.listed: dict[str, None] = {}

    def __enter__(self) -> Self:
        global _INSTALLED
        with _LOCK:
            if not _INSTALLED:
                sys.addaudithook(_hook)
                _INSTALLED = True
            _ACTIVE.append(self)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        with _LOCK:
            _ACTIVE.remove(self)

    def folders(self) -> list[Path]:
        """Every folder listed: through the image's memo, in the order read, then by the scan itself (host
        paths, each once)."""
        return list(dict.fromkeys([*(f for f, _ in self._memo.listed()), *map(Path, self.listed)]))

    def _note(self, event: str, path: str) -> None:
        full = os.path.abspath(path)
        key = os.path.normcase(full)
        if key in self._exclude:
            return
        if not (self._unc and key.startswith(("\\\\", "//"))) and not any(
                key == r or key.startswith(r.rstrip(os.sep) + os.sep) for r in self._roots):
            return
        (self.opened if event == "open" else self.listed)[full] = None


def _hook(event: str, args: tuple[object, ...]) -> None:
    if not _ACTIVE or event not in ("open", "os.scandir", "os.listdir") or not args:
        return
    target = args[0]
    if event == "open":
        mode = args[1] if len(args) > 1 else None
        flags = args[2] if len(args) > 2 else 0
        if (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & _WRITE_FLAGS):
            return
    if target is None and event != "open":
        target = "."
    if not isinstance(target, (str, bytes, os.PathLike)):
        return  # NOTE: a file descriptor (os.scandir(fd), os.fdopen)
    try:
        path = os.fsdecode(target)
    except (TypeError, ValueError):
        return
    for recorder in tuple(_ACTIVE):  # NOTE: a copy: another thread may end its recorder meanwhile
        recorder._note(event, path)
