"""Shared configuration (redirection.config's configurationRedirection enabled): IIS reads the applicationHost.config
on the share, never the local one. A copy of a web-farm node without the share is no verdict on the server.

Real inputs: the shared corpus's redirection.config (c1982/IIS-SharedGitConfig) with its configurationRedirection
element enabled as IIS Manager's Shared Configuration page writes it, and two real applicationHost.config files (the
local one of another server, the shared one from Nordstrom's)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from iisbitness.cli import main
from tests.conftest import corpus_dir, fixture, make_image

REDIRECTION = "redirection--c1982__IIS-SharedGitConfig__redirection.config"
SHARED = "Nordstrom__epg-interview-sysadmin__iis__applicationHost.config"
"""The farm's configuration: site mysite.example.com at C:\\inetpub\\wwwroot\\MySite in MyPool (64-bit)."""
LOCAL = "applicationhost--KranzA__windows-powershell-scripts__IIS__applicationHost.config"
"""A stale local file: Default Web Site at %SystemDrive%\\inetpub\\wwwroot."""


def _node(root: Path) -> Path:
    """A farm node's copy: the local applicationHost.config, redirection enabled to \\\\webfarm-cfg\\IISConfig, and
    both sites' folders (an x86-only assembly in the farm site's bin)."""
    image = make_image(root, corpus_dir("iis-config-2") / LOCAL, {
        "inetpub/wwwroot/MySite/bin/Legacy.dll": "managed_x86.dll", "inetpub/wwwroot/iisstart.htm": b"<html/>"})
    text = (corpus_dir("iis-config-2") / REDIRECTION).read_text(encoding="utf-8")
    assert "<configurationRedirection />" in text
    text = text.replace("<configurationRedirection />", '<configurationRedirection enabled="true" '
                        'path="\\\\webfarm-cfg\\IISConfig" userName="FARM\\iiscfg" '
                        'password="[enc:IISCngProvider:AAECAwQ=:enc]" />')
    (image / "Windows/System32/inetsrv/config/redirection.config").write_text(text, encoding="utf-8")
    return image


def _scan(*args: str) -> tuple[int, dict[str, object]]:
    r = CliRunner().invoke(main, ["scan", *args, "--format", "json", "--quiet", "--fail-on-incomplete"])
    return r.exit_code, json.loads(r.stdout)


def test_a_node_whose_shared_configuration_is_not_in_the_image_is_not_checked(tmp_path: Path) -> None:
    """Before: the local file was scanned, '1 of 1 application checked, 0 findings', exit 0 even with
    --fail-on-incomplete, a line under 'Could not read' the only trace: a clean report over a configuration IIS
    does not run."""
    code, doc = _scan(str(_node(tmp_path)))
    coverage = doc["coverage"]
    assert code == 1 and coverage["complete"] is False  # type: ignore[index]
    [app] = coverage["applications"]  # type: ignore[index]
    assert app["status"] == "not-checked"
    [why] = app["reasons"]
    assert why.startswith("Windows/System32/inetsrv/config/redirection.config: shared configuration at "
                          "'\\\\webfarm-cfg\\IISConfig' is not in the image") and "--share" in why
    assert "which IIS does not use while redirection is enabled" in why
    assert app["remedy"] == "--share //webfarm-cfg/IISConfig=/path/to/copy"


def test_a_shared_configuration_on_an_unmapped_drive_gives_the_drive_as_the_remedy(tmp_path: Path) -> None:
    """The remedy is the problem's own (Problem.remedy, set where redirection.config's problem is made), not read back
    out of its message: before, only a --share in the message came back as the remedy, and a shared configuration
    on D:\\ (a drive the image does not map) left the applications with none."""
    image = _node(tmp_path)
    redirection = image / "Windows/System32/inetsrv/config/redirection.config"
    redirection.write_text(redirection.read_text(encoding="utf-8").replace(
        'path="\\\\webfarm-cfg\\IISConfig"', 'path="D:\\IISConfig"'), encoding="utf-8")
    code, doc = _scan(str(image))
    [app] = doc["coverage"]["applications"]  # type: ignore[index]
    assert code == 1 and app["status"] == "not-checked" and "D:\\IISConfig" in app["reasons"][0]
    assert app["remedy"] == "--drive D=/path/to/copy"


def test_with_the_share_given_the_shared_configuration_is_scanned(tmp_path: Path) -> None:
    share = tmp_path / "share"
    share.mkdir()
    shutil.copy(corpus_dir("iis-config") / SHARED, share / "applicationHost.config")
    code, doc = _scan(str(_node(tmp_path / "node")), "--share", f"\\\\webfarm-cfg\\IISConfig={share}")
    assert doc["server"]["config_file"] == "//webfarm-cfg/IISConfig/applicationHost.config"  # type: ignore[index]
    assert doc["coverage"]["complete"] is True  # type: ignore[index]
    assert code == 1 and [f["rule"] for f in doc["findings"]  # type: ignore[attr-defined]
                          if f["severity"] == "error"] == ["managed-assembly-arch"]


def test_fix_never_plans_the_local_file_iis_does_not_run(tmp_path: Path) -> None:
    """Before: `fix --apply` verified the flip of the local file's pool and wrote the local applicationHost.config,
    which IIS does not read while redirection is enabled ('every targeted finding is gone', exit 0)."""
    image = _node(tmp_path)
    cfg = image / "Windows/System32/inetsrv/config/applicationHost.config"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        'physicalPath="%SystemDrive%\\inetpub\\wwwroot"', 'physicalPath="%SystemDrive%\\inetpub\\wwwroot\\MySite"'),
        encoding="utf-8")
    before = cfg.read_bytes()
    for args in ([], ["--apply"]):
        r = CliRunner().invoke(main, ["fix", str(image), *args])
        assert r.exit_code == 2 and "fix plans no edit of the local file" in r.stderr, r.output
        assert r.stderr.startswith("iisbitness: error: Windows/System32/inetsrv/config/redirection.config:")
    assert cfg.read_bytes() == before and sorted(p.name for p in cfg.parent.iterdir()) == [
        "applicationHost.config", "redirection.config"]


def test_check_app_checks_against_the_shared_configuration(tmp_path: Path) -> None:
    """Before: with --share, 'no application mysite.example.com/' (check-app looked the site up in the local file);
    without it, the build was checked against the local file's Default Web Site/, '1 of 1 application checked'."""
    image = _node(tmp_path / "node")
    share = tmp_path / "share"
    share.mkdir()
    shutil.copy(corpus_dir("iis-config") / SHARED, share / "applicationHost.config")
    publish = tmp_path / "publish"
    (publish / "bin").mkdir(parents=True)
    shutil.copy(fixture("managed_x86.dll"), publish / "bin" / "Shop.dll")
    r = CliRunner().invoke(main, ["check-app", str(publish), "--server", str(image), "--site", "mysite.example.com/",
                                  "--share", f"\\\\webfarm-cfg\\IISConfig={share}", "--format", "json"])
    doc = json.loads(r.stdout)
    assert r.exit_code == 1 and [(f["rule"], f["pool"]) for f in doc["findings"] if f["severity"] == "error"] == [
        ("managed-assembly-arch", "MyPool")], r.output
    r = CliRunner().invoke(main, ["check-app", str(publish), "--server", str(image), "--site", "Default Web Site/"])
    assert r.exit_code == 2 and r.stdout == "" and "redirection.config:" in r.stderr and "--share" in r.stderr
