"""Write configuration changes safely: backup, re-parse, hash check, atomic replace.

For every file (:class:`iisbitness.fixes.plan.FileChange`), in this order, all files together:

1. check that the file still holds the bytes the plan was made from (SHA-256); refuse, naming
   the file, when it changed since it was read;
2. re-parse the new content (:func:`iisbitness.config.xml.parse_bytes`): a result that would not
   parse is never written;
3. write a timestamped backup beside it (``applicationHost.config.iisbitness-20260126T031500Z.bak``),
   itself through a temporary file, flush, fsync and rename;
4. write the new content to a temporary file in the same folder, flush, fsync;
5. check the hash again and rename the temporary file over the original (``os.replace``, atomic on
   one file system, POSIX and Windows), then fsync the folder.

A process killed at any point leaves each file either as it was or complete with the new content
(at worst a stray ``.iisbitness-*.tmp`` beside it). ``IISBITNESS_FIX_EXIT_AFTER_STEP=N`` makes the
process ``os._exit(EXIT_AFTER_STEP_CODE)`` right after step N: the test hook that proves it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from iisbitness.config.xml import parse_bytes
from iisbitness.errors import ConfigError, FixError
from iisbitness.fixes.plan import FileChange

STEP_HOOK_ENV = "IISBITNESS_FIX_EXIT_AFTER_STEP"
"""Test hook: exit the process right after this many write steps (see module docstring)."""
EXIT_AFTER_STEP_CODE = 86
"""The exit status of a process stopped by :data:`STEP_HOOK_ENV`."""

Step = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Target:
    """A change and the real file it goes to."""

    path: Path
    change: FileChange


@dataclass(frozen=True, slots=True)
class Written:
    """A file replaced: where, and its backup."""

    path: Path
    backup: Path
    shown: str


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def env_step_hook() -> Step | None:
    """The :data:`STEP_HOOK_ENV` hook, or None when the variable is not set."""
    value = os.environ.get(STEP_HOOK_ENV)
    if not value:
        return None
    limit = int(value)
    count = 0

    def step(_label: str) -> None:
        nonlocal count
        count += 1
        if count >= limit:
            os._exit(EXIT_AFTER_STEP_CODE)

    return step


def _check_unchanged(t: Target) -> None:
    try:
        now = t.path.read_bytes()
    except OSError as e:
        raise FixError(f"{t.change.shown}: cannot read it again ({e.strerror or e}); nothing written") from e
    if sha256(now) != sha256(t.change.before):
        raise FixError(f"{t.change.shown}: changed since it was read (SHA-256 differs); nothing written. "
                       "Run the command again to plan from the current file.")


def _fsync_dir(folder: Path) -> None:
    if os.name == "nt":  # NOTE: Windows cannot open a folder for fsync; MoveFileEx is already durable
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temp_with(like: Path, data: bytes) -> Path:
    """A new file beside ``like``, with its permission bits, holding ``data``, flushed and fsynced."""
    fd, tmp = tempfile.mkstemp(prefix=f".{like.name}.iisbitness-", suffix=".tmp", dir=like.parent)
    try:
        shutil.copymode(like, tmp)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def _backup_path(path: Path, stamp: str) -> Path:
    candidate = path.with_name(f"{path.name}.iisbitness-{stamp}.bak")
    n = 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}.iisbitness-{stamp}-{n}.bak")
    return candidate


def write_changes(targets: Sequence[Target], stamp: str, step: Step | None = None) -> list[Written]:
    """Write every change safely (module docstring); all files are checked before any is touched.

    Args:
        targets: the changes and their files.
        stamp: the backup time stamp (``20260126T031500Z``).
        step: called after each step with a label (the kill test's hook); default from the environment.

    Raises:
        FixError: a file changed since it was read, cannot be read or written, or the new content
            would not parse. Files replaced before the error keep their new content and backup.
    """
    hook = step or env_step_hook() or (lambda _label: None)
    for t in targets:
        _check_unchanged(t)
        hook(f"checked {t.change.shown}")
        try:
            parse_bytes(t.change.after, t.change.shown)
        except ConfigError as e:
            raise FixError(f"{t.change.shown}: the new content would not parse ({e}); nothing written") from e
        hook(f"re-parsed {t.change.shown}")
    temps: list[Path] = []
    try:
        backups = []
        for t in targets:
            backup = _backup_path(t.path, stamp)
            tmp = _temp_with(t.path, t.change.before)
            temps.append(tmp)
            hook(f"backup written to temporary file for {t.change.shown}")
            os.replace(tmp, backup)
            temps.remove(tmp)
            backups.append(backup)
            hook(f"backup {backup.name}")
        news = []
        for t in targets:
            tmp = _temp_with(t.path, t.change.after)
            temps.append(tmp)
            news.append(tmp)
            hook(f"new content written to temporary file for {t.change.shown}")
        out = []
        for t, tmp, backup in zip(targets, news, backups, strict=True):
            _check_unchanged(t)
            os.replace(tmp, t.path)
            temps.remove(tmp)
            hook(f"replaced {t.change.shown}")
            _fsync_dir(t.path.parent)
            hook(f"folder synced for {t.change.shown}")
            out.append(Written(t.path, backup, t.change.shown))
        return out
    except OSError as e:
        raise FixError(f"cannot write: {e.filename or ''}: {e.strerror or e}") from e
    finally:
        for tmp in temps:
            tmp.unlink(missing_ok=True)
