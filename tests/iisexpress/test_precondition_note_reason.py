"""IIS Express's global module preCondition fix rebuilt its note from the ``<modules>`` listing's words only: the
"Not verified: the <modules> entry ... (a web.config) ..." sentence the server's fix carries was lost, so the fix was
unverified while its note did not say why (``fixes/iisexpress.py`` ``_precondition_words``). Real input: the corpus's
SampleKVApp solution (its IIS Express configuration and Web.config), the project's Web.config listing the native
UriCacheModule again without a bitness, and IIS Express's x86 folder holding an x64 cachuri.dll."""

from __future__ import annotations

import shutil
from pathlib import Path

from iisbitness.scan.pipeline import ScanOptions, scan
from tests.conftest import fixture
from tests.iisexpress.solution import CLASSIC, classic_solution


def test_the_iis_express_precondition_fix_says_why_it_is_not_verified(tmp_path: Path) -> None:
    sol = classic_solution(tmp_path / "sol", use64="")
    web = sol / CLASSIC / "Web.config"
    text = web.read_text(encoding="utf-8")
    anchor = '  <remove name="ApplicationInsightsWebTracking" />'
    assert text.count(anchor) == 1
    web.write_text(text.replace(anchor, '  <add name="UriCacheModule" />\n' + anchor), encoding="utf-8")
    machine = tmp_path / "c"
    for folder, dll in (("Program Files (x86)", "module_x64.dll"), ("Program Files", "module_x64.dll")):
        (machine / folder / "IIS Express").mkdir(parents=True)
        shutil.copyfile(fixture(dll), machine / folder / "IIS Express" / "cachuri.dll")
    report = scan(sol, ScanOptions(drives={"C": machine}))
    [f] = [f for f in report.findings if f.rule == "global-module-arch" and "cachuri.dll" in (f.binary or "")]
    [restrict] = [x for x in f.fixes if x.label == 'preCondition="bitness64"']
    assert restrict.verified is False and restrict.unverified_because
    assert "the <modules> entry naming 'UriCacheModule'" in restrict.unverified_because
    assert restrict.note is not None and f"Not verified: {restrict.unverified_because}." in restrict.note, restrict.note
    assert "32-bit iisexpress.exe then runs without" in restrict.note  # NOTE: IIS Express's words kept
