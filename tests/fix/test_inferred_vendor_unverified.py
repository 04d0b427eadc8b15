"""A flip "verified" over guesses: a partial copy whose Windows\\System32\\inetsrv holds no DLL, a vendor module
(rewrite.dll) configured there for 64-bit workers. Running a 32-bit pool as 64-bit made its worker load that module at
an architecture only inferred from the folder ("Windows\\System32 holds the OS's own (x64) binaries"), never read, and
the flip was offered "verified" (audit8 G1). Now it is not verified, and ``Fix.unverified_because`` names the file to
copy; a module of Windows' own there (static.dll: IIS installs both builds, each in its architecture's folder) keeps
the flip verified, as before."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from iisbitness.api import scan
from iisbitness.cli import main
from iisbitness.findings import Fix
from tests.conftest import apphost, make_image, site

STATIC = '<add name="StaticFileModule" image="%windir%\\System32\\inetsrv\\static.dll" preCondition="bitness64" />'
REWRITE = '<add name="UrlRewrite" image="%windir%\\System32\\inetsrv\\rewrite.dll" preCondition="bitness64" />'


def _image(root: Path, *modules: str) -> Path:
    """A 32-bit pool whose application's bin holds an x64 assembly (its fix: run the pool as 64-bit), the modules
    given loaded by 64-bit workers only; System32\\inetsrv holds config/ alone, the bin assembly is read."""
    return make_image(root, apphost('<add name="Pool32" enable32BitAppOnWin64="true" managedRuntimeVersion="v4.0" />',
                                    site("S", 1, "Pool32", "C:\\sites\\s"),
                                    "<globalModules>\n" + "\n".join(modules) + "\n</globalModules>"),
                      {"sites/s/bin/App.dll": "managed_x64.dll"})


def _flip(image: Path) -> Fix:
    report = scan(image)
    [finding] = report.findings
    assert finding.rule == "managed-assembly-arch"
    return next(x for x in finding.fixes if x.edits and "64-bit" in x.summary)


def test_a_flip_onto_a_vendor_module_inferred_from_its_folder_is_not_verified(tmp_path: Path) -> None:
    image = _image(tmp_path / "img", STATIC, REWRITE)
    flip = _flip(image)
    assert flip.verified is False
    because = flip.unverified_because or ""
    assert "C:\\Windows\\System32\\inetsrv\\rewrite.dll" in because, because
    assert "only inferred from the folder" in because and "give the scan a copy of it to check" in because
    assert "static.dll" not in because  # NOTE: Windows' own: its folder tells its build
    assert flip.note is not None and "Not verified: at that architecture its worker loads C:\\" in flip.note
    out = CliRunner().invoke(main, ["fix", str(image)]).output
    assert "No verified fix to make" in out and "rewrite.dll, a vendor file the image does not hold" in out, out
    # NOTE: coverage is as before: the note on inferred files says them (audit8), not "partly checked"
    assert "partly checked" not in CliRunner().invoke(main, ["scan", str(image)]).output


def test_a_flip_onto_windows_own_module_inferred_from_its_folder_stays_verified(tmp_path: Path) -> None:
    flip = _flip(_image(tmp_path / "img", STATIC))
    assert flip.verified is True and flip.unverified_because is None
