"""IIS Express's appcmd.exe lines: the configuration they name, built from the fix's arguments in both shells, never
from another line's text (review round 11, findings 1-3)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.conftest import fixes_of
from tests.iisexpress.solution import CLASSIC, GANESH, classic_solution, corpus_file, run, scan_json
from tests.iisexpress.test_iisexpress import _machine_with

BINARY = "%IIS_BIN%\\cachuri.dll"
CONFIG = ".vs\\SampleKVApp\\config\\applicationhost.config"
PS_DOCUMENTS = "$([Environment]::GetFolderPath('MyDocuments'))"
"""How a PowerShell line names the Documents folder: Windows' answer, wherever it was moved."""


def _restrict(doc: dict[str, Any]) -> dict[str, Any]:
    """The preCondition fix of global-module-arch for cachuri.dll (x64) in the 32-bit iisexpress.exe."""
    [f] = [f for f in doc["findings"] if f["rule"] == "global-module-arch" and f["binary"] == BINARY]
    return next(x for x in fixes_of(doc, f) if x["label"] == 'preCondition="bitness64"')


def _solution(tmp_path: Path, module: str = "UriCacheModule", per_user: bool = False) -> tuple[Path, Path]:
    """The classic solution with cachuri.dll x64 in both IIS Express folders (global-module-arch in the 32-bit
    iisexpress.exe), its global module renamed ``module``; ``per_user``: read from the per-user configuration."""
    sol = classic_solution(tmp_path / "sol", use64="", layout="none" if per_user else "sln")
    machine = _machine_with(tmp_path, {"cachuri.dll": "module_x64.dll"}, {"cachuri.dll": "module_x64.dll"})
    if per_user:
        proj = sol / CLASSIC / f"{CLASSIC}.csproj"
        proj.write_text(proj.read_text(encoding="utf-8").replace(
            "<IISExpressSSLPort />",
            "<IISExpressSSLPort />\n    <UseGlobalApplicationHostFile>true</UseGlobalApplicationHostFile>"), encoding="utf-8")
        user = machine / "Users" / "dev" / "Documents" / "IISExpress" / "config"
        user.mkdir(parents=True)
        shutil.copyfile(corpus_file(GANESH), user / "applicationhost.config")
        config = user / "applicationhost.config"
    else:
        config = sol / ".vs" / CLASSIC / "config" / "applicationhost.config"
    text = config.read_text(encoding="utf-8")
    assert 'name="UriCacheModule"' in text
    config.write_text(text.replace('name="UriCacheModule"', f'name="{module}"'), encoding="utf-8")
    return sol, machine


def test_the_per_user_config_is_named_by_its_windows_path_not_the_image_s(tmp_path: Path) -> None:
    """UseGlobalApplicationHostFile: the lines named the file as the image holds it (Users\\dev\\..., relative) and
    said to run them from the solution folder; they name %USERPROFILE% / $env:USERPROFILE, with no such advice."""
    sol, machine = _solution(tmp_path, per_user=True)
    _, doc = scan_json(sol, "--drive", f"C={machine}")
    fix = _restrict(doc)
    assert len(fix["commands"]) == len(fix["powershell"]) == 1  # NOTE: <modules> does not list UriCacheModule
    assert all(c.endswith('/apphostconfig:"%USERPROFILE%\\Documents\\IISExpress\\config\\applicationhost.config"')
               for c in fix["commands"]), fix["commands"]
    assert all(c.endswith(f'"/apphostconfig:{PS_DOCUMENTS}\\IISExpress\\config\\applicationhost.config"')
               for c in fix["powershell"]), fix["powershell"]
    assert "solution folder" not in fix["note"] and "Users\\dev" not in " ".join(fix["commands"])


def test_the_per_user_config_follows_a_moved_documents_in_powershell_and_cmd_exe_says_its_assumption(
        tmp_path: Path) -> None:
    """%USERPROFILE%\\Documents is not the Documents folder when OneDrive's Known Folder Move or folder redirection
    moved it: the PowerShell line named $env:USERPROFILE\\Documents, and neither line said what it assumed. PowerShell
    now asks Windows for the Documents folder; cmd.exe, which has no variable for it, keeps %USERPROFILE%\\Documents and
    the note says so and points at the PowerShell line."""
    sol, machine = _solution(tmp_path, per_user=True)
    _, doc = scan_json(sol, "--drive", f"C={machine}")
    fix = _restrict(doc)
    assert all("$env:USERPROFILE" not in p and PS_DOCUMENTS in p for p in fix["powershell"]), fix["powershell"]
    note = " ".join(fix["note"].split())
    assert "The cmd.exe line takes Documents to be %USERPROFILE%\\Documents" in note, note
    assert "OneDrive (Known Folder Move) or folder redirection" in note and "cmd.exe has no variable" in note, note
    text = run(sol, "--drive", f"C={machine}", "--shell", "powershell").stdout
    assert "GetFolderPath('MyDocuments')" in text and "$env:USERPROFILE\\Documents" not in text


def test_a_per_user_config_not_found_says_a_moved_documents_is_not_followed(tmp_path: Path) -> None:
    sol, machine = _solution(tmp_path, per_user=True)
    shutil.rmtree(machine / "Users")
    res = run(sol, "--drive", f"C={machine}")
    message = " ".join(res.output.split())
    assert res.exit_code == 2, res.output
    assert "Users/*\\Documents only: a Documents folder OneDrive or folder redirection moved is not followed" in message
    assert "[Environment]::GetFolderPath('MyDocuments')" in message, message


def test_a_relative_config_option_is_run_from_the_folder_the_scan_ran_in(tmp_path: Path, monkeypatch: Any) -> None:
    """``--config sol/.vs/.../applicationhost.config`` given relative to the folder the scan ran in (not the solution
    folder): the note said "Run it from the solution folder", where the path names nothing. It says to run it from
    the folder the scan ran in, the path as given, relative to it."""
    sol, machine = _solution(tmp_path)
    monkeypatch.chdir(tmp_path)
    _, doc = scan_json(sol, "--config", "sol/.vs/SampleKVApp/config/applicationhost.config", "--drive", f"C={machine}")
    fix = _restrict(doc)
    given = "sol\\.vs\\SampleKVApp\\config\\applicationhost.config"
    assert all(c.endswith(f'/apphostconfig:"{given}"') for c in fix["commands"]), fix["commands"]
    assert all(p.endswith(f"'/apphostconfig:{given}'") for p in fix["powershell"]), fix["powershell"]
    note = " ".join(fix["note"].split())
    assert "solution folder" not in note, note
    assert (f"Run it from the folder the scan ran in: {given} is the --config path as given, relative to that "
            "folder") in note, note


def test_the_solution_s_config_is_named_relative_and_run_from_the_solution_folder(tmp_path: Path) -> None:
    sol, machine = _solution(tmp_path)
    _, doc = scan_json(sol, "--drive", f"C={machine}")
    fix = _restrict(doc)
    assert all(c.endswith(f'/apphostconfig:"{CONFIG}"') for c in fix["commands"])
    assert "Run it from the solution folder" in fix["note"]
    assert "<modules> lists no entry named 'UriCacheModule'" in fix["note"]


def test_a_module_named_like_a_pool_command_keeps_its_lines(tmp_path: Path) -> None:
    """A module named Uri.IISReset.Cache: its set config lines were dropped as if they restarted IIS (matched by
    text), leaving a verified fix with no command. The start lines are left out by the builder, not by text."""
    sol, machine = _solution(tmp_path, "Uri.IISReset.Cache")
    _, doc = scan_json(sol, "--drive", f"C={machine}")
    fix = _restrict(doc)
    assert fix["verified"] is True
    assert len(fix["commands"]) == len(fix["powershell"]) == 1
    assert all("[name='Uri.IISReset.Cache']" in c for c in fix["commands"]), fix["commands"]


def test_a_module_name_with_percent_pastes_in_powershell_single_quoted(tmp_path: Path) -> None:
    """A name with %: cmd.exe cannot quote it and says to use PowerShell; PowerShell was rebuilt from the cmd.exe
    line's text, found a rem line and said "see the cmd.exe line; use fix --apply" (fix refuses IIS Express): no
    form pasted, yet verified. Now PowerShell's line is built from the arguments, single-quoted."""
    sol, machine = _solution(tmp_path, "Uri%TEMP%Cache")
    _, doc = scan_json(sol, "--drive", f"C={machine}")
    fix = _restrict(doc)
    assert fix["commands"][0].startswith("rem Not written") and "fix --apply" not in fix["commands"][0]
    assert len(fix["powershell"]) == 1, fix["powershell"]
    assert all(p.startswith('& "$env:ProgramFiles\\IIS Express\\appcmd.exe" set config ')
               and "'/[name=''Uri%TEMP%Cache''].preCondition:bitness64'" in p for p in fix["powershell"])
    assert "fix --apply" not in run(sol, "--drive", f"C={machine}", "--shell", "powershell").stdout


def test_a_module_name_no_shell_can_pass_has_no_command_and_is_not_verified(tmp_path: Path) -> None:
    """A name with ' (appcmd's [name='...'] selector cannot hold it, in either shell): no pasteable line, so the fix
    is advice (edit the file by hand), not verified, and points at no fix --apply."""
    sol, machine = _solution(tmp_path, "Uri'Cache")
    _, doc = scan_json(sol, "--drive", f"C={machine}")
    fix = _restrict(doc)
    assert fix["commands"] == fix["powershell"] == [] and fix["verified"] is not True
    assert "by hand" in fix["note"] and "fix --apply" not in fix["note"] and CONFIG in fix["note"]


def test_a_security_module_taken_out_names_the_site_and_its_iisexpress_exe(tmp_path: Path) -> None:
    """The warning read "sites in iisexpress.exe of site 'X' then run without it"; the process is the site's own."""
    sol, machine = _solution(tmp_path, "VendorAuthenticationModule")
    text = " ".join(run(sol, "--drive", f"C={machine}").stdout.split())
    assert (f"VendorAuthenticationModule looks like a security module: site '{CLASSIC}' (its iisexpress.exe) then "
            "runs without it.") in text, text
    assert "sites in iisexpress.exe" not in text


def test_a_config_given_by_a_path_of_the_scanning_system_is_a_placeholder_to_replace(tmp_path: Path) -> None:
    """``--config /tmp/.../applicationhost.config`` off Windows: the lines named ``\\tmp\\...``, no Windows path; they
    name C:\\PATH\\TO\\applicationhost.config and the note says to replace it (a final read of round 11)."""
    sol, machine = _solution(tmp_path)
    config = sol / ".vs" / CLASSIC / "config" / "applicationhost.config"
    _, doc = scan_json(sol, "--config", str(config), "--drive", f"C={machine}")
    fix = _restrict(doc)
    assert all(c.endswith('/apphostconfig:"C:\\PATH\\TO\\applicationhost.config"') for c in fix["commands"]), fix
    assert "Replace C:\\PATH\\TO\\applicationhost.config with the Windows path" in fix["note"]
    assert "solution folder" not in fix["note"]
