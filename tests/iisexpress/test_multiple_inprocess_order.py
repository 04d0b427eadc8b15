"""aspnetcore-multiple-inprocess under IIS Express keeps the site's root application in process, whatever the order
of the applications in applicationhost.config (review round 11, finding 4)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import fixes_of
from tests.iisexpress.solution import CORE, core_solution, scan_json


def _api_app(sol: Path, share: Path, before_root: bool) -> None:
    """An in-process application ``/api`` of BankTech_API_V1's site (a real win-x64 publish on \\\\fileserver\\apps\\api),
    written after the site's root application, or before it (``before_root``)."""
    cfg = sol / ".vs" / CORE / "config" / "applicationhost.config"
    text = cfg.read_text(encoding="utf-8")
    site = text.index(f'<site name="{CORE}"')
    at = (text.index("<application ", site) if before_root
          else text.index("</application>", site) + len("</application>"))
    app = ('<application path="/api" applicationPool="Clr4IntegratedAppPool">'
           '\n          <virtualDirectory path="/" physicalPath="\\\\fileserver\\apps\\api" />'
           "\n        </application>\n        ")
    cfg.write_text(text[:at] + app + text[at:], encoding="utf-8")
    shutil.copytree(sol / CORE / "bin" / "Release" / "net8.0" / "win-x64" / "publish", share / "api")
    (share / "api" / f"{CORE}.exe").rename(share / "api" / "TestSommee.exe")


@pytest.mark.parametrize("before_root", [False, True])
def test_the_root_application_stays_in_process_in_either_config_order(tmp_path: Path, before_root: bool) -> None:
    """With /api written before / the fixes advised hosting the site's root application (the project's own app) out of
    process, or removing it from the site; now both orders keep / and name /api."""
    sol = core_solution(tmp_path / "sol", use64=True)
    _api_app(sol, tmp_path / "apps", before_root)
    _, doc = scan_json(sol, "--share", f"\\\\fileserver\\apps={tmp_path / 'apps'}")
    [f] = [f for f in doc["findings"] if f["rule"] == "aspnetcore-multiple-inprocess"]
    assert f["process"] == "iisexpress.exe"
    out, own = fixes_of(doc, f)
    assert out["summary"].startswith(f"Host {CORE}/api out of process"), out["summary"]
    assert own["summary"].startswith(f"Or run {CORE}/api as a site of its own"), own["summary"]
    assert f"{CORE}/:" not in out["summary"] and f"Host {CORE}/," not in out["summary"]
