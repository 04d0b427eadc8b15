"""Every rule an IIS Express scan runs speaks IIS Express's terms (review round 12, express5): IIS Express has no WAS
and no pool processes, one iisexpress.exe per project's site, 32-bit or 64-bit by the project's setting
(iis-express-facts.md F4.1, F2.1-F2.3). A rule's title, detail, messages and fixes never put an application pool
where the process is meant (its bitness, its CLR, its start, recycle or 503); the configuration's pool a site names
(its CLR version and pipeline mode, which IIS Express applies) may still be named."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from iisbitness.rules import RULES
from iisbitness.scan.iisexpress import NOT_APPLICABLE
from tests.iisexpress.solution import CLASSIC, classic_solution, core_solution, run
from tests.iisexpress.test_iisexpress import _machine_with
from tests.iisexpress.test_multiple_inprocess_order import _api_app

ALLOWED = (
    r"in pool '[^']*'",  # NOTE: the configuration's pool a site names (its CLR version, pipeline mode), not a process
    r"whatever pool each names",  # NOTE: aspnetcore-multiple-inprocess: the pools do not separate the apps
    r"\(here '[^)]*'\)",  # NOTE: ... the names of those pools
    r"IIS Express has no WAS to start a process per pool",
    r"giving an app another pool does not change that",
    r"A different application pool does not help here",
    r"IIS Express has no application pool to start or recycle",  # NOTE: the restart note, instead of a recycle
)
"""Pool wording that applies under IIS Express: naming the configuration's pool, or saying a pool does not matter."""


def _pool_words(text: str) -> list[str]:
    """Each use of "pool" in ``text`` that none of :data:`ALLOWED` accounts for, with its context."""
    flat = " ".join(text.split())
    for allowed in ALLOWED:
        flat = re.sub(allowed, "", flat)
    return [m.group(0) for m in re.finditer(r".{0,60}\bpools?\b.{0,60}", flat, re.IGNORECASE)]


def _images(tmp_path: Path) -> list[tuple[Path, list[str]]]:
    """Real IIS Express configurations with many rules' findings: a .NET Framework project (an x64 assembly, an x64
    native DLL and a damaged DLL in bin, an x64 global module and a vendor's module missing from the 32-bit IIS
    Express, a partial copy of its folder), and an ASP.NET Core one (x64 publishes in the 32-bit iisexpress.exe, two
    in-process apps of one site in two pools)."""
    sol = classic_solution(tmp_path / "sol", use64="", bin_files={
        "Vendor.Imaging.dll": "managed_x64.dll", "native.dll": "nativelib_x64.dll", "bad.dll": "corrupt_truncated.dll"})
    machine = _machine_with(tmp_path, {"cachuri.dll": "module_x64.dll", "iisfcgi.dll": "module_x86.dll"},
                            {"cachuri.dll": "module_x64.dll", "vendmod.dll": "module_x64.dll"})
    cfg = sol / ".vs" / CLASSIC / "config" / "applicationhost.config"
    text = cfg.read_text(encoding="utf-8")
    at = text.index('<add name="UriCacheModule"')
    cfg.write_text(text[:at] + '<add name="VendorModule" image="%IIS_BIN%\\vendmod.dll" />\n            ' + text[at:],
                   encoding="utf-8")
    core = core_solution(tmp_path / "core", use64=False)
    _api_app(core, tmp_path / "apps", False)
    return [(sol, ["--drive", f"C={machine}"]), (core, ["--share", f"\\\\fileserver\\apps={tmp_path / 'apps'}"])]


def test_every_rule_s_title_and_detail_under_iis_express_names_no_pool(tmp_path: Path) -> None:
    """SARIF's rule descriptors of an IIS Express scan (the titles a code-scanning tool shows) said "One application
    pool hosts two in-process ASP.NET Core apps", "... cannot be loaded by the pool's CLR", "Every site in the pool
    gets HTTP 503; rapid-fail protection then disables the pool", and listed pool-undefined, which never applies there.
    Every rule the IIS Express scan runs is walked: each names iisexpress.exe, not a pool."""
    sol, args = _images(tmp_path)[0]
    res = run(sol, *args, "--format", "sarif")
    [sarif_run] = json.loads(res.stdout)["runs"]
    descriptors: list[dict[str, Any]] = sarif_run["tool"]["driver"]["rules"]
    expected = {r.id for r in RULES if not r.id.startswith("iis6-") and r.id not in NOT_APPLICABLE}
    assert {d["id"] for d in descriptors} == expected
    assert "pool-undefined" not in expected
    bad = {d["id"]: words for d in descriptors
           if (words := _pool_words(" ".join((d["shortDescription"]["text"], d["fullDescription"]["text"],
                                              d["help"]["text"], d["help"]["markdown"]))))}
    assert bad == {}, bad


def test_every_finding_and_fix_text_under_iis_express_names_no_pool_process(tmp_path: Path) -> None:
    """The messages and fixes of every finding of two real IIS Express images, with the rules each fired."""
    fired: set[str] = set()
    bad: list[tuple[str, str, list[str]]] = []
    for folder, args in _images(tmp_path):
        doc = json.loads(run(folder, *args, "--format", "json").stdout)
        for f in doc["findings"]:
            fired.add(f["rule"])
            for field in ("symptom", "cause"):
                if words := _pool_words(f[field] or ""):
                    bad.append((f["rule"], field, words))
        for fix in doc["fixes"]:
            for field in ("summary", "label", "note"):
                if words := _pool_words(fix.get(field) or ""):
                    bad.append(("fix", field, words))
        for f in doc["findings"]:
            for r in f["rejected_fixes"]:
                if words := _pool_words(r["summary"] + " " + r["reason"]):
                    bad.append((f["rule"], "rejected", words))
    assert {"global-module-arch", "binary-missing", "managed-assembly-arch", "native-library-arch", "binary-invalid",
            "aspnetcore-inprocess-arch", "aspnetcore-multiple-inprocess"} <= fired, fired
    assert bad == [], bad


def test_the_server_s_titles_are_kept_on_a_server() -> None:
    """The server's words stay on a server: the IIS Express title is IIS Express's alone."""
    by_id = {r.id: r for r in RULES}
    rule = by_id["aspnetcore-multiple-inprocess"]
    assert rule.title() == "One application pool hosts two in-process ASP.NET Core apps"
    assert rule.title(iisexpress=True) == "One iisexpress.exe (a project's site) hosts two in-process ASP.NET Core apps"
    assert by_id["isapi-not-allowed"].title(iisexpress=True) == by_id["isapi-not-allowed"].summary


def _visible(page: str) -> str:
    """The words an HTML report shows: no style, script, tags or attributes (class names such as ``pool-list``)."""
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.DOTALL | re.IGNORECASE)
    return html.unescape(re.sub(r"<[^>]*>", " ", page))


def test_the_text_and_html_reports_of_iis_express_name_no_pool_process(tmp_path: Path) -> None:
    """The text report's "in" line read "Clr4IntegratedAppPool (iisexpress.exe x86)", a pool with a process; the HTML
    had a "Pools affected" card, "pool Clr4IntegratedAppPool · iisexpress.exe", a map card headed by the pool with its
    enable32BitAppOnWin64 (no effect in IIS Express: F4.1), "(outside application pools)" and "in 1 of 1 pools". They
    name each project's site's iisexpress.exe, and the pool only as the one its applications name."""
    bad: list[tuple[str, list[str]]] = []
    for folder, args in _images(tmp_path):
        for fmt in (["--verbose"], ["--format", "html"]):
            out = run(folder, *args, *fmt).stdout
            shown = _visible(out) if "html" in fmt else out
            if words := _pool_words(shown):
                bad.append((f"{folder.name} {fmt[-1]}", words))
            assert "enable32BitAppOnWin64" not in shown
    assert bad == [], bad


def test_the_coverage_of_a_partial_iis_express_copy_names_iis_express_s_modules(tmp_path: Path) -> None:
    """A copy of Program Files (x86)\\IIS Express lacking its modules left the application partly checked because the
    copy "lacks some of Windows' own IIS modules", and the load map said the same (its test of IIS Express's folder
    wanted a drive letter, which the image's folder name has not): they are IIS Express's own, in its own folder."""
    sol, args = _images(tmp_path)[0]
    doc = json.loads(run(sol, *args, "--format", "json").stdout)
    reasons = " ".join(r for a in doc["coverage"]["applications"] for r in a["reasons"])
    assert "lacks some of IIS Express's own modules (the copy may be partial)" in reasons, reasons
    assert "Windows' own IIS modules" not in reasons, reasons
    loads = " ".join(run(sol, *args, "--loads").stdout.split())
    assert "not all of IIS Express's own modules: the copy may be partial" in loads
    assert "Windows' own IIS modules" not in loads
