"""scan, inspect and explain never write (issue 7).

Proof, for every command over the whole corpus: a fingerprint of the input tree (every entry's
path, mode, size, mtime, link target and bytes) is equal before and after, the images are made
read-only where that is meaningful, the working directory stays empty, and a Python audit hook sees
no file opened for writing and no file-system change by the process while the command runs.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_helpers import APPHOST_REL, CONFIG_CORPUS, CORPUS, PE_BIN, REPO, fingerprint, run

_WATCH: list[list[str]] = []  # NOTE: audit hooks cannot be removed; this one records only while watched
_MUTATING = {"os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.utime", "os.symlink",
             "os.link", "os.truncate", "shutil.copyfile", "shutil.rmtree", "shutil.move", "os.mkfifo"}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _hook(event: str, args: tuple[object, ...]) -> None:
    if not _WATCH:
        return
    if event == "open":
        path, mode, flags = (list(args) + [None, None, None])[:3]
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & _WRITE_FLAGS)
        if writing and path is not None and not str(path).startswith("/dev/"):
            _WATCH[-1].append(f"open {path!r} mode={mode!r} flags={flags!r}")
    elif event in _MUTATING:
        _WATCH[-1].append(f"{event} {args!r}")


sys.addaudithook(_hook)


def _read_only(root: Path) -> dict[str, int]:
    """Make every file and folder under ``root`` read-only; returns the modes to restore."""
    modes: dict[str, int] = {}
    for dirpath, _, filenames in os.walk(root):
        for n in filenames:
            p = os.path.join(dirpath, n)
            if not os.path.islink(p):
                modes[p] = os.lstat(p).st_mode
                os.chmod(p, stat.S_IRUSR | stat.S_IRGRP)
        modes[dirpath] = os.lstat(dirpath).st_mode
        os.chmod(dirpath, stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)
    return modes


def _restore(modes: dict[str, int]) -> None:
    for p in sorted(modes, key=len):  # NOTE: parents first, so that children can be reached
        os.chmod(p, stat.S_IMODE(modes[p]))


@pytest.fixture(autouse=True)
def empty_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run in an empty working folder; it must stay empty."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    yield
    assert list(cwd.iterdir()) == [], "a command wrote into the working folder"


def _run_watched(*cmd: object, ok: tuple[int, ...] = (0, 1, 2)) -> None:
    """Run one command with the audit hook recording; it must open nothing for writing."""
    events: list[str] = []
    _WATCH.append(events)
    try:
        r = run(*cmd)  # type: ignore[arg-type]
    finally:
        _WATCH.pop()
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    assert r.exit_code in ok, (cmd, r.output)
    assert events == [], (cmd, events)


def _unchanged(root: Path, *commands: tuple[object, ...], ok: tuple[int, ...] = (0, 1, 2)) -> None:
    before = fingerprint(root)
    modes = _read_only(root)
    before_ro = fingerprint(root)
    try:
        for cmd in commands:
            _run_watched(*cmd, ok=ok)
    finally:
        after_ro = fingerprint(root)
        _restore(modes)
    assert after_ro == before_ro
    assert fingerprint(root) == before


CORPUS_CONFIGS = sorted(p.name for p in CONFIG_CORPUS.iterdir() if p.name != "SOURCES.tsv")


@pytest.mark.parametrize("name", CORPUS_CONFIGS)
def test_scan_corpus_config_as_image(tmp_path: Path, name: str) -> None:
    image = tmp_path / "img"
    (image / APPHOST_REL).parent.mkdir(parents=True)
    shutil.copy(CONFIG_CORPUS / name, image / APPHOST_REL)
    _unchanged(image, ("scan", image), ("scan", "--format", "json", image),
               ("scan", "--config", image / APPHOST_REL, image))


@pytest.mark.parametrize("demo", sorted(p.name for p in (REPO / "src/iisbitness/demo").iterdir() if p.is_dir()))
def test_scan_demo_image(tmp_path: Path, demo: str) -> None:
    image = tmp_path / demo
    shutil.copytree(REPO / "src/iisbitness/demo" / demo, image, symlinks=True)
    _unchanged(image, ("scan", image), ("scan", "--format", "json", "--fail-on", "never", image),
               ("inspect", image), ("inspect", "--format", "json", "--deps", image))


def test_demo_command_leaves_package_alone() -> None:
    demo = REPO / "src/iisbitness/demo"
    before = fingerprint(demo)
    for args in (("demo",), ("demo", "--format", "json")):
        _run_watched(*args, ok=(0, 1))
    assert fingerprint(demo) == before


def test_inspect_pe_fixtures(tmp_path: Path) -> None:
    pe = tmp_path / "pe"
    shutil.copytree(PE_BIN, pe)
    _unchanged(pe, ("inspect", pe), ("inspect", "--format", "json", pe), ("inspect", "--deps", "--arch", "x64", pe),
               ("inspect", "--only-mismatch", "--arch", "x86", "--search-dir", pe, pe),
               *(("inspect", "--format", "json", f) for f in sorted(pe.iterdir())))


LOGS = sorted(p for d in ("evtx", "events") for p in (CORPUS / d).iterdir() if p.name != "SOURCES.tsv")


@pytest.mark.parametrize("log", LOGS, ids=[p.name[:60] for p in LOGS])
def test_explain_event_logs(tmp_path: Path, log: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    shutil.copy(log, logs / log.name)
    _unchanged(logs, ("explain", "--event-log", logs / log.name),
               ("explain", "--format", "json", "--event-log", logs / log.name))


def test_scan_with_event_log(tmp_path: Path) -> None:
    image = tmp_path / "contoso"
    shutil.copytree(REPO / "src/iisbitness/demo/contoso-iis10", image, symlinks=True)
    logs = [p for p in LOGS if p.suffix == ".xml"][:2]
    for p in logs:
        shutil.copy(p, image / p.name)
    args: list[object] = ["scan", "--fail-on", "never"]
    for p in logs:
        args += ["--event-log", image / p.name]
    _unchanged(image, (*args, image))


def test_the_hook_sees_writes(tmp_path: Path) -> None:
    """The audit hook used above does catch a write (so its silence means something)."""
    events: list[str] = []
    _WATCH.append(events)
    try:
        (tmp_path / "x").write_text("x")
        os.utime(tmp_path / "x")
    finally:
        _WATCH.pop()
    assert len(events) == 2, events
