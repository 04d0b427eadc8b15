"""An ASP.NET application copied without its ``bin`` (audit7 F13): its folder holds pages ASP.NET compiles against
every assembly in ``bin`` and no ``bin``, so it is partly checked with the ``bin`` named as not in the copy; a static
folder, a No Managed Code pool, a folder with its ``bin``, and the live server's own answer are as before."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from iisbitness.cli import main
from tests.conftest import DEMO, apphost, make_image, site


def _coverage(img: Path) -> tuple[dict[str, dict[str, object]], dict[str, object]]:
    res = CliRunner().invoke(main, ["scan", str(img), "--format", "json", "-q"])
    doc = json.loads(res.output)
    return {c["application"]: c for c in doc["coverage"]["applications"]}, doc


def _image(tmp_path: Path, files: dict[str, str | bytes], runtime: str = "v4.0") -> Path:
    pools = f'<add name="AppPool" managedRuntimeVersion="{runtime}" />'
    return make_image(tmp_path / "img", apphost(pools, site("Shop", 1, "AppPool", "C:\\inetpub\\shop")),
                      {f"inetpub/shop/{k}": v for k, v in files.items()})


@pytest.mark.parametrize("page", ["Default.aspx", "Service.asmx", "Handler.ashx", "Orders.svc", "Global.asax"])
def test_pages_without_bin_are_partly_checked_with_the_bin_to_copy(tmp_path: Path, page: str) -> None:
    cov, _ = _coverage(_image(tmp_path, {page: "<%@ Page %>", "web.config": "<configuration />"}))
    shop = cov["Shop/"]
    assert shop["status"] == "partly-checked", shop
    assert any(f"ASP.NET pages ({page}) and no bin" in r and "C:\\inetpub\\shop\\bin" in r
               for r in shop["reasons"]), shop  # type: ignore[attr-defined]
    assert shop["remedy"] == "copy C:\\inetpub\\shop\\bin into the image as inetpub/shop/bin"


@pytest.mark.parametrize(("files", "runtime"), [
    ({"index.html": "<html/>", "web.config": "<configuration />"}, "v4.0"),  # a static folder
    ({"Default.aspx": "<%@ Page %>"}, ""),  # No Managed Code: no CLR, no ASP.NET
    ({"Default.aspx": "<%@ Page %>", "bin/readme.txt": "x"}, "v4.0"),  # its bin copied
])
def test_static_unmanaged_or_with_bin_stays_checked(tmp_path: Path, files: dict[str, str], runtime: str) -> None:
    cov, _ = _coverage(_image(tmp_path, files, runtime))
    assert cov["Shop/"]["status"] == "checked", cov["Shop/"]


def test_the_demo_without_its_bin_no_longer_verifies_the_pool_flip(tmp_path: Path) -> None:
    """audit7 p1 with a page: the demo's Default Web Site without inetpub/wwwroot/bin, Default.aspx in it."""
    img = tmp_path / "p1"
    shutil.copytree(DEMO / "contoso-iis10", img)
    shutil.rmtree(img / "inetpub" / "wwwroot" / "bin")
    (img / "inetpub" / "wwwroot" / "Default.aspx").write_text('<%@ Page Inherits="Contoso.Default" %>', encoding="utf-8")
    cov, doc = _coverage(img)
    assert cov["Default Web Site/"]["status"] == "partly-checked"
    assert doc["coverage"]["complete"] is False  # type: ignore[index]
    flips = [x for x in doc["fixes"] if "DefaultAppPool" in x["summary"] and "32-bit" in x["summary"]]  # type: ignore[attr-defined]
    assert flips and all(x["verified"] is not True for x in flips), flips
