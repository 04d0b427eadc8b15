"""Write configuration changes safely: backup, re-parse, hash check, atomic replace, all files or none.

For every file (:class:`iisbitness.fixes.plan.FileChange`), in this order, all files together:

1. check that the file still holds the bytes the plan was made from (SHA-256), and that it is a
   regular file, not a symbolic link (a link is never replaced by a file); refuse, naming the file,
   when it changed since it was read;
2. re-parse the new content (:func:`iisbitness.config.xml.parse_bytes`): a result that would not
   parse is never written;
3. write a timestamped backup beside it (``applicationHost.config.iisbitness-20260126T031500Z.bak``),
   itself through a temporary file, flush, fsync and rename;
4. write the new content to a temporary file in the same folder, flush, fsync;
   each temporary file gets the file's permission bits (POSIX) or its DACL (Windows) before it is written, so that
   neither the backup nor the new file is readable or writable by more accounts than the original;
5. only when every file has its backup and its temporary file: check each hash again and rename its
   temporary file over it (``os.replace``, atomic on one file system, POSIX and Windows), then fsync
   the folder, one file after the other.

All files or none: when any step fails (a full disk, a folder that refuses a new file, a file changed
by someone else while the first ones were renamed), the files already replaced are put back from their
backups (a rename, which needs no free space), the backups and temporary files of the refused run are
removed, and :class:`WriteRefused` says exactly what is on disk: normally "nothing written"; a file that
could not be put back is named with the backup holding its original.

A process killed at any point leaves each file either as it was or complete with the new content,
and its backup beside it (at worst a stray ``.iisbitness-*.tmp``); killed during step 5 it may leave
the first files new and the others old. ``IISBITNESS_FIX_EXIT_AFTER_STEP=N`` makes the
process ``os._exit(EXIT_AFTER_STEP_CODE)`` right after step N: the test hook that proves it.
"""

from __future__ import annotations

import contextlib
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
from iisbitness.image import windows

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


class WriteRefused(FixError):
    """``write_changes`` stopped: the message names the file and why, and what was left written.

    Attributes:
        written: the files (as shown) that hold the new content because putting them back failed;
            empty when nothing was written (the usual case: every replaced file was restored).
    """

    def __init__(self, message: str, written: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.written = written


class _Changed(Exception):
    """A file is not the one the plan read (the message says how, naming it)."""


def _check_unchanged(t: Target) -> None:
    """Raises _Changed when ``t.path`` is a link, cannot be read, or no longer holds the planned bytes."""
    if t.path.is_symlink():
        raise _Changed(f"{t.change.shown}: is a symbolic link; fix --apply never replaces a link with a file "
                       "(edit the file it points to, or apply the commands instead)")
    try:
        now = t.path.read_bytes()
    except OSError as e:
        raise _Changed(f"{t.change.shown}: cannot read it again ({e.strerror or e})") from e
    if sha256(now) != sha256(t.change.before):
        raise _Changed(f"{t.change.shown}: changed since it was read (SHA-256 differs)")


def _fsync_dir(folder: Path) -> None:
    if os.name == "nt":  # NOTE: Windows cannot open a folder for fsync; MoveFileEx is already durable
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temp_with(like: Path, data: bytes) -> Path:
    """A new file beside ``like``, with its permission bits (POSIX) or its DACL (Windows,
    :func:`iisbitness.image.windows.copy_file_dacl`: a new file gets the folder's inheritable entries, not the
    narrower ones ``like`` may have), holding ``data``, flushed and fsynced. Raises OSError when either cannot be
    given to it (the file is then removed): a backup or a new configuration readable by more accounts than the
    file it stands for is never written."""
    fd, tmp = tempfile.mkstemp(prefix=f".{like.name}.iisbitness-", suffix=".tmp", dir=like.parent)
    try:
        shutil.copymode(like, tmp)
        try:
            windows.copy_file_dacl(like, Path(tmp))
        except OSError as e:
            raise OSError(e.errno, f"its access control list could not be given to a new file beside it "
                                   f"({e.strerror or e})") from e
        with os.fdopen(fd, "wb") as f:
            fd = -1  # NOTE: the file object owns it now, and closes it
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        if fd >= 0:
            # NOTE: closed before the unlink: Windows does not delete a file this process holds open (the temporary
            # file was left in the configuration folder, and the error said "being used by another process")
            os.close(fd)
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
    """Write every change safely (module docstring): all files are checked before any is touched, and
    either every file is replaced or none is.

    Args:
        targets: the changes and their files.
        stamp: the backup time stamp (``20260126T031500Z``).
        step: called after each step with a label (the kill test's hook); default from the environment.

    Returns:
        The files replaced, each with its backup, in the order of ``targets``.

    Raises:
        FixError: a file changed since it was read, is a symbolic link, cannot be read, or the new
            content would not parse: nothing was written.
        WriteRefused: a file could not be backed up, written or replaced (named, with the OS's reason);
            files replaced before were put back and the run's backups removed (``written`` lists any
            file that could not be put back, whose backup is then kept).
    """
    hook = step or env_step_hook() or (lambda _label: None)
    for t in targets:
        try:
            _check_unchanged(t)
        except _Changed as e:
            raise FixError(f"{e}; nothing written. Run the command again to plan from the current file.") from None
        hook(f"checked {t.change.shown}")
        try:
            parse_bytes(t.change.after, t.change.shown)
        except ConfigError as e:
            raise FixError(f"{t.change.shown}: the new content would not parse ({e}); nothing written") from e
        hook(f"re-parsed {t.change.shown}")
    temps: list[Path] = []
    backups: list[Path] = []
    replaced: list[tuple[Target, Path]] = []
    doing = ""
    try:
        for t in targets:
            doing = f"{t.change.shown}: cannot write its backup"
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
            doing = f"{t.change.shown}: cannot write the new content"
            tmp = _temp_with(t.path, t.change.after)
            temps.append(tmp)
            news.append(tmp)
            hook(f"new content written to temporary file for {t.change.shown}")
        out = []
        for t, tmp, backup in zip(targets, news, backups, strict=True):
            _check_unchanged(t)
            doing = f"{t.change.shown}: cannot replace it"
            os.replace(tmp, t.path)
            temps.remove(tmp)
            replaced.append((t, backup))
            hook(f"replaced {t.change.shown}")
            doing = f"{t.change.shown}: replaced, but its folder cannot be synced"
            _fsync_dir(t.path.parent)
            hook(f"folder synced for {t.change.shown}")
            out.append(Written(t.path, backup, t.change.shown))
        return out
    except (OSError, _Changed) as e:
        why = f"{doing} ({e.strerror or e})" if isinstance(e, OSError) else str(e)
        raise _undo(why, replaced, backups) from e
    finally:
        for tmp in temps:
            tmp.unlink(missing_ok=True)


def _undo(why: str, replaced: list[tuple[Target, Path]], backups: list[Path]) -> WriteRefused:
    """Put the replaced files back from their backups, remove the run's other backups, and say what is left."""
    notes: list[str] = []
    left: list[str] = []
    needed: set[Path] = set()
    for t, backup in reversed(replaced):
        try:
            os.replace(backup, t.path)  # NOTE: a rename: needs no free space, and the backup holds the original bytes
        except OSError as e:
            left.insert(0, t.change.shown)
            needed.add(backup)
            notes.append(f"{t.change.shown} keeps the new content: it could not be put back ({e.strerror or e}); "
                         f"its original is in {backup.name}")
            continue
        with contextlib.suppress(OSError):
            _fsync_dir(t.path.parent)
    for backup in backups:
        if backup not in needed:
            try:
                backup.unlink(missing_ok=True)
            except OSError as e:
                notes.append(f"its backup {backup.name} could not be removed ({e.strerror or e})")
    if left:
        return WriteRefused(f"{why}; " + "; ".join(notes), tuple(left))
    restored = [t.change.shown for t, _ in replaced]
    back = (f" ({', '.join(restored)} {'was' if len(restored) == 1 else 'were'} already replaced "
            "and put back as it was)") if restored else ""
    extra = ("; " + "; ".join(notes)) if notes else ""
    return WriteRefused(f"{why}; nothing written{back}{extra}")
