"""scan over every real applicationHost.config of ../shared/corpus/iis-config (as a config-only image)."""

from __future__ import annotations

from pathlib import Path

import pytest

from iisbitness.api import scan
from iisbitness.arch import Arch
from iisbitness.errors import ConfigError
from tests.conftest import CORPUS, make_image

CONFIGS = sorted((CORPUS / "iis-config").glob("*")) if (CORPUS / "iis-config").is_dir() else []
APPHOSTS = [p for p in CONFIGS if "applicationhost" in p.name.lower() and p.suffix.lower() in (".config", ".xdt")]
NOT_XML = {"PrestaShopCorp__skrill__applicationhost.config"}
NOT_APPHOST: dict[str, tuple[str, int]] = {
    # named applicationHost.* but another kind of file: exit 2 naming what it is (issue 12), not an empty server
    "Chocobog__askSalty__applicationHost.config": ("an XML Document Transform", 0),
    "DataDog__datadog-aas-extension__windows__content__applicationHost.xdt": ("an XML Document Transform", 0),
    "KuduApps__CGIPerlApp__site__applicationHost.xdt": ("an XML Document Transform", 0),
    "Sitefinity__AppGatewayHostRewriteModule__applicationHost.xdt": ("an XML Document Transform", 3),
    "projectkudu__phpmyadmin__applicationHost.xdt": ("an XML Document Transform", 0),
    "amundead__lab__applicationHost.config": ("a web.config (or a piece of one", 3),
}
"""File -> (what the message calls it, line; 0 = any line)."""


@pytest.mark.parametrize("config", APPHOSTS, ids=lambda p: p.name[:60])
def test_every_corpus_apphost_scans(config: Path, tmp_path: Path) -> None:
    img = make_image(tmp_path, config, wow64=False)
    if config.name in NOT_XML:
        with pytest.raises(ConfigError) as e:
            scan(img)
        assert e.value.line == 63 and "applicationHost.config" in str(e.value)
        return
    if config.name in NOT_APPHOST:
        kind, line = NOT_APPHOST[config.name]
        with pytest.raises(ConfigError) as e:
            scan(img)
        assert e.value.message.startswith("this file is " + kind) and "not an applicationHost.config" in e.value.message
        assert e.value.line is not None and (line == 0 or e.value.line == line)
        return
    report = scan(img)
    assert report.server.os_arch is Arch.X64  # a config-only image: x64 assumed
    # A config-only image gives a short report: no more than a handful of missing third-party binaries.
    assert sum(f.rule == "binary-missing" for f in report.findings) <= 5


def _pinned(name: str, tmp_path: Path) -> set[tuple[str, str | None, str | None]]:
    src = CORPUS / "iis-config" / name
    if not src.is_file():
        pytest.skip("no shared corpus")
    report = scan(make_image(tmp_path, src, wow64=False))
    return {(f.rule, f.pool, f.binary) for f in report.findings}


def test_pinned_iisnode_without_precondition(tmp_path: Path) -> None:
    assert _pinned("abbrave5__music-library__applicationHost.config", tmp_path) == {
        ("binary-missing", "DefaultAppPool", "%programfiles%\\iisnode\\iisnode.dll")}


def test_pinned_intersystems_module(tmp_path: Path) -> None:
    assert _pinned("mlbakerak__WinIRISBuild__applicationHost.config", tmp_path) == {
        ("binary-missing", "DefaultAppPool", "C:\\Inetpub\\CSPGateway\\CSPms.dll")}


def test_pinned_sharepoint_apppoolname_precondition(tmp_path: Path) -> None:
    """owssvr.dll has preCondition appPoolName=...; only the named pools load it."""
    assert _pinned("NCIOCPL__pubslocator__applicationHost.config", tmp_path) == {
        ("binary-missing", "pubssp.lmbps.com",
         "C:\\Program Files\\Common Files\\Microsoft Shared\\Web Server Extensions\\14\\isapi\\owssvr.dll")}


def test_pinned_all_pools_32bit_from_defaults(tmp_path: Path) -> None:
    src = CORPUS / "iis-config" / "c1982__IIS-SharedGitConfig__applicationHost.config"
    if not src.is_file():
        pytest.skip("no shared corpus")
    report = scan(make_image(tmp_path, src, wow64=False))
    assert report.findings == ()
    assert {p.worker_arch for p in report.pools} == {Arch.X86}
    default = next(p for p in report.pools if p.name == "DefaultAppPool")
    assert default.enable_32bit_from == "applicationPoolDefaults"  # <add name="DefaultAppPool"> has no value of its own


def test_pinned_advanced_logging_inferred_x64(tmp_path: Path) -> None:
    """%ProgramFiles%\\IIS\\Advanced Logging in a 64-bit pool: Microsoft's x64 build, inferred."""
    assert _pinned("Nordstrom__epg-interview-sysadmin__iis__applicationHost.config", tmp_path) == set()


def test_pinned_iis_express_modules_inferred(tmp_path: Path) -> None:
    """%IIS_BIN% modules resolve into IIS Express's own folder: no wall of missing files."""
    assert _pinned("adriano-costa__php-7-2-14_dev__applicationhost.config", tmp_path) == set()


def test_pinned_32bit_pool_with_ancm_programfiles(tmp_path: Path) -> None:
    """ANCM V2 via %ProgramFiles% in a 32-bit pool resolves to Program Files (x86): fits."""
    assert _pinned("coso-configuration__supernova__applicationHost.config", tmp_path) == set()
