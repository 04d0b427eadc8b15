"""iis6-os-version: an ISAPI filter or extension linked for Windows 6.0 (Visual Studio 2012+ without an _xp toolset)
on IIS 6, which runs on Windows 5.2: the same error 193 as a wrong architecture, told apart from it (compiler-built
fixtures filter_vista_* / isapi_ext_vista_*, tests/fixtures/pe/build.sh)."""

from __future__ import annotations

from pathlib import Path

from iisbitness.api import scan

from .test_iis6 import image, metabase, site_filter

W3SVC = 'IIs5IsolationModeEnabled="FALSE"\n\t\tScriptMaps=".wc,c:\\inetpub\\wc.dll,1,GET"'


def test_a_filter_and_an_extension_built_for_vista_are_warnings_not_bitness(tmp_path: Path) -> None:
    body = site_filter("Vista", "C:\\Program Files\\Contoso\\vista.dll")
    files = {"inetpub/wc.dll": "isapi_ext_vista_x64.dll", "Program Files/Contoso/vista.dll": "filter_vista_x64.dll"}
    r = scan(image(tmp_path, metabase(W3SVC, body=body), files))
    got = sorted((f.rule, f.severity.label, f.binary) for f in r.findings)
    assert got == [("iis6-os-version", "warning", "C:\\Program Files\\Contoso\\vista.dll"),
                   ("iis6-os-version", "warning", "c:\\inetpub\\wc.dll")]
    flt = next(f for f in r.findings if f.binary == "C:\\Program Files\\Contoso\\vista.dll")
    assert "Windows 6.0 (Windows Vista / Server 2008) or later" in flt.cause
    assert "operating system version 6.0, subsystem version 6.0" in flt.cause
    assert "an x64 native DLL (loads in: x64)" in flt.cause and "UNCONFIRMED" in flt.cause
    assert flt.symptom.startswith("If refused: HTTP 503 on the sites of pool 'DefaultAppPool'")
    assert "c1 00 00 00" in flt.symptom
    ext = next(f for f in r.findings if f.binary == "c:\\inetpub\\wc.dll")
    assert "HTTP 500" in ext.symptom and "error 193" in ext.symptom
    assert [fx.label for fx in flt.fixes] == ["rebuild with a Windows XP toolset", "the vendor's Windows Server 2003 build"]
    assert "/SUBSYSTEM:WINDOWS,5.02" in flt.fixes[0].summary


def test_the_same_binaries_linked_as_gnu_ld_does_by_default_are_quiet(tmp_path: Path) -> None:
    """GNU ld's x64 default is 5.2 (Windows Server 2003): nothing to say."""
    body = site_filter("Plain", "C:\\Program Files\\Contoso\\plain.dll")
    files = {"inetpub/wc.dll": "isapi_ext_x64.dll", "Program Files/Contoso/plain.dll": "filter_x64.dll"}
    r = scan(image(tmp_path, metabase(W3SVC, body=body), files))
    assert not r.findings


def test_a_vista_filter_of_the_other_bitness_gets_both_findings(tmp_path: Path) -> None:
    """A 32-bit filter in 64-bit workers, linked for 6.0: the architecture finding and this one; a new build must
    fix both."""
    body = site_filter("Vista", "C:\\Program Files\\Contoso\\vista.dll")
    files = {"Program Files/Contoso/vista.dll": "filter_vista_x86.dll"}
    r = scan(image(tmp_path, metabase('IIs5IsolationModeEnabled="FALSE"', body=body), files))
    assert sorted(f.rule for f in r.findings) == ["iis6-filter-arch", "iis6-os-version"]


def test_iis7_is_not_checked() -> None:
    """Windows 6.0 and later run a 6.0 image: the rule is IIS 6's alone (the IIS 10 demo holds lld-built 6.0 DLLs
    and x64 ones at 5.2; none is a finding)."""
    demo = Path(__file__).parents[2] / "src" / "iisbitness" / "demo" / "contoso-iis10"
    assert not [f for f in scan(demo).findings if f.rule == "iis6-os-version"]
