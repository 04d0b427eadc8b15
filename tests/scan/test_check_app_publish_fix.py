"""check-app's build-side ``dotnet publish`` fix goes only where publishing for the pool's architecture is the fix
(the rule itself offers publishing: aspnetcore-inprocess-arch), never on aspnetcore-multiple-inprocess, whose fix is a
pool of its own or out-of-process hosting. Real findings of a scan of the demo server (its win-x86 in-process
Storefront app) with a second in-process application added to its pool."""

from __future__ import annotations

import shutil
from pathlib import Path

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from iisbitness.scan.check_app import PoolSpec, _build_side
from tests.conftest import DEMO

_CONFIG = "Windows/System32/inetsrv/config/applicationHost.config"


def _two_inprocess_apps(tmp_path: Path) -> Path:
    image = tmp_path / "img"
    shutil.copytree(DEMO / "contoso-iis10", image)
    shutil.copytree(image / "inetpub/storefront", image / "inetpub/shop2")
    config = image / _CONFIG
    text = config.read_text()
    root = '<virtualDirectory path="/" physicalPath="C:\\inetpub\\storefront" />\n                </application>'
    assert root in text
    config.write_text(text.replace(root, root + '\n                <application path="/shop2" applicationPool='
                                   '"StorefrontCore">\n                    <virtualDirectory path="/" physicalPath='
                                   '"C:\\inetpub\\shop2" />\n                </application>'))
    return image


def test_publish_fix_only_where_publishing_for_the_pool_is_the_fix(tmp_path: Path) -> None:
    report = scan(_two_inprocess_apps(tmp_path), ScanOptions())
    by_rule = {f.rule: f for f in report.findings if f.rule.startswith("aspnetcore-")}
    assert {"aspnetcore-multiple-inprocess", "aspnetcore-inprocess-arch"} <= set(by_rule), sorted(by_rule)
    pool = PoolSpec(Arch.X64, runtime="")
    multiple = _build_side(by_rule["aspnetcore-multiple-inprocess"], pool)
    assert not any(c.startswith("dotnet publish") for fx in multiple.fixes for c in fx.commands), multiple.fixes
    assert not any(fx.label.startswith("RuntimeIdentifier") for fx in multiple.fixes)
    arch = _build_side(by_rule["aspnetcore-inprocess-arch"], pool)
    assert arch.fixes[0].label == "RuntimeIdentifier win-x64", [fx.label for fx in arch.fixes]
    assert arch.fixes[0].commands == ("dotnet publish -c Release -r win-x64 --self-contained",)
