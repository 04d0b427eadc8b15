"""SARIF locations on another drive are RFC 8089 file URIs, ``file:///D:/...`` (issue 26): the drive letter's
colon is not percent-encoded (``file:///D%3A/...`` names no file to SARIF viewers)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from click.testing import CliRunner

from iisbitness.cli import main
from tests.conftest import apphost, make_image, site

WEB = ('<?xml version="1.0" encoding="utf-8"?>\n<configuration><system.webServer><isapiFilters>'
       '<filter name="F" path="C:\\F\\f.dll"/></isapiFilters></system.webServer></configuration>\n')


def test_a_finding_in_a_web_config_on_drive_d_has_a_file_uri_with_its_drive_letter(tmp_path: Path) -> None:
    image = make_image(tmp_path / "c", apphost('<add name="P64" managedRuntimeVersion="v4.0" />',
                                               site("S", 1, "P64", r"D:\sites\s")), {"F/f.dll": "filter_x86.dll"})
    d = tmp_path / "d"
    (d / "sites" / "s").mkdir(parents=True)
    (d / "sites" / "s" / "web.config").write_text(WEB)
    res = CliRunner().invoke(main, ["scan", str(image), "--drive", f"D={d}", "--format", "sarif", "--fail-on", "never"])
    assert res.exit_code == 0, res.output
    (result,) = json.loads(res.output)["runs"][0]["results"]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "file:///D:/sites/s/web.config"
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc, parts.path) == ("file", "", "/D:/sites/s/web.config")


def test_image_relative_paths_keep_a_colon_escaped() -> None:
    """A relative reference whose first segment held a raw ':' would read as a URI scheme (RFC 3986, 4.2)."""
    from iisbitness.formats.scan_sarif import IMAGE_BASE, _uri

    assert _uri("site:1/web.config") == {"uri": "site%3A1/web.config", "uriBaseId": IMAGE_BASE}
    assert _uri("D:/x y/web.config")["uri"] == "file:///D:/x%20y/web.config"
    assert _uri("/srv/img/x.config")["uri"] == "file:///srv/img/x.config"
