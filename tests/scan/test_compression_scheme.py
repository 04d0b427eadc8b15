"""httpCompression scheme DLLs: loaded by each worker that runs the compression modules, resolved as that worker
resolves them (``%ProgramFiles%`` is Program Files (x86) in a 32-bit worker), and a warning where one cannot load."""

from __future__ import annotations

from pathlib import Path

from iisbitness.api import scan
from iisbitness.arch import Arch
from iisbitness.config.apphost import read_server
from iisbitness.findings import Finding, Severity
from iisbitness.image.server_image import ServerImage
from iisbitness.loadplan.build import build
from iisbitness.loadplan.context import PlanContext
from iisbitness.loadplan.plan import Evidence, Load, LoadKind
from tests.conftest import REPO, apphost, make_image, site

MODULES = """        <globalModules>
            <add name="StaticCompressionModule" image="%windir%\\System32\\inetsrv\\compstat.dll" />
            <add name="DynamicCompressionModule" image="%windir%\\System32\\inetsrv\\compdyn.dll" />
        </globalModules>
"""
SCHEMES = """        <httpCompression directory="%SystemDrive%\\inetpub\\temp\\IIS Temporary Compressed Files">
            <scheme name="br" dll="%ProgramFiles%\\IIS\\IIS Compression\\iisbrotli.dll" />
            <scheme name="gzip" dll="%Windir%\\system32\\inetsrv\\gzip.dll" />
        </httpCompression>
"""
POOLS = '<add name="P32" enable32BitAppOnWin64="true" />\n<add name="P64" />'
SITES = site("A", 1, "P32", "C:\\sites\\a") + site("B", 2, "P64", "C:\\sites\\b")
BROTLI = "Program Files/IIS/IIS Compression/iisbrotli.dll"
BROTLI_X86 = "Program Files (x86)/IIS/IIS Compression/iisbrotli.dll"
ZLIB_X86 = "Program Files (x86)/IIS/IIS Compression/iiszlib.dll"


def _image(root: Path, files: dict[str, str], modules: str = MODULES) -> Path:
    return make_image(root, apphost(POOLS, SITES, modules + SCHEMES),
                      {"sites/a/index.htm": "a", "sites/b/index.htm": "b", **files})


def _schemes(image: Path) -> list[Load]:
    img = ServerImage.offline(image)
    return list(build(read_server(img, Arch.X64, "test"), PlanContext(img)).loads_of(LoadKind.COMPRESSION_SCHEME))


def test_x64_only_scheme_in_the_image_is_not_checked_for_the_32bit_pool(tmp_path: Path) -> None:
    """The image holds the x64 build in Program Files but not Program Files (x86), where the 32-bit worker looks: the
    copy may have left that folder out (IIS Compression's x64 installer puts its x86 build there), so binary-missing
    says it was not checked, once, with the scheme's symptom; compression-scheme-arch says nothing of a missing file."""
    report = scan(_image(tmp_path, {BROTLI: "module_x64.dll"}))
    found = [f for f in report.findings if f.rule in ("binary-missing", "compression-scheme-arch")]
    assert [(f.rule, f.pool, f.severity) for f in found] == [("binary-missing", "P32", Severity.WARNING)]
    assert "C:\\Program Files (x86)\\IIS\\IIS Compression\\iisbrotli.dll" in found[0].cause
    assert "Program Files/IIS/IIS Compression/iisbrotli.dll" in found[0].cause
    assert found[0].symptom.startswith("If the file is missing on the server too: ") and "HTTP 500.19" in found[0].symptom
    flip = found[0].fixes[0]
    assert (flip.summary, flip.verified) == ("Run application pool 'P32' as 64-bit (x64)", True)
    assert "preCondition" not in found[0].fixes[1].note.replace("takes no preCondition", "")


def test_scheme_dll_missing_from_a_folder_the_image_holds_is_one_binary_missing_error(tmp_path: Path) -> None:
    """Program Files (x86)\\IIS\\IIS Compression is in the image with iiszlib.dll but not iisbrotli.dll: missing on
    the server, an error with the scheme's symptom (HTTP 500.19, 0x8007007E), said once."""
    report = scan(_image(tmp_path, {BROTLI: "module_x64.dll", ZLIB_X86: "module_x86.dll"}))
    found = [f for f in report.findings if f.rule in ("binary-missing", "compression-scheme-arch")]
    assert [(f.rule, f.pool, f.severity) for f in found] == [("binary-missing", "P32", Severity.ERROR)]
    assert "HTTP 500.19" in found[0].symptom and "0x8007007E" in found[0].symptom
    assert "with 1 other binary but not this file" in found[0].cause
    assert "run the pool at the other bitness (a compression scheme takes no preCondition)" in found[0].cause


def test_scheme_dll_of_the_other_architecture_in_the_worker_view(tmp_path: Path) -> None:
    report = scan(_image(tmp_path, {BROTLI: "module_x64.dll", BROTLI_X86: "module_x64.dll"}))
    found = [f for f in report.findings if f.rule in ("binary-missing", "compression-scheme-arch")]
    assert [(f.rule, f.pool, f.evidence, f.severity, f.process_arch.value if f.process_arch else None)
            for f in found] == [("compression-scheme-arch", "P32", Evidence.READ, Severity.ERROR, "x86")]
    assert "x64 native DLL" in found[0].cause
    assert "HTTP 500.19" in found[0].symptom and "KB 4468361" in found[0].symptom


def _pool64(root: Path, files: dict[str, str]) -> list[Finding]:
    """A v4.0 pool at x64 whose site's bin holds an x86-only assembly: running it as 32-bit is the flip offered."""
    image = make_image(root, apphost('<add name="P64" managedRuntimeVersion="v4.0" />', site("B", 1, "P64", "C:\\b"),
                                     MODULES + SCHEMES), {**files, "b/bin/x86only.dll": "managed_x86.dll"})
    return [f for f in scan(image).findings if f.rule == "managed-assembly-arch"]


def test_a_flip_that_leaves_the_pool_without_its_schemes_build_is_refused(tmp_path: Path) -> None:
    """A 32-bit worker would find the scheme's DLL missing (the x86 folder held without it) or of the wrong
    architecture: HTTP 500.19 on the pool's requests (KB 4468361). A breakage, not a side effect: the flip is refused,
    naming it."""
    [missing] = _pool64(tmp_path / "missing", {BROTLI: "module_x64.dll", ZLIB_X86: "module_x86.dll"})
    [wrong] = _pool64(tmp_path / "wrong", {BROTLI: "module_x64.dll", BROTLI_X86: "module_x64.dll"})
    for finding, rule in ((missing, "binary-missing"), (wrong, "compression-scheme-arch")):
        assert all(not x.summary.startswith("Run application pool") for x in finding.fixes)
        [rejected] = [r for r in finding.rejected_fixes if r.summary == "Run application pool 'P64' as 32-bit (x86)"]
        assert rejected.reason == f"it would break: {rule} in 'P64' (%ProgramFiles%\\IIS\\IIS Compression\\iisbrotli.dll)"


def test_a_flip_onto_a_scheme_folder_the_image_lacks_is_offered_not_verified_naming_it(tmp_path: Path) -> None:
    """Where the image does not hold Program Files (x86)\\IIS\\IIS Compression, re-analysis cannot tell: the flip is
    offered, not verified (its result depends on a file nobody checked; it was verified before, one notion of "not
    checked" now), and its note names the file; with the x86 build there, verified, nothing to say."""
    [unknown] = _pool64(tmp_path / "unknown", {BROTLI: "module_x64.dll"})
    flip = unknown.fixes[0]
    assert (flip.summary, flip.verified) == ("Run application pool 'P64' as 32-bit (x86)", False)
    assert flip.note is not None and "Not verified: at that architecture its worker loads what the scan" in flip.note
    assert flip.note.endswith(
        "Not checked, as the image does not hold its folder: %ProgramFiles%\\IIS\\IIS Compression\\iisbrotli.dll.")
    [both] = _pool64(tmp_path / "both", {BROTLI: "module_x64.dll", BROTLI_X86: "module_x86.dll"})
    assert both.fixes[0].verified is True and "Not checked" not in (both.fixes[0].note or "")


def test_each_worker_loads_its_own_build(tmp_path: Path) -> None:
    image = _image(tmp_path, {BROTLI: "module_x64.dll", BROTLI_X86: "module_x86.dll"})
    assert all(f.rule != "compression-scheme-arch" for f in scan(image).findings)
    loads = [ld for ld in _schemes(image) if ld.name == "br"]
    assert sorted((ld.process.arch.value, ld.fits) for ld in loads) == [("x64", True), ("x86", True)]


def test_no_compression_module_no_scheme_load(tmp_path: Path) -> None:
    image = _image(tmp_path, {BROTLI: "module_x64.dll"}, modules="")
    assert not _schemes(image)
    assert all(f.rule != "compression-scheme-arch" for f in scan(image).findings)


def test_real_camstar_config_loads_gzip_in_every_worker(tmp_path: Path) -> None:
    config = REPO / "tests/fixtures/config/real/apphost--Gowthamdccpl__AWS-Deployment__applicationHost.config"
    gzip = _schemes(make_image(tmp_path, config))
    assert gzip and {ld.name for ld in gzip} == {"gzip"}
    assert {ld.binary.configured for ld in gzip} == {"%Windir%\\system32\\inetsrv\\gzip.dll"}
    assert all(ld.fits for ld in gzip)


def test_schemes_follow_the_global_module_collectors_decision(tmp_path: Path) -> None:
    """The scheme DLLs load where a compression module loads, as the global module collector decided it: a module that
    names no image loads nothing (W3SVC-WP 2280), so neither do its schemes (they were collected from a second
    evaluation of its preCondition alone)."""
    modules = MODULES.replace('image="%windir%\\System32\\inetsrv\\compstat.dll"', 'image=""').replace(
        '<add name="DynamicCompressionModule" image="%windir%\\System32\\inetsrv\\compdyn.dll" />', "")
    image = _image(tmp_path, {BROTLI: "module_x64.dll"}, modules=modules)
    assert not _schemes(image)
    assert _schemes(_image(tmp_path / "both", {BROTLI: "module_x64.dll"}))


def test_windows_gzip_scheme_absent_from_a_partial_inetsrv_copy_is_the_partial_copy_warning(tmp_path: Path) -> None:
    """gzip.dll is Windows' own, installed with the compression modules: absent from a populated SysWOW64\\inetsrv (a
    hand copy of part of it), it joins the one partial-copy warning with them, not an error of its own."""
    report = scan(_image(tmp_path, {BROTLI: "module_x64.dll", BROTLI_X86: "module_x86.dll",
                                    "Windows/SysWOW64/inetsrv/cachuri.dll": "module_x86.dll"}))
    found = [(f.rule, f.severity, f.binary) for f in report.findings if f.rule == "binary-missing"]
    assert [(rule, severity) for rule, severity, _ in found] == [("binary-missing", Severity.WARNING)]
    assert "compdyn.dll, compstat.dll, gzip.dll" in str(found[0][2])


def test_a_scheme_missing_from_syswow64_on_arm64_offers_the_flip_every_rule_chooses(tmp_path: Path) -> None:
    """ARM64 Windows: WSUS's suscomp.dll only in System32 (an Arm64X build, as System32 holds there, which P64's x64
    worker loads), absent from a populated SysWOW64\\inetsrv: missing in P32's x86 worker. The flip is chosen as
    rules/_common chooses every flip (target_arch over the OS's worker architectures, at the architectures that load the
    copy the image has): P32 as x64, verified. binary-missing picked it inline before (x86 <-> x64 on x64 Windows
    only): no flip at all here."""
    from iisbitness.api import ScanOptions
    schemes = ('<httpCompression><scheme name="xpress" dll="%windir%\\system32\\inetsrv\\suscomp.dll" />'
               '</httpCompression>')
    files = {f"Windows/{folder}/inetsrv/{name}": build for folder, build in (("System32", "hybrid_arm64x_marker.dll"),
                                                                             ("SysWOW64", "module_x86.dll"))
             for name in ("compstat.dll", "compdyn.dll")}
    image = make_image(tmp_path, apphost(POOLS, SITES, MODULES + schemes),
                       {"sites/a/index.htm": "a", "sites/b/index.htm": "b", **files,
                        "Windows/System32/inetsrv/suscomp.dll": "hybrid_arm64x_marker.dll"})
    [found] = [f for f in scan(image, ScanOptions(os_arch=Arch.ARM64)).findings if f.rule == "binary-missing"]
    assert (found.pool, found.severity) == ("P32", Severity.ERROR)
    [flip] = [x for x in found.fixes if x.summary.startswith("Run application pool")]
    assert flip.summary == "Run application pool 'P32' as 64-bit (x64)" and flip.verified is True


def test_both_rules_say_every_response_of_the_pools_sites_fails_a_static_file_too(tmp_path: Path) -> None:
    """Lex Li's 500.19 came on a plain static file (Handler StaticFile) and KB 4468361 has the site stop responding:
    both rules say every response of the pool's sites fails, in one wording (not "responses the compression modules
    handle")."""
    missing = scan(_image(tmp_path / "m", {BROTLI: "module_x64.dll", ZLIB_X86: "module_x86.dll"}))
    wrong = scan(_image(tmp_path / "w", {BROTLI: "module_x64.dll", BROTLI_X86: "module_x64.dll"}))
    said = [f.symptom for r in (missing, wrong) for f in r.findings
            if f.rule in ("binary-missing", "compression-scheme-arch")]
    assert len(said) == 2
    common = (" where DynamicCompressionModule or StaticCompressionModule is enabled fails with HTTP 500.19, a "
              "static file too (Module DynamicCompressionModule or StaticCompressionModule, Notification "
              "SendResponseHandler, Handler StaticFile on a static file")
    assert said[0].startswith("Every response of the sites of the pool" + common) and "0x8007007E" in said[0]
    assert said[1].startswith("Every response of the sites of pool 'P32'" + common) and "KB 4468361" in said[1]
    assert not any("compression modules handle" in s for s in said)
