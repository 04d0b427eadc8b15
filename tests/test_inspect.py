"""``iisbitness inspect``: API, formats and CLI on the real PE fixtures."""

from __future__ import annotations

import json
import os
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from click.testing import CliRunner

from iisbitness.arch import Arch
from iisbitness.cli import main
from iisbitness.formats import inspect_json, inspect_text
from iisbitness.pe.walk import cannot_load, inspect_paths

BIN = Path(__file__).parent / "fixtures" / "pe" / "bin"
SCHEMA = json.loads(resources.files("iisbitness").joinpath("formats/schema/inspect-1.json").read_text())


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(main, ["inspect", *args], catch_exceptions=False)


def _json(*args: str) -> tuple[int, dict[str, Any]]:
    result = _invoke(*args, "--format", "json")
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, SCHEMA)
    return result.exit_code, doc


def test_schema_is_valid() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_json_whole_fixture_folder() -> None:
    code, doc = _json(str(BIN))
    assert code == 0
    assert doc["schema"] == "iisbitness/inspect/1"
    paths = [f["path"] for f in doc["files"]]
    assert paths == sorted(paths)
    names = {Path(p).name for p in paths}
    # found by signature: MZ files count, the text file and the empty file are skipped in folders
    assert "not_pe.txt" not in names and "corrupt_empty.bin" not in names
    assert "corrupt_truncated.dll" in names and "ManagedApp.dll" in names
    by_name = {Path(f["path"]).name: f for f in doc["files"]}
    pref = by_name["managed_anycpu32bitpreferred.dll"]
    assert pref["cor_flags"] == "0x20003"
    assert pref["corflags"] == {"ILONLY": 1, "32BITREQ": 0, "32BITPREF": 1, "Signed": 0}
    assert pref["loadable_in"] == ["x86"]
    assert by_name["isapi_ext_x64.dll"]["machine"] == "0x8664"
    assert by_name["hybrid_arm64x_marker.dll"]["loadable_in"] == ["x64", "arm64"]
    assert by_name["managed_refasm.dll"]["assembly"]["reference_assembly"] is True
    assert by_name["corrupt_mz_only.dll"]["kind"] == "not-pe"


def test_json_is_deterministic() -> None:
    assert _invoke(str(BIN), "--format", "json").stdout == _invoke(str(BIN), "--format", "json").stdout


def test_explicit_non_pe_file_is_listed_with_reason() -> None:
    code, doc = _json(str(BIN / "not_pe.txt"), str(BIN / "corrupt_empty.bin"))
    assert code == 0
    assert [f["reason"] for f in doc["files"]] == ["not a valid PE: empty file", "not a valid PE: no MZ signature"]


@pytest.mark.parametrize(
    ("arch", "expected"),
    [
        ("x64", {"isapi_ext_x86.dll", "managed_x86.dll"}),
        ("x86", {"isapi_ext_x64.dll"}),
        ("arm64", {"isapi_ext_x86.dll", "isapi_ext_x64.dll", "managed_x86.dll"}),
    ],
)
def test_only_mismatch_exit_1(arch: str, expected: set[str]) -> None:
    files = [str(BIN / n) for n in ("isapi_ext_x86.dll", "isapi_ext_x64.dll", "managed_x86.dll", "managed_anycpu.dll")]
    code, doc = _json("--only-mismatch", "--arch", arch, *files)
    assert code == 1
    assert {Path(f["path"]).name for f in doc["files"]} == expected


def test_only_mismatch_exit_0_when_all_fit() -> None:
    code, doc = _json("--only-mismatch", "--arch", "x64", str(BIN / "managed_anycpu.dll"), str(BIN / "module_x64.dll"))
    assert (code, doc["files"]) == (0, [])


def test_only_mismatch_needs_arch() -> None:
    assert _invoke("--only-mismatch", str(BIN)).exit_code == 2


def test_unreadable_path_exit_2(tmp_path: Path) -> None:
    result = _invoke(str(tmp_path / "missing.dll"), str(BIN / "module_x64.dll"))
    assert result.exit_code == 2
    assert "missing.dll: cannot read" in result.stderr


def test_deps_chain_in_text_and_json(tmp_path: Path) -> None:
    app = tmp_path / "bin"
    app.mkdir()
    for name in ("ManagedApp.dll", "managed_x86.dll"):
        shutil.copy(BIN / name, app / name)
    result = _invoke("--deps", "--arch", "x64", str(app / "ManagedApp.dll"))
    assert "ManagedApp.dll → managed_x86.dll (x86)" in result.stdout
    code, doc = _json("--deps", "--arch", "x64", "--only-mismatch", str(app / "ManagedApp.dll"))
    assert code == 1
    assert doc["files"][0]["deps"][0]["text"] == "ManagedApp.dll → managed_x86.dll (x86)"


def test_search_dir_option(tmp_path: Path) -> None:
    top, sys32 = tmp_path / "mod", tmp_path / "System32"
    top.mkdir()
    sys32.mkdir()
    shutil.copy(BIN / "chain_top_x64.dll", top)
    shutil.copy(BIN / "chain_dep_x86.dll", sys32 / "chain_dep.dll")
    _, doc = _json("--deps", "--arch", "x64", "--search-dir", str(sys32), str(top / "chain_top_x64.dll"))
    assert doc["files"][0]["deps"][0]["text"] == "chain_top_x64.dll → chain_dep.dll (x86)"


def test_table_explains_32bitpref() -> None:
    result = _invoke(str(BIN / "managed_anycpu32bitpreferred.dll"), str(BIN / "managed_anycpu32bitpreferred.exe"))
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "On an EXE it picks the process" in text
    assert "a 64-bit process cannot load such a DLL" in text


def test_text_render_has_all_kinds() -> None:
    text = inspect_text.render(inspect_paths([BIN]))
    for label in ("native", ".NET IL-only", "not a PE", "ARM64X", "AnyCPU 32-bit preferred"):
        assert label in text


def test_symlink_loop_terminates(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    shutil.copy(BIN / "module_x64.dll", root / "sub" / "module_x64.dll")
    os.symlink(root, root / "sub" / "loop")
    files = inspect_paths([root])
    assert [f.path.name for f in files] == ["module_x64.dll"]


def test_cannot_load_and_document_api() -> None:
    files = inspect_paths([BIN / "managed_x86.dll"], metadata=False)
    assert cannot_load(files[0], Arch.X64) and not cannot_load(files[0], Arch.X86)
    doc = inspect_json.to_document(files)
    jsonschema.validate(doc, SCHEMA)
    assert "assembly" not in doc["files"][0]


def test_non_regular_binaries_are_listed_not_read(tmp_path: Path) -> None:
    """A FIFO, a dangling link named .dll/.exe in a folder, or a FIFO named explicitly: listed as not read,
    with why, never opened (a FIFO would block the read) and never left out in silence."""
    shutil.copy(BIN / "module_x64.dll", tmp_path / "good.dll")
    os.mkfifo(tmp_path / "pipe.dll")
    os.symlink(tmp_path / "gone.dll", tmp_path / "dangling.exe")
    os.mkfifo(tmp_path / "notes")  # NOTE: not named like a binary: not listed, as before
    code, doc = _json(str(tmp_path))
    assert code == 2
    by_name = {Path(f["path"]).name: f for f in doc["files"]}
    assert set(by_name) == {"good.dll", "pipe.dll", "dangling.exe"}
    assert by_name["pipe.dll"]["skipped"] == "fifo" and by_name["pipe.dll"]["kind"] == "unreadable"
    assert "not read: a FIFO" in by_name["pipe.dll"]["reason"]
    assert by_name["dangling.exe"]["skipped"] == "dangling-link"
    assert "skipped" not in by_name["good.dll"]
    text = _invoke(str(tmp_path))
    assert text.exit_code == 2
    assert "pipe.dll: not read: a FIFO (named pipe), not a regular file" in text.stdout
    assert any(line.split()[:3] == ["dangling.exe", "not", "read"] for line in text.stdout.splitlines())
    explicit = _invoke(str(tmp_path / "pipe.dll"))
    assert explicit.exit_code == 2 and "not read: a FIFO" in explicit.stderr


def test_nothing_skipped_output_unchanged() -> None:
    """Without a non-regular file, no entry carries ``skipped`` (byte-for-byte the same document)."""
    _, doc = _json(str(BIN))
    assert all("skipped" not in f for f in doc["files"])


@pytest.mark.parametrize("path", [BIN / "managed_refasm.dll", *sorted(Path("/usr/lib/mono/4.5-api").glob("System.W*.dll"))[:2]])
def test_reference_assembly_headline_says_it_never_loads(path: Path) -> None:
    """The Loads in cell of a reference assembly says it does not load at run time, not "x86, x64, arm64";
    JSON agrees (audit9 H6): ``loadable_in`` empty, what the header fits in ``header_loadable_in`` (additive), and
    ``assembly.reference_assembly`` true; an implementation assembly has no ``header_loadable_in``."""
    text = _invoke(str(path), str(BIN / "managed_anycpu.dll")).stdout
    rows = {Path(line.split()[0]).name: line for line in text.splitlines()
            if line.split() and line.split()[0].endswith(".dll")}
    assert "none at run time (reference assembly)" in rows[path.name]
    assert "x86, x64, arm64" not in rows[path.name]
    assert "x86, x64, arm64" in rows["managed_anycpu.dll"]
    _, doc = _json(str(path))
    assert doc["files"][0]["loadable_in"] == []
    assert doc["files"][0]["header_loadable_in"] == ["x86", "x64", "arm64"]
    assert doc["files"][0]["assembly"]["reference_assembly"] is True
    _, doc = _json(str(BIN / "managed_anycpu.dll"))
    assert doc["files"][0]["loadable_in"] == ["x86", "x64", "arm64"] and "header_loadable_in" not in doc["files"][0]


def test_help_gives_the_exit_codes_and_an_unreadable_path_is_named_as_every_command_does(tmp_path: Path) -> None:
    """Every other command's --help lists its exit codes, and its errors start "iisbitness: error:"."""
    helped = _invoke("--help")
    assert "Exit codes: 0" in helped.output and "1 with --only-mismatch" in helped.output
    missing = _invoke(str(tmp_path / "gone.dll"))
    assert missing.exit_code == 2 and missing.stderr.startswith(f"iisbitness: error: {tmp_path / 'gone.dll'}: ")
