"""``--format html``: one self-contained, escaped page (issue 14). The browser test is test_browser.py."""

from __future__ import annotations

import json
import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

from click.testing import CliRunner
from markupsafe import escape

from iisbitness.cli import main
from iisbitness.formats import scan_html
from tests.conftest import DEMO, REPO
from tests.html.hostile import EVIL, hostile_report


def test_names_are_escaped() -> None:
    html = scan_html.render([hostile_report()])
    assert EVIL not in html and "alert(" not in html.replace("alert(&#39;x&#39;)", "")
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert html.count("<script>") == 1  # the page's own script, nothing else


def test_self_contained_no_network() -> None:
    html = scan_html.render([hostile_report()])
    assert not re.search(r"""(src|href|action)\s*=\s*["']?(https?:)?//""", html)
    assert "<link" not in html and "@import" not in html and "url(" not in html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html


def test_demo_html_to_file_names_every_pool_cause_and_command(tmp_path: Path) -> None:
    out = tmp_path / "demo.html"
    res = CliRunner().invoke(main, ["demo", "--format", "html", "-o", str(out)])
    assert res.exit_code == 0 and res.output == ""
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.count('class="cause cause-') == 15
    for pool in ("DefaultAppPool", "WebConnection64", "LegacyPool32", "SpareAppPool", "OrdersAsp"):
        assert f'data-pool="{pool}"' in html
    assert "appcmd.exe set apppool &#34;CatalogPool&#34; /enable32BitAppOnWin64:true" in html
    docs = json.loads(CliRunner().invoke(main, ["demo", "--format", "json"]).output)
    for doc in docs:  # nothing lost: every finding's pool, binary, config, symptom and fix is on the page
        for f in doc["findings"]:
            for value in (f["pool"], f["binary"], f["resolved"], f["config"] and f["config"]["file"]):
                assert value is None or str(escape(value)) in html, value
            symptom = str(escape(f["symptom"]))
            assert symptom in html or symptom.replace(str(escape(f"'{f['pool']}'")), "&lt;pool&gt;") in html
        for fix in doc["fixes"]:  # NOTE: every fix some finding offers, once
            assert str(escape(fix["summary"])) in html
            for c in [*fix["commands"], *fix["powershell"]]:
                assert str(escape(c)) in html, c


def test_scan_output_file_for_every_format(tmp_path: Path) -> None:
    image = str(DEMO / "contoso-iis10")
    for fmt in ("text", "json", "html"):
        out = tmp_path / f"report.{fmt}"
        res = CliRunner().invoke(main, ["scan", image, "--format", fmt, "-o", str(out), "--fail-on", "never"])
        assert res.exit_code == 0 and res.output == "" and out.stat().st_size > 1000, (fmt, res.output)
    assert "\x1b[" not in (tmp_path / "report.text").read_text()  # a file gets no colours


def test_templates_ship_as_package_data() -> None:
    """Every file under formats/templates matches a [tool.setuptools.package-data] pattern."""
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["iisbitness"]
    root = REPO / "src" / "iisbitness"
    files = [p.relative_to(root).as_posix() for p in (root / "formats" / "templates").iterdir()]
    assert files and all(any(fnmatch(f, pat) for pat in patterns) for f in files), (files, patterns)
