"""Every text output fits the width it is given (80 columns in a small terminal) without losing a fact, and uses
more when there is more (issue 24). Only a command (kept whole so that it pastes), a diff line (the file's own)
or a single word longer than the width (a path without spaces) may be longer."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from click.testing import CliRunner

from iisbitness.api import scan
from iisbitness.cli import main
from iisbitness.explain.kb import load_kb
from iisbitness.explain.report import build_report
from iisbitness.formats import explain_text, fix_text, inspect_text, scan_text
from iisbitness.formats.table import wrap
from iisbitness.pe.walk import inspect_paths
from iisbitness.scan.fix import plan_fix
from tests.conftest import DEMO, PE_BIN, REPO

COMMAND = re.compile(r"^\s*(\[\d+\]\s+)?(%windir%|cscript|for %p|& \"|Set-|Import-|'|corflags|[a-z]+\.exe |dotnet |mmc )")


def _too_wide(text: str, width: int, allowed: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    out = []
    for line in text.splitlines():
        if len(line) <= width or COMMAND.match(line) or line.strip() in allowed:
            continue
        if len(line.split()) == 1 or line.lstrip().startswith("--> "):  # NOTE: one word (a path) cannot be broken
            continue
        out.append(line)
    return out


def test_scan_text_fits_80_and_uses_120() -> None:
    for image in ("contoso-iis10", "w2003-iis6"):
        report = scan(DEMO / image)
        narrow = scan_text.render(report, options=scan_text.TextOptions(width=80))
        assert _too_wide(narrow, 80) == []
        wide = scan_text.render(report, options=scan_text.TextOptions(width=120))
        assert max(len(ln) for ln in wide.splitlines() if not COMMAND.match(ln)) > 100
        assert len(wide.splitlines()) < len(narrow.splitlines())
        for pool in report.pools:  # the pool table keeps every cell whole
            assert re.search(rf"^{re.escape(pool.name)}\s+{pool.worker_arch.value}", narrow, re.MULTILINE)
            for app in pool.applications:
                assert app in narrow


def test_inspect_in_a_terminal_fits_without_cutting_a_cell() -> None:
    files = inspect_paths([PE_BIN])
    for width in (60, 80, 120):
        text = inspect_text.plain(files, width=width)
        assert _too_wide(text, width) == [], width
        flat = " ".join(text.split())
        for token in ("32BITREQ", "32BITPREF", "AMD64 0x8664", "I386 0x14c", "PE32+ DLL", "v4.0.30319"):
            assert token in flat, (width, token)
    assert "CorFlags" in inspect_text.plain(files, width=200).splitlines()[1]


def test_explain_draws_boxes_at_the_width() -> None:
    kb = load_kb()
    report = build_report([("argument", "HRESULT 0x800700C1 BadImageFormatException 0x8007000B")], [], kb)
    for width in (80, 120):
        text = explain_text.render(report, width=width)
        assert max(len(ln) for ln in text.splitlines()) <= width or _too_wide(text, width) == []
    res = CliRunner().invoke(main, ["explain", "HRESULT 0x800700C1"], env={"COLUMNS": "80"})
    assert _too_wide(res.output, 80) == [] and "…" not in res.output  # NOTE: rich's ellipsis cuts a word


def test_fix_plan_wraps_between_words(tmp_path: Path) -> None:
    img = tmp_path / "c"
    shutil.copytree(DEMO / "contoso-iis10", img)
    text = fix_text.render(plan_fix(img), applied=False, width=80)
    prose = text.split("\nEquivalent commands", 1)[0]
    assert _too_wide(prose, 80) == []
    words = set(re.findall(r"\S+", fix_text.render(plan_fix(img), applied=False, width=1000).split("\nEquiv")[0]))
    assert set(re.findall(r"\S+", prose)) == words  # NOTE: the same words: none broken in two
    assert (REPO / "tests").is_dir()


def test_a_sentence_naming_two_windows_paths_wraps_between_them() -> None:
    """A folder name never holds ':': 'D:\\resources\\web: drive D: is not mapped; ... D:\\resources\\ftp:' was taken
    for one path whose folders hold spaces (up to the next backslash), a 100-column token no break could split, so the
    Coverage block put 'physicalPath' alone on a line and ran the rest past the width (found by the user audit)."""
    text = ("Supernova/: physicalPath D:\\resources\\web: drive D: is not mapped; virtual directory /cdn: physicalPath "
            "D:\\resources\\ftp: drive D: is not mapped")
    lines = wrap(text, 60, "  ", "    ")
    assert max(len(ln) for ln in lines) <= 60 and lines[0].startswith("  Supernova/: physicalPath D:\\resources\\web:")
    assert wrap("see C:\\Program Files (x86)\\Vendor Name\\v.dll now", 20) == [
        "see", "C:\\Program Files (x86)\\Vendor Name\\v.dll", "now"]
