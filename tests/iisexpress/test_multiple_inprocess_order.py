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


def test_the_finding_points_at_the_site_s_definition_not_a_pool(tmp_path: Path) -> None:
    sol = core_solution(tmp_path / "sol", use64=True)
    _api_app(sol, tmp_path / "apps", False)
    _, doc = scan_json(sol, "--share", f"\\\\fileserver\\apps={tmp_path / 'apps'}")
    [f] = [f for f in doc["findings"] if f["rule"] == "aspnetcore-multiple-inprocess"]
    lines = (sol / ".vs" / CORE / "config" / "applicationhost.config").read_text(encoding="utf-8").splitlines()
    assert f'<site name="{CORE}"' in lines[f["config"]["line"] - 1], (f["config"], lines[f["config"]["line"] - 1])


def test_a_publish_fix_names_its_app_so_two_projects_get_two_fixes(tmp_path: Path) -> None:
    """The 32-bit iisexpress.exe with two x64 apps (the project's own and /api, built elsewhere): one "dotnet publish
    -r win-x86" fix was shared by both, as if one publish did; each now names its app."""
    sol = core_solution(tmp_path / "sol", use64=False)
    _api_app(sol, tmp_path / "apps", False)
    _, doc = scan_json(sol, "--share", f"\\\\fileserver\\apps={tmp_path / 'apps'}")
    found = {f["application"]: f for f in doc["findings"] if f["rule"] == "aspnetcore-inprocess-arch"}
    [root] = [x for x in fixes_of(doc, found["/"]) if "dotnet publish" in " ".join(x["commands"])]
    [api] = [x for x in fixes_of(doc, found["/api"]) if "dotnet publish" in " ".join(x["commands"])]
    assert root["summary"].startswith(f"Build project '{CORE}' for x86"), root["summary"]
    assert api["summary"].startswith(f"Build app {CORE}/api for x86"), api["summary"]
    assert root["label"] != api["label"]
