"""fixes/verify.py policy for what re-analysis shows that the fix does not break (qa2 point 1): a binary-missing
warning ("could not check": only the configuration was copied) is not a breakage, and a worker the fix creates
shows what its applications already need (a file missing from its folder) without that counting against the fix;
a new worker that would load a binary of the wrong architecture still is one."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from iisbitness.api import ScanOptions, scan
from iisbitness.cli import main
from iisbitness.findings import Fix
from iisbitness.report import Report
from tests.conftest import apphost, corpus_dir, make_image, site


def _undefined(tmp_path: Path, handler: str, gm: str = "", files: dict[str, str | Path | bytes] | None = None) -> Path:
    loc = f'<location path="S"><system.webServer><handlers>{handler}</handlers></system.webServer></location>'
    text = apphost('<add name="P" managedRuntimeVersion="v4.0" />', site("S", 1, "Ghost", r"C:\s"), gm)
    text = text.replace("</configuration>", loc + "\n</configuration>")
    return make_image(tmp_path / "img", text, {"s/index.htm": "<p>x</p>", **(files or {})})


def test_the_nciocpl_undefined_pool_is_defined_by_a_fix_that_names_what_it_could_not_check(
        tmp_path: Path) -> None:
    """The NCIOCPL configuration alone: pool 'pubssp.lmbps.com' serves a SharePoint site whose handlers name
    owssvr.dll under Program Files (not in a configuration-only image): both fixes are offered (they were
    refused with 'would break: binary-missing ... owssvr.dll'), each saying the file could not be checked, and
    neither is verified: the site's folder is not in the image either, so what it loads in the new pool is unknown."""
    img = make_image(tmp_path / "img", corpus_dir("iis-config") / "NCIOCPL__pubslocator__applicationHost.config")
    report = scan(img)
    [f] = [f for f in report.findings if f.rule == "pool-undefined" and f.pool == "pubssp.lmbps.com"]
    assert not f.rejected_fixes, f.rejected_fixes
    assert [x.verified for x in f.fixes] == [False, False]
    for x in f.fixes:
        assert x.note is not None and "Not checked, as the image does not hold it" in x.note and "owssvr.dll" in x.note.lower(), x.note
        assert "was not checked, so what it loads at that architecture is unknown" in x.note, x.note


def test_a_file_missing_at_either_architecture_is_what_the_new_pool_shows_not_a_breakage(tmp_path: Path) -> None:
    """The site maps an ISAPI extension in a folder the image holds (with another binary) but without the file:
    missing on the server at either architecture. The fixes are verified and say what the new pool will show."""
    img = _undefined(tmp_path, r'<add name="X" path="*.x" verb="*" modules="IsapiModule" '
                               r'scriptProcessor="C:\V\gone.dll" />', files={"V/other.dll": "module_x64.dll"})
    [f] = [f for f in scan(img).findings if f.rule == "pool-undefined"]
    assert not f.rejected_fixes, f.rejected_fixes
    assert [x.verified for x in f.fixes] == [True, True]
    for x in f.fixes:
        assert x.note is not None and "will also show" in x.note and "gone.dll" in x.note, x.note


def test_a_new_pool_that_would_load_a_binary_of_the_wrong_architecture_is_still_refused(tmp_path: Path) -> None:
    """The server's global module is x86: the 64-bit definition of the pool is refused (its worker would fail to
    load it), the 32-bit one offered, on an image that also lacks a Program Files ISAPI extension: not verified, as
    the new worker would load that extension, which nobody checked (its note names it)."""
    gm = '<globalModules><add name="M" image="C:\\V\\m.dll" /></globalModules>'
    img = _undefined(tmp_path, r'<add name="X" path="*.x" verb="*" modules="IsapiModule" '
                               r'scriptProcessor="C:\Program Files\Vendor\x.dll" />', gm, {"V/m.dll": "module_x86.dll"})
    [f] = [f for f in scan(img).findings if f.rule == "pool-undefined"]
    assert [x.verified for x in f.fixes] == [False]
    assert "32-bit" in f.fixes[0].summary
    assert "could not check" in (f.fixes[0].note or "") and "C:\\Program Files\\Vendor\\x.dll" in (f.fixes[0].note or "")
    [rejected] = f.rejected_fixes
    assert "64-bit" in rejected.summary and "global-module-arch" in rejected.reason
    r = CliRunner().invoke(main, ["fix", str(img)])
    assert r.exit_code == 0 and "Ghost" in r.output, r.output


def _flip(report: Report, pool: str) -> Fix:
    return next(x for f in report.findings for x in f.fixes if x.summary.startswith(f"Run application pool '{pool}' as 32-bit"))


def test_a_flip_over_an_application_on_an_unmapped_drive_is_not_verified(tmp_path: Path) -> None:
    """Pool P64 loads an x86 global module; its flip to 32-bit also runs S/, whose folder is on D:. Without D: mapped
    the scan never read S/ (its bin, its web.config), so "verified" would vouch for what S/ loads at x86: the flip is
    offered not verified, naming S/ and why; with a copy of D: given (--drive), S/ is read and the flip verified."""
    img = make_image(tmp_path / "img", apphost('<add name="P64" managedRuntimeVersion="v4.0" />',
                                               site("S", 1, "P64", r"D:\sites\shop"),
                                               '<globalModules><add name="V" image="C:\\V\\v.dll" /></globalModules>'),
                     {"V/v.dll": "module_x86.dll"})
    unmapped = _flip(scan(img), "P64")
    assert unmapped.verified is False
    assert ("Not verified: S/ (physicalPath D:\\sites\\shop: drive D: is not mapped) was not checked, so what it loads "
            "at that architecture is unknown" in (unmapped.note or "")), unmapped.note
    d = tmp_path / "d"
    (d / "sites" / "shop").mkdir(parents=True)
    assert _flip(scan(img, ScanOptions(drives={"D": d})), "P64").verified is True
