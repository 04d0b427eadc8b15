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
            each = str(escape(f["symptom"].replace(f"pool '{f['pool']}'", "each pool")))
            assert symptom in html or each in html
            assert "&lt;pool&gt;" not in html
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


def test_what_to_do_first_and_the_map_keep_to_what_matters(tmp_path: Path) -> None:
    """Issue 24: the fixes in order at the top (one per cause, worst first); per worker only the binaries that are
    not Windows's own or that do not fit, the rest behind "show all N"; labels agree with the data."""
    from iisbitness.api import ScanOptions, scan
    from iisbitness.formats.causes import view

    report = scan(DEMO / "contoso-iis10", ScanOptions(load_map=True))
    v = view(report)
    steps = scan_html.first_steps(v)
    # the global module: a pool flip for each pool that can flip (no side effect), which also serves the bin
    # assemblies of those pools; then the split of IntranetPool; then IIS Manager
    assert steps[0].numbers == (1, 2, 3, 4, 5, 6) and v.fix(1).label == "run the pool as 32-bit" and 1 in steps[0].causes
    assert [v.fix(s.numbers[0]).label for s in steps[1:]] == ["a new 32-bit pool for the app",
                                                               "IIS Manager as a 32-bit console"]
    assert sorted(i for s in steps for i in s.causes) == list(range(1, len(v.causes) + 1))  # every cause, once
    html = scan_html.render([report])
    assert html.index("What to do first") < html.index("Server map") < html.index("Findings by cause")
    first = html[html.index("What to do first"):html.index("Server map")]
    assert 'set apppool &#34;WebConnection64&#34; /enable32BitAppOnWin64:true' in first and "One of 6 fixes" in first
    default = next(w for w in scan_html.workers(v, "s1") if w.title == "DefaultAppPool")
    assert default.stock >= 5 and f"show all {default.total} binaries" in html
    shown = [b for b in default.shared if not b.stock]
    assert {b.binary.rsplit("\\", 1)[-1] for b in shown} >= {"vendorauth.dll", "resizer.dll", "aspnetcorev2.dll"}
    assert all(not b.binary.lower().startswith("%windir%") or b.mismatch for b in shown)


def test_labels_agree_with_the_data(tmp_path: Path) -> None:
    """An unknown architecture is not said not to fit; a finding about something else names its rule only."""
    from iisbitness.arch import Arch
    from iisbitness.findings import Finding, RuleId, Severity
    from iisbitness.loadplan.plan import Evidence

    def finding(rule: str, arches: tuple[Arch, ...]) -> Finding:
        return Finding(rule=RuleId(rule), severity=Severity.NOTE, evidence=Evidence.READ, pool="P", site="S",
                       application="/", process="w3wp.exe", process_arch=Arch.X64, binary="C:\\v\\x.dll",
                       resolved=None, binary_arch=arches, config=None, symptom="s", cause="c")
    assert scan_html._node(finding("isapi-not-allowed", (Arch.X64,)), "a").mismatch == "isapi-not-allowed"
    assert scan_html._node(finding("binary-missing", ()), "a").mismatch == "binary-missing: architecture unknown"
    assert scan_html._node(finding("isapi-extension-arch", (Arch.X86,)), "a").mismatch == \
        "isapi-extension-arch: does not fit w3wp.exe x64"


def test_text_and_html_say_the_same_of_what_was_inferred_and_what_assumed(tmp_path: Path) -> None:
    """One decision (Finding.arch_inferred, Finding.read_worker_assumed) for both formats. The demo's COM server
    registered only in the 32-bit view is in the image: its architecture is read from its headers (evidence read;
    the registration, read too, decides the failure), so neither format says "inferred" of it, nor "w3wp.exe x64
    assumed" of a worker whose bitness is configured (H11: both said "x86, inferred" of a file that was read)."""
    out = tmp_path / "demo.html"
    assert CliRunner().invoke(main, ["demo", "--format", "html", "-o", str(out)]).exit_code == 0
    html = out.read_text(encoding="utf-8")
    text = CliRunner().invoke(main, ["demo", "--no-color"]).output
    assert "pdfstamp.dll [x86]" in text
    assert "w3wp.exe x64 assumed" not in html and "w3wp.exe x64 assumed" not in text
    [dd] = [d for d in re.findall(r"<dt>Binary</dt><dd>(.*?)</dd>", html) if "pdfstamp.dll" in d]
    assert dd.endswith('loads in <span class="arch arch-x86">x86</span>'), dd
    nodes = re.findall(r'<span class="arch arch-x86">([^<]*)</span>\s*<code class="bname" title="[^"]*pdfstamp\.dll"',
                       html)
    assert nodes and set(nodes) == {"x86"}, nodes

