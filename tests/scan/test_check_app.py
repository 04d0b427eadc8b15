"""check-app: a real x86 build output against pools of each architecture, alone and on a server."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from iisbitness.cli import main
from tests.conftest import DEMO, corpus_dir, fixture
from tests.fix.test_paste import ps_argv
from tests.scan.test_sarif import _validate


@pytest.fixture
def x86_publish(tmp_path: Path) -> Path:
    pub = tmp_path / "publish"
    (pub / "bin").mkdir(parents=True)
    shutil.copyfile(fixture("managed_x86.dll"), pub / "bin" / "managed_x86.dll")
    shutil.copyfile(fixture("managed_anycpu.dll"), pub / "bin" / "managed_anycpu.dll")
    (pub / "web.config").write_text('<?xml version="1.0"?>\n<configuration><system.web /></configuration>\n')
    return pub


def _run(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(main, ["check-app", *args])
    return r.exit_code, r.output


@pytest.mark.parametrize(("arch", "code"), [("x64", 1), ("x86", 0), ("arm64", 1)])
def test_x86_build_output_against_each_pool_arch(x86_publish: Path, arch: str, code: int) -> None:
    exit_code, out = _run(str(x86_publish), "--pool-arch", arch, "--format", "json")
    assert exit_code == code, out
    rules = {(f["rule"], f["binary"]) for f in json.loads(out)["findings"] if f["severity"] == "error"}
    assert rules == ({("managed-assembly-arch", f"{x86_publish.as_posix()}/bin/managed_x86.dll")} if code else set())


def test_no_managed_code_pool_loads_no_bin_assembly(x86_publish: Path) -> None:
    assert _run(str(x86_publish), "--pool-arch", "x64", "--runtime", "none")[0] == 0


def test_aspnetcore_inprocess_publish_folder() -> None:
    storefront = DEMO / "contoso-iis10" / "inetpub" / "storefront"  # self-contained win-x86 in-process app
    code, out = _run(str(storefront), "--pool-arch", "x64", "--runtime", "none", "--format", "json")
    assert code == 1 and [f["rule"] for f in json.loads(out)["findings"]] == ["aspnetcore-inprocess-arch"]
    assert _run(str(storefront), "--pool-arch", "x86", "--runtime", "none")[0] == 0


def test_against_the_pool_the_application_really_runs_in(x86_publish: Path, tmp_path: Path) -> None:
    image = tmp_path / "img"
    shutil.copytree(DEMO / "contoso-iis10", image)
    before = (image / "Windows/System32/inetsrv/config/applicationHost.config").read_bytes()
    code, out = _run(str(x86_publish), "--server", str(image), "--site", "Default Web Site/wconnect", "--format", "json")
    assert code == 1
    found = json.loads(out)["findings"]
    assert {(f["rule"], f["pool"], f["site"], f["application"]) for f in found if f["severity"] == "error"} == {
        ("managed-assembly-arch", "WebConnection64", "Default Web Site", "/wconnect")}
    # LegacyPool32 runs 32-bit: the same build loads there
    assert _run(str(x86_publish), "--server", str(image), "--site", "Legacy/")[0] == 0
    assert (image / "Windows/System32/inetsrv/config/applicationHost.config").read_bytes() == before
    code, out = _run(str(x86_publish), "--server", str(image), "--site", "No Such Site/app")
    assert code == 2 and "no application No Such Site/app" in out


def test_needs_a_pool_or_a_server(x86_publish: Path) -> None:
    assert _run(str(x86_publish))[0] == 2


@pytest.mark.parametrize("where", ["empty", "above", "bin"])
def test_a_folder_holding_no_build_is_exit_2_not_a_pass(x86_publish: Path, tmp_path: Path, where: str) -> None:
    """A wrong path in a pipeline (an empty folder, the folder above the publish output, the build's bin itself)
    held no web.config and no bin: check-app read nothing there and said "1 of 1 application checked", exit 0,
    whatever the x86 assembly. Now exit 2 naming the folder, and the build output below it when there is one."""
    folder = {"empty": tmp_path / "empty", "above": tmp_path, "bin": x86_publish / "bin"}[where]
    folder.mkdir(exist_ok=True)
    for args in (["--pool-arch", "x64"], ["--pool-arch", "x64", "--format", "json", "--fail-on-incomplete"],
                 ["--server", str(DEMO / "contoso-iis10"), "--site", "Default Web Site/wconnect"]):
        r = CliRunner().invoke(main, ["check-app", str(folder), *args])
        assert r.exit_code == 2 and r.stdout == "", (args, r.output)
        assert r.stderr.startswith(f"iisbitness: error: {folder.as_posix()}: nothing of a build to check: it holds "
                                   "no web.config and no bin folder"), r.stderr
        assert (f"e.g. {x86_publish.as_posix()}" in r.stderr) is (where == "above"), r.stderr
        assert ("2 .dll/.exe files are not where IIS loads them" in r.stderr) is (where == "bin"), r.stderr


def test_it_speaks_of_the_build_and_the_target_pool(x86_publish: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No invented P: drive, no 'appcmd set apppool "check-app"' that fails on every server, no server header
    (issue 24): paths as given from the repository, build-side fixes first, the pool's setting as advice."""
    monkeypatch.chdir(x86_publish.parent)
    code, out = _run("publish", "--pool-arch", "x64")
    assert code == 1 and out.startswith("iisbitness check-app publish\n  target a pool of x64 (--pool-arch)")
    assert "P:" not in out and "appcmd" not in out and "check-app\"" not in out and "--os-arch" not in out
    assert "publish/bin/managed_x86.dll [x86]" in out and "PlatformTarget AnyCPU or x64, or clear 32BITREQ" in out
    assert "Or deploy to a pool that runs as 32-bit (x86)" in out
    assert 'corflags "publish/bin/managed_x86.dll" /32BITREQ-' in out  # NOTE: the build's file, as given
    doc = json.loads(_run("publish", "--pool-arch", "x64", "--format", "json")[1])
    assert doc["server"]["image"] == "publish" and "--os-arch" not in doc["server"]["os_arch_from"]
    assert not [c for x in doc["fixes"] for c in x["commands"] if "appcmd" in c]


def test_aspnetcore_build_side_fixes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    shutil.copytree(DEMO / "contoso-iis10" / "inetpub" / "storefront", tmp_path / "storefront")
    monkeypatch.chdir(tmp_path)
    doc = json.loads(_run("storefront", "--pool-arch", "x64", "--runtime", "none", "--format", "json")[1])
    [f] = doc["findings"]
    fixes = [doc["fixes"][n - 1] for n in f["fix_numbers"]]
    summaries = [x["summary"] for x in fixes]
    assert "<RuntimeIdentifier>win-x64</RuntimeIdentifier>" in summaries[0]
    # NOTE: -r alone no longer implies a self-contained app (.NET 8 SDK): the scan's command and note (user audit
    # 2026-12-07: check-app said "-r win-x64" alone, turning this self-contained app framework-dependent unsaid)
    assert fixes[0]["commands"] == ["dotnet publish -c Release -r win-x64 --self-contained"]
    assert "--self-contained false, and install the x64 ASP.NET Core runtime" in fixes[0]["note"]
    assert any('hostingModel="outofprocess" on <aspNetCore> in the published web.config' in s for s in summaries)
    assert f["config"] == {"file": "storefront/web.config", "line": 8}


def test_sarif_locations_are_relative_to_the_repository(x86_publish: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(x86_publish.parent)
    run = json.loads(_run("publish", "--pool-arch", "x64", "--format", "sarif")[1])["runs"][0]
    assert run["originalUriBaseIds"] == {"SRCROOT": {
        "uri": x86_publish.parent.resolve().as_uri() + "/",
        "description": {"text": "The folder check-app ran in (the repository): paths of the build start there"}}}
    locations = [loc["physicalLocation"]["artifactLocation"] for r in run["results"]
                 for loc in r.get("locations", []) + r.get("relatedLocations", []) if "physicalLocation" in loc]
    assert {"uri": "publish/bin/managed_x86.dll", "uriBaseId": "SRCROOT"} in locations
    assert "IMAGEROOT" not in json.dumps(run) and "P%3A" not in json.dumps(run)


def _run_apart(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, ["check-app", *args])
    return r.exit_code, r.stdout, r.stderr


def test_a_build_whose_web_config_is_not_well_formed_fails_the_gate_with_2(x86_publish: Path) -> None:
    """A web.config IIS cannot parse gets HTTP 500.19 (0x8007000D, KB 942055) for every request of the application.
    This used to pass with exit 0 and "partly checked" (issue 20 made it a gap, which only --fail-on-incomplete
    gated): a pre-deploy gate passed a build IIS never serves. Now exit 2 (the input cannot be used: what 2 means for
    every command), whatever --fail-on, after the report, with file and line on stderr (a real web.config of the
    corpus, cut off inside <handlers>)."""
    real = (corpus_dir("iis-config") / "i-e-b__RawIsapi__web.config").read_text(encoding="utf-8")
    (x86_publish / "web.config").write_text(real[: real.index("</handlers>")], encoding="utf-8")
    for fail_on in ("error", "never"):
        code, out, err = _run_apart(str(x86_publish), "--pool-arch", "x86", "--format", "json", "--fail-on", fail_on)
        assert code == 2, (out, err)
        doc = json.loads(out)  # NOTE: the report is still written, then the error
        [problem] = [p for p in doc["problems"] if p.get("refused")]
        assert problem["file"] == f"{x86_publish.as_posix()}/web.config" and problem["line"], problem
        assert "500.19" in problem["message"] and "not well-formed XML" in problem["message"]
        assert err.startswith(f"iisbitness: error: {x86_publish.as_posix()}/web.config:{problem['line']}: "), err
    code, out, _ = _run_apart(str(x86_publish), "--pool-arch", "x86")
    assert code == 2 and "IIS refuses (1):" in out and "Could not read" not in out, out
    code, out, _ = _run_apart(str(x86_publish), "--pool-arch", "x86", "--format", "sarif")
    [run] = json.loads(out)["runs"]
    [note] = [n for n in run["invocations"][0]["toolExecutionNotifications"] if n.get("descriptor")
              and n["descriptor"]["id"] == "config/refused-by-iis"]
    assert code == 2 and run["invocations"][0]["executionSuccessful"] is False and note["level"] == "error"


def test_a_build_whose_web_config_sets_global_modules_fails_the_gate_with_2(x86_publish: Path, tmp_path: Path) -> None:
    """globalModules is AppHostOnly (facts B8): IIS refuses a web.config that sets it (HTTP 500.19), alone and on a
    server, and the scan never loaded the module from there: before, the build passed clean (exit 0)."""
    real = (corpus_dir("iis-config") / "i-e-b__RawIsapi__web.config").read_text(encoding="utf-8")
    (x86_publish / "web.config").write_text(real.replace(
        "<system.webServer>", '<system.webServer>\n        <globalModules>\n            <add name="Shim" '
        'image="%windir%\\System32\\inetsrv\\shim.dll" />\n        </globalModules>'), encoding="utf-8")
    code, out, err = _run_apart(str(x86_publish), "--pool-arch", "x86", "--format", "json")
    assert code == 2, (out, err)
    [problem] = [p for p in json.loads(out)["problems"] if p.get("refused")]
    assert problem["line"] == 5 and "system.webServer/globalModules" in problem["message"], problem
    assert "AppHostOnly" in problem["message"] and "500.19" in problem["message"]
    assert "web.config:5: HTTP 500.19" in err
    code, out, err = _run_apart(str(x86_publish), "--server", str(DEMO / "contoso-iis10"), "--site",
                                "Default Web Site/wconnect", "--format", "json")
    assert code == 2 and "web.config:5: HTTP 500.19" in err, (out, err)
    # NOTE: the declaration is named in the server's own file, not the check's deleted temporary copy
    assert "declared so at Windows/System32/inetsrv/config/applicationHost.config:" in err, err
    assert "iisbitness-check-app-" not in out + err


def test_a_build_setting_a_section_the_server_locks_fails_the_gate_with_2(x86_publish: Path, tmp_path: Path) -> None:
    """The server locks handlers (its <location path=""> made overrideMode="Deny"); the build's web.config (a real
    one of the corpus) sets them: IIS answers HTTP 500.19 (0x80070021) for every request of the application. The
    scan said so in a problem, and check-app passed the build with 0."""
    image = tmp_path / "img"
    shutil.copytree(DEMO / "contoso-iis10", image)
    cfg = image / "Windows/System32/inetsrv/config/applicationHost.config"
    text = cfg.read_text("utf-8")
    assert '<location path="" overrideMode="Allow">' in text
    cfg.write_text(text.replace('<location path="" overrideMode="Allow">', '<location path="" overrideMode="Deny">'),
                   "utf-8")
    shutil.copyfile(corpus_dir("iis-config") / "i-e-b__RawIsapi__web.config", x86_publish / "web.config")
    code, out, err = _run_apart(str(x86_publish), "--server", str(image), "--site", "Default Web Site/wconnect",
                                "--format", "json")
    assert code == 2 and "web.config:5: HTTP 500.19 (0x80070021)" in err, (out, err)
    [problem] = [p for p in json.loads(out)["problems"]
                 if p.get("refused") and p["file"] == f"{x86_publish.as_posix()}/web.config"]
    assert "system.webServer/handlers" in problem["message"] and problem["line"] == 5
    # NOTE: the other applications' web.config files set handlers too: refused, but not this build's, so not listed,
    # and --fail-on-incomplete does not fail this build on them
    (x86_publish / "web.config").write_text('<?xml version="1.0"?>\n<configuration><system.web /></configuration>\n')
    code, out, err = _run_apart(str(x86_publish), "--server", str(image), "--site", "Default Web Site/wconnect",
                                "--format", "json", "--fail-on", "never", "--fail-on-incomplete")
    assert code == 0 and not [p for p in json.loads(out)["problems"] if p.get("refused")], (out, err)


def test_a_web_config_only_the_scan_cannot_read_leaves_the_build_partly_checked(x86_publish: Path) -> None:
    """What the scan alone could not read (a DOCTYPE, which it refuses to parse) is a gap, not IIS's refusal: exit 0
    and partly checked, which --fail-on-incomplete turns into exit 1 (issue 20)."""
    (x86_publish / "web.config").write_text('<?xml version="1.0"?>\n<!DOCTYPE configuration>\n<configuration/>\n',
                                            encoding="utf-8")
    code, out = _run(str(x86_publish), "--pool-arch", "x86", "--format", "json")
    assert code == 0, out
    doc = json.loads(out)
    [gap] = doc["coverage"]["applications"]
    assert gap["status"] == "partly-checked" and "web.config" in gap["reasons"][0]
    assert all("refused" not in p for p in doc["problems"])  # NOTE: only where true: byte for byte as before
    assert _run(str(x86_publish), "--pool-arch", "x86", "--fail-on-incomplete")[0] == 1


def test_on_a_server_findings_and_problems_name_the_servers_configuration(x86_publish: Path, tmp_path: Path) -> None:
    """check-app --server scans a temporary copy of applicationHost.config (the application's folder pointed at the
    build): findings and problems name the server's own file, not the deleted temporary copy (NCIOCPL corpus
    config: pool-undefined and 50 'drive E: is not mapped' problems at /tmp/iisbitness-check-app-*/...)."""
    image = tmp_path / "img"
    shutil.copytree(DEMO / "contoso-iis10", image)
    cfg = image / "Windows/System32/inetsrv/config/applicationHost.config"
    text = cfg.read_text("utf-8").replace('applicationPool="WebConnection64"', 'applicationPool="Gone"')
    vdir = '<virtualDirectory path="/" physicalPath="%SystemDrive%\\inetpub\\wconnect" />'
    # NOTE: a virtual directory of the checked application on a drive not mapped: a problem of the check
    cfg.write_text(text.replace(vdir, vdir + '<virtualDirectory path="/images" physicalPath="Q:\\images" />'), "utf-8")
    code, out = _run(str(x86_publish), "--server", str(image), "--site", "Default Web Site/wconnect", "--format",
                     "json")
    assert code == 1, out
    doc = json.loads(out)
    named = [f["config"]["file"] for f in doc["findings"] if f["config"]] + [p["file"] for p in doc["problems"]]
    assert any(f["rule"] == "pool-undefined" for f in doc["findings"]), doc["findings"]
    apphost = [n for n in named if n.endswith("applicationHost.config")]
    assert len(apphost) >= 2 and not [n for n in named if "iisbitness-check-app" in n], named
    assert set(apphost) == {"Windows/System32/inetsrv/config/applicationHost.config"}


def test_alone_a_gac_assembly_not_checked_says_to_check_against_the_server(x86_publish: Path) -> None:
    """Alone, check-app has no GAC: a strong-named module of the build's web.config leaves it partly checked, and
    what to give is the server (--server IMAGE --site S/app), not a folder to copy into an image it has not."""
    (x86_publish / "web.config").write_text(
        '<?xml version="1.0"?>\n<configuration><system.webServer><modules><add name="Sso" type="Contoso.Sso.SsoModule, '
        'Contoso.Sso, Version=1.0.0.0, Culture=neutral, PublicKeyToken=0123456789abcdef" /></modules>'
        '</system.webServer></configuration>\n')
    code, out = _run(str(x86_publish), "--pool-arch", "x86", "--format", "json")
    [gap] = json.loads(out)["coverage"]["applications"]
    assert code == 0 and gap["status"] == "partly-checked" and "--server" in gap["remedy"], gap


def test_on_a_server_problems_are_those_of_the_checked_application(x86_publish: Path, tmp_path: Path) -> None:
    """check-app --server IMAGE --site S/app listed every other application's problems (50 lines of 'drive E: is not
    mapped' on the NCIOCPL configuration): another application's folder on an unmapped drive is no problem of this
    check, while the build's own unreadable web.config still is."""
    image = tmp_path / "img"
    shutil.copytree(DEMO / "contoso-iis10", image)
    cfg = image / "Windows/System32/inetsrv/config/applicationHost.config"
    cfg.write_text(cfg.read_text("utf-8").replace('physicalPath="C:\\inetpub\\php"', 'physicalPath="Q:\\php"'), "utf-8")
    (x86_publish / "web.config").write_text("<configuration><system.webServer>", encoding="utf-8")
    code, out, err = _run_apart(str(x86_publish), "--server", str(image), "--site", "Default Web Site/wconnect",
                                "--format", "json")
    doc = json.loads(out)
    assert code == 2 and "/web.config:1: not well-formed XML" in err, (out, err)  # NOTE: IIS refuses it: 500.19
    messages = [p["message"] for p in doc["problems"]]
    assert not [m for m in messages if "Q:" in m], messages
    assert [m for m in messages if "XML" in m or "web.config" in m], messages
    assert [a["application"] for a in doc["coverage"]["applications"]] == ["Default Web Site/wconnect"]



@pytest.mark.parametrize(("built", "arch", "label"), [
    ("managed_x64.dll", "arm64", "PlatformTarget AnyCPU or ARM64"),
    ("managed_x64.dll", "x86", "PlatformTarget AnyCPU or x86"),
    ("managed_x86.dll", "x64", "PlatformTarget AnyCPU or x64, or clear 32BITREQ")])
def test_one_rebuild_fix_for_one_assembly(tmp_path: Path, built: str, arch: str, label: str) -> None:
    """An x64 IL-only assembly (mcs -platform:x64) against an arm64 target pool: check-app listed its own
    '<PlatformTarget>AnyCPU</PlatformTarget> (or ARM64)' beside the rules' 'Rebuild as AnyCPU or for arm64', two
    numbers for one change (three findings' worth with IIS Manager's). Now the rules' rebuild is worded as the build's
    setting, one fix that keeps its note and, for an x86 IL-only one, its CorFlags line."""
    pub = tmp_path / "publish"
    (pub / "bin").mkdir(parents=True)
    shutil.copyfile(fixture(built), pub / "bin" / "Legacy.dll")
    doc = json.loads(_run(str(pub), "--pool-arch", arch, "--format", "json")[1])
    rebuilds = [x for x in doc["fixes"] if "Legacy.dll" in x["summary"]]
    assert [x["label"] for x in rebuilds] == [label], [x["summary"] for x in rebuilds]
    assert {n for f in doc["findings"] if f["rule"] == "managed-assembly-arch" for n in f["fix_numbers"]} >= \
        {rebuilds[0]["number"]}
    assert bool(rebuilds[0]["commands"]) is (built == "managed_x86.dll")
    assert "corflags" not in " ".join(rebuilds[0]["commands"]) or rebuilds[0]["summary"].endswith(
        "or clear its 32BITREQ flag (it is IL-only): the command")


def test_the_build_s_folder_as_given_still_pastes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The folder's name as the user typed it goes into the corflags lines quoted for each shell: a ``'`` doubled
    in PowerShell's single quotes (the line was built with P:\\ as the folder), kept in cmd.exe's double quotes."""
    pub = tmp_path / "o'brien"
    (pub / "bin").mkdir(parents=True)
    shutil.copyfile(fixture("managed_x86.dll"), pub / "bin" / "managed_x86.dll")
    monkeypatch.chdir(tmp_path)
    doc = json.loads(_run("o'brien", "--pool-arch", "x64", "--format", "json")[1])
    assert 'corflags "o\'brien/bin/managed_x86.dll" /32BITREQ-' in [c for x in doc["fixes"] for c in x["commands"]]
    assert "corflags 'o''brien/bin/managed_x86.dll' /32BITREQ-" in [c for x in doc["fixes"] for c in x["powershell"]]


def test_a_build_folder_holding_a_percent_sign_keeps_its_corflags_fix_in_both_shells(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder named ``100%build``: the corflags line cannot be written for cmd.exe (it expands ``%NAME%`` inside
    double quotes too, and a prompt has no escape for it there), so its cmd.exe form is a ``rem`` line, which
    mentions appcmd; check-app took a fix with "appcmd" in a line for a server-side one and dropped it, so the
    corflags fix was gone in both shells. Now PowerShell gets the line (``%`` is literal in single quotes) and
    cmd.exe says why it has none and where to look, without advice that does not apply (fix --apply)."""
    pub = tmp_path / "100%build"
    (pub / "bin").mkdir(parents=True)
    shutil.copyfile(fixture("managed_x86.dll"), pub / "bin" / "managed_x86.dll")
    monkeypatch.chdir(tmp_path)
    doc = json.loads(_run("100%build", "--pool-arch", "x64", "--format", "json")[1])
    [fix] = [x for x in doc["fixes"] if x["summary"].startswith("Build 'managed_x86.dll' for the pool")]
    assert fix["powershell"] == ["corflags '100%build/bin/managed_x86.dll' /32BITREQ-"]
    assert ps_argv(fix["powershell"][0]) == ["corflags", "100%build/bin/managed_x86.dll", "/32BITREQ-"]
    [rem] = fix["commands"]
    assert rem.startswith("rem Not written: ") and "'%'" in rem and "--shell powershell" in rem, rem
    assert "fix --apply" not in rem and "appcmd" not in rem, rem
    ps = CliRunner().invoke(main, ["check-app", "100%build", "--pool-arch", "x64", "--shell", "powershell"]).output
    assert "corflags '100%build/bin/managed_x86.dll' /32BITREQ-" in ps, ps
    cmd = CliRunner().invoke(main, ["check-app", "100%build", "--pool-arch", "x64", "--shell", "cmd"]).output
    assert "rem Not written: a name in this command holds '%'" in cmd, cmd


def test_an_application_the_server_lacks_is_named_with_those_it_has(x86_publish: Path) -> None:
    """A mistyped --site in a pipeline: the error lists the applications the server has, as --site takes them."""
    code, out = _run(str(x86_publish), "--server", str(DEMO / "contoso-iis10"), "--site", "Default Web Site/wconect")
    assert code == 2 and "no application Default Web Site/wconect" in out
    assert "Default Web Site/, Default Web Site/wconnect, Legacy/, Intranet/, Intranet/timesheets," in out


def test_an_option_the_chosen_check_does_not_use_is_exit_2_not_ignored(x86_publish: Path) -> None:
    """A pipeline's typo: ``--site`` (or ``--drive``, ``--share``) without ``--server`` was ignored and the build was
    checked against a pool of its own (an x86 pool here: exit 0, a pass of another check than the one asked);
    ``--runtime``/``--pipeline`` with ``--server`` were ignored for the server's own pool. Each is now exit 2 saying
    which option and why; the checks without them are unchanged."""
    site = "Default Web Site/"
    for extra, named in ((["--pool-arch", "x86", "--site", site], "--site is not used without --server IMAGE"),
                         (["--pool-arch", "x86", "--drive", "D=/tmp", "--share", "//fs/web=/tmp"],
                          "--drive and --share are not used without --server IMAGE"),
                         (["--server", str(DEMO / "contoso-iis10"), "--site", site, "--runtime", "v2.0"],
                          "--runtime is not used with --server")):
        code, out = _run(str(x86_publish), *extra)
        assert code == 2 and named in out, out
    assert _run(str(x86_publish), "--pool-arch", "x86")[0] == 0
    assert _run(str(x86_publish), "--server", str(DEMO / "contoso-iis10"), "--site", site)[0] == 1


def test_alone_a_file_not_found_is_not_in_the_build_folder_not_the_image(x86_publish: Path) -> None:
    """Checked alone, the "image" is the check's own temporary folder holding the build: a handler's ISAPI DLL on the
    server's C:, and a strong-named assembly the build names from the GAC, were said to be "not in the image" (an
    image the user never gave). Each format now says the build folder, and that the server's file needs --server."""
    (x86_publish / "web.config").write_text(
        '<?xml version="1.0"?>\n<configuration><system.webServer><handlers><add name="Ext" path="*.ext" verb="*" '
        'modules="IsapiModule" scriptProcessor="C:\\ext\\isapi.dll" resourceType="Unspecified" /></handlers>'
        '</system.webServer><system.web><compilation><assemblies><add assembly="Contoso.Sso, Version=1.0.0.0, '
        'Culture=neutral, PublicKeyToken=7a56440f9e8f6ed6" /></assemblies></compilation></system.web>'
        '</configuration>\n')
    outs = {fmt: _run(str(x86_publish), "--pool-arch", "x64", "--format", fmt, "-v")[1]
            for fmt in ("text", "json", "sarif", "html")}
    assert all("not in the image" not in out and "image holds no GAC" not in out for out in outs.values()), outs["text"]
    assert "not in the build folder, architecture unknown (1):" in outs["text"]
    cause = next(f["cause"] for f in json.loads(outs["json"])["findings"] if f["rule"] == "binary-missing")
    assert "a file of the server, whose architecture only check-app PUBLISH_DIR --server IMAGE --site SITE/APP can check" in cause
    assert "C:\\\\ext\\\\isapi.dll (not in the build folder)" in outs["sarif"]
    assert "(not in the build folder)" in outs["html"]


def test_alone_a_build_setting_isapi_filters_meets_iis_default_lock(tmp_path: Path) -> None:
    """A stock IIS locks ``isapiFilters`` (``overrideModeDefault="Deny"``; the stock ``<location path="">`` unlocks only
    handlers and modules): a build whose web.config sets it gets HTTP 500.19 on a server that has not unlocked it.
    Alone, the synthetic server declared no lock, so the check analysed the filter as if IIS read it and passed
    (exit 0). Now it is refused as IIS refuses it (exit 2), naming the stock lock and --server for a server that
    unlocked it; against such a server (--server) the filter is analysed."""
    pub = tmp_path / "publish"
    (pub / "bin").mkdir(parents=True)
    shutil.copyfile(fixture("managed_anycpu.dll"), pub / "bin" / "App.dll")
    problem = _filter_refused_alone(pub)
    assert "system.webServer/isapiFilters, which is locked there" in problem["message"]
    assert 'overrideModeDefault="Deny" in a stock IIS applicationHost.config' in problem["message"]
    assert "applicationHost.config:" not in problem["message"]  # NOTE: not the check's own temporary file
    image = tmp_path / "img"
    shutil.copytree(DEMO / "contoso-iis10", image)
    config = image / "Windows/System32/inetsrv/config/applicationHost.config"
    config.write_text(config.read_text(encoding="utf-8-sig").replace(
        '<section name="isapiFilters" allowDefinition="MachineToApplication" overrideModeDefault="Deny" />',
        '<section name="isapiFilters" allowDefinition="MachineToApplication" overrideModeDefault="Allow" />'),
        encoding="utf-8")
    code, out = _run(str(pub), "--server", str(image), "--site", "Catalog/", "--format", "json")
    assert code in (0, 1), out
    assert not [p for p in json.loads(out)["problems"] if p.get("refused")]


def test_on_a_server_a_fix_not_offered_names_the_build_as_given(tmp_path: Path) -> None:
    """A fix not offered says what it would break, a file of the build among them: it named the check's own drive
    (``P:\\publish\\bin\\managed_x64.dll``), which the user never gave; now the folder as given, as findings do."""
    pub = tmp_path / "publish"
    (pub / "bin").mkdir(parents=True)
    for name in ("managed_x86.dll", "managed_x64.dll"):
        shutil.copyfile(fixture(name), pub / "bin" / name)
    image = tmp_path / "img"
    shutil.copytree(DEMO / "contoso-iis10", image)
    code, out = _run(str(pub), "--server", str(image), "--site", "Intranet/", "--format", "json")
    assert code == 1, out
    rejected = [r["reason"] for f in json.loads(out)["findings"] for r in f["rejected_fixes"]]
    assert any(f"{pub.as_posix()}/bin/managed_" in r for r in rejected), rejected
    assert "P:\\\\" not in out


def test_the_stock_lock_is_named_whatever_the_temporary_folder_holds(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The stock lock came from XML injected in the synthetic server and a regex over its messages, ``[^)]*?``,
    that broke on a temporary folder with ")" (C:\\Users\\Jo (Admin)\\AppData\\Local\\Temp): the check's own file
    was named. Now SectionLocks locks isapiFilters where no configSections declare it, as a stock IIS does."""
    temp = tmp_path / "Jo (Admin)" / "Temp"
    temp.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    pub = tmp_path / "publish"
    pub.mkdir()
    problem = _filter_refused_alone(pub)
    assert 'overrideModeDefault="Deny" in a stock IIS applicationHost.config; a server that unlocked it: ' \
           "check-app PUBLISH_DIR --server IMAGE --site SITE/APP" in problem["message"]
    assert "Jo (Admin)" not in problem["message"] and "applicationHost.config:" not in problem["message"]


def _filter_refused_alone(pub: Path) -> dict[str, object]:
    """The one refused problem of check-app alone (x64, JSON, exit 2) on ``pub`` once its web.config sets an ISAPI
    filter."""
    (pub / "web.config").write_text(
        '<?xml version="1.0"?>\n<configuration><system.webServer><isapiFilters><filter name="F" '
        'path="%SystemDrive%\\filters\\f.dll" /></isapiFilters></system.webServer></configuration>\n')
    res = CliRunner().invoke(main, ["check-app", str(pub), "--pool-arch", "x64", "--format", "json"])
    assert res.exit_code == 2, res.output
    [problem] = [p for p in json.loads(res.stdout)["problems"] if p.get("refused")]
    return problem  # type: ignore[no-any-return]


def _anycpu_publish(tmp_path: Path) -> Path:
    pub = tmp_path / "pub"
    (pub / "bin").mkdir(parents=True)
    shutil.copyfile(fixture("managed_anycpu.dll"), pub / "bin" / "App.dll")
    (pub / "web.config").write_text('<?xml version="1.0"?>\n<configuration><system.web /></configuration>\n')
    return pub


def test_on_a_server_whose_pool_already_fails_the_gate_says_so_and_fails(tmp_path: Path) -> None:
    """audit7 F17: DefaultAppPool (x64) of the demo cannot load the x86 global module FabrikamVendorAuth, so every
    request to Default Web Site/ gets HTTP 503 whatever the build. A clean AnyCPU build passed there with exit 0,
    "0 findings", ERR 0 for the pool: the server's finding was dropped in silence as not the build's."""
    pub = _anycpu_publish(tmp_path)
    server = ["--server", str(DEMO / "contoso-iis10"), "--site", "Default Web Site/"]
    code, out = _run(str(pub), *server, "--format", "json")
    assert code == 1, out
    report = json.loads(out)
    assert report["findings"] == [] and report["summary"]["error"] == 0  # NOTE: the build's own: none
    sf = report["server_findings"]
    assert sf["accepted"] is False and sf["fails"] is True and sf["summary"] == {"error": 1, "warning": 0, "note": 0}
    assert [(f["rule"], f["pool"], f["process_arch"]) for f in sf["findings"]] == [
        ("global-module-arch", "DefaultAppPool", "x64")]
    assert sf["findings"][0]["binary"].endswith("vendorauth.dll")
    code, out = _run(str(pub), *server, "--no-color")
    assert code == 1
    [row] = [line for line in out.splitlines() if line.startswith("DefaultAppPool ")]
    assert row.split()[6:8] == ["1", "0"], row  # NOTE: ERR 1, WARN 0: never 0 for a pool that cannot start
    assert "The pool this application runs in (DefaultAppPool) already fails: 1 error of the server" in " ".join(
        out.split())
    assert "  error global-module-arch  DefaultAppPool  C:\\Program Files (x86)\\Fabrikam" in out
    code, out = _run(str(pub), *server, "--format", "sarif")
    assert code == 1
    _validate(sarif := json.loads(out))
    [note] = [n for n in sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
              if n["descriptor"]["id"] == "check-app/server-finding"]
    assert note["level"] == "error" and note["properties"]["rule"] == "global-module-arch", note
    code, out = _run(str(pub), *server, "--format", "html")
    assert code == 1 and "The pool already fails" in out and "pool already fails (above)" in out
    assert "No bitness problem found in the build; the pool it goes to already fails" in out
    code, out = _run(str(pub), *server, "--ignore-server-findings", "--format", "json")
    assert code == 0 and json.loads(out)["server_findings"]["accepted"] is True, out


def test_could_not_check_warnings_of_the_server_are_not_said_to_fail_the_pool(tmp_path: Path) -> None:
    """audit8 G2: an image without Windows/SysWOW64/inetsrv: LegacyPool32 (x86) loads vendor modules from
    there, not in the image (binary-missing could-not-check warnings). check-app --server said "The pool ... already
    fails" over them; they are the server's could-not-check warnings (Coverage: partly checked), which fail the gate
    at --fail-on warning only, as the build's own warnings."""
    image = tmp_path / "img"
    shutil.copytree(DEMO / "contoso-iis10", image)
    shutil.rmtree(image / "Windows/SysWOW64/inetsrv")
    # NOTE: Windows' own modules are inferred from their folder in such a copy (IIS installs both views; tests/scan/
    # test_stock_other_view.py): the modules are renamed as a vendor's, whose x86 build the copy does not show
    inetsrv = image / "Windows/System32/inetsrv"
    config = inetsrv / "config/applicationHost.config"
    text = config.read_text(encoding="utf-8")
    for dll in sorted(inetsrv.glob("*.dll")):
        dll.rename(inetsrv / f"contoso_{dll.name}")
        text = re.sub(rf"(?i)\\{re.escape(dll.name)}\"", rf"\\contoso_{dll.name}\"", text)
    config.write_text(text, encoding="utf-8")
    pub = _anycpu_publish(tmp_path)
    server = ["--server", str(image), "--site", "Legacy/"]
    code, out = _run(str(pub), *server, "--no-color")
    said = " ".join(out.split())
    assert code == 0, out
    assert "already fails" not in said
    assert ("The pool this application runs in (LegacyPool32) has 5 could-not-check warnings of the server not caused "
            "by the build: binaries its worker loads that are not in the image (architecture unknown)") in said, said
    assert "they fail the gate at --fail-on warning only" in said
    code, out = _run(str(pub), *server, "--format", "json")
    sf = json.loads(out)["server_findings"]
    assert code == 0 and sf["fails"] is False and sf["summary"]["warning"] == 5
    assert {(f["rule"], f["not_checked"]) for f in sf["findings"]} == {("binary-missing", True)}
    assert json.loads(out)["coverage"]["partly_checked"] == 1
    assert _run(str(pub), *server, "--fail-on", "warning")[0] == 1
    code, out = _run(str(pub), *server, "--format", "html")
    assert code == 0 and "already fails" not in out and "<h3>The server's own findings in the pool</h3>" in out
    code, out = _run(str(pub), *server, "--format", "sarif")
    _validate(sarif := json.loads(out))
    notes = [n for n in sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
             if n["descriptor"]["id"] == "check-app/server-finding"]
    assert notes and all("could-not-check finding of the server" in n["message"]["text"] for n in notes)


def test_on_a_server_whose_pool_loads_the_module_nothing_of_the_server_is_added(tmp_path: Path) -> None:
    """LegacyPool32 runs 32-bit: the x86 global module loads there, so the same build passes with no server finding
    (the JSON has no server_findings key, as before)."""
    code, out = _run(str(_anycpu_publish(tmp_path)), "--server", str(DEMO / "contoso-iis10"), "--site", "Legacy/",
                     "--format", "json")
    assert code == 0 and "server_findings" not in json.loads(out), out


def test_ignore_server_findings_without_a_server_is_refused(tmp_path: Path) -> None:
    code, out = _run(str(_anycpu_publish(tmp_path)), "--pool-arch", "x64", "--ignore-server-findings")
    assert code == 2 and "--ignore-server-findings is not used without --server" in out, out


@pytest.mark.parametrize("server", [False, True])
def test_a_refused_web_config_says_to_run_check_app_again_not_scan(x86_publish: Path, server: bool) -> None:
    """Review 2026-12-07: the coverage of a build whose web.config IIS refuses (isapiFilters, locked on a stock IIS
    and on the demo: HTTP 500.19) said "once that web.config is corrected, scan again" under check-app, whose user ran
    no scan. It now says to run the same check-app command again, alone and against a server."""
    (x86_publish / "web.config").write_text(
        '<?xml version="1.0"?>\n<configuration><system.webServer><isapiFilters><filter name="F" '
        'path="%SystemDrive%\\filters\\f.dll" /></isapiFilters></system.webServer></configuration>\n')
    where = (["--server", str(DEMO / "contoso-iis10"), "--site", "Default Web Site/wconnect"] if server else
             ["--pool-arch", "x64"])
    code, out, err = _run_apart(str(x86_publish), *where, "--format", "json")
    assert code == 2, (out, err)
    [cov] = json.loads(out)["coverage"]["applications"]
    said = " ".join(cov["reasons"])
    assert "HTTP 500.19" in said and "once that web.config is corrected, run the same check-app command again" in said
    assert "scan again" not in out, said
    code, text, err = _run_apart(str(x86_publish), *where)
    assert "run the same check-app command again" in " ".join(text.split()) and "scan again" not in text, text


def test_iis_manager_warning_names_the_architecture_that_cannot_load_it(tmp_path: Path) -> None:
    """An x64 IL-only assembly against an arm64 target pool: IIS Manager on ARM64 Windows runs at arm64, and its
    warning said the x64 DLL is one "which a 64-bit process cannot load", contradicting itself. It names the
    architecture now."""
    pub = tmp_path / "publish"
    (pub / "bin").mkdir(parents=True)
    shutil.copyfile(fixture("managed_x64.dll"), pub / "bin" / "App.dll")
    doc = json.loads(_run(str(pub), "--pool-arch", "arm64", "--format", "json")[1])
    causes = [f["cause"] for f in doc["findings"] if f["rule"] == "iis-manager-32bit-assembly"]
    assert len(causes) == 1 and "which a 64-bit (arm64) process cannot load" in causes[0], causes


def test_a_refused_web_config_under_scan_and_fix_still_says_scan_again(tmp_path: Path) -> None:
    """The other side of the test above: coverage words what to run again from what was run (``Given.again``), so
    scan's coverage, and fix's reason quoting it (the pool flip not verified), say "scan again" as before, never
    check-app's words (fix says IIS refuses it, without the coverage's remedy)."""
    image = tmp_path / "img"
    shutil.copytree(DEMO / "contoso-iis10", image)
    (image / "inetpub/wwwroot/web.config").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<configuration>\n  <system.webServer>\n    <isapiFilters>\n'
        '      <add name="X" path="C:\\x.dll" />\n    </isapiFilters>\n  </system.webServer>\n</configuration>\n',
        encoding="utf-8")
    r = CliRunner().invoke(main, ["scan", str(image), "--format", "json", "--quiet"])
    code, out = r.exit_code, r.stdout
    assert code in (0, 1), out
    [cov] = [c for c in json.loads(out)["coverage"]["applications"] if c["application"] == "Default Web Site/"]
    assert "HTTP 500.19" in cov["reasons"][0] and cov["reasons"][0].endswith("once that web.config is corrected, scan again")
    assert "check-app" not in out
    r = CliRunner().invoke(main, ["fix", str(image), "--quiet"])
    flat = " ".join(r.stdout.split())
    # NOTE: fix's reason no longer quotes the coverage line (review13 R6): it says IIS refuses it, where, in one sentence
    assert r.exit_code == 0 and ("is not verified: IIS refuses the configuration of Default Web Site/ "
                                 "(inetpub/wwwroot/web.config:4, HTTP 500.19)") in flat, flat
    assert "check-app" not in flat, flat


def test_a_build_whose_web_config_adds_one_handler_twice_fails_the_gate_with_2(x86_publish: Path) -> None:
    """A real web.config whose ``WrapperShim`` handler is added twice (0x800700B7, "Cannot add duplicate collection
    entry", KB 942055): IIS answers every request of the application with 500.19, so the gate fails with 2 naming the
    file, line and key; it passed, the handler analysed as if IIS ran it."""
    real = (corpus_dir("iis-config") / "i-e-b__RawIsapi__web.config").read_text(encoding="utf-8")
    add = next(line for line in real.splitlines() if '<add name="WrapperShim"' in line)
    (x86_publish / "web.config").write_text(real.replace(add, f"{add}\n{add}"), encoding="utf-8")
    code, out, err = _run_apart(str(x86_publish), "--pool-arch", "x86", "--format", "json")
    assert code == 2, (out, err)
    [problem] = [p for p in json.loads(out)["problems"] if p.get("refused")]
    line = real[: real.index(add)].count("\n") + 2
    assert problem["line"] == line and "set to 'WrapperShim'" in problem["message"], problem
    assert f"web.config:{line}: HTTP 500.19 (0x800700B7" in err, err


def test_on_a_server_the_text_shows_the_applications_pool_not_the_servers_every_pool(x86_publish: Path) -> None:
    """audit10 A4: a pipeline's log got the server's whole pool table (506 rows on a shared-hosting server) before the
    one finding about the build's pool: the text shows the application's pool and counts the rest; --verbose and
    the JSON keep every pool."""
    server = ["--server", str(DEMO / "contoso-iis10"), "--site", "Catalog/"]
    code, out = _run(str(x86_publish), *server, "--no-color")
    assert code == 1
    rows = [line.split()[0] for line in out.splitlines()[out.splitlines().index(next(
        line for line in out.splitlines() if line.startswith("POOL "))) + 1:] if line and not line.startswith(" ")]
    assert rows[0] == "CatalogPool" and "DefaultAppPool" not in rows, rows
    assert "the pool this application runs in; 8 other pools of the server not shown" in out
    code, verbose = _run(str(x86_publish), *server, "--no-color", "--verbose")
    assert any(line.startswith("DefaultAppPool ") for line in verbose.splitlines())
    assert "other pools of the server not shown" not in verbose
    code, out = _run(str(x86_publish), *server, "--format", "json")
    assert len(json.loads(out)["pools"]) == 9


def test_alone_pool_advice_says_why_it_is_not_verified_in_the_builds_words(x86_publish: Path) -> None:
    """The advice "or a 32-bit target pool" is made of the server fix that flips the pool, which re-analysis could not
    verify here (the handler's ISAPI DLL on the server's C: is not in the build folder). The advice said "not
    verified" with no reason in JSON, HTML and SARIF (no note), and its reason, where kept, said "not in the image"
    of a build checked alone. Its note now gives the reason in the build's words."""
    (x86_publish / "web.config").write_text(
        '<?xml version="1.0"?>\n<configuration><system.webServer><handlers><add name="Ext" path="*.ext" verb="*" '
        'modules="IsapiModule" scriptProcessor="C:\\ext\\isapi.dll" resourceType="Unspecified" /></handlers>'
        '</system.webServer></configuration>\n')
    doc = json.loads(_run(str(x86_publish), "--pool-arch", "x64", "--format", "json")[1])
    advice = [fx for fx in doc["fixes"] if fx["label"] == "or a 32-bit target pool"]
    assert advice, doc
    assert all(fx["verified"] is False for fx in advice), advice
    assert all(fx["note"] and fx["note"].startswith("Not verified: ") for fx in advice), advice
    assert all("not in the image" not in fx["note"] and "P:\\" not in fx["note"] for fx in advice), advice
