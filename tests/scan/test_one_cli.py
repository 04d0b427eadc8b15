"""One command line (issue 24): the same options mean the same on every command, each ``--help`` shows
examples, and a file given where a folder belongs is pointed at ``--config``."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest
from click.testing import CliRunner

from iisbitness.cli import EXIT_INTERRUPTED, main
from tests.conftest import DEMO, REPO, fixture

CONTOSO = DEMO / "contoso-iis10"
APPHOST = CONTOSO / "Windows" / "System32" / "inetsrv" / "config" / "applicationHost.config"
FIX_SCHEMA = json.loads((REPO / "src" / "iisbitness" / "formats" / "schema" / "fix-1.json").read_text())


def run(*args: str, columns: str = "100") -> tuple[int, str]:
    res = CliRunner().invoke(main, list(args), env={"COLUMNS": columns})
    return res.exit_code, res.output


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_help_shows_two_or_three_examples(command: str) -> None:
    code, out = run(command, "--help", columns="80")
    assert code == 0 and max(len(ln) for ln in out.splitlines()) <= 80, out  # NOTE: an 80-column terminal
    block = out.split("Examples:", 1)[1].split("\n\n", 1)[0]
    examples = [ln for ln in block.splitlines() if ln.strip().startswith("iisbitness ")]
    assert 2 <= len(examples) <= 3 and f"iisbitness {command}" in block, out


def test_scan_help_shows_a_zip_and_a_visual_studio_solution() -> None:
    """The two inputs besides an image folder that the help's first paragraph names: a zip from ``collect`` and a
    solution folder run by IIS Express; an example of each (none before)."""
    block = run("scan", "--help", columns="80")[1].split("Examples:", 1)[1].split("\n\n", 1)[0]
    assert any(".zip" in ln for ln in block.splitlines()), block
    assert any("--iisexpress" in ln for ln in block.splitlines()), block


def test_fix_select_is_scan_select_and_rule_is_its_old_name() -> None:
    _, selected = run("fix", str(CONTOSO), "--select", "global-module-arch")
    _, old = run("fix", str(CONTOSO), "--rule", "global-module-arch")
    # NOTE: the rules left out are named once, in the line saying their findings are not shown, and nowhere else
    hidden, plan = selected.split("not shown.\n", 1)
    assert "rules not selected (native-library-arch, managed-assembly-arch" in " ".join(hidden.split())
    assert selected == old and "global-module-arch" in plan and "managed-assembly-arch" not in plan
    assert "--rule" not in run("fix", "--help")[1]
    _, ignored = run("fix", str(CONTOSO), "--ignore", "global-module-arch,pool-arch-conflict")
    ignored_plan = ignored.split("not shown.\n", 1)[1]
    assert "global-module-arch, pool-arch-conflict: --select/--ignore" in " ".join(ignored.split())
    assert "fix #1 global-module-arch" not in ignored and "pool-arch-conflict" not in ignored_plan.split("Equivalent")[0]
    assert run("fix", str(CONTOSO), "--select", "no-such-rule")[0] == 2


def test_fix_json_shell_and_output_file(tmp_path: Path) -> None:
    code, out = run("fix", str(CONTOSO), "--select", "global-module-arch", "--format", "json")
    doc = json.loads(out)
    jsonschema.validate(doc, FIX_SCHEMA)
    assert code == 0 and doc["applied"] is False and doc["chosen"][0]["rule"] == "global-module-arch"
    assert doc["changes"][0]["diff"].startswith("--- a/Windows/System32/inetsrv/config/applicationHost.config")
    assert doc["powershell"] and not any("%windir%" in p for p in doc["powershell"])
    _, ps = run("fix", str(CONTOSO), "--shell", "powershell")
    commands = ps.split("Equivalent commands", 1)[1].split("\n\n", 1)[0]
    assert "Start-WebAppPool" in commands and not re.search(r"%\w+%", commands)
    target = tmp_path / "plan.txt"
    code, out = run("fix", str(CONTOSO), "-o", str(target))
    assert code == 0 and out == "" and "Dry run: nothing written" in target.read_text(encoding="utf-8")


def test_fix_apply_json_says_what_it_wrote(tmp_path: Path) -> None:
    img = tmp_path / "c"
    shutil.copytree(CONTOSO, img)
    code, out = run("fix", str(img), "--select", "global-module-arch", "--format", "json", "--apply")
    doc = json.loads(out)
    jsonschema.validate(doc, FIX_SCHEMA)
    assert doc["applied"] is True and doc["written"][0]["backup"].startswith("applicationHost.config.iisbitness-")
    assert doc["second_scan"]["targeted_left"] == 0 and code == 0


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_fix_apply_says_what_it_wrote_when_the_second_scan_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 fmt: str) -> None:
    """The files are written before the second scan: when it fails (exit 2), the output still names each file
    written and its backup, in JSON (``second_scan`` null) as in text."""
    import iisbitness.cli.fix as cli_fix
    from iisbitness.errors import IisBitnessError

    img = tmp_path / "c"
    shutil.copytree(CONTOSO, img)

    def fails(*_: object) -> None:
        raise IisBitnessError("applicationHost.config: cannot read")

    monkeypatch.setattr(cli_fix, "scan", fails)  # NOTE: only the second scan; the plan is made by plan_fix
    res = CliRunner().invoke(main, ["fix", str(img), "--select", "global-module-arch", "--format", fmt, "--apply"])
    assert res.exit_code == 2 and "the second scan failed" in res.stderr
    backups = list((img / "Windows/System32/inetsrv/config").glob("applicationHost.config.iisbitness-*"))
    assert len(backups) == 1
    if fmt == "json":
        doc = json.loads(res.stdout)
        jsonschema.validate(doc, FIX_SCHEMA)
        assert doc["applied"] is True and doc["second_scan"] is None
        assert doc["written"][0]["backup"] == backups[0].name
    else:
        assert f"backup {backups[0].name}" in res.stdout and "Second scan" not in res.stdout


def test_fix_config_reads_that_file(tmp_path: Path) -> None:
    cfg = tmp_path / "other.config"
    cfg.write_text(APPHOST.read_text(encoding="utf-8").replace(
        '<add name="FabrikamVendorAuth" image=', '<add name="FabrikamVendorAuth" preCondition="bitness32" image='),
        encoding="utf-8")
    _, plain = run("fix", str(CONTOSO), "--select", "global-module-arch")
    _, other = run("fix", str(CONTOSO), "--select", "global-module-arch", "--config", str(cfg))
    assert "FabrikamVendorAuth" in plain and "FabrikamVendorAuth" not in other


def test_inspect_format_text_and_table_alias() -> None:
    dll = str(fixture("managed_x86.dll"))
    code, text = run("inspect", dll, "--format", "text")
    assert code == 0 and "32BITREQ" in text
    assert run("inspect", dll, "--format", "table") == (code, text)
    assert "[text|json]" in run("inspect", "--help")[1]


def test_scan_of_a_file_points_at_config_and_config_alone_scans_it(tmp_path: Path) -> None:
    code, out = run("scan", str(APPHOST))
    assert code == 2 and f"iisbitness scan --config {APPHOST}" in out
    code, out = run("scan", "--config", str(APPHOST), "--format", "json", "--fail-on", "never")
    doc = json.loads(out)
    assert code == 0 and doc["server"]["config_only"] is True
    assert doc["server"]["image"] == f"{APPHOST} (configuration file only)"
    assert {f["rule"] for f in doc["findings"]} >= {"global-module-arch"}
    assert run("scan", "--config", str(tmp_path / "missing.config"))[0] == 2


def test_config_alone_gives_a_folder_to_copy_into_an_image_to_make(tmp_path: Path) -> None:
    """``scan --config FILE`` alone reads the file as an image without folders: every application is not checked,
    and the remedy said "copy C:\\inetpub\\wwwroot into the image as inetpub/wwwroot", an image the user has not
    got. It now says to make one, with the file as its applicationHost.config, in coverage and the load map."""
    code, out = run("scan", "--config", str(APPHOST), "--format", "json", "--fail-on", "never")
    assert code == 0, out
    want = ("copy C:\\inetpub\\wwwroot into a server image folder as inetpub/wwwroot, with this file in it as "
            "Windows/System32/inetsrv/config/applicationHost.config, and scan that folder (docs/images.md)")
    remedies = {a["application"]: a["remedy"] for a in json.loads(out)["coverage"]["applications"]}
    assert remedies["Default Web Site/"] == want, remedies
    code, out = run("scan", "--config", str(APPHOST), "--loads", "--format", "json", "--fail-on", "never")
    assert code == 0, out
    [entry] = [e for e in json.loads(out)["loads"] if e["kind"] == "application" and e["name"] == "Default Web Site/"]
    assert entry["reason"].endswith(f"; give: {want}"), entry["reason"]


def test_a_drive_that_is_not_a_folder_is_an_error(tmp_path: Path) -> None:
    code, out = run("scan", str(CONTOSO), "--drive", f"D={tmp_path / 'nonexistent'}")
    assert code == 2 and "is not a folder" in out
    assert run("fix", str(CONTOSO), "--drive", f"D={tmp_path / 'nonexistent'}")[0] == 2


def test_the_main_help_fits_80_columns() -> None:
    code, out = run("--help", columns="80")
    assert code == 0 and max(len(ln) for ln in out.splitlines()) <= 80, out
    assert all(f"iisbitness {c}" in out for c in main.commands)


def test_ctrl_c_exits_130_not_1(monkeypatch: pytest.MonkeyPatch) -> None:
    """A scan interrupted (Ctrl-C, a cancelled CI job's SIGINT) is no verdict: 130 with a line on stderr, where
    click's own "Aborted!" exit 1 reads as "findings" to a pipeline."""
    from iisbitness.cli import explain as explain_cli

    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(explain_cli, "load_kb", interrupted)
    result = CliRunner().invoke(main, ["explain", "HRESULT 8007000b"])
    assert result.exit_code == EXIT_INTERRUPTED == 130, result.output
    assert "iisbitness: interrupted" in result.stderr
