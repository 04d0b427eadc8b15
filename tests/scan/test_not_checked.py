"""One notion of "not checked" (Load.not_checked): binary-missing's could-not-check warnings leave the applications of
the worker that loads the file partly checked (with a folder to copy), mark the finding, and hold back a fix whose
worker still loads such a file, but not one that moves the worker to the copy the image holds.

The three shapes: a vendor file reached through System32 -> SysWOW64 redirection into a folder the image lacks (KB
4468361's suscomp.dll), only the other WOW64 view's build in the image, and a copy of inetsrv that may be partial."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from iisbitness.api import scan
from iisbitness.cli import main
from iisbitness.findings import Severity
from iisbitness.report import CoverageStatus
from tests.conftest import PE_BIN, apphost, make_image, site
from tests.scan.test_compression_scheme import BROTLI, BROTLI_X86, MODULES, POOLS, SCHEMES, SITES

POOL32 = '<add name="P32" enable32BitAppOnWin64="true" managedRuntimeVersion="v4.0" />'
SUSCOMP = '<httpCompression><scheme name="xpress" dll="%windir%\\system32\\inetsrv\\suscomp.dll" /></httpCompression>'
WSUS_MODULES = ('<globalModules><add name="StaticCompressionModule" image="%windir%\\System32\\inetsrv\\compstat.dll" />'
                "</globalModules>")


def _wsus(root: Path) -> Path:
    """KB 4468361's shape on an image that holds neither System32 nor SysWOW64 (the configuration and the site's
    folder): WSUS's suscomp.dll as a compression scheme of a 32-bit pool, which looks for it in SysWOW64."""
    return make_image(root, apphost(POOL32, site("B", 2, "P32", r"C:\b"), WSUS_MODULES + SUSCOMP),
                      {"b/index.htm": "b"})


def test_a_file_reached_through_redirection_leaves_the_pools_applications_partly_checked(tmp_path: Path) -> None:
    """The scan said "all 1 applications checked" over a scheme DLL it never saw (--fail-on-incomplete passed)."""
    report = scan(_wsus(tmp_path))
    found = [f for f in report.findings if f.rule == "binary-missing"]
    assert {(f.binary, f.severity, f.binary_not_checked) for f in found} >= {
        ("%windir%\\system32\\inetsrv\\suscomp.dll", Severity.WARNING, True)}
    [app] = report.coverage
    assert app.status is CoverageStatus.PARTLY
    assert any("suscomp.dll" in r and "WOW64 redirects System32 to SysWOW64" in r for r in app.reasons), app.reasons
    assert "copy C:\\Windows\\SysWOW64\\inetsrv into the image as Windows/SysWOW64/inetsrv" in app.remedy
    assert app.worker_binaries and set(app.worker_binaries) <= set(app.reasons)
    r = CliRunner().invoke(main, ["scan", str(tmp_path), "--fail-on", "never", "--fail-on-incomplete"])
    assert r.exit_code == 1, r.output


def test_the_load_map_says_unknown_and_its_entry_quotes_the_folder_to_copy(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["scan", str(_wsus(tmp_path)), "--loads", "--format", "json"])
    assert ("not in the image; a 32-bit process reaches it through System32 -> SysWOW64 redirection, and which builds a "
            "product's installer puts in SysWOW64 is its own choice: not checked") in r.output
    assert "give: copy C:\\\\Windows\\\\SysWOW64\\\\inetsrv into the image" in r.output


def test_only_the_other_build_in_the_image_is_partly_checked_and_the_flip_to_it_stays_verified(tmp_path: Path) -> None:
    """The x64 build of iisbrotli.dll in Program Files, none in Program Files (x86), where P32's worker looks: A/ is
    partly checked, but running P32 as 64-bit moves its worker to the copy the image holds (read, checked): verified.
    B/ (P64, which loads the x64 build) stays checked."""
    root = make_image(tmp_path, apphost(POOLS, SITES, MODULES + SCHEMES),
                      {"sites/a/index.htm": "a", "sites/b/index.htm": "b", BROTLI: "module_x64.dll"})
    report = scan(root)
    by_app = {c.application: c for c in report.coverage}
    assert by_app["A/"].status is CoverageStatus.PARTLY and by_app["B/"].status is CoverageStatus.CHECKED
    assert any("iisbrotli.dll" in r and "only the other architecture's build" in r for r in by_app["A/"].reasons)
    [finding] = [f for f in report.findings if f.rule == "binary-missing"]
    assert finding.binary_not_checked
    flip = finding.fixes[0]
    assert (flip.summary, flip.verified) == ("Run application pool 'P32' as 64-bit (x64)", True), flip.note
    assert "Not verified" not in (flip.note or "")
    # NOTE: the load map says what the finding and coverage say: not checked, not missing
    r = CliRunner().invoke(main, ["scan", str(root), "--loads", "--format", "json"])
    entries = [e for e in json.loads(r.output)["loads"] if e["pool"] == "P32" and "iisbrotli" in e["configured"]]
    assert entries and all(e["verdict"] == "unknown" and e["reason"].endswith(": not checked") for e in entries), entries
    # NOTE: with both builds in the image, nothing is left unchecked
    both = scan(make_image(tmp_path / "both", apphost(POOLS, SITES, MODULES + SCHEMES),
                           {"sites/a/index.htm": "a", "sites/b/index.htm": "b", BROTLI: "module_x64.dll",
                            BROTLI_X86: "module_x86.dll"}))
    assert all(c.status is CoverageStatus.CHECKED for c in both.coverage)


def test_a_partial_inetsrv_copy_is_one_reason_per_folder_and_the_finding_names_it_as_a_field(tmp_path: Path) -> None:
    """SysWOW64\\inetsrv held with one binary but without compstat.dll, compdyn.dll and gzip.dll: P32's applications are
    partly checked, one reason for the folder naming the files; the finding carries the folder and names
    (Finding.partial_copy), which a fix's note reads instead of parsing its binary."""
    report = scan(make_image(tmp_path, apphost(POOLS, SITES, MODULES + SCHEMES),
                             {"sites/a/index.htm": "a", "sites/b/index.htm": "b", BROTLI: "module_x64.dll",
                              BROTLI_X86: "module_x86.dll", "Windows/SysWOW64/inetsrv/cachuri.dll": "module_x86.dll"}))
    [partial] = [f for f in report.findings if f.rule == "binary-missing"]
    assert partial.partial_copy == ("Windows/SysWOW64/inetsrv", "compdyn.dll", "compstat.dll", "gzip.dll")
    assert partial.binary_not_checked
    a = next(c for c in report.coverage if c.application == "A/")
    [reason] = [r for r in a.reasons if "may be partial" in r]
    assert reason.startswith("compstat.dll, compdyn.dll, gzip.dll, which its worker loads, were not checked")
    assert a.remedy == "copy C:\\Windows\\SysWOW64\\inetsrv into the image as Windows/SysWOW64/inetsrv"


def test_a_build_checked_alone_is_partly_checked_over_a_server_file_it_maps_with_the_server_as_remedy(
        tmp_path: Path) -> None:
    """check-app without --server: a handler's ISAPI DLL on the server's C: is not checked (binary-missing's warning),
    so the build's application is partly checked; its reason and remedy are worded for a build folder where coverage
    makes them (ScanOptions.given), not "copy C:\\ext into the image", an image the user never gave."""
    publish = tmp_path / "pub"
    (publish / "bin").mkdir(parents=True)
    (publish / "bin" / "a.dll").write_bytes((PE_BIN / "managed_x86.dll").read_bytes())
    (publish / "web.config").write_text(
        '<?xml version="1.0"?>\n<configuration><system.webServer><handlers><add name="Ext" path="*.ext" verb="*" '
        'modules="IsapiModule" scriptProcessor="C:\\ext\\isapi.dll" resourceType="Unspecified" /></handlers>'
        "</system.webServer></configuration>\n", "utf-8")
    r = CliRunner().invoke(main, ["check-app", str(publish), "--pool-arch", "x86", "--format", "json"])
    [app] = json.loads(r.output)["coverage"]["applications"]
    assert app["status"] == "partly-checked", app
    why = "isapi.dll, which its worker loads, was not checked: C:\\ext is not in the build folder: a folder of the server"
    assert app["reasons"] == [why]
    assert app["remedy"] == "check-app PUBLISH_DIR --server IMAGE --site SITE/APP (a file of the server, outside the build)"


def test_each_application_is_told_only_the_files_its_own_worker_loads(tmp_path: Path) -> None:
    """Two 32-bit pools, each site with its own ISAPI filter reached through System32 -> SysWOW64 redirection (one
    folder, one reason): A/ is told of fa.dll alone and B/ of fb.dll alone (one group per folder named both to each)."""
    pools = ('<add name="PA" managedRuntimeVersion="v4.0" enable32BitAppOnWin64="true" />'
             '<add name="PB" managedRuntimeVersion="v4.0" enable32BitAppOnWin64="true" />')
    text = apphost(pools, site("A", 1, "PA", "C:\\sites\\a") + site("B", 2, "PB", "C:\\sites\\b"))
    text = text.replace("</configuration>", "".join(
        f'<location path="{s}"><system.webServer><isapiFilters><filter name="F{s}" '
        f'path="%windir%\\System32\\inetsrv\\f{s.lower()}.dll" /></isapiFilters></system.webServer></location>'
        for s in "AB") + "</configuration>")
    report = scan(make_image(tmp_path, text, {"sites/a/default.htm": "x", "sites/b/default.htm": "x",
                                              "Windows/System32/inetsrv/other.dll": "module_x64.dll"}))
    by_app = {c.application: c for c in report.coverage}
    for app, own, other in (("A/", "fa.dll", "fb.dll"), ("B/", "fb.dll", "fa.dll")):
        assert by_app[app].status is CoverageStatus.PARTLY, by_app[app]
        reasons = " ".join(by_app[app].reasons)
        assert own in reasons and other not in reasons, (app, by_app[app].reasons)
