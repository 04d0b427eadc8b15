"""binary-invalid on an empty or cut file (audit 11 K3): in a copy made by hand, as likely the copy's fault as the
server's (a warning that asks to compare the size on the server, in cmd.exe and PowerShell); on the live server or in a
zip collected on it, the server's own file (the error). Windows' own files are repaired as Windows', never "the
vendor's original". Real compiler-built fixtures, cut as an interrupted copy leaves them, in temporary images."""

from __future__ import annotations

from pathlib import Path

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from iisbitness.findings import Finding, Severity
from iisbitness.image.server_image import ServerImage
from iisbitness.report import Report
from iisbitness.rules.binary_invalid import cut_short
from iisbitness.scan.collect import collect_image, scan_collected
from iisbitness.scan.pipeline import scan_image
from tests.conftest import PE_BIN, apphost, make_image, site

POOL64 = '<add name="P64" managedRuntimeVersion="v4.0" />'
GM = ('<globalModules><add name="StaticFileModule" image="%windir%\\System32\\inetsrv\\static.dll" />'
      '<add name="Vendor" image="C:\\Vendor\\v.dll" /><add name="Text" image="C:\\Vendor\\text.dll" />'
      '<add name="Wrong" image="C:\\Vendor\\x86.dll" /></globalModules>')


def _image(root: Path) -> Path:
    """static.dll empty, a vendor module the first 200 bytes of a real x64 module, bin/half.dll the first 200 bytes
    of a real assembly, bin/zero.dll empty; a text file named .dll and a whole x86 module, as controls."""
    return make_image(root, apphost(POOL64, site("S", 1, "P64", r"C:\inetpub\s"), GM), {
        "Windows/System32/inetsrv/static.dll": b"",
        "Vendor/v.dll": (PE_BIN / "module_x64.dll").read_bytes()[:200],
        "Vendor/text.dll": "not_pe.txt",
        "Vendor/x86.dll": "module_x86.dll",
        "inetpub/s/bin/half.dll": (PE_BIN / "managed_x64.dll").read_bytes()[:200],
        "inetpub/s/bin/zero.dll": b"",
        "inetpub/s/index.htm": "hi",
    })


def _by_file(report: Report) -> dict[str, Finding]:
    return {(f.binary or "").rsplit("\\", 1)[-1]: f for f in report.findings}


def test_an_empty_or_cut_file_in_a_hand_copy_is_a_warning_that_asks_for_the_size_on_the_server(tmp_path: Path) -> None:
    found = _by_file(scan(_image(tmp_path / "img")))
    for name in ("static.dll", "v.dll", "half.dll", "zero.dll"):
        f = found[name]
        assert (f.rule, f.severity, f.evidence.value) == ("binary-invalid", Severity.WARNING, "unknown"), name
        assert "as likely the copy's fault" in f.cause and "Only if the server's file is as this copy's" in f.symptom
        [fix] = f.fixes
        assert fix.verified is None and not fix.edits
    static = found["static.dll"].fixes[0]
    assert static.commands == ('dir "C:\\Windows\\System32\\inetsrv\\static.dll"',)
    assert static.powershell == ("(Get-Item -LiteralPath 'C:\\Windows\\System32\\inetsrv\\static.dll').Length",)
    assert found["half.dll"].fixes[0].commands == ('dir "C:\\inetpub\\s\\bin\\half.dll"',)
    # NOTE: Windows' own module: repaired as Windows' (sfc, the role service), a vendor's replaced by its original
    assert "sfc /scannow" in found["static.dll"].cause and "vendor's original" not in found["static.dll"].cause
    assert "vendor's original" in found["v.dll"].cause and "sfc" not in found["v.dll"].cause
    # NOTE: content of no sense (a text file) is no copy's fault: the error; a whole x86 module is the mismatch itself
    assert (found["text.dll"].rule, found["text.dll"].severity) == ("binary-invalid", Severity.ERROR)
    assert "copy's fault" not in found["text.dll"].cause and not found["text.dll"].fixes
    assert (found["x86.dll"].rule, found["x86.dll"].severity) == ("global-module-arch", Severity.ERROR)


def test_on_the_live_server_and_in_a_zip_collected_there_the_cut_file_is_the_servers(tmp_path: Path) -> None:
    root = _image(tmp_path / "img")
    options = ScanOptions(os_arch=Arch.X64)
    live = scan_image(ServerImage.machine({"C": root}), options, "live")
    collect_image(ServerImage.machine({"C": root}), "live", tmp_path / "s.zip", options)
    with scan_collected(tmp_path / "s.zip", options) as (zipped, _):
        for report in (live, zipped):
            found = _by_file(report)
            for name in ("static.dll", "v.dll", "half.dll", "zero.dll"):
                f = found[name]
                assert (f.rule, f.severity) == ("binary-invalid", Severity.ERROR), name
                assert "copy's fault" not in f.cause and not f.fixes and "Only if" not in f.symptom
            assert "sfc /scannow" in found["static.dll"].cause and "vendor's original" in found["v.dll"].cause


def test_what_counts_as_cut() -> None:
    """The reasons the PE reader gives for a file that ends before its headers do, and those it gives for headers
    of no sense (an e_lfanew far past any page: a header, not a copy, at fault)."""
    assert cut_short("not a valid PE: empty file")
    assert cut_short("not a valid PE: file too small for a DOS header (63 bytes)")
    assert cut_short("not a valid PE: e_lfanew 0x80 points past the end of the file (100 bytes)")
    assert cut_short("not a valid PE: truncated: section table spans 0x178..0x218 but the file ends at 0x190")
    assert not cut_short("not a valid PE: e_lfanew 0xffffff00 points past the end of the file (64 bytes)")
    assert not cut_short("not a valid PE: no MZ signature")
    assert not cut_short(None)
