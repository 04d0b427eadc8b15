"""A finding text holding two Windows paths wraps between them and keeps each whole (text output): the words after one
path never run on into the next (pool-arch-conflict's "Binaries involved: C:\\...\\a.dll, C:\\...\\b.dll" was one
unbreakable 104-column path)."""

from __future__ import annotations

from iisbitness.api import scan
from iisbitness.formats import scan_text
from iisbitness.formats.table import NBSP, keep_paths, wrap
from tests.conftest import DEMO

FIRST = "C:\\inetpub\\intranet\\bin\\Intranet.Imaging.dll"
SECOND = "C:\\inetpub\\intranet\\timesheets\\bin\\Timesheets.Legacy.dll"


def _cause() -> str:
    [f] = [f for f in scan(DEMO / "contoso-iis10").findings if f.rule == "pool-arch-conflict"]
    assert f.cause.endswith(f"Binaries involved: {FIRST}, {SECOND}.")
    return f.cause


def test_each_path_is_kept_whole_and_the_words_between_wrap() -> None:
    cause = _cause()
    assert f"{FIRST}, {SECOND}" in keep_paths(cause)  # NOTE: the space between the paths stays breakable
    for width in (80, 100):  # NOTE: the longer path and its indent take 67 columns: narrower, it overflows alone
        lines = wrap(cause, width, "  why   ", "        ")
        assert all(len(ln) <= width for ln in lines), (width, lines)
        assert lines[-2].endswith(f" {FIRST},") and lines[-1] == f"        {SECOND}."
        assert " ".join(ln[8:] for ln in lines) == cause


def test_a_path_with_spaces_in_its_folders_stays_whole_beside_another() -> None:
    text = "from C:\\Program Files (x86)\\Vendor Tools\\v.dll (loads in: x86), and C:\\Program Files\\Vendor\\w.dll."
    kept = keep_paths(text)
    assert f"C:\\Program{NBSP}Files{NBSP}(x86)\\Vendor{NBSP}Tools\\v.dll (loads" in kept
    assert f"and C:\\Program{NBSP}Files\\Vendor\\w.dll." in kept


def test_verbose_demo_why_lines_fit_the_width() -> None:
    text = scan_text.render(scan(DEMO / "contoso-iis10"), options=scan_text.TextOptions(verbose=True, width=100))
    lines = text.splitlines()
    assert f"        {SECOND}." in lines and any(ln.endswith(f"{FIRST},") for ln in lines)
    # NOTE: every finding's prose fits (a path then "(loads in: x86)" and a relative "runtimes\win-<arch>\native\"
    # ran on as one path: native-library-arch's and aspnetcore-inprocess-arch's causes); only commands may overflow
    findings = lines[:next(i for i, ln in enumerate(lines) if ln.startswith("Fixes ("))]
    assert [ln for ln in findings if len(ln) > 100] == []
