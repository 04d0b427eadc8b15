"""httpCompression scheme DLLs: loaded by each worker that runs the compression modules, resolved as that worker
resolves them (``%ProgramFiles%`` is Program Files (x86) in a 32-bit worker), and a warning where one cannot load."""

from __future__ import annotations

from pathlib import Path

from iisbitness.api import scan
from iisbitness.arch import Arch
from iisbitness.config.apphost import read_server
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


def _image(root: Path, files: dict[str, str], modules: str = MODULES) -> Path:
    return make_image(root, apphost(POOLS, SITES, modules + SCHEMES),
                      {"sites/a/index.htm": "a", "sites/b/index.htm": "b", **files})


def _schemes(image: Path) -> list[Load]:
    img = ServerImage.offline(image)
    return list(build(read_server(img, Arch.X64, "test"), PlanContext(img)).loads_of(LoadKind.COMPRESSION_SCHEME))


def test_x64_only_scheme_is_reported_in_the_32bit_pool_with_a_verified_flip(tmp_path: Path) -> None:
    report = scan(_image(tmp_path, {BROTLI: "module_x64.dll"}))
    found = [f for f in report.findings if f.rule == "compression-scheme-arch"]
    assert [(f.pool, f.evidence) for f in found] == [("P32", Evidence.INFERRED)]
    assert "C:\\Program Files (x86)\\IIS\\IIS Compression\\iisbrotli.dll" in found[0].cause
    assert "Program Files/IIS/IIS Compression/iisbrotli.dll" in found[0].cause
    assert "503" not in found[0].symptom.replace("no HTTP 503", "")
    flip = found[0].fixes[0]
    assert (flip.summary, flip.verified) == ("Run application pool 'P32' as 64-bit (x64)", True)
    assert all(f.rule != "binary-missing" for f in report.findings)


def test_scheme_dll_of_the_other_architecture_in_the_worker_view(tmp_path: Path) -> None:
    report = scan(_image(tmp_path, {BROTLI: "module_x64.dll", BROTLI_X86: "module_x64.dll"}))
    found = [f for f in report.findings if f.rule == "compression-scheme-arch"]
    assert [(f.pool, f.evidence, f.process_arch.value if f.process_arch else None) for f in found] == [
        ("P32", Evidence.READ, "x86")]
    assert "x64 native DLL" in found[0].cause


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
