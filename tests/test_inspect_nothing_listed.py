"""``inspect`` with nothing to list says so: ``--only-mismatch`` when every file fits says how many were read and
that they load (not a bare header: "all fit" and "nothing read" looked alike), and a folder with no PE file says
that none was found (audit9 H5, H9); a reference assembly is listed (H6). Real fixtures; JSON unchanged (an empty
``files``)."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from iisbitness.cli import main

BIN = Path(__file__).parent / "fixtures" / "pe" / "bin"


def _text(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, ["inspect", *args], catch_exceptions=False)
    return res.exit_code, res.stdout


def test_only_mismatch_with_every_file_fitting_says_how_many_were_read(tmp_path: Path) -> None:
    for name in ("managed_anycpu.dll", "module_x64.dll", "managed_x64.dll"):
        shutil.copyfile(BIN / name, tmp_path / name)
    code, out = _text("--only-mismatch", "--arch", "x64", str(tmp_path))
    assert code == 0
    assert out.startswith("3 files read: every one loads in an x64 process") and "--deps" in out
    assert "Kind" not in out


def test_one_file_with_deps(tmp_path: Path) -> None:
    code, out = _text("--only-mismatch", "--arch", "x86", "--deps", str(BIN / "managed_anycpu.dll"))
    assert (code, out) == (0, "1 file read: it loads in an x86 process.\n")


def test_a_folder_without_pe_files_says_none_was_found(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("not a binary", encoding="utf-8")
    code, out = _text(str(tmp_path))
    assert code == 0 and out == f"No PE files (files starting with MZ) found in {tmp_path}.\n"


def test_a_mismatch_is_still_the_table(tmp_path: Path) -> None:
    code, out = _text("--only-mismatch", "--arch", "x64", str(BIN / "managed_x86.dll"))
    assert code == 1 and "managed_x86.dll" in out and "Kind" in out


def test_a_reference_assembly_is_listed_as_one_that_cannot_load(tmp_path: Path) -> None:
    """The table says a reference assembly loads "none at run time" (the CLR refuses it, 0x80131058): --only-mismatch
    lists it and exits 1, never "every one loads" (audit9 H6); JSON lists it too, with reference_assembly true."""
    shutil.copyfile(BIN / "managed_refasm.dll", tmp_path / "Contracts.dll")
    shutil.copyfile(BIN / "managed_anycpu.dll", tmp_path / "App.dll")
    code, out = _text("--only-mismatch", "--arch", "x64", str(tmp_path))
    assert code == 1 and "Contracts.dll" in out and "none at run time" in out and "App.dll" not in out
    res = CliRunner().invoke(main, ["inspect", "--only-mismatch", "--arch", "x64", "--format", "json", str(tmp_path)])
    assert res.exit_code == 1 and '"reference_assembly": true' in res.stdout
