"""A global module named through ``%ProgramFiles%`` whose image holds only the x64 build (``Program Files\\Vendor``)
and no ``Program Files (x86)\\Vendor`` folder: the 32-bit pool's worker looks for the file there. The folder alone
("Program Files (x86) holds 32-bit programs") used to call it loadable ("ok ... [x86]" in the load map, no finding):
a file assumed into existence. The image's other build says the product may have been installed for x64 only
(separate installers), so the scan says it could not check it and what to do, as a warning with its fixes; and where
the image holds neither build, a configuration-only image, the folder still decides (unchanged)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from iisbitness.api import scan
from iisbitness.findings import Finding, Severity
from iisbitness.formats.scan_text import render
from iisbitness.report import Report
from tests.conftest import DEMO, PE_BIN

MODULE_X64 = PE_BIN / "module_x64.dll"
CONFIG = "Windows/System32/inetsrv/config/applicationHost.config"


def _image(root: Path, *, x64_build: bool) -> Path:
    image = root / "img"
    shutil.copytree(DEMO / "contoso-iis10", image)
    if x64_build:
        (image / "Program Files" / "Vendor").mkdir(parents=True)
        shutil.copy(MODULE_X64, image / "Program Files" / "Vendor" / "vmod.dll")
    config = image / CONFIG
    text = config.read_text(encoding="utf-8-sig")
    text = text.replace("<globalModules>", '<globalModules>\n            <add name="VendorMod" '
                        'image="%ProgramFiles%\\Vendor\\vmod.dll" />', 1)
    text = text.replace("<modules>", '<modules>\n            <add name="VendorMod" />', 1)
    config.write_text(text, encoding="utf-8")
    return image


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return scan(_image(tmp_path_factory.mktemp("other"), x64_build=True))


def _vendor(report: Report) -> list[Finding]:
    return [f for f in report.findings if f.rule == "binary-missing" and "vmod.dll" in (f.binary or "")]


def test_the_32bit_worker_is_not_taken_to_load_a_file_the_image_lacks(report: Report) -> None:
    [found] = _vendor(report)  # NOTE: LegacyPool32 is the demo's one 32-bit pool that starts
    assert found.pool == "LegacyPool32" and found.severity is Severity.WARNING
    assert "Program Files/Vendor/vmod.dll" in found.cause and "Not checked" in found.cause
    assert found.fixes and any("bitness64" in x.summary or "bitness64" in x.label for x in found.fixes)


def test_the_text_shows_it_as_a_cause_with_its_fixes(report: Report) -> None:
    text = render(report)
    assert "WARNING binary-missing  %ProgramFiles%\\Vendor\\vmod.dll" in text
    assert "not in the image, architecture unknown" not in text


def test_without_either_build_the_folder_still_decides(tmp_path: Path) -> None:
    """A configuration-only image (neither build in it): Program Files (x86) decides x86 for the 32-bit worker, as
    before; the 64-bit workers' Program Files decides nothing, so each of them says it could not check it."""
    found = _vendor(scan(_image(tmp_path, x64_build=False)))
    assert found and all(f.process_arch is not None and f.process_arch.is_64bit and not f.fixes for f in found)


def test_its_precondition_fix_claims_no_stopped_pool(tmp_path: Path) -> None:
    """Nobody checked that the x86 build is missing on the server (the image has no Program Files (x86)\\Vendor):
    the verified bitness64 fix must not say rapid-fail protection stopped the 32-bit pool, nor start it (one decision,
    Absence.missing_on_server, read by binary-missing, stops_pool, effects and verify alike)."""
    from tests.conftest import apphost, make_image, site
    gm = '<globalModules><add name="Vendor" image="%ProgramFiles%\\Vendor\\m.dll" /></globalModules>'
    pools = '<add name="P32" enable32BitAppOnWin64="true" />\n<add name="P64" />'
    img = make_image(tmp_path, apphost(pools, site("A", 1, "P32", "C:\\sites\\a") + site("B", 2, "P64", "C:\\sites\\b"),
                                       gm),
                     {"Program Files/Vendor/m.dll": "module_x64.dll", "sites/a/x.htm": "x", "sites/b/x.htm": "x"})
    [found] = scan(img).findings
    assert (found.rule, found.severity, found.pool) == ("binary-missing", Severity.WARNING, "P32")
    [restrict] = [x for x in found.fixes if x.verified]
    assert "bitness64" in restrict.label
    assert "Rapid-fail" not in restrict.note and not any("start apppool" in c for c in restrict.commands)
    assert [(e.kind.value, e.pool, e.ran) for e in restrict.side_effects] == [("unloaded", "P32", None)]
