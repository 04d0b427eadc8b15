"""The text report of the demo servers, pinned by golden files (issue 14).

Goldens are written at a fixed width (100, as a pipe gets without COLUMNS) with the demo folder
replaced by ``<demo>``. They change only on request: ``UPDATE_GOLDENS=1 pytest tests/scan``, and
the diff is reviewed in the commit.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from iisbitness.api import scan
from iisbitness.cli import main
from iisbitness.cli.scan import demo_images
from iisbitness.formats import scan_text
from tests.conftest import DEMO, REPO

GOLDEN = REPO / "tests" / "golden" / "scan"
CASES = {
    "contoso-iis10.txt": ("contoso-iis10", scan_text.TextOptions()),
    "contoso-iis10.verbose-powershell.txt": ("contoso-iis10", scan_text.TextOptions(verbose=True, shell="powershell")),
    "w2003-iis6.txt": ("w2003-iis6", scan_text.TextOptions()),
    "contoso-iis10.80.txt": ("contoso-iis10", scan_text.TextOptions(width=80)),
    "contoso-iis10.120.txt": ("contoso-iis10", scan_text.TextOptions(width=120)),
    "w2003-iis6.80.txt": ("w2003-iis6", scan_text.TextOptions(width=80)),
    "w2003-iis6.120.txt": ("w2003-iis6", scan_text.TextOptions(width=120)),
}


def _check(name: str, text: str) -> None:
    text = text.replace(str(DEMO), "<demo>")
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDENS") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} missing: run UPDATE_GOLDENS=1 pytest {__file__}"
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(CASES))
def test_text_matches_golden(name: str) -> None:
    image, options = CASES[name]
    _check(name, scan_text.render(scan(DEMO / image), options=options))


def test_demo_cli_text_is_both_goldens(monkeypatch: pytest.MonkeyPatch) -> None:
    """``demo`` piped (not a terminal, no COLUMNS) prints the two goldens, one after the other."""
    monkeypatch.delenv("COLUMNS", raising=False)
    res = CliRunner().invoke(main, ["demo", "--no-color"])
    assert res.exit_code == 0, res.output
    expected = "\n".join((GOLDEN / n).read_text(encoding="utf-8") for n in ("contoso-iis10.txt", "w2003-iis6.txt"))
    shipped = demo_images()[0].parent  # NOTE: the installed package's copy when the package is installed (CI)
    assert res.output.replace(str(shipped), "<demo>") == expected


def test_text_keeps_every_finding_pool_and_fix() -> None:
    """Compact, nothing lost: every pool, rule, binary, config line and fix command of the JSON is in the text."""
    res = CliRunner().invoke(main, ["demo", "--format", "json"])
    text = CliRunner().invoke(main, ["demo", "--no-color"], env={"COLUMNS": "100"}).output
    ps = CliRunner().invoke(main, ["demo", "--no-color", "--shell", "powershell"]).output
    flat = " ".join(text.split())
    for doc in json.loads(res.output):
        for p in doc["pools"]:
            assert p["name"] in text
        for f in doc["findings"]:
            assert f["rule"] in text and (f["binary"] or "") in text
            if f["config"] and f["config"] != {"file": f["resolved"], "line": None}:  # NOTE: a bin file: its binary
                assert f"{f['config']['file']}" in text
            if f["pool"]:
                assert f["pool"] in text
        for fix in doc["fixes"]:  # NOTE: every fix some finding offers, once
            if not fix["commands"]:  # NOTE: advice is printed in full; a command fix is named by its label
                assert " ".join(fix["summary"].split()) in flat
            for c in fix["commands"]:
                assert c in text
            for c in fix["powershell"]:
                assert c in ps
    for report in (scan(d) for d in demo_images()):
        for f in report.findings:
            for fix in f.fixes:
                assert fix.label in flat  # NOTE: on the finding's fix line
    assert len(text.splitlines()) <= 151  # 392 before issue 14, 164 before issue 24, 157 before the short round
    assert "<pool>" not in text + ps and "\\\\" not in text


def test_fix_line_names_each_fix_and_groups_equal_labels() -> None:
    """A cause's fixes are listed by label; one pool flip per pool shares a label and a number range. A fix that
    takes the module out of pools says which on the same line, ranks after the fixes that keep it loaded, and a
    security module gets a warning line of its own (issue 20)."""
    text = scan_text.render(scan(DEMO / "contoso-iis10"), options=scan_text.TextOptions(width=300))
    lines = text.splitlines()
    i = next(i for i, ln in enumerate(lines) if ln.startswith("  fix ") and "bitness32" in ln)
    assert lines[i].split(None, 1)[1] == (
        '[1]-[6] run the pool as 32-bit (verified); [7] an x64 build of the global module; [8] preCondition="bitness32" '
        "(verified, but all 7 pools then run without FabrikamVendorAuth)")  # NOTE: the 7 of the `in` line
    assert lines[i + 1] == ("  warn  [8] FabrikamVendorAuth looks like a security module: sites in 7 pools then run "
                            "without it.")


def test_fix_numbers() -> None:
    assert scan_text.numbers((7, 2, 3, 4)) == "[2]-[4] [7]"
    assert scan_text.numbers((2, 3, 9)) == "[2] [3] [9]"


def test_verbose_text_holds_every_fix_summary_and_note() -> None:
    docs = json.loads(CliRunner().invoke(main, ["demo", "--format", "json"]).output)
    flat = " ".join(CliRunner().invoke(main, ["demo", "--no-color", "-v"]).output.split())
    for doc in docs:
        for fix in doc["fixes"]:
            assert " ".join(fix["summary"].split()) in flat
            assert fix["note"] is None or " ".join(fix["note"].split()) in flat


def test_verbose_text_holds_every_symptom_and_cause() -> None:
    """``--verbose`` shows each symptom and cause in full (a cause of several pools says ``each pool``, never a
    placeholder: its ``in`` line names them)."""
    docs = json.loads(CliRunner().invoke(main, ["demo", "--format", "json"]).output)
    flat = " ".join(CliRunner().invoke(main, ["demo", "--no-color", "-v"]).output.split())
    for doc in docs:
        for f in doc["findings"]:
            for prose in (f["symptom"], f["cause"]):
                prose = " ".join(prose.split())
                general = (prose.replace(f"pool '{f['pool']}'", "each pool").replace(f"'{f['pool']}'", "each pool")
                           if f["pool"] else prose)
                assert prose in flat or general in flat, prose


def test_line_count_and_width(tmp_path: Path) -> None:
    """Prose is wrapped to the width; only commands (kept whole to stay copyable) may be longer."""
    report = scan(DEMO / "contoso-iis10")
    commands = {c for f in report.findings for x in f.fixes for c in x.commands}
    pools = {p.name for p in report.pools}
    text = scan_text.render(report, options=scan_text.TextOptions(width=80))
    for line in text.splitlines():
        words = line.split()
        command = line.strip().split("] ", 1)[-1] if line.lstrip().startswith("[") else line.strip()
        assert (len(line) <= 80 or command in commands or line.startswith(("POOL ", "iisbitness scan"))
                or (words and words[0] in pools)), line


def test_color_only_when_asked() -> None:
    """A pipe gets plain text; ``--color`` colours it anyway (click would strip the codes otherwise)."""
    assert "\x1b[" not in CliRunner().invoke(main, ["demo"]).output
    assert "\x1b[1;31mERROR\x1b[0m" in CliRunner().invoke(main, ["demo", "--color"]).output


def test_config_only_image_lists_unknown_binaries_one_a_line(tmp_path: Path) -> None:
    config = "Windows/System32/inetsrv/config/applicationHost.config"
    (tmp_path / config).parent.mkdir(parents=True)
    (tmp_path / config).write_bytes((DEMO / "contoso-iis10" / config).read_bytes())
    text = scan_text.render(scan(tmp_path), options=scan_text.TextOptions(width=80))
    assert "The image holds configuration files only" in text
    lines = text.splitlines()
    at = lines.index("WARNING binary-missing  not in the image, architecture unknown (1):")  # NOTE: counted: a block
    assert "(0 errors, 1 warning)" not in text or "WARNING" in text
    assert lines[at + 1] == (f"  C:\\Program Files\\ImageResizer\\resizer.dll  --> {config}:128  "
                             "in CatalogPool, DefaultAppPool, IntranetPool, OrdersAsp, PhpPool, StorefrontCore, "
                             "WebConnection64 (w3wp.exe x64)")  # NOTE: every worker that loads it (issue 20 §4)


def test_pool_table_says_the_source_briefly_and_verbose_names_the_key() -> None:
    """The 32-BIT (FROM) column says ``default`` and ``server-wide`` so that the APPLICATIONS column fits at 100
    columns (issue 24); ``--verbose`` (and JSON) keep the source as read: ``schema default``, the metabase key."""
    assert scan_text.source("schema default") == "default"
    assert scan_text.source("/LM/W3SVC/AppPools (server-wide)") == "server-wide"
    assert scan_text.source("applicationPoolDefaults") == "applicationPoolDefaults"
    iis6 = scan(DEMO / "w2003-iis6")
    text = scan_text.render(iis6, options=scan_text.TextOptions())
    verbose = scan_text.render(iis6, options=scan_text.TextOptions(verbose=True))
    assert "true (server-wide)  " in text and "applications:" not in text
    assert "true (/LM/W3SVC/AppPools (server-wide))" in verbose
    iis10 = scan_text.render(scan(DEMO / "contoso-iis10"), options=scan_text.TextOptions())
    assert "false (default)  " in iis10 and "applications: Default Web Site/wconnect" not in iis10


def test_symptom_headlines_fit_one_line_at_100_columns() -> None:
    """The demo's ``sees`` headlines each take one line at 100 columns (the full text is in ``--verbose``)."""
    for name in ("contoso-iis10", "w2003-iis6"):
        lines = scan_text.render(scan(DEMO / name), options=scan_text.TextOptions()).splitlines()
        for i, line in enumerate(lines):
            if line.startswith("  sees  "):
                assert not lines[i + 1].startswith("        "), line
