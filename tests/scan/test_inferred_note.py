"""A partial copy: a vendor module in a Windows\\System32\\inetsrv copied without its DLLs (the image holding other
binaries, so not a configuration-only image) had its architecture inferred from the folder ("Windows\\System32 holds
the OS's own (x64) binaries") and the report said so only in --loads; its application read "checked". The text and
HTML now name such files in a note, and JSON lists every inferred file in ``server.inferred`` (audit8 G1)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from iisbitness.cli import main
from tests.conftest import DEMO

APPHOST = "Windows/System32/inetsrv/config/applicationHost.config"
REWRITE = '<add name="UrlRewrite" image="%windir%\\System32\\inetsrv\\rewrite.dll" preCondition="bitness64" />'


def _image(tmp_path: Path) -> Path:
    """The demo, its System32/inetsrv holding config/ only, and a vendor module (64-bit workers) configured there."""
    image = tmp_path / "img"
    shutil.copytree(DEMO / "contoso-iis10", image)
    for dll in (image / "Windows/System32/inetsrv").glob("*.dll"):
        dll.unlink()
    config = image / APPHOST
    text = config.read_text(encoding="utf-8")
    anchor = '<add name="FabrikamVendorAuth" image='
    assert text.count(anchor) == 1
    config.write_text(text.replace(anchor, REWRITE + "\n            " + anchor), encoding="utf-8")
    return image


def _scan(*args: str) -> str:
    return CliRunner().invoke(main, ["scan", *args]).output


def test_a_vendor_module_inferred_from_its_folder_is_named(tmp_path: Path) -> None:
    image = _image(tmp_path)
    text = _scan(str(image))
    flat = " ".join(text.split())
    assert "1 vendor binary a worker loads (rewrite.dll; and " in flat, text[:1500]
    assert "is not in the image and was not read: the architecture is inferred from the folder" in flat
    doc = json.loads(_scan(str(image), "--format", "json"))
    inferred = doc["server"]["inferred"]
    assert "C:\\Windows\\System32\\inetsrv\\rewrite.dll" in inferred
    # NOTE: .NET Framework's own: listed, counted, not named
    assert "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\webengine4.dll" in inferred
    page = _scan(str(image), "--format", "html")
    assert "1 vendor binary a worker loads (rewrite.dll; and " in page


def test_no_note_where_only_windows_own_files_are_inferred(tmp_path: Path) -> None:
    """The demo as shipped: its inferred files are .NET Framework ones (Framework64\\...\\webengine4.dll), installed for
    each architecture in its own folder: no note, but JSON still lists them."""
    text = _scan(str(DEMO / "contoso-iis10"))
    assert "vendor binar" not in text
    doc = json.loads(_scan(str(DEMO / "contoso-iis10"), "--format", "json"))
    assert doc["server"]["inferred"] and all("Microsoft.NET" in p for p in doc["server"]["inferred"])


def test_a_server_note_does_not_speak_of_iis_express(tmp_path: Path) -> None:
    """The count of Windows' own files named IIS Express's ASP.NET Core Module on every server (express7 added it to
    the wording); it is said only where that module is among the files inferred."""
    flat = " ".join(_scan(str(_image(tmp_path))).split())
    assert "of Windows' own IIS or .NET Framework files)" in flat
    assert "IIS Express" not in flat


def test_the_note_names_iis_express_ancm_where_it_is_among_the_files() -> None:
    from dataclasses import replace

    from iisbitness.api import scan
    from iisbitness.formats.causes import inferred_note

    server = scan(DEMO / "contoso-iis10").server
    ancm = "C:\\Program Files\\IIS Express\\Asp.Net Core Module\\V2\\aspnetcorev2.dll"
    vendor = "C:\\Program Files\\IIS Express\\vendor.dll"
    note = inferred_note(replace(server, inferred=(ancm, vendor)))
    assert "(vendor.dll; and 1 of Windows' own IIS or .NET Framework files, or IIS Express's ASP.NET Core Module)" in note
