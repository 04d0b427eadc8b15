"""IIS Express under Visual Studio (issue 16): which iisexpress.exe runs each project, and the same rules as a
server against it, with fixes where a developer works."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from click.testing import CliRunner

from iisbitness.arch import Arch
from iisbitness.cli import main
from iisbitness.config.apphost import read_server
from iisbitness.config.iisexpress import match_site, site_ports
from iisbitness.findings import EffectKind
from iisbitness.image.server_image import ServerImage
from iisbitness.scan.pipeline import ScanOptions, scan
from tests.aspnetcore.image import deps_json
from tests.conftest import REPO, corpus_dir, fixes_of, fixture
from tests.iisexpress.solution import (
    CLASSIC,
    CORE,
    GANESH,
    classic_solution,
    core_solution,
    corpus_file,
    run,
    scan_json,
    second_core_project,
    second_project,
    tree_digest,
)

SCHEMA = json.loads((REPO / "src" / "iisbitness" / "formats" / "schema" / "scan-2.json").read_text(encoding="utf-8"))


def _verified_over_ancm(fix: dict[str, Any]) -> bool:
    """True when ``fix``, a switch to the other iisexpress.exe, which loads the ASP.NET Core Module from IIS Express's
    folder on a machine the scan was not given, is verified over it: Microsoft's ANCM installer puts one build in each
    IIS Express folder (x64 in Program Files, Win32 in Program Files (x86): ancm_iis_expressv2.wxs;
    ``image.stock.is_iis_express_ancm``), so the folder tells its architecture as for Windows' own modules, and no note
    calls it a vendor file only inferred (tests/fix/test_inferred_vendor_unverified.py: a vendor's is)."""
    note = fix["note"] or ""
    return fix["verified"] is True and "aspnetcorev2.dll" not in note and "only inferred" not in note


def _findings(doc: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    """The findings of ``rule``, each with its ``fixes`` from the document's table (tests read them in place)."""
    return [{**f, "fixes": fixes_of(doc, f)} for f in doc["findings"] if f["rule"] == rule]


def test_32bit_iisexpress_and_x64_bin_assembly_gives_badimageformat_with_the_property_fix(tmp_path: Path) -> None:
    sol = classic_solution(tmp_path, use64="", bin_files={"Vendor.Imaging.dll": "managed_x64.dll"})
    code, doc = scan_json(sol)
    jsonschema.validate(doc, SCHEMA)
    assert code == 1 and doc["server"]["kind"] == "iisexpress"
    [f] = _findings(doc, "managed-assembly-arch")
    assert f["process"] == "iisexpress.exe" and f["process_arch"] == "x86" and f["site"] == CLASSIC
    assert f["binary"].endswith("\\bin\\Vendor.Imaging.dll") and f["binary_arch"] == ["x64"]
    assert "BadImageFormatException" in f["symptom"] and "incorrect format" in f["symptom"]
    # the bitness is Visual Studio's option, not on disk: said so, and the finding is inferred, not read
    assert f["evidence"] == "inferred" and "by assumption" in f["cause"]
    [p] = doc["iisexpress"]
    assert p["decided_by"] == "vs-default" and p["assumed"] is True and p["arch"] == "x86"
    assert p["process"] == "C:\\Program Files (x86)\\IIS Express\\iisexpress.exe"
    assert "Use the 64 bit version of IIS Express" in p["reason"] and "F2.1" in p["reason"]
    # NOTE: Microsoft documents the option's default (off) for Visual Studio 2015 only (facts correction C10)
    assert "documented for Visual Studio 2015" in p["reason"]
    fix = f["fixes"][0]
    assert "<Use64BitIISExpress>true</Use64BitIISExpress>" in fix["summary"]
    assert f"{CLASSIC}/{CLASSIC}.csproj:10" in fix["summary"] and fix["verified"] is True
    assert "Use the 64 bit version of IIS Express for web sites and projects" in fix["note"]
    assert any("<PlatformTarget>AnyCPU</PlatformTarget>" in x["summary"] for x in f["fixes"])
    assert not any("appcmd" in c for x in f["fixes"] for c in x["commands"])


def test_use64bitiisexpress_true_clears_it(tmp_path: Path) -> None:
    sol = classic_solution(tmp_path, use64="true", bin_files={"Vendor.Imaging.dll": "managed_x64.dll"})
    code, doc = scan_json(sol)
    assert code == 0 and doc["findings"] == []
    [p] = doc["iisexpress"]
    assert (p["arch"], p["decided_by"], p["assumed"]) == ("x64", "project", False)
    assert p["process"] == "C:\\Program Files\\IIS Express\\iisexpress.exe"


def test_64bit_iisexpress_and_x86_assembly_gives_the_false_fix(tmp_path: Path) -> None:
    sol = classic_solution(tmp_path, use64="true", bin_files={"Legacy.Interop.dll": "managed_x86.dll"})
    code, doc = scan_json(sol)
    [f] = _findings(doc, "managed-assembly-arch")
    assert code == 1 and f["process_arch"] == "x64" and f["evidence"] == "read"
    assert "<Use64BitIISExpress>false</Use64BitIISExpress>" in f["fixes"][0]["summary"]
    assert f["fixes"][0]["verified"] is True


def test_csproj_user_overrides_the_project(tmp_path: Path) -> None:
    sol = classic_solution(tmp_path, use64="true", user="false", bin_files={"Vendor.Imaging.dll": "managed_x64.dll"})
    code, doc = scan_json(sol)
    [f] = _findings(doc, "managed-assembly-arch")
    assert doc["iisexpress"][0]["decided_by"] == "project-user"
    assert f"{CLASSIC}.csproj.user:5" in f["fixes"][0]["summary"] and f["fixes"][0]["verified"] is True
    assert code == 1


def test_empty_csproj_user_leaves_the_project_value(tmp_path: Path) -> None:
    sol = classic_solution(tmp_path, use64="true", user="", bin_files={"Vendor.Imaging.dll": "managed_x64.dll"})
    code, doc = scan_json(sol)
    assert code == 0 and doc["iisexpress"][0]["decided_by"] == "project"


def test_iisexpress_arch_option_overrides_the_assumption(tmp_path: Path) -> None:
    sol = classic_solution(tmp_path, use64="", bin_files={"Vendor.Imaging.dll": "managed_x64.dll"})
    code, doc = scan_json(sol, "--iisexpress-arch", "x64")
    assert code == 0 and doc["iisexpress"][0]["decided_by"] == "option" and doc["iisexpress"][0]["assumed"] is False


def test_native_dll_in_bin_is_a_warning_with_the_property_fix(tmp_path: Path) -> None:
    # NOTE: ManagedApp.dll's [DllImport("nativelib")] is the call that makes the x64 DLL a warning (issue 21)
    sol = classic_solution(tmp_path, use64="", bin_files={"nativelib.dll": "nativelib_x64.dll",
                                                          "ManagedApp.dll": "ManagedApp.dll"})
    _, doc = scan_json(sol)
    [f] = _findings(doc, "native-library-arch")
    assert f["severity"] == "warning" and f["process"] == "iisexpress.exe"
    assert "<Use64BitIISExpress>true</Use64BitIISExpress>" in f["fixes"][0]["summary"]


def test_vs2015_layout_and_text_output(tmp_path: Path) -> None:
    sol = classic_solution(tmp_path, use64="", bin_files={"Vendor.Imaging.dll": "managed_x64.dll"}, layout="vs2015")
    res = run(sol)
    assert res.exit_code == 1
    assert ".vs/config/applicationhost.config" in res.output and "F3.2" in res.output
    flat = " ".join(res.output.split())  # NOTE: prose wraps to the terminal width
    assert "iisexpress.exe x86 (assumed)" in flat
    assert "OS x64 (assumed: a developer machine; no --drive C= given;" in flat and "((" not in flat
    assert "Use64BitIISExpress" in res.output and "in 1 project;" in res.output


def test_aspnetcore_use64bit_false_and_x64_publish_gives_500_32(tmp_path: Path) -> None:
    sol = core_solution(tmp_path, use64=False, arch="x64")
    code, doc = scan_json(sol)
    jsonschema.validate(doc, SCHEMA)
    [f] = _findings(doc, "aspnetcore-inprocess-arch")
    assert code == 1 and f["process"] == "iisexpress.exe" and f["process_arch"] == "x86" and f["evidence"] == "read"
    assert "500.32" in f["symptom"] and f["site"] == CORE
    assert "publish" in f["binary"] and f["binary_arch"] == ["x64"]
    fix = f["fixes"][0]
    assert "\"use64Bit\": true" in fix["summary"] and "launchSettings.json" in fix["summary"]
    assert _verified_over_ancm(fix)
    assert any("ancmHostingModel" in x["summary"] for x in f["fixes"])
    [p] = doc["iisexpress"]
    assert (p["kind"], p["decided_by"], p["switch"]) == ("aspnetcore", "launch-profile", "launch-profile")
    assert "publish" in p["output"]
    assert _findings(doc, "aspnetcore-runtime-missing") == []


def test_aspnetcore_use64bit_true_is_clean(tmp_path: Path) -> None:
    code, doc = scan_json(core_solution(tmp_path, use64=True, arch="x64"))
    assert code == 0 and doc["findings"] == []


@pytest.mark.parametrize("use64", [True, False])
def test_launch_settings_with_comments_and_trailing_commas_is_read_as_visual_studio_reads_it(
        tmp_path: Path, use64: bool) -> None:
    """Visual Studio and ``dotnet run`` accept comments and trailing commas in launchSettings.json
    (dotnet/cli#11860, dotnet/sdk#36744): a profile's use64Bit there decides, on its own line. Before, the file
    was 'not JSON', the project fell back to Visual Studio's assumed 32-bit option, and a 64-bit profile with an
    x64 publish got a false 500.32 error whose fix named <Use64BitIISExpress>."""
    sol = core_solution(tmp_path, use64=use64, arch="x64")
    settings = sol / CORE / "Properties" / "launchSettings.json"
    text = settings.read_text(encoding="utf-8")
    text = text.replace('"profiles": {', '// IIS Express runs the profile below /* not this one */\n  "profiles": {', 1)
    flag = f'      "use64Bit": {str(use64).lower()}'
    # NOTE: use64Bit after the nested environmentVariables object, then a trailing comma, as a hand edit leaves it
    text = text.replace(flag + ",\n", "", 1).replace(
        '"Development"\n      }\n', f'"Development"\n      }},\n{flag}, // set by hand\n', 1)
    settings.write_text(text, encoding="utf-8")
    code, doc = scan_json(sol)
    jsonschema.validate(doc, SCHEMA)
    [p] = doc["iisexpress"]
    line = text.splitlines().index(f"{flag}, // set by hand") + 1
    assert (p["arch"], p["decided_by"], p["assumed"]) == ("x64" if use64 else "x86", "launch-profile", False)
    assert p["switch_at"] == f"{CORE}/Properties/launchSettings.json:{line}"
    assert doc["problems"] == []
    assert (code, len(_findings(doc, "aspnetcore-inprocess-arch"))) == ((0, 0) if use64 else (1, 1))


@pytest.mark.parametrize("settings", ["absent", "broken"])
@pytest.mark.parametrize("arch", ["x64", "x86"])
def test_aspnetcore_project_with_no_launch_profile_read_is_judged_by_the_profile_default_not_use64bitiisexpress(
        tmp_path: Path, settings: str, arch: str) -> None:
    """An SDK-style project's bitness is its launch profile's (F2.3); <Use64BitIISExpress> is the .NET Framework
    projects' switch (F2.2). Before, a project whose launchSettings.json was absent or unreadable fell back to it:
    32-bit assumed, a false 500.32 error over an x64 publish, and a fix naming <Use64BitIISExpress> 'in the
    PropertyGroup with <UseIISExpress>', which an SDK-style project has not and Visual Studio does not read for it."""
    sol = core_solution(tmp_path, use64=True, arch=arch)
    launch = sol / CORE / "Properties" / "launchSettings.json"
    if settings == "absent":
        launch.unlink()
    else:
        launch.write_text(launch.read_text(encoding="utf-8")[:200], encoding="utf-8")
    code, doc = scan_json(sol)
    jsonschema.validate(doc, SCHEMA)
    [p] = doc["iisexpress"]
    assert (p["arch"], p["decided_by"], p["assumed"], p["switch"]) == ("x64", "launch-profile-default", True,
                                                                       "launch-profile")
    assert p["switch_at"] == f"{CORE}/Properties/launchSettings.json" and "Use64BitIISExpress" not in p["reason"]
    assert [pr["file"] for pr in doc["problems"]] == ([] if settings == "absent" else [p["switch_at"]])
    found = _findings(doc, "aspnetcore-inprocess-arch")
    assert (code, len(found)) == ((0, 0) if arch == "x64" else (1, 1))
    if found:
        fix = found[0]["fixes"][0]
        assert fix["summary"].startswith(f"Run project '{CORE}' in the 32-bit (x86) IIS Express: set \"use64Bit\": "
                                         f"false in launch profile 'IIS Express' ({CORE}/Properties/launchSettings.json")
        assert found[0]["evidence"] == "inferred" and _verified_over_ancm(fix)


def test_aspnetcore_profile_without_use64bit_takes_the_schema_default_and_says_so(tmp_path: Path) -> None:
    code, doc = scan_json(core_solution(tmp_path, use64=None, arch="x86"))
    [p] = doc["iisexpress"]
    assert (p["arch"], p["decided_by"], p["assumed"]) == ("x64", "launch-profile-default", True)
    [f] = _findings(doc, "aspnetcore-inprocess-arch")
    assert code == 1 and f["evidence"] == "inferred" and "\"use64Bit\": false" in f["fixes"][0]["summary"]


def test_aspnetcore_out_of_process_profile_loads_nothing_in_iisexpress(tmp_path: Path) -> None:
    code, doc = scan_json(core_solution(tmp_path, use64=False, arch="x64", hosting="OutOfProcess"))
    assert code == 0 and doc["findings"] == []


def test_iis_bin_resolves_to_the_install_folder_of_that_bitness(tmp_path: Path) -> None:
    """%IIS_BIN% in the 32-bit iisexpress.exe is Program Files (x86)\\IIS Express (facts F1.3): an x64
    cachuri.dll there (UriCacheModule) breaks every project started by it."""
    sol = classic_solution(tmp_path / "sol", use64="")
    machine = tmp_path / "c"
    ie = machine / "Program Files (x86)" / "IIS Express"
    ie.mkdir(parents=True)
    shutil.copyfile(fixture("module_x64.dll"), ie / "cachuri.dll")
    (machine / "Windows" / "SysWOW64").mkdir(parents=True)
    code, doc = scan_json(sol, "--drive", f"C={machine}")
    mods = _findings(doc, "global-module-arch")
    assert code == 1 and [m["resolved"] for m in mods] == ["Program Files (x86)/IIS Express/cachuri.dll"]
    assert mods[0]["process"] == "iisexpress.exe" and mods[0]["process_arch"] == "x86"
    _, doc64 = scan_json(sol, "--drive", f"C={machine}", "--iisexpress-arch", "x64")
    assert _findings(doc64, "global-module-arch") == []


def test_use_global_application_host_file_reads_the_per_user_config(tmp_path: Path) -> None:
    sol = classic_solution(tmp_path / "sol", use64="", bin_files={"Vendor.Imaging.dll": "managed_x64.dll"}, layout="none")
    proj = sol / CLASSIC / f"{CLASSIC}.csproj"
    proj.write_text(proj.read_text(encoding="utf-8").replace(
        "<IISExpressSSLPort />", "<IISExpressSSLPort />\n    <UseGlobalApplicationHostFile>true</UseGlobalApplicationHostFile>"),
        encoding="utf-8")
    missing = run(sol)
    assert missing.exit_code == 2 and "UseGlobalApplicationHostFile" in missing.output and "--config" in missing.output
    machine = tmp_path / "c"
    user_cfg = machine / "Users" / "dev" / "Documents" / "IISExpress" / "config"
    user_cfg.mkdir(parents=True)
    shutil.copyfile(corpus_file(GANESH), user_cfg / "applicationhost.config")
    code, doc = scan_json(sol, "--drive", f"C={machine}")
    assert code == 1 and "per-user" in doc["server"]["config_file"]
    assert _findings(doc, "managed-assembly-arch")


def test_no_iisexpress_config_exits_2(tmp_path: Path) -> None:
    sol = classic_solution(tmp_path, use64="", layout="none")
    res = run(sol)
    assert res.exit_code == 2 and ".vs/<solution>/config/applicationhost.config" in res.output


def test_scanning_the_project_folder_finds_the_solution(tmp_path: Path) -> None:
    sol = classic_solution(tmp_path, use64="", bin_files={"Vendor.Imaging.dll": "managed_x64.dll"})
    code, doc = scan_json(sol / CLASSIC)
    assert code == 1 and _findings(doc, "managed-assembly-arch")


def test_the_project_folder_is_not_written(tmp_path: Path) -> None:
    sol = classic_solution(tmp_path / "a", use64="", bin_files={"Vendor.Imaging.dll": "managed_x64.dll"})
    core = core_solution(tmp_path / "b", use64=False)
    before = tree_digest(tmp_path)
    run(sol)
    run(core, "--format", "json")
    assert tree_digest(tmp_path) == before


def test_library_api_and_site_matching(tmp_path: Path) -> None:
    sol = classic_solution(tmp_path, use64="", bin_files={"Vendor.Imaging.dll": "managed_x64.dll"})
    report = scan(sol, ScanOptions(iisexpress_arch=Arch.X86))
    assert report.projects[0].decided_by == "option" and report.findings[0].fixes[0].verified


@pytest.mark.parametrize("name", [
    "iisexpress--AkluKun__calculadora-4operacoes__IISExpress__config__applicationhost.config",
    "iisexpress--aokiji366__DSO34BT__IISExpress__config__applicationhost.config",
    "iisexpress--camilocantor-cyber__control-gastos__IISExpress__config__applicationhost.config",
    "iisexpress--Ganesh2506__OCRPython__IISExpress__config__applicationhost.config",
    "iisexpress--Lincoln-hub__MIlestone-CST391__IISExpress__config__applicationhost.config",
    "iisexpress--MarkKharitonov__wcf-to-corewcf__applicationhost.config",
    "iisexpress--OptimiumHealth__MinimalGRPC__applicationhost.config",
])
def test_every_corpus_iisexpress_config_reads_and_matches_its_own_sites(tmp_path: Path, name: str) -> None:
    """Each real IIS Express config: a project folder laid out like one of its sites is matched, scanned, and the
    scan names the configuration and decides a bitness (no crash, nothing unexplained)."""
    cfg = corpus_dir("iis-config-2") / name
    server = read_server(ServerImage({}, absent_drives=True), Arch.X64, "test", cfg)
    sites = [s for s in server.sites
             if s.applications and s.applications[0].root_vdir and "%" not in s.applications[0].root_vdir.physical_path]
    if not sites:
        pytest.skip("no site outside %IIS_SITES_HOME%")
    site = sites[-1]
    port = min(site_ports(cfg, name)[site.name])
    folder = site.applications[0].root_vdir.physical_path.rstrip("\\").split("\\")[-1]  # type: ignore[union-attr]
    (tmp_path / ".vs" / "config").mkdir(parents=True)
    shutil.copyfile(cfg, tmp_path / ".vs" / "config" / "applicationhost.config")
    (tmp_path / folder).mkdir()
    (tmp_path / folder / f"{folder}.csproj").write_text(
        '<Project xmlns="http://schemas.microsoft.com/developer/msbuild/2003"><PropertyGroup>'
        "<UseIISExpress>true</UseIISExpress><Use64BitIISExpress /></PropertyGroup><ProjectExtensions><VisualStudio>"
        '<FlavorProperties GUID="{349c5851-65df-11da-9384-00065b846f21}"><WebProjectProperties>'
        f"<IISUrl>http://localhost:{port}/</IISUrl></WebProjectProperties></FlavorProperties></VisualStudio>"
        "</ProjectExtensions></Project>", encoding="utf-8")
    assert match_site(server, tmp_path, tmp_path / folder, frozenset({port}), site_ports(cfg, name)) is not None
    code, doc = scan_json(tmp_path, "--iisexpress")
    jsonschema.validate(doc, SCHEMA)
    assert code in (0, 1) and [p["site"] for p in doc["iisexpress"]] == [site.name]
    assert not [p for p in doc["problems"] if "%IIS_SITES_HOME%" in p["message"]]


def test_iisexpress_arch_option_does_not_override_a_project_setting(tmp_path: Path) -> None:
    """A true/false in the project wins over Visual Studio's option (F2.2), which --iisexpress-arch stands for."""
    sol = classic_solution(tmp_path, use64="true", bin_files={"Vendor.Imaging.dll": "managed_x64.dll"})
    code, doc = scan_json(sol, "--iisexpress-arch", "x86")
    assert code == 0 and doc["iisexpress"][0]["decided_by"] == "project"


def test_framework_dependent_debug_build_without_x86_dotnet_gives_500_31_with_the_profile_fix(tmp_path: Path) -> None:
    """F5's usual output: bin/Debug/<tfm> with an app host and no hostfxr; a 32-bit iisexpress.exe needs the x86
    dotnet under Program Files (x86) (F2.4), and only x64 is installed."""
    sol = core_solution(tmp_path / "sol", use64=False, arch="x64")
    debug = sol / CORE / "bin" / "Debug" / "net8.0"
    debug.mkdir(parents=True)
    shutil.copyfile(fixture("apphost_x64.exe"), debug / f"{CORE}.exe")
    shutil.copyfile(fixture("managed_anycpu.dll"), debug / f"{CORE}.dll")
    deps_json(debug, f"{CORE}.deps.json", CORE)
    (debug / f"{CORE}.runtimeconfig.json").write_text(
        '{"runtimeOptions": {"tfm": "net8.0", "frameworks": [{"name": "Microsoft.NETCore.App", "version": "8.0.0"}, '
        '{"name": "Microsoft.AspNetCore.App", "version": "8.0.0"}]}}\n', encoding="utf-8")
    machine = tmp_path / "c"
    dotnet = machine / "Program Files" / "dotnet"
    for sub in ("host/fxr/8.0.0", "shared/Microsoft.NETCore.App/8.0.1", "shared/Microsoft.AspNetCore.App/8.0.1"):
        (dotnet / sub).mkdir(parents=True)
    shutil.copyfile(fixture("hostfxr_x64.dll"), dotnet / "host" / "fxr" / "8.0.0" / "hostfxr.dll")
    (machine / "Windows" / "SysWOW64").mkdir(parents=True)
    code, doc = scan_json(sol, "--drive", f"C={machine}")
    assert "bin/debug/net8.0" in doc["iisexpress"][0]["output"].lower() and "also found" in doc["iisexpress"][0]["output"]
    [f] = _findings(doc, "aspnetcore-runtime-missing")
    assert code == 1 and f["severity"] == "error" and "500.31" in f["symptom"]
    assert "\"use64Bit\": true" in f["fixes"][0]["summary"] and _verified_over_ancm(f["fixes"][0])
    assert not f["rejected_fixes"]


def test_a_global_module_of_the_other_bitness_stops_iisexpress_not_a_pool(tmp_path: Path) -> None:
    sol = classic_solution(tmp_path / "sol", use64="")
    machine = tmp_path / "c"
    (machine / "Program Files (x86)" / "IIS Express").mkdir(parents=True)
    shutil.copyfile(fixture("module_x64.dll"), machine / "Program Files (x86)" / "IIS Express" / "cachuri.dll")
    _, doc = scan_json(sol, "--drive", f"C={machine}")
    [f] = _findings(doc, "global-module-arch")
    assert "Unable to start iisexpress" in f["symptom"] and "WAS" not in f["symptom"]
    assert any("<Use64BitIISExpress>true</Use64BitIISExpress>" in x["summary"] for x in f["fixes"])
    # NOTE: the preCondition takes the module out of the 32-bit iisexpress.exe, where it never loaded (ran False): it
    # takes nothing that ran, so it is not ranked after the 64-bit switch (verify._order), the rule's order stands
    restrict = next(x for x in f["fixes"] if x["label"].startswith("preCondition="))
    assert f["fixes"].index(restrict) == 0 and restrict["side_effects"][0]["kind"] == "unloaded"
    assert restrict["side_effects"][0]["ran"] is False
    assert restrict["commands"][0].startswith('"%ProgramFiles%\\IIS Express\\appcmd.exe" set config')
    assert restrict["commands"][0].endswith('/apphostconfig:".vs\\SampleKVApp\\config\\applicationhost.config"')
    assert restrict["powershell"][0].startswith('& "$env:ProgramFiles\\IIS Express\\appcmd.exe" set config ')
    assert restrict["powershell"][0].endswith("'/apphostconfig:.vs\\SampleKVApp\\config\\applicationhost.config'")
    assert restrict["verified"] is True


def test_a_project_at_the_solution_root_matches_by_its_folder_name_only(tmp_path: Path) -> None:
    """BankTech_API_V1's site folder ends ...\\BankTech_API_V1\\BankTech_API_V1: a copy of the project folder alone,
    with the .vs folder beside the .csproj, still matches; an unrelated folder name matches no site."""
    core = core_solution(tmp_path / "x", use64=False)
    flat = tmp_path / CORE
    shutil.copytree(core / CORE, flat)
    shutil.copytree(core / ".vs", flat / ".vs")
    code, doc = scan_json(flat)
    assert code == 1 and [p["site"] for p in doc["iisexpress"]] == [CORE]
    other = tmp_path / "Renamed"
    shutil.copytree(flat, other)
    code2, doc2 = scan_json(other)
    assert code2 == 2 and doc2["iisexpress"] == []  # NOTE: no project could be checked: the input was not read
    assert "none of the configuration's sites" in run(other).stdout
    assert any("no site" in p["message"] for p in doc2["problems"])
    [gap] = doc2["coverage"]["applications"]  # issue 20: the project that matches no site is not checked
    assert gap["status"] == "not-checked" and gap["application"].endswith(".csproj") and "no site" in gap["reasons"][0]


def test_a_filter_restricted_to_bitness32_with_an_x64_binary_gets_no_contradictory_precondition(tmp_path: Path) -> None:
    """The 32-bit iisexpress.exe loads ASP.Net_4.0_32bit (preCondition bitness32); an x64 aspnet_filter.dll there
    is a filter mismatch. Adding bitness64 would load it nowhere, so no preCondition fix is offered: the fixes
    are the right build and the project's 64-bit IIS Express (whose filter is the Framework64 one)."""
    sol = classic_solution(tmp_path / "sol", use64="")
    machine = tmp_path / "c"
    folder = machine / "Windows" / "Microsoft.NET" / "Framework" / "v4.0.30319"
    folder.mkdir(parents=True)
    shutil.copyfile(fixture("module_x64.dll"), folder / "aspnet_filter.dll")
    _, doc = scan_json(sol, "--drive", f"C={machine}")
    [f] = _findings(doc, "isapi-filter-arch")
    assert not [x for x in f["fixes"] if "preCondition" in x["summary"]]
    assert any("<Use64BitIISExpress>true</Use64BitIISExpress>" in x["summary"] for x in f["fixes"])


def test_a_folder_with_the_config_but_no_web_project_is_not_called_clean(tmp_path: Path) -> None:
    """A real IIS Express config in .vs/config but no web project in the folder (a project folder not copied, or
    --config given with an empty folder): no site was checked. The report said '0 findings ... in 0 projects'
    and '(see below)' over nothing, exit 0 even with --fail-on-incomplete; now it names the folder, says the
    configuration's sites were not checked, and --fail-on-incomplete fails."""
    (tmp_path / ".vs" / "config").mkdir(parents=True)
    shutil.copyfile(corpus_file(GANESH), tmp_path / ".vs" / "config" / "applicationhost.config")
    code, doc = scan_json(tmp_path, "--iisexpress")
    assert code == 2 and doc["coverage"]["complete"] is False, doc["coverage"]  # NOTE: nothing checked: exit 2
    [problem] = [p for p in doc["problems"] if "no web project" in p["message"]]
    assert "none of the 19 sites" in problem["message"] and "was checked" in problem["message"]
    text = run(tmp_path, "--iisexpress").output
    assert "see below" not in text or "no web project" in text.split("see below", 1)[1]
    res = run(tmp_path, "--iisexpress", "--fail-on-incomplete")
    assert res.exit_code == 2 and "no web project" in res.stderr and "nothing was checked in" in res.stderr


def test_an_iisexpress_config_scanned_as_a_server_says_what_it_is(tmp_path: Path) -> None:
    """scan --config on a real IIS Express applicationhost.config (global modules under %IIS_BIN%, which only
    iisexpress.exe sets) read it as a server: one w3wp.exe per pool at the pool's bitness, silently. The report
    now says the sites run in iisexpress.exe, whose bitness Visual Studio picks, and what to scan instead."""
    cfg = corpus_file("dotnet-koelnbonn__SpeakerNet__.vs__config__applicationhost.config")
    res = CliRunner().invoke(main, ["scan", "--config", str(cfg), "--format", "json", "--quiet"])
    assert res.exit_code == 0, res.output
    [note] = [p for p in json.loads(res.output)["problems"] if "IIS Express" in p["message"]]
    assert "iisexpress.exe" in note["message"] and "docs/iisexpress.md" in note["message"]
    # NOTE: a server's configuration says nothing of the kind, nor one with a single IIS Express line pasted in
    server = REPO / "src" / "iisbitness" / "demo" / "contoso-iis10" / "Windows" / "System32" / "inetsrv" / "config"
    for other in (server / "applicationHost.config",
                  corpus_file("UguudeiMijigsengee__cashreceiptupdate__applicationHost.config")):
        res = CliRunner().invoke(main, ["scan", "--config", str(other), "--format", "json", "--quiet"])
        assert not [p for p in json.loads(res.output)["problems"] if "IIS Express" in p["message"]], other


def test_a_site_s_application_on_a_unc_share_is_read_from_its_share_copy(tmp_path: Path) -> None:
    """An application of the project's site on \\\\fileserver\\apps (the real per-solution config with a second
    <application> as IIS Express keeps one) was "not checked" even with --share: the IIS Express scan built its
    image without the share folders. With --share it is read like a server's: its bin's x64 assembly fails in the
    32-bit iisexpress.exe, and the coverage is whole; without, the coverage says which share to give."""
    sol = classic_solution(tmp_path / "sol", use64="")
    cfg = sol / ".vs" / CLASSIC / "config" / "applicationhost.config"
    text = cfg.read_text(encoding="utf-8")
    site = text.index(f'<site name="{CLASSIC}"')
    at = text.index("</application>", site) + len("</application>")
    cfg.write_text(text[:at] + '\n                <application path="/legacy" applicationPool="Clr4IntegratedAppPool">'
                   '\n                    <virtualDirectory path="/" physicalPath="\\\\fileserver\\apps\\legacy" />'
                   "\n                </application>" + text[at:], encoding="utf-8")
    share = tmp_path / "apps"
    (share / "legacy" / "bin").mkdir(parents=True)
    shutil.copyfile(fixture("managed_x64.dll"), share / "legacy" / "bin" / "Legacy.dll")
    code, doc = scan_json(sol)
    [gap] = [a for a in doc["coverage"]["applications"] if a["status"] != "checked"]
    assert gap["application"] == f"{CLASSIC}/legacy" and gap["status"] == "not-checked"
    assert gap["remedy"].startswith("--share //fileserver/apps=")
    code, doc = scan_json(sol, "--share", f"\\\\fileserver\\apps={share}")
    jsonschema.validate(doc, SCHEMA)
    assert doc["coverage"]["complete"] is True and doc["coverage"]["checked"] == 2, doc["coverage"]
    [f] = [f for f in _findings(doc, "managed-assembly-arch") if f["binary"].endswith("Legacy.dll")]
    assert f["binary"] == "\\\\fileserver\\apps\\legacy\\bin\\Legacy.dll" and f["process_arch"] == "x86" and code == 1


def test_a_project_whose_site_is_on_a_unc_share_is_read_from_the_scanned_folder(tmp_path: Path) -> None:
    """A solution kept on \\\\fileserver\\src (Visual Studio writes the site's physicalPath as that share path): the
    scanned folder is that project, yet it was "not part of the image" (a UNC path never looked at the project's
    mount) and the scan checked nothing of it. Now it is read from the scanned folder, as a drive path is."""
    sol = classic_solution(tmp_path / "sol", use64="", bin_files={"Vendor.Imaging.dll": "managed_x64.dll"})
    cfg = sol / ".vs" / CLASSIC / "config" / "applicationhost.config"
    text = cfg.read_text(encoding="utf-8")
    old = "c:\\users\\ganeshkumbhar\\documents\\visual studio 2013\\Projects\\SampleKVApp\\SampleKVApp"
    assert old in text
    cfg.write_text(text.replace(old, "\\\\fileserver\\src\\SampleKVApp\\SampleKVApp"), encoding="utf-8")
    code, doc = scan_json(sol)
    assert doc["coverage"]["complete"] is True and doc["coverage"]["checked"] == 1, doc["coverage"]
    [f] = _findings(doc, "managed-assembly-arch")
    assert f["binary"] == "\\\\fileserver\\src\\SampleKVApp\\SampleKVApp\\bin\\Vendor.Imaging.dll" and code == 1


@pytest.mark.parametrize("name", [f"{CLASSIC}.sln", f"{CLASSIC}/{CLASSIC}.csproj"])
def test_a_solution_or_project_file_given_as_the_image_names_its_folder(name: str, tmp_path: Path) -> None:
    """A developer's first try, ``scan MySolution.sln``: exit 2 naming the folder to scan, not "--config" (a
    solution or project file is no IIS configuration)."""
    root = classic_solution(tmp_path / "sol")
    res = run(root / name)
    assert res.exit_code == 2
    assert "--config" not in res.stderr and "Visual Studio" in res.stderr, res.stderr
    assert f"iisbitness scan {(root / name).parent}" in res.stderr


def test_text_says_the_file_was_read_and_the_worker_s_bitness_assumed(tmp_path: Path) -> None:
    """The text printed ``[x64, inferred]`` for an x64 assembly whose headers were read, when only iisexpress.exe's
    bitness was Visual Studio's default: it now says which part is inferred. Stated (``--iisexpress-arch``), the
    label is the file's alone."""
    sol = classic_solution(tmp_path, use64="", bin_files={"Vendor.Imaging.dll": "managed_x64.dll"})
    out = " ".join(run(sol).stdout.split())  # NOTE: the label may wrap onto a line of its own
    assert "Vendor.Imaging.dll [x64, read; iisexpress.exe x86 assumed]" in out, out
    assert "[x64, inferred]" not in out
    out = " ".join(run(sol, "--iisexpress-arch", "x86").stdout.split())
    assert "Vendor.Imaging.dll [x64]" in out and "assumed]" not in out, out
    html = run(sol, "--format", "html").stdout
    assert "(read from its headers; iisexpress.exe x86 assumed)" in html and "(inferred from its folder)" not in html
    assert "x64, inferred" not in html


def test_a_bitness_fix_moves_only_the_projects_own_site(tmp_path: Path) -> None:
    """The real per-solution applicationhost.config (VS 2013) holds 18 sites of other projects in the same pool; the
    project's iisexpress.exe serves only its own site (Visual Studio starts it with /site:NAME). The fix's side
    effect said the pool "runs as x86" with every one of those sites; now it names the project's site alone."""
    sol = classic_solution(tmp_path, use64="true", bin_files={"Legacy.Interop.dll": "managed_x86.dll"})
    report = scan(sol, ScanOptions())
    [fix] = [x for f in report.findings if f.rule == "managed-assembly-arch" for x in f.fixes if x.verified]
    moved = [e.applications for e in fix.side_effects if e.kind is EffectKind.ARCH]
    assert moved == [(f"{CLASSIC}/",)], moved


LOADS_SCHEMA = json.loads((REPO / "src" / "iisbitness" / "formats" / "schema" / "loads-1.json").read_text(encoding="utf-8"))
SCAN_SCHEMA = json.loads((REPO / "src" / "iisbitness" / "formats" / "schema" / "scan-2.json").read_text(encoding="utf-8"))


def test_two_projects_of_one_pool_are_two_processes_in_side_effects_and_the_load_map(tmp_path: Path) -> None:
    """Two projects whose sites both use Clr4IntegratedAppPool (as the real config of SampleKVApp and KeyVaultDemo
    does) run as two iisexpress.exe, SampleKVApp's 64-bit (with an x86 assembly in its bin), KeyVaultDemo's 32-bit.
    Keyed by (process name, pool), they merged into one: the fix that runs SampleKVApp 32-bit was verified with no
    side effect at all, and the load map interleaved four headings of one pool. Keyed by project, the fix names its
    architecture change of SampleKVApp alone, and the map has one heading per project, each entry under its own."""
    sol = classic_solution(tmp_path, use64="true", bin_files={"Legacy.Interop.dll": "managed_x86.dll"})
    second_project(sol, "KeyVaultDemo", "false", {"Other.dll": "managed_x86.dll"})
    report = scan(sol, ScanOptions(load_map=True))
    [fix] = [x for f in report.findings if f.rule == "managed-assembly-arch" for x in f.fixes if x.verified]
    assert "Run project 'SampleKVApp' in the 32-bit" in fix.summary
    assert [(e.kind, e.before, e.after, e.applications) for e in fix.side_effects] == [
        (EffectKind.ARCH, Arch.X64, Arch.X86, (f"{CLASSIC}/",))], fix.side_effects
    res = run(sol, "--loads")
    headings = [line for line in res.stdout.splitlines() if line.startswith("iisexpress.exe")]
    assert headings == ["iisexpress.exe of site 'KeyVaultDemo' in pool 'Clr4IntegratedAppPool' (x86, 32-bit)",
                        "iisexpress.exe of site 'SampleKVApp' in pool 'Clr4IntegratedAppPool' (x64, 64-bit)"], headings
    code, doc = scan_json(sol, "--loads")
    assert code == 1
    jsonschema.validate(doc, LOADS_SCHEMA)
    bins = {(e["process_site"], e["process_arch"], e["name"]) for e in doc["loads"] if e["kind"] == "bin-assembly"}
    assert bins == {("KeyVaultDemo", "x86", "KeyVaultDemo.dll"), ("KeyVaultDemo", "x86", "Other.dll"),
                    (CLASSIC, "x64", f"{CLASSIC}.dll"), (CLASSIC, "x64", "Legacy.Interop.dll")}, bins


def test_a_global_module_that_stops_two_projects_of_one_pool_offers_each_its_own_switch(tmp_path: Path) -> None:
    """Both projects run the 32-bit iisexpress.exe (Visual Studio's default) in one pool; an x64 cachuri.dll stops
    both. Which project a global module's load belongs to was guessed from its pool and architecture, two projects
    matched, and neither finding offered the 64-bit switch. Each finding now names its project's process and fix."""
    sol = classic_solution(tmp_path / "sol", use64="")
    second_project(sol, "KeyVaultDemo", "")
    machine = tmp_path / "c"
    (machine / "Program Files (x86)" / "IIS Express").mkdir(parents=True)
    shutil.copyfile(fixture("module_x64.dll"), machine / "Program Files (x86)" / "IIS Express" / "cachuri.dll")
    _, doc = scan_json(sol, "--drive", f"C={machine}")
    found = _findings(doc, "global-module-arch")
    switches = sorted(x["summary"].split("'")[1] for f in found for x in f["fixes"]
                      if "<Use64BitIISExpress>true</Use64BitIISExpress>" in x["summary"])
    assert switches == ["KeyVaultDemo", CLASSIC], [f["fixes"] for f in found]
    assert sorted(f["cause"].split("'")[1] for f in found) == ["KeyVaultDemo", CLASSIC]
    assert sorted(f["process_site"] for f in found) == ["KeyVaultDemo", CLASSIC]  # NOTE: not only in prose
    jsonschema.validate(doc, SCAN_SCHEMA)


def test_a_baseline_of_two_projects_of_one_pool_accepts_each_project_s_findings(tmp_path: Path) -> None:
    """A finding's identity names its project's process under IIS Express (two projects of one pool are two
    iisexpress.exe): the baseline written keeps it (``process_site``), so the findings it accepts stay accepted."""
    sol = classic_solution(tmp_path / "sol", use64="", bin_files={"Vendor.Imaging.dll": "managed_x64.dll"})
    second_project(sol, "KeyVaultDemo", "", {"Other.Imaging.dll": "managed_x64.dll"})
    baseline = tmp_path / "accepted.json"
    assert run(sol, "--write-baseline", str(baseline)).exit_code == 0
    accepted = json.loads(baseline.read_text(encoding="utf-8"))["accepted"]
    assert sorted(e.get("process_site") for e in accepted) == ["KeyVaultDemo", CLASSIC], accepted
    code, doc = scan_json(sol, "--baseline", str(baseline))
    assert code == 0 and doc["findings"] == [], doc["findings"]


def test_two_aspnetcore_projects_of_one_pool_are_not_two_in_process_apps_of_one_process(tmp_path: Path) -> None:
    """Two ASP.NET Core projects whose sites share a pool run in two iisexpress.exe, one in-process app each: counted
    per pool, they were "HTTP Error 500.35 - ANCM Multiple In-Process Applications in same Process", an error that
    never happens there. Per process, nothing; each project's app loads in its own process."""
    sol = core_solution(tmp_path, use64=True)
    second_core_project(sol, "BankTech_API_V2")
    code, doc = scan_json(sol, "--loads")
    assert code == 0
    hosts = {(e["process_site"], e["name"]) for e in doc["loads"] if e["kind"] == "aspnetcore" and "exe" in e["name"]}
    assert hosts == {(CORE, f"{CORE}.exe"), ("BankTech_API_V2", "BankTech_API_V2.exe")}, hosts
    code, doc = scan_json(sol)
    assert sorted(p["site"] for p in doc["iisexpress"]) == sorted([CORE, "BankTech_API_V2"])
    assert code == 0 and not _findings(doc, "aspnetcore-multiple-inprocess"), doc["findings"]


def test_an_application_not_read_is_mapped_under_its_own_project_s_process(tmp_path: Path) -> None:
    """SampleKVApp's site has an application on a share not given; KeyVaultDemo's project shares its pool. The load
    map put the application under the first process of the pool (KeyVaultDemo's 32-bit iisexpress.exe); it is
    SampleKVApp's 64-bit one that would load it."""
    sol = classic_solution(tmp_path, use64="true")
    second_project(sol, "KeyVaultDemo", "false")
    cfg = sol / ".vs" / CLASSIC / "config" / "applicationhost.config"
    text = cfg.read_text(encoding="utf-8")
    at = text.index("</application>", text.index(f'<site name="{CLASSIC}"')) + len("</application>")
    cfg.write_text(text[:at] + '\n                <application path="/legacy" applicationPool="Clr4IntegratedAppPool">'
                   '\n                    <virtualDirectory path="/" physicalPath="\\\\fileserver\\apps\\legacy" />'
                   "\n                </application>" + text[at:], encoding="utf-8")
    _, doc = scan_json(sol, "--loads")
    jsonschema.validate(doc, LOADS_SCHEMA)
    [gap] = [e for e in doc["loads"] if e["kind"] == "application"]
    assert (gap["name"], gap["process_site"], gap["process_arch"]) == (f"{CLASSIC}/legacy", CLASSIC, "x64"), gap
    shown = [(e["process_site"], e["process_arch"]) for e in doc["loads"]]
    assert [k for i, k in enumerate(shown) if i == 0 or k != shown[i - 1]] == list(dict.fromkeys(shown))


def test_the_html_map_puts_each_project_s_binaries_and_findings_under_its_own_process(tmp_path: Path) -> None:
    """The HTML server map has a worker per project's iisexpress.exe; keyed by pool, each of two projects sharing one
    showed both projects' binaries and SampleKVApp's x64 failure under KeyVaultDemo's x86 process too."""
    sol = classic_solution(tmp_path, use64="true", bin_files={"Legacy.Interop.dll": "managed_x86.dll"})
    second_project(sol, "KeyVaultDemo", "false", {"Other.dll": "managed_x86.dll"})
    html = run(sol, "--format", "html").stdout
    marks = {name: html.index(f"(project &#39;{name}&#39;:") for name in ("KeyVaultDemo", CLASSIC)}
    assert marks["KeyVaultDemo"] < marks[CLASSIC]
    keyvault = html[marks["KeyVaultDemo"]:marks[CLASSIC]]
    sample = html[marks[CLASSIC]:]
    assert "Other.dll" in keyvault and "Legacy.Interop.dll" not in keyvault and "SampleKVApp.dll" not in keyvault
    assert "Legacy.Interop.dll" in sample and "Other.dll" not in sample.split("</section>")[0]


def test_a_global_module_not_read_leaves_only_its_own_project_partly_checked(tmp_path: Path) -> None:
    """Two projects of one pool, SampleKVApp's iisexpress.exe 64-bit and KeyVaultDemo's 32-bit; a global module behind
    a variable the scan does not know, with preCondition bitness64, is loaded (and not read) by SampleKVApp's process
    alone. It counted against every application of the pool, so KeyVaultDemo, whose process never loads it, was
    "partly checked" too; iisexpress.exe /site:NAME serves one project's site."""
    sol = classic_solution(tmp_path / "sol", use64="true")
    second_project(sol, "KeyVaultDemo", "false")
    config = sol / ".vs" / CLASSIC / "config" / "applicationhost.config"
    text = config.read_text(encoding="utf-8-sig")
    at = text.index("<globalModules>\n")  # NOTE: the element, not the comment that names it
    config.write_text(text[:at] + '<globalModules>\n            <add name="Vendor" image="%VENDOR_HOME%\\v.dll" '
                      'preCondition="bitness64" />' + text[at + len("<globalModules>"):], encoding="utf-8")
    machine = tmp_path / "c"
    (machine / "Program Files" / "IIS Express").mkdir(parents=True)
    (machine / "Program Files (x86)" / "IIS Express").mkdir(parents=True)
    _, doc = scan_json(sol, "--drive", f"C={machine}")
    reasons = {a["application"]: " ".join(a["reasons"]) for a in doc["coverage"]["applications"]}
    assert "v.dll" in reasons[f"{CLASSIC}/"], reasons
    assert "v.dll" not in reasons["KeyVaultDemo/"], reasons


def _nested_core_app(sol: Path, share: Path, pool: str) -> None:
    """An application ``/api`` of BankTech_API_V1's site in ``pool`` (its own, as in dotnet/aspnetcore #31544), on
    \\\\fileserver\\apps\\api, whose copy at ``share/api`` is a real win-x64 publish (its web.config: InProcess)."""
    cfg = sol / ".vs" / CORE / "config" / "applicationhost.config"
    text = cfg.read_text(encoding="utf-8")
    at = text.index("</application>", text.index(f'<site name="{CORE}"')) + len("</application>")
    cfg.write_text(text[:at] + f'\n        <application path="/api" applicationPool="{pool}">'
                   '\n          <virtualDirectory path="/" physicalPath="\\\\fileserver\\apps\\api" />'
                   "\n        </application>" + text[at:], encoding="utf-8")
    shutil.copytree(sol / CORE / "bin" / "Release" / "net8.0" / "win-x64" / "publish", share / "api")
    (share / "api" / f"{CORE}.exe").rename(share / "api" / "TestSommee.exe")


def test_two_in_process_apps_of_one_site_share_its_iisexpress_exe_whatever_their_pools(tmp_path: Path) -> None:
    """The project's app and an application /api of its site in another pool: IIS Express runs both in the site's one
    iisexpress.exe (no WAS; dotnet/aspnetcore #31544), so 500.35. The finding named w3wp.exe and 'Pool X hosts 2
    apps', and offered a pool move that re-analysis rejected; now it names the site's iisexpress.exe and both pools,
    and offers what works there: out-of-process hosting, or a site of its own, never a pool or an appcmd line."""
    sol = core_solution(tmp_path / "sol", use64=True)
    _nested_core_app(sol, tmp_path / "apps", "Clr4IntegratedAppPool")
    code, doc = scan_json(sol, "--share", f"\\\\fileserver\\apps={tmp_path / 'apps'}")
    jsonschema.validate(doc, SCHEMA)
    [f] = _findings(doc, "aspnetcore-multiple-inprocess")
    assert code == 1 and f["process"] == "iisexpress.exe" and f["process_arch"] == "x64"
    assert f["process_site"] == CORE and "500.35" in f["symptom"]
    assert "'Clr4IntegratedAppPool'" in f["cause"] and "no WAS" in f["cause"] and "w3wp" not in json.dumps(f)
    assert not f["rejected_fixes"], f["rejected_fixes"]
    assert [x["label"] for x in f["fixes"]] == ["host the others out of process", "a site of its own for each other app"]
    assert all(not x["commands"] and not x["powershell"] and "pool of its own" not in x["summary"] for x in f["fixes"])
    assert f"{CORE}/api: <AspNetCoreHostingModel>OutOfProcess" in f["fixes"][0]["summary"]


def _machine_with(tmp_path: Path, x86: dict[str, str], x64: dict[str, str]) -> Path:
    """A drive C: with the two IIS Express folders holding ``name -> fixture`` each."""
    machine = tmp_path / "c"
    for folder, files in (("Program Files (x86)", x86), ("Program Files", x64)):
        (machine / folder / "IIS Express").mkdir(parents=True)
        for name, fx in files.items():
            shutil.copyfile(fixture(fx), machine / folder / "IIS Express" / name)
    return machine


@pytest.mark.parametrize("x86, rule, dll", [
    ({"cachuri.dll": "module_x64.dll"}, "global-module-arch", "cachuri.dll"),
    # NOTE: a vendor's module only in the 64-bit folder (IIS Express's own cachuri.dll absent from a copy of its folder
    # is a "copy may be partial" warning, with no fix)
    ({"iisfcgi.dll": "module_x86.dll"}, "binary-missing", "vendcache.dll"),
])
def test_every_fix_under_iis_express_runs_its_appcmd_on_the_solution_s_config_and_starts_no_pool(
        tmp_path: Path, x86: dict[str, str], rule: str, dll: str) -> None:
    """Every fix of every finding of an IIS Express scan that edits IIS configuration runs IIS Express's own appcmd.exe
    with /apphostconfig: (the solution's file), in cmd.exe and PowerShell; none runs the machine's appcmd, the
    WebAdministration provider (it edits the machine's IIS, not the solution's), or starts or recycles a pool (IIS
    Express has none: the note says to stop IIS Express). binary-missing's preCondition fix, for cachuri.dll found only
    in the 64-bit IIS Express, ran %windir%\\system32\\inetsrv\\appcmd.exe and 'start apppool' / Start-WebAppPool.
    Its side effect names the project's iisexpress.exe by its site (it named the pool, which two projects share)."""
    sol = classic_solution(tmp_path / "sol", use64="")
    machine = _machine_with(tmp_path, x86, {dll: "module_x64.dll"})
    cfg = sol / ".vs" / CLASSIC / "config" / "applicationhost.config"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("%IIS_BIN%\\cachuri.dll", f"%IIS_BIN%\\{dll}"), encoding="utf-8")
    _, doc = scan_json(sol, "--drive", f"C={machine}")
    jsonschema.validate(doc, SCHEMA)
    [f] = [f for f in _findings(doc, rule) if f["binary"] == f"%IIS_BIN%\\{dll}"]
    restrict = next(x for x in f["fixes"] if x["label"] == 'preCondition="bitness64"')
    # NOTE: one line: the solution's configuration lists UriCacheModule in <globalModules> only, so a <modules> line
    # would fail when pasted ("Cannot find requested collection element")
    assert len(restrict["commands"]) == len(restrict["powershell"]) == 1
    config = ".vs\\SampleKVApp\\config\\applicationhost.config"
    assert all(c.startswith('"%ProgramFiles%\\IIS Express\\appcmd.exe" set config ')
               and c.endswith(f'/apphostconfig:"{config}"') for c in restrict["commands"])
    assert all(c.startswith('& "$env:ProgramFiles\\IIS Express\\appcmd.exe" set config ')
               and c.endswith(f"'/apphostconfig:{config}'") for c in restrict["powershell"])
    [effect] = restrict["side_effects"]  # NOTE: the 32-bit iisexpress.exe of the project's site, named by its site
    assert (effect["process"], effect["process_site"], effect["kind"]) == ("iisexpress.exe", CLASSIC, "unloaded")
    text = " ".join(run(sol, "--drive", f"C={machine}").stdout.split())
    assert f"iisexpress.exe of site '{CLASSIC}' then runs without UriCacheModule" in text
    assert restrict["summary"].endswith('only in the 64-bit iisexpress.exe: preCondition="bitness64"')
    assert "tray icon > Exit" in restrict["note"] and "32-bit iisexpress.exe then runs without" in restrict["note"]
    lines = [c for x in doc["fixes"] for c in (*x["commands"], *x["powershell"])]
    assert lines and not [c for c in lines if any(w in c.lower() for w in (
        "inetsrv", "webadministration", "apppool", "iisreset", "iis:\\", "machine/webroot"))], lines


def test_an_application_of_the_site_is_made_out_of_process_in_its_own_project_not_the_launch_profile(
        tmp_path: Path) -> None:
    """In the 32-bit iisexpress.exe both x64 apps fail with 500.32. The /api application's out-of-process fix named the
    project's launch profile ("ancmHostingModel"), which sets only the project's own app; it now names the setting of
    the project that builds /api, or its web.config. The project's own app keeps the launch profile."""
    sol = core_solution(tmp_path / "sol", use64=False)
    _nested_core_app(sol, tmp_path / "apps", "BankTech_API_V1 AppPool")
    _, doc = scan_json(sol, "--share", f"\\\\fileserver\\apps={tmp_path / 'apps'}")
    found = {f["application"]: f for f in _findings(doc, "aspnetcore-inprocess-arch")}
    assert sorted(found) == ["/", "/api"], sorted(found)
    [root] = [x for x in found["/"]["fixes"] if x["label"] == "out-of-process hosting"]
    [api] = [x for x in found["/api"]["fixes"] if x["label"] == "out-of-process hosting"]
    assert '"ancmHostingModel": "OutOfProcess" in launch profile' in root["summary"]
    assert "launch profile" not in api["summary"] and 'hostingModel="outofprocess"' in api["summary"], api["summary"]
