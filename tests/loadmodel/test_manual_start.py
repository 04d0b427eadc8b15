"""Pools with autoStart="false" and sites with serverAutoStart="false": findings stay, and say the pool or site
does not start by itself (IIS configuration reference, "Adding Application Pools <add>" and "Site <site>")."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from iisbitness.formats import scan_json
from iisbitness.formats.scan_text import render
from tests.conftest import apphost, make_image


def _image(root: Path, pool_attrs: str, site_attrs: str, defaults: str = "") -> None:
    pools = (f'            <add name="Shop" managedRuntimeVersion="v4.0" {pool_attrs} />\n'
             '            <add name="Other" managedRuntimeVersion="v4.0" />')
    sites = (f'            <siteDefaults {defaults} />\n' if defaults else "") + f"""            <site name="Shop" id="1" {site_attrs}>
                <application path="/" applicationPool="Shop">
                    <virtualDirectory path="/" physicalPath="C:\\inetpub\\shop" />
                </application>
            </site>
            <site name="Other" id="2">
                <application path="/" applicationPool="Other">
                    <virtualDirectory path="/" physicalPath="C:\\inetpub\\other" />
                </application>
            </site>"""
    make_image(root, apphost(pools, sites), {"inetpub/shop/bin/Legacy.dll": "managed_x86.dll",
                                             "inetpub/other/bin/Legacy.dll": "managed_x86.dll"})


def _findings(root: Path) -> dict[str, str]:
    report = scan(root, ScanOptions(os_arch=Arch.X64))
    return {f.pool or "": f.cause for f in report.findings if f.rule == "managed-assembly-arch"}


def test_pool_with_autostart_false_keeps_its_finding_and_says_so(tmp_path: Path) -> None:
    _image(tmp_path, 'autoStart="false"', "")
    causes = _findings(tmp_path)
    assert "pool 'Shop' has autoStart=\"false\"" in causes["Shop"]
    assert "does not start by itself" in causes["Shop"]
    assert "autoStart" not in causes["Other"]


def test_site_with_server_autostart_false_keeps_its_finding_and_says_so(tmp_path: Path) -> None:
    _image(tmp_path, "", 'serverAutoStart="false"')
    causes = _findings(tmp_path)
    assert "site 'Shop' has serverAutoStart=\"false\"" in causes["Shop"]
    assert "serverAutoStart" not in causes["Other"]


def test_site_defaults_server_autostart_applies_to_every_site(tmp_path: Path) -> None:
    _image(tmp_path, "", "", defaults='serverAutoStart="false"')
    causes = _findings(tmp_path)
    assert "serverAutoStart" in causes["Shop"] and "serverAutoStart" in causes["Other"]


def test_pool_table_says_the_pool_does_not_start_by_itself(tmp_path: Path) -> None:
    _image(tmp_path, 'autoStart="false"', "")
    text = render(scan(tmp_path, ScanOptions(os_arch=Arch.X64)))
    shop = next(line for line in text.splitlines() if line.startswith("Shop "))
    assert "x64 manual" in shop
    assert "manual: pool 'Shop' has autoStart=\"false\": the pool does not start by itself" in text


def test_flip_of_a_pool_with_autostart_false_neither_recycles_nor_starts_it(tmp_path: Path) -> None:
    _image(tmp_path, 'autoStart="false"', "")
    report = scan(tmp_path, ScanOptions(os_arch=Arch.X64))
    shop = next(f for f in report.findings if f.rule == "managed-assembly-arch" and f.pool == "Shop")
    other = next(f for f in report.findings if f.rule == "managed-assembly-arch" and f.pool == "Other")
    flip = shop.fixes[0]
    assert flip.verified is True and not any("recycle" in c or " start " in c for c in flip.commands)
    assert not any("Restart-WebAppPool" in c or "Start-WebAppPool" in c for c in flip.powershell)
    assert flip.note is not None and "autoStart" in flip.note
    assert any("recycle" in c for c in other.fixes[0].commands)


def test_an_undefined_pool_is_not_said_to_start_once_someone_starts_it(tmp_path: Path) -> None:
    """An application naming an undefined pool on a site with serverAutoStart="false": the pool never starts
    (rule pool-undefined), so neither the pool table nor the finding says its findings apply once started, and
    the finding's 'in' line has no empty worker."""
    _image(tmp_path, "", 'serverAutoStart="false"')
    cfg = tmp_path / "Windows/System32/inetsrv/config/applicationHost.config"
    cfg.write_text(cfg.read_text("utf-8").replace('applicationPool="Shop"', 'applicationPool="Gone"'), "utf-8")
    report = scan(tmp_path, ScanOptions(os_arch=Arch.X64))
    undefined = next(f for f in report.findings if f.rule == "pool-undefined")
    assert "does not start by itself" not in undefined.cause
    gone = next(p for p in report.pools if p.name == "Gone")
    assert not gone.defined and gone.manual_start is None
    text = render(report)
    assert "manual:" not in text
    assert "Gone ()" not in text and "in    Gone; Shop/" in text


def test_json_pool_table_says_why_the_pool_does_not_start_by_itself(tmp_path: Path) -> None:
    """Issue 21 point 3 asks the pool table to say it: JSON pools[] carry manual_start (null when the pool starts
    by itself), valid against scan-2.json."""
    _image(tmp_path, 'autoStart="false"', "")
    doc = json.loads(scan_json.render(scan(tmp_path, ScanOptions(os_arch=Arch.X64))))
    schema = json.loads((Path(__file__).parents[2] / "src/iisbitness/formats/schema/scan-2.json").read_text("utf-8"))
    jsonschema.validate(doc, schema)
    pools = {p["name"]: p for p in doc["pools"]}
    assert pools["Shop"]["manual_start"] == "pool 'Shop' has autoStart=\"false\""
    assert pools["Other"]["manual_start"] is None
