"""Strong-named assemblies bound from the Global Assembly Cache: the worker's view (GAC_32/GAC_64, GAC_MSIL, the
v2 GAC), bin after the GAC, and an assembly only in the other architecture's folder (gac-assembly-arch).

Fixtures: gac_sso_{x86,x64,anycpu}.dll are one strong-named assembly "Contoso.Sso, Version=1.0.0.0" built by mcs
with keys/test.snk (tests/fixtures/pe/build.sh), laid out in temp images as the GAC lays them out."""

from __future__ import annotations

import shutil
from pathlib import Path

import dnfile
import pytest

from iisbitness.api import ScanOptions, scan
from iisbitness.arch import Arch
from iisbitness.model.iis7 import AssemblyName
from iisbitness.report import Report
from tests.aspnetcore.image import CORPUS
from tests.conftest import apphost, fixture, make_image, site

TOKEN = "7a56440f9e8f6ed6"
SSO = f"Contoso.Sso.SsoModule, Contoso.Sso, Version=1.0.0.0, Culture=neutral, PublicKeyToken={TOKEN}"
V4 = "Windows/Microsoft.NET/assembly"
V2 = "Windows/assembly"
COPY = {"GAC_32": "gac_sso_x86.dll", "GAC_64": "gac_sso_x64.dll", "GAC_MSIL": "gac_sso_anycpu.dll",
        "GAC": "gac_sso_x86.dll"}


def _gac(root: Path, gac: str, folder: str, name: str = "Contoso.Sso", token: str = TOKEN,
         fixture_name: str | None = None) -> None:
    sub = f"v4.0_1.0.0.0__{token}" if gac == V4 else f"1.0.0.0__{token}"
    dest = root / gac / folder / name / sub / f"{name}.dll"
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(fixture(fixture_name or COPY[folder]), dest)


def _image(root: Path, pool: str = 'managedRuntimeVersion="v4.0"', web: str = "", gac: tuple[tuple[str, str], ...] = (),
           bin_copy: str | None = None) -> None:
    web = web or f'<system.webServer><modules><add name="Sso" type="{SSO}" /></modules></system.webServer>'
    files: dict[str, str | Path | bytes] = {
        "inetpub/shop/web.config": f'<?xml version="1.0" encoding="UTF-8"?>\n<configuration>{web}</configuration>\n'}
    if bin_copy:
        files["inetpub/shop/bin/Contoso.Sso.dll"] = bin_copy
    make_image(root, apphost(f'            <add name="Shop" {pool} />', site("Shop", 1, "Shop", "C:\\inetpub\\shop")),
               files)
    (root / "inetpub" / "shop").mkdir(parents=True, exist_ok=True)
    for where, folder in gac:
        _gac(root, where, folder)


def _run(root: Path) -> Report:
    return scan(root, ScanOptions(os_arch=Arch.X64, load_map=True))


def _gac_findings(report: Report) -> list[str]:
    return [f.symptom for f in report.findings if f.rule == "gac-assembly-arch"]


def _gac_loads(report: Report) -> list[tuple[str, str, str | None]]:
    assert report.loads is not None
    return [(e.verdict.value, e.reason, e.resolved) for e in report.loads if e.kind == "gac-assembly"]


def test_only_in_gac_32_fails_in_a_64bit_worker_with_file_not_found(tmp_path: Path) -> None:
    _image(tmp_path, gac=((V4, "GAC_32"),))
    report = _run(tmp_path)
    [symptom] = _gac_findings(report)
    assert "System.IO.FileNotFoundException" in symptom and f"'Contoso.Sso, Version=1.0.0.0, Culture=neutral, " \
        f"PublicKeyToken={TOKEN}'" in symptom and "every request to Shop/ fails" in symptom
    f = next(f for f in report.findings if f.rule == "gac-assembly-arch")
    assert "only in GAC_32" not in f.cause and "Microsoft.NET\\assembly\\GAC_32" in f.cause
    assert f.fixes[0].verified is True and "enable32BitAppOnWin64" in f.fixes[0].commands[0]
    [(verdict, reason, resolved)] = _gac_loads(report)
    assert verdict == "cannot-load" and "where a x64 process never looks" in reason
    assert resolved is not None and "GAC_32/Contoso.Sso/v4.0_1.0.0.0__" in resolved


def test_gac_64_copy_is_bound_and_shown_in_the_load_map(tmp_path: Path) -> None:
    _image(tmp_path, gac=((V4, "GAC_32"), (V4, "GAC_64")))
    report = _run(tmp_path)
    assert _gac_findings(report) == []
    [(verdict, _, resolved)] = _gac_loads(report)
    assert verdict == "loads" and resolved is not None and "/GAC_64/" in resolved


@pytest.mark.parametrize("pool", ['managedRuntimeVersion="v4.0"',
                                  'managedRuntimeVersion="v4.0" enable32BitAppOnWin64="true"'])
def test_gac_msil_copy_loads_in_either_worker(tmp_path: Path, pool: str) -> None:
    _image(tmp_path, pool, gac=((V4, "GAC_MSIL"),))
    report = _run(tmp_path)
    assert _gac_findings(report) == []
    assert [v for v, _, _ in _gac_loads(report)] == ["loads"]


def test_only_in_gac_64_fails_in_a_32bit_worker(tmp_path: Path) -> None:
    _image(tmp_path, 'managedRuntimeVersion="v4.0" enable32BitAppOnWin64="true"', gac=((V4, "GAC_64"),))
    [f] = [f for f in _run(tmp_path).findings if f.rule == "gac-assembly-arch"]
    assert f.process_arch is Arch.X86 and "GAC_32, Microsoft.NET\\assembly\\GAC_MSIL" in f.cause


def test_v2_pool_reads_the_v2_gac_layout(tmp_path: Path) -> None:
    _image(tmp_path, 'managedRuntimeVersion="v2.0"', gac=((V2, "GAC_32"),))
    [f] = [f for f in _run(tmp_path).findings if f.rule == "gac-assembly-arch"]
    assert "assembly\\GAC_64, assembly\\GAC_MSIL, assembly\\GAC" in f.cause
    assert f.resolved is not None and "Windows/assembly/GAC_32/Contoso.Sso/1.0.0.0__" in f.resolved


def test_v2_pool_does_not_see_the_v4_gac_but_a_v4_pool_sees_the_v2_gac(tmp_path: Path) -> None:
    _image(tmp_path, 'managedRuntimeVersion="v2.0"', gac=((V4, "GAC_MSIL"),))
    (tmp_path / V2 / "GAC_MSIL").mkdir(parents=True)
    [(verdict, reason, _)] = _gac_loads(_run(tmp_path))
    assert verdict == "unknown" and "in none of assembly\\GAC_64" in reason
    shutil.rmtree(tmp_path / V4)
    _gac(tmp_path, V2, "GAC_MSIL")
    config = tmp_path / "Windows/System32/inetsrv/config/applicationHost.config"
    config.write_text(config.read_text().replace('"v2.0"', '"v4.0"'))
    [(verdict, _, resolved)] = _gac_loads(_run(tmp_path))
    assert verdict == "loads" and resolved is not None and "Windows/assembly/GAC_MSIL" in resolved


def test_bin_is_probed_after_the_gac(tmp_path: Path) -> None:
    _image(tmp_path, gac=((V4, "GAC_32"),), bin_copy="gac_sso_anycpu.dll")
    report = _run(tmp_path)
    assert _gac_findings(report) == [] and _gac_loads(report) == []


def test_image_without_gac_folders_says_so(tmp_path: Path) -> None:
    _image(tmp_path)
    report = _run(tmp_path)
    [(verdict, reason, _)] = _gac_loads(report)
    assert verdict == "unknown" and "the image holds no GAC folder" in reason
    assert any("holds no GAC folder" in p.message and p.file.endswith("web.config") for p in report.problems)
    assert report.findings == ()  # NOTE: said once, as a problem of the image, not also as "could not check"


def test_classic_pipeline_reads_system_web_http_modules_not_system_webserver(tmp_path: Path) -> None:
    web = (f'<system.web><httpModules><add name="Sso" type="{SSO}" /></httpModules></system.web>'
           '<system.webServer><modules><add name="Other" type="Other.Module, Other, Version=2.0.0.0, Culture=neutral, '
           f'PublicKeyToken={TOKEN}" /></modules></system.webServer>')
    _image(tmp_path, 'managedRuntimeVersion="v4.0" managedPipelineMode="Classic"', web, gac=((V4, "GAC_32"),))
    report = _run(tmp_path)
    [f] = [f for f in report.findings if f.rule == "gac-assembly-arch"]
    assert f.binary is not None and f.binary.startswith("Contoso.Sso,") and f.config is not None
    assert f.config.file.endswith("web.config") and "system.web/httpModules" in f.cause
    assert len(_gac_loads(report)) == 1


def test_compilation_assemblies_are_bound_too(tmp_path: Path) -> None:
    web = ('<system.web><compilation><assemblies><add assembly="*" />'
           f'<add assembly="Contoso.Sso, Version=1.0.0.0, Culture=neutral, PublicKeyToken={TOKEN}" />'
           '</assemblies></compilation></system.web>')
    _image(tmp_path, web=web, gac=((V4, "GAC_32"),))
    [symptom] = _gac_findings(_run(tmp_path))
    assert "pages of Shop/ fail to compile" in symptom


def test_real_boncode_handler_installed_only_in_gac_32(tmp_path: Path) -> None:
    # BonCode's AJP connector installs BonCodeIIS.dll in the GAC; its web.config (corpus) maps every request to it
    web = CORPUS / "cyberious__puppet-boncode__files__web.config"
    if not web.is_file():
        pytest.skip("no shared corpus")
    make_image(tmp_path, apphost('            <add name="Lucee" managedRuntimeVersion="v4.0" />',
                                 site("Lucee", 1, "Lucee", "C:\\inetpub\\lucee")), {"inetpub/lucee/web.config": web})
    _gac(tmp_path, V4, "GAC_32", "BonCodeIIS", "ad590a40d40745cf", "gac_sso_x86.dll")
    report = _run(tmp_path)
    [f] = [f for f in report.findings if f.rule == "gac-assembly-arch"]
    assert "mapped to handler 'BonCode-Tomcat-WC-Handler'" in f.symptom and f.config is not None
    assert f.config.line == 12


def test_assembly_names_parse_as_the_clr_writes_them() -> None:
    asm = AssemblyName.of_type("BonCodeIIS.BonCodeCallHandler,BonCodeIIS,Version=1.0.0.0,Culture=neutral,"
                               "PublicKeyToken=AD590A40D40745CF")
    assert asm == AssemblyName("BonCodeIIS", "1.0.0.0", "", "ad590a40d40745cf") and asm.strong
    generic = AssemblyName.of_type("Ns.Gen`1[[Ns.Arg, Other, Version=9.9.9.9]], Lib, Version=1.2.3.4, Culture=de, "
                                   "PublicKeyToken=null")
    assert generic == AssemblyName("Lib", "1.2.3.4", "de", "") and not generic.strong
    assert AssemblyName.of_type("System.Web.Security.FormsAuthenticationModule") is None
    assert AssemblyName.parse("*") is None


def test_fixture_identity_matches_its_gac_folder_name() -> None:
    # the folder the tests lay it out in (v4.0_1.0.0.0__<token>) is the assembly's own identity, read by dnfile
    import hashlib

    for name in COPY.values():
        pe = dnfile.dnPE(str(fixture(name)))
        try:
            row = pe.net.mdtables.Assembly.rows[0]
            key = bytes(row.PublicKey.value if hasattr(row.PublicKey, "value") else row.PublicKey)
            identity = (str(row.Name), f"{row.MajorVersion}.{row.MinorVersion}.{row.BuildNumber}.{row.RevisionNumber}")
        finally:
            pe.close()
        assert identity == ("Contoso.Sso", "1.0.0.0")
        assert hashlib.sha1(key).digest()[-8:][::-1].hex() == TOKEN


def test_module_registered_in_applicationhost_location_is_bound(tmp_path: Path) -> None:
    module = f'<modules><add name="Sso" type="{SSO}" preCondition="managedHandler" /></modules>'
    make_image(tmp_path, apphost('            <add name="Shop" managedRuntimeVersion="v4.0" />',
                                 site("Shop", 1, "Shop", "C:\\inetpub\\shop"), location=module))
    (tmp_path / "inetpub" / "shop").mkdir(parents=True)
    _gac(tmp_path, V4, "GAC_32")
    [f] = [f for f in _run(tmp_path).findings if f.rule == "gac-assembly-arch"]
    assert f.config is not None and f.config.file.endswith("applicationHost.config")


def test_false_precondition_and_no_managed_code_skip_it(tmp_path: Path) -> None:
    web = (f'<system.webServer><modules><add name="Sso" type="{SSO}" preCondition="runtimeVersionv2.0" />'
           '</modules></system.webServer>')
    _image(tmp_path, web=web, gac=((V4, "GAC_32"),))
    report = _run(tmp_path)
    assert _gac_findings(report) == []
    assert report.loads is not None
    [entry] = [e for e in report.loads if e.kind == "gac-assembly"]
    assert entry.verdict.value == "skipped" and "runtimeVersionv2.0" in entry.reason and entry.site == "Shop"
    config = tmp_path / "Windows/System32/inetsrv/config/applicationHost.config"
    config.write_text(config.read_text().replace('managedRuntimeVersion="v4.0"', 'managedRuntimeVersion=""'))
    (tmp_path / "inetpub/shop/web.config").write_text(
        f'<configuration><system.webServer><modules><add name="Sso" type="{SSO}" /></modules></system.webServer>'
        '</configuration>')
    report = _run(tmp_path)
    assert report.loads is not None and _gac_findings(report) == []
    [entry] = [e for e in report.loads if e.kind == "gac-assembly"]
    assert entry.verdict.value == "skipped" and "No Managed Code" in entry.reason


def test_load_map_json_with_a_gac_entry_matches_its_schema(tmp_path: Path) -> None:
    import json

    import jsonschema

    from iisbitness.formats.loads_json import render as render_loads
    from tests.conftest import REPO

    _image(tmp_path, gac=((V4, "GAC_32"),))
    doc = json.loads(render_loads([_run(tmp_path)]))
    jsonschema.validate(doc, json.loads((REPO / "src/iisbitness/formats/schema/loads-1.json").read_text()))
    [entry] = [e for e in doc["loads"] if e["kind"] == "gac-assembly"]
    assert entry["verdict"] == "cannot-load" and entry["configured"].startswith("Contoso.Sso, Version=1.0.0.0")


@pytest.mark.parametrize("text", [
    "..\\..\\Windows\\System32\\evil, Version=1.0.0.0, Culture=neutral, PublicKeyToken=7a56440f9e8f6ed6",
    "..,Version=1.0.0.0,PublicKeyToken=7a56440f9e8f6ed6",
    "Good, Version=1.0.0.0, Culture=..\\x, PublicKeyToken=7a56440f9e8f6ed6",
    "Good, Version=1.0.0.0/.., PublicKeyToken=7a56440f9e8f6ed6",
    "Good, Version=1.0.0.0, PublicKeyToken=7a56440f9e8f6ed",
    "Good, Version=1.0.0.0, PublicKeyToken=null",
    "Good, PublicKeyToken=7a56440f9e8f6ed6",
])
def test_malformed_or_partial_names_are_never_looked_up_in_the_gac(text: str) -> None:
    asm = AssemblyName.parse(text)
    assert asm is not None and not asm.strong


def test_well_formed_names_are_strong() -> None:
    for text in (f"Contoso.Sso, Version=1.0.0.0, Culture=neutral, PublicKeyToken={TOKEN}",
                 f"Contoso.Sso, Version=1.0, Culture=de-DE, PublicKeyToken={TOKEN.upper()}"):
        asm = AssemblyName.parse(text)
        assert asm is not None and asm.strong


def test_every_type_and_assembly_attribute_of_the_corpus_parses() -> None:
    import re

    if not CORPUS.is_dir():
        pytest.skip("no shared corpus")
    values = set()
    for path in CORPUS.parent.glob("iis-config*/*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            values |= set(re.findall(r'\b(?:type|assembly)="([^"]*)"', text))
    assert len(values) > 50
    strong = {v for v in values if (a := AssemblyName.of_type(v) or AssemblyName.parse(v)) is not None and a.strong}
    assert any(v.startswith("BonCodeIIS.BonCodeCallHandler") for v in strong)


def test_native_arm64_worker_gac_folder_is_not_guessed(tmp_path: Path) -> None:
    _image(tmp_path, 'managedRuntimeVersion="v4.0" enableEmulationOnWinArm64="false"', gac=((V4, "GAC_64"),))
    report = scan(tmp_path, ScanOptions(os_arch=Arch.ARM64, load_map=True))
    assert _gac_findings(report) == []
    [(verdict, reason, _)] = _gac_loads(report)
    assert verdict == "unknown" and "native arm64 worker is not modelled" in reason


def test_assembly_in_no_gac_folder_of_an_image_that_has_them_could_not_be_checked(tmp_path: Path) -> None:
    _image(tmp_path)
    (tmp_path / V4 / "GAC_MSIL" / "Other").mkdir(parents=True)
    report = _run(tmp_path)
    [f] = report.findings
    assert f.rule == "binary-invalid" and f.severity.label == "warning" and "in none of" in f.cause
    assert not any("GAC folder" in p.message for p in report.problems)


def test_image_without_gac_folders_makes_the_application_partly_checked(tmp_path: Path) -> None:
    _image(tmp_path)
    report = _run(tmp_path)
    [cov] = [c for c in report.coverage if c.application == "Shop/"]
    assert cov.status.value == "partly-checked" and any("no GAC folder" in r for r in cov.reasons)


def test_an_assembly_in_no_gac_folder_of_the_image_leaves_its_application_partly_checked(tmp_path: Path) -> None:
    """The image holds the GAC (another assembly in GAC_MSIL) but not Contoso.Sso, nor does bin: the CLR's binding,
    and the assembly's architecture, rest on nothing read. The warning says it could not be checked; the application
    used to count as checked (a clean coverage over an unread part: user audit 2026-12-06). Now it is partly checked,
    with why and the GAC to give."""
    _image(tmp_path)
    _gac(tmp_path, V4, "GAC_MSIL", name="Other.Lib")
    report = _run(tmp_path)
    assert [f.rule for f in report.findings] == ["binary-invalid"]
    [gap] = report.unchecked()
    assert (gap.application, gap.status.value) == ("Shop/", "partly-checked")
    assert gap.reasons == ("inetpub/shop/web.config: system.webServer/modules names '" + SSO.split(", ", 1)[1]
                           + "', which is in no GAC folder of the image nor in bin (missing on the server, or the "
                             "image's GAC is a partial copy): its architecture was not checked",)
    assert "(the GAC) into the image" in gap.remedy
    _gac(tmp_path, V4, "GAC_MSIL")  # NOTE: the GAC copy completed: checked, nothing to say
    report = _run(tmp_path)
    assert report.findings == () and report.unchecked() == ()


PARTIAL = '<system.webServer><modules><add name="Auth" type="Contoso.Auth.AuthModule, Contoso.Auth" /></modules>' \
          '</system.webServer>'


def test_a_partial_name_with_no_bin_in_the_image_leaves_its_application_partly_checked(tmp_path: Path) -> None:
    """A module type with a partial assembly name: the CLR looks for it in the application's bin only. The image
    holds the application's folder (its web.config) but no bin: what the module loads, and its architecture, were not
    read. It used to say "all applications checked" with no word and no load map entry (user audit 2026-12-07)."""
    _image(tmp_path, web=PARTIAL)
    report = _run(tmp_path)
    [gap] = report.unchecked()
    assert (gap.application, gap.status.value) == ("Shop/", "partly-checked")
    assert gap.reasons == (("inetpub/shop/web.config: system.webServer/modules names 'Contoso.Auth'; the CLR looks for "
                            "'Contoso.Auth' (a partial name) in C:\\inetpub\\shop\\bin only, which is not in the "
                            "image: the assembly and its architecture were not checked"),)
    assert gap.remedy == "copy C:\\inetpub\\shop\\bin into the image as inetpub/shop/bin"
    [(verdict, reason, _)] = _gac_loads(report)
    assert verdict == "unknown" and "(a partial name)" in reason
    assert report.findings == ()


def test_a_partial_name_is_not_looked_for_where_bin_was_read_nor_for_app_code(tmp_path: Path) -> None:
    """bin in the image (with the assembly, or without it: then it is missing on the server too, not a bitness
    question), an App_Code type, a pool without a CLR: nothing unread, no load map entry."""
    _image(tmp_path, web=PARTIAL)
    (tmp_path / "inetpub/shop/bin").mkdir()
    shutil.copy(fixture("managed_anycpu.dll"), tmp_path / "inetpub/shop/bin/Other.dll")
    report = _run(tmp_path)
    assert report.unchecked() == () and _gac_loads(report) == []
    shutil.rmtree(tmp_path / "inetpub/shop/bin")
    _image(tmp_path, web=PARTIAL.replace("Contoso.Auth\"", "App_Code\""))
    report = _run(tmp_path)
    assert report.unchecked() == () and _gac_loads(report) == []
    _image(tmp_path, 'managedRuntimeVersion=""', web=PARTIAL)
    report = _run(tmp_path)
    assert report.unchecked() == () and _gac_loads(report) == []


def test_a_flip_of_a_pool_whose_bin_was_not_read_is_not_verified(tmp_path: Path) -> None:
    """The demo server without Default Web Site's bin, its web.config naming a module by a partial name: the
    application is partly checked, and running DefaultAppPool as 32-bit (which the global module's finding offers)
    is not verified, since what that module loads at x86 was not read."""
    demo = Path(__file__).resolve().parents[2] / "src/iisbitness/demo/contoso-iis10"
    shutil.copytree(demo, tmp_path / "img")
    shutil.rmtree(tmp_path / "img/inetpub/wwwroot/bin")
    config = tmp_path / "img/inetpub/wwwroot/web.config"
    config.write_text(config.read_text().replace("</configuration>", PARTIAL + "</configuration>"))
    report = _run(tmp_path / "img")
    # NOTE: not Default Web Site/wconnect below it, which inherits the module but whose own bin the image holds
    assert [(c.application, c.status.value) for c in report.unchecked()] == [("Default Web Site/", "partly-checked")]
    flips = [x for f in report.findings if f.rule == "global-module-arch" and f.pool == "DefaultAppPool"
             for x in f.fixes if "DefaultAppPool" in x.summary and "32-bit" in x.summary]
    assert flips and all(x.verified is False for x in flips)
