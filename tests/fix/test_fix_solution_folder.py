"""``fix`` on a Visual Studio solution folder: scan reads it as IIS Express's and offers fixes, which fix does not write
(docs/iisexpress.md). It said "no applicationHost.config in this server image; give the folder that stands for C:\\"
(user audit 2026-12-07); it says what the folder is and where the change is made."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from iisbitness.cli import main
from tests.iisexpress.solution import classic_solution


def test_fix_on_a_solution_folder_says_it_writes_no_solution(tmp_path: Path) -> None:
    sol = classic_solution(tmp_path / "sol", bin_files={"Lib64.dll": "managed_x64.dll"})
    scanned = CliRunner().invoke(main, ["scan", str(sol), "--quiet"])
    assert scanned.exit_code == 1 and "<Use64BitIISExpress>true</Use64BitIISExpress>" in scanned.stdout
    r = CliRunner().invoke(main, ["fix", str(sol), "--quiet"])
    assert r.exit_code == 2
    said = " ".join(r.stderr.split())
    assert "a Visual Studio solution or project folder (IIS Express): fix does not write a solution's files" in said
    assert "server image" not in said and "<Use64BitIISExpress>" in said
