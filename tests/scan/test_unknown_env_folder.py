"""A physicalPath holding %NAME% the scan does not know: Windows leaves it as it is (ExpandEnvironmentStrings), so a
folder of that literal name is the folder IIS reads. Real input: the shared corpus's Nordstrom applicationHost.config
(site mysite.example.com in the 64-bit MyPool) with its physicalPath pointed at such a folder."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from iisbitness.cli import main
from tests.conftest import corpus_dir, make_image

NORDSTROM = "Nordstrom__epg-interview-sysadmin__iis__applicationHost.config"


def _image(root: Path, with_folder: bool) -> Path:
    text = (corpus_dir("iis-config") / NORDSTROM).read_text(encoding="utf-8")
    assert 'physicalPath="C:\\inetpub\\wwwroot\\MySite"' in text
    text = text.replace('physicalPath="C:\\inetpub\\wwwroot\\MySite"', 'physicalPath="C:\\sites\\50%off%sale"')
    # NOTE: the vendor modules it configures (IIS Advanced Logging), both builds: a flip onto a vendor file only inferred
    # from its folder is not verified (its own test: tests/fix/test_inferred_vendor_unverified.py)
    logging = {f"{pf}/IIS/Advanced Logging/{name}": dll for pf, dll in (("Program Files", "module_x64.dll"),
                                                                         ("Program Files (x86)", "module_x86.dll"))
               for name in ("ClientLoggingHandler.dll", "AdvancedLoggingModule.dll")}
    return make_image(root, text, {"sites/50%off%sale/bin/Legacy.dll": "managed_x86.dll", **logging} if with_folder
                      else {})


def _json(image: Path) -> dict[str, object]:
    r = CliRunner().invoke(main, ["scan", str(image), "--format", "json", "--quiet"])
    doc: dict[str, object] = json.loads(r.stdout)
    return doc


def test_a_folder_named_with_an_unknown_variable_that_the_image_holds_is_checked(tmp_path: Path) -> None:
    """Before: its bin's x86 assembly was reported, yet the application was 'not checked' (%off% unknown, give --env)
    and the pool flip that fixes it 'not verified' for that reason."""
    doc = _json(_image(tmp_path, with_folder=True))
    [app] = doc["coverage"]["applications"]  # type: ignore[index]
    assert (app["status"], app["reasons"]) == ("checked", [])
    [f] = [f for f in doc["findings"] if f["rule"] == "managed-assembly-arch"]  # type: ignore[attr-defined]
    flip = doc["fixes"][f["fix_numbers"][0] - 1]  # type: ignore[index]
    assert flip["label"] == "run the pool as 32-bit" and flip["verified"] is True


def test_without_that_folder_the_unknown_variable_is_what_to_give(tmp_path: Path) -> None:
    doc = _json(_image(tmp_path, with_folder=False))
    [app] = doc["coverage"]["applications"]  # type: ignore[index]
    assert app["status"] == "not-checked" and app["remedy"] == "--env off=VALUE"
    why = "physicalPath 'C:\\sites\\50%off%sale': %off% is not an environment variable the scan knows"
    assert app["reasons"] == [why]
