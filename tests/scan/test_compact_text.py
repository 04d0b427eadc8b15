"""The compact text report (no --verbose) says what a user acts on: a binary the scan could not check (binary-invalid
warning) has no fix, and "iisbitness could not check this binary" alone did not say why nor what to give (a drive
not mapped: --drive); a symptom's headline is cut past its application's label, whatever its length."""

from __future__ import annotations

import shutil
from pathlib import Path

from iisbitness.api import scan
from iisbitness.formats import scan_text
from iisbitness.scan.fix import plan_fix
from tests.conftest import DEMO

APPHOST = "Windows/System32/inetsrv/config/applicationHost.config"


def _image(tmp_path: Path) -> Path:
    """The demo with a global module on drive E:, which no --drive maps."""
    img = tmp_path / "img"
    shutil.copytree(DEMO / "contoso-iis10", img)
    config = img / APPHOST
    text = config.read_text(encoding="utf-8-sig")
    config.write_text(text.replace("<globalModules>", '<globalModules>\n<add name="EVendor" image="E:\\Vendor\\e.dll" />',
                                   1), encoding="utf-8")
    return img


def test_a_global_module_on_an_unmapped_drive_says_why_in_the_compact_text(tmp_path: Path) -> None:
    out = scan_text.render(scan(_image(tmp_path)), width=200)
    block = out.split("WARNING binary-invalid  E:\\Vendor\\e.dll", 1)[1].split("\n\n", 1)[0].split("\nERROR", 1)[0]
    assert "  sees  iisbitness could not check this binary." in block
    assert "  why   'E:\\Vendor\\e.dll' (global-module 'EVendor'): drive E: is not mapped (use --drive E=/path/to/copy)." in block


def test_fix_says_why_it_leaves_a_binary_it_could_not_check(tmp_path: Path) -> None:
    """``fix`` left such a finding "no verified fix that changes configuration", as if a fix were missing: it is a
    binary not checked, and the reason now says so with the scan's cause (what to give)."""
    plan = plan_fix(_image(tmp_path))
    reasons = {x.reason for x in plan.left if x.finding.rule == "binary-invalid"}
    want = ("not checked, so nothing to fix: 'E:\\Vendor\\e.dll' (global-module 'EVendor'): drive E: is not mapped "
            "(use --drive E=/path/to/copy).")
    assert reasons == {want}, reasons


def test_a_long_application_label_does_not_make_the_whole_headline(tmp_path: Path) -> None:
    """A symptom that opens with its application ("Catalog/: calls into 'sqlite3.dll' fail ...") was cut at the first
    colon past 16 characters: with a site name of 16 or more, the compact "sees" line was the label alone
    ("sees  ContosoCatalogService/ ..."). It is cut past the label now, as for a short one."""
    img = tmp_path / "img"
    shutil.copytree(DEMO / "contoso-iis10", img)
    config = img / APPHOST
    config.write_text(config.read_text(encoding="utf-8-sig").replace('<site name="Catalog"', '<site name="ContosoCatalogService"'),
                      encoding="utf-8")
    out = scan_text.render(scan(img), width=200)
    assert "  sees  ContosoCatalogService/: calls into 'sqlite3.dll' fail with System.BadImageFormatException ..." in out
