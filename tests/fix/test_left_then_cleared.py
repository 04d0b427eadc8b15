"""``fix`` said a finding twice over: "these fixes also clear finding 1" and then "not fixed: finding 1 ...", when
the finding was left before a later fix (the flip of its pool) cleared it (audit8 G9: could-not-check warnings of a
32-bit pool, then its flip to 64-bit). Now it is said once, and a could-not-check warning as no longer applying.

Real input: a 32-bit pool whose application's bin holds an x64 assembly (its fix: run the pool as 64-bit), and a
vendor's module, which a handler mapping names, read in System32\\inetsrv (x64) while the image holds no SysWOW64:
the 32-bit worker's copy was not checked (a warning whose one fix, a preCondition, fails requests of that mapping:
taken only by number). (Windows' own StaticFileModule was this module until a copy without SysWOW64 had Windows' own
modules inferred from their folder, installed in both views: tests/scan/test_stock_other_view.py.)"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from iisbitness.cli import main
from tests.conftest import apphost, make_image, site

MODULES = ('<globalModules>\n<add name="ContosoFileModule" image="%windir%\\System32\\inetsrv\\contosofile.dll" />\n'
           '</globalModules>\n<handlers><add name="ContosoFile" path="*" verb="*" modules="ContosoFileModule" '
           'resourceType="Either" /></handlers>')


def _image(root: Path) -> Path:
    return make_image(root, apphost('<add name="Pool32" enable32BitAppOnWin64="true" managedRuntimeVersion="v4.0" />',
                                    site("S", 1, "Pool32", "C:\\sites\\s"), MODULES),
                      {"sites/s/bin/App.dll": "managed_x64.dll", "Windows/System32/inetsrv/contosofile.dll": "module_x64.dll",
                       "Program Files (x86)/readme.txt": "not_pe.txt"}, wow64=False)


def test_a_warning_left_then_cleared_by_the_flip_is_said_once(tmp_path: Path) -> None:
    image = _image(tmp_path / "img")
    scan = json.loads(CliRunner().invoke(main, ["scan", str(image), "--format", "json"]).stdout)
    assert [(f["rule"], f["severity"]) for f in scan["findings"]] == [("binary-missing", "warning"),
                                                                     ("managed-assembly-arch", "error")]
    out = CliRunner().invoke(main, ["fix", str(image)]).stdout
    flat = " ".join(out.split())
    assert "Run application pool 'Pool32' as 64-bit (x64) (finding 2 managed-assembly-arch" in flat, out
    assert "not fixed: finding 1" not in flat and "also clear finding 1" not in flat, out
    assert ("finding 1 no longer applies after these fixes: the scan could not check its file, which its worker no "
            "longer looks for there") in flat, out
    doc = json.loads(CliRunner().invoke(main, ["fix", str(image), "--format", "json"]).stdout)
    assert doc["cleared"] == [1, 2] and doc["left"] == []
