"""The compact text of a binary the scan could not check (binary-invalid warning): it has no fix, and "iisbitness
could not check this binary" alone did not say why nor what to give (a drive not mapped: --drive) unless --verbose."""

from __future__ import annotations

import shutil
from pathlib import Path

from iisbitness.api import scan
from iisbitness.formats import scan_text
from tests.conftest import DEMO

APPHOST = "Windows/System32/inetsrv/config/applicationHost.config"


def test_a_global_module_on_an_unmapped_drive_says_why_in_the_compact_text(tmp_path: Path) -> None:
    img = tmp_path / "img"
    shutil.copytree(DEMO / "contoso-iis10", img)
    config = img / APPHOST
    text = config.read_text(encoding="utf-8-sig")
    config.write_text(text.replace("<globalModules>", '<globalModules>\n<add name="EVendor" image="E:\\Vendor\\e.dll" />',
                                   1), encoding="utf-8")
    out = scan_text.render(scan(img), width=200)
    block = out.split("WARNING binary-invalid  E:\\Vendor\\e.dll", 1)[1].split("\n\n", 1)[0].split("\nERROR", 1)[0]
    assert "  sees  iisbitness could not check this binary." in block
    assert "  why   'E:\\Vendor\\e.dll' (global-module 'EVendor'): drive E: is not mapped (use --drive E=/path/to/copy)." in block
