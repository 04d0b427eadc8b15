"""Every command over hostile inputs (issue 26): an input error is exit 2 naming the file, anything else is data
(exit 0 or 1 with the file named in the report), and never a traceback or a hang.

Inputs: IIS Express project folders (``launchSettings.json`` nested 100,000 deep or not UTF-8, a ``.vs`` that links
to itself, dangles or is a FIFO, a project file that is a FIFO, over its size cap, or nested deep), server images
(a bin of FIFOs and links out, a web.config or applicationHost.config that is a FIFO or links out), and files given
as options (``--baseline``, ``--cache``, ``--event-log``, ``--config``): not UTF-8, nested deep, a FIFO,
``/dev/zero``, a folder, a 2 GB sparse file, another program's database. Each case runs in-process under an
alarm: a read that blocks fails the test instead of hanging it.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from hostile_helpers import APPHOST_REL, CSPROJ, PE_BIN, make_image, run, solution

from iisbitness.cli import main
from iisbitness.config.iisexpress import MAX_PROJECT_BYTES

DEEP_JSON = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 100_000 + "1" + "}" * 100_000


def _sparse(path: Path, size: int, head: bytes = b"") -> Path:
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(size)
    return path


def _vs(kind: str) -> Callable[[Path], str]:
    def make(root: Path) -> str:
        shutil.rmtree(root / ".vs")
        if kind == "self":
            (root / ".vs").symlink_to(".vs")
        elif kind == "dangling":
            (root / ".vs").symlink_to("gone")
        else:
            os.mkfifo(root / ".vs")
        return ".vs"
    return make


def _launch(data: str | bytes) -> Callable[[Path], str]:
    def make(root: Path) -> str:
        f = root / "App" / "Properties" / "launchSettings.json"
        f.write_bytes(data.encode() if isinstance(data, str) else data)
        return "launchSettings.json"
    return make


def _csproj(kind: str) -> Callable[[Path], str]:
    def make(root: Path) -> str:
        f = root / "App" / "App.csproj"
        f.unlink()
        if kind == "fifo":
            os.mkfifo(f)
        elif kind == "huge":
            _sparse(f, MAX_PROJECT_BYTES + 1, CSPROJ.encode())
        else:
            f.write_text("<Project>" + "<a>" * 5000 + "</a>" * 5000 + "</Project>")
        return "App.csproj"
    return make


PROJECT_CASES: dict[str, Callable[[Path], str]] = {
    "launchSettings-100000-deep-arrays": _launch(DEEP_JSON),
    "launchSettings-100000-deep-objects": _launch(DEEP_OBJECT),
    "launchSettings-not-utf8": _launch(b'{"profiles": {"IIS Express": {"commandName": "IIS\xffExpress"}}}'),
    "launchSettings-huge-integer": _launch('{"profiles": ' + "9" * 5000 + "}"),
    "vs-links-to-itself": _vs("self"),
    "vs-dangles": _vs("dangling"),
    "vs-is-a-fifo": _vs("fifo"),
    "csproj-fifo": _csproj("fifo"),
    "csproj-over-cap": _csproj("huge"),
    "csproj-deep": _csproj("deep"),
}


class Hung(BaseException):
    """Raised by the alarm: a BaseException, so that no ``except OSError`` (TimeoutError is one) takes it."""


@pytest.fixture(autouse=True)
def alarm() -> Iterator[None]:
    """Fail a case that blocks (a FIFO opened for reading, /dev/zero read to the end) instead of hanging."""
    def hung(*_: object) -> None:
        raise Hung("the command blocked for 30 s")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(30)
    # NOTE: and a case that reads /dev/zero to the end meets MemoryError (a failure) rather than the OOM killer
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as f:
        in_use = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    cap = in_use + 3 * 1024**3
    resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _no_traceback(args: list[str | os.PathLike[str]], named: str, codes: tuple[int, ...] = (0, 1, 2)) -> int:
    """Run the command; it must end with one of ``codes``, no traceback, and name ``named`` when it exits 2."""
    r = run(*args)
    if isinstance(r.exception, Hung):
        raise r.exception
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError(f"traceback from {args}: {r.exception!r}\n{r.output}") from r.exception
    assert "Traceback" not in r.output, r.output
    assert r.exit_code in codes, (r.exit_code, r.output)
    if r.exit_code == 2:
        assert named in r.output, (named, r.output)
    return r.exit_code


@pytest.mark.parametrize("case", sorted(PROJECT_CASES))
def test_iis_express_project_folders(tmp_path: Path, case: str) -> None:
    root = solution(tmp_path / "Sol")
    named = PROJECT_CASES[case](root)
    for command in (["scan", root, "--format", "json"], ["scan", root, "--loads"], ["scan", root, "--format", "sarif"],
                    ["check-app", root / "App", "--pool-arch", "x64"]):
        code = _no_traceback(command, named)
        if command[0] == "scan" and case.startswith(("launchSettings", "csproj")):
            # NOTE: one project's broken file is a problem in the report, not a failed run; but the solution's only
            # project left out means no project was checked: the report is written, then exit 2 (nothing checked)
            assert code != 2 or case.startswith("csproj"), code
    report = run("scan", root, "--format", "json")
    if report.exit_code in (0, 1) or report.stdout:  # NOTE: exit 2 with a report: nothing checked (else stderr)
        assert named in report.stdout  # the file is named among the problems


def _image(root: Path) -> Path:
    return make_image(root)


def _image_case(kind: str) -> Callable[[Path, Path], str]:
    def make(image: Path, tmp: Path) -> str:
        bin_folder = image / "inetpub/main/bin"
        if kind == "bin":
            os.mkfifo(bin_folder / "Pipe.dll")
            (bin_folder / "Zero.dll").symlink_to("/dev/zero")
            (bin_folder / "Out.dll").symlink_to(PE_BIN / "managed_x86.dll")
            (bin_folder / "Gone.dll").symlink_to("gone.dll")
            return "Pipe.dll"
        if kind == "webconfig-fifo":
            os.mkfifo(image / "inetpub/main/web.config")
            return "web.config"
        if kind == "webconfig-zero":
            (image / "inetpub/main/web.config").symlink_to("/dev/zero")
            return "web.config"
        cfg = image / APPHOST_REL
        cfg.unlink()
        if kind == "apphost-fifo":
            os.mkfifo(cfg)
        else:
            cfg.symlink_to("/dev/zero")
        return "applicationHost.config"
    return make


@pytest.mark.parametrize("kind", ["bin", "webconfig-fifo", "webconfig-zero", "apphost-fifo", "apphost-zero"])
def test_server_images(tmp_path: Path, kind: str) -> None:
    image = _image(tmp_path / "img")
    named = _image_case(kind)(image, tmp_path)
    for command in (["scan", image], ["fix", image], ["scan", image, "--loads"], ["scan", image, "--format", "html"],
                    ["scan", image, "--format", "sarif"]):
        code = _no_traceback(command, named, (0, 1, 2, 3))
        assert code != 2 or kind.startswith("apphost"), command
    _no_traceback(["check-app", image / "inetpub/main", "--pool-arch", "x64"], named)
    _no_traceback(["inspect", image / "inetpub/main/bin"], named)
    archive = tmp_path / "server.zip"
    if _no_traceback(["collect", image, "-o", archive, "-q"], named) == 0:
        _no_traceback(["scan", archive], named)


def _option_file(kind: str, tmp: Path) -> Path:
    """A file given as an option's value."""
    f = tmp / f"given-{kind}"
    if kind == "fifo":
        os.mkfifo(f)
    elif kind == "dev-zero":
        f.symlink_to("/dev/zero")
    elif kind == "folder":
        f.mkdir()
    elif kind == "not-utf8":
        f.write_bytes(b'{"schema": "iisbitness/baseline/1", "accepted": [{"rule": "\xff\xfe"}]}')
    elif kind == "deep-json":
        f.write_text(DEEP_JSON)
    elif kind == "deep-object":
        f.write_text('{"schema": "iisbitness/baseline/1", "accepted": [' + DEEP_OBJECT + "]}")
    elif kind == "sparse-2gb":
        _sparse(f, 2 * 1024**3)
    elif kind == "sparse-2gb-evtx":
        _sparse(f, 2 * 1024**3, b"ElfFile\0")
    elif kind == "truncated-evtx":
        f.write_bytes(b"ElfFile\0" + b"\0" * 100)
    elif kind == "sqlite-of-another-program":
        db = sqlite3.connect(f)
        db.execute("CREATE TABLE facts (x)")
        db.commit()
        db.close()
    elif kind == "deep-xml":
        f.write_text("<Events>" + "<Event>" * 100_000 + "</Event>" * 100_000 + "</Events>")
    return f


OPTION_KINDS = ["fifo", "dev-zero", "folder", "not-utf8", "deep-json", "deep-object", "sparse-2gb", "sparse-2gb-evtx",
                "truncated-evtx", "sqlite-of-another-program", "deep-xml"]


@pytest.mark.parametrize("kind", OPTION_KINDS)
@pytest.mark.parametrize("option", ["--baseline", "--cache", "--event-log", "--config"])
def test_files_given_as_options_to_scan(tmp_path: Path, option: str, kind: str) -> None:
    image = _image(tmp_path / "img")
    given = _option_file(kind, tmp_path)
    code = _no_traceback(["scan", image, option, given], given.name)
    if option in ("--baseline", "--cache") or kind in ("fifo", "dev-zero", "folder", "sparse-2gb", "sparse-2gb-evtx"):
        assert code == 2  # nothing of this file can be used: the run says so rather than going on without it


@pytest.mark.parametrize("kind", OPTION_KINDS)
def test_files_given_to_explain_inspect_and_collect(tmp_path: Path, kind: str) -> None:
    given = _option_file(kind, tmp_path)
    _no_traceback(["collect", _image(tmp_path / "img"), "-o", tmp_path / "out.zip", "--event-log", given, "-q"],
                  given.name)
    _no_traceback(["explain", "--event-log", given], given.name)
    _no_traceback(["inspect", given], given.name)


def test_explain_refuses_endless_stdin() -> None:
    """``explain < /dev/zero``: read up to its cap, then exit 2 naming stdin (it read until memory ran out)."""
    from iisbitness.cli.explain import MAX_STDIN_BYTES

    r = CliRunner().invoke(main, ["explain"], input=b"\0" * (MAX_STDIN_BYTES + 1))
    assert r.exit_code == 2 and "stdin: more than" in r.output, r.output
