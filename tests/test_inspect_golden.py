"""``iisbitness inspect`` of the real PE fixtures, pinned by golden files, and what keeps it fast (issue 25).

The goldens are the output of ``inspect tests/fixtures/pe`` (run from the repository's root, so paths are relative)
as main printed it before the issue 25 ``inspect`` work: text, JSON, ``--deps`` and ``--only-mismatch``, byte for
byte. They change only on request: ``UPDATE_GOLDENS=1 pytest tests/test_inspect_golden.py``, and the diff is
reviewed in the commit.
"""

from __future__ import annotations

import gc
import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from iisbitness.cli import main
from tests.conftest import PE_BIN, REPO

GOLDEN = REPO / "tests" / "golden" / "inspect"
CASES = {
    "fixtures.txt": [],
    "fixtures.json": ["--format", "json"],
    "fixtures.deps.txt": ["--deps"],
    "fixtures.deps.json": ["--deps", "--format", "json"],
    "fixtures.x64-mismatch.txt": ["--arch", "x64", "--only-mismatch"],
}


def _inspect(monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    monkeypatch.chdir(REPO)
    return CliRunner().invoke(main, ["inspect", "tests/fixtures/pe", *args], catch_exceptions=False)


@pytest.mark.parametrize("name", sorted(CASES))
def test_output_matches_golden(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _inspect(monkeypatch, *CASES[name])
    assert result.exit_code == (1 if "--only-mismatch" in CASES[name] else 0)
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDENS") == "1":
        path.write_text(result.stdout, encoding="utf-8")
    assert path.exists(), f"{path} missing: run UPDATE_GOLDENS=1 pytest {__file__}"
    assert result.stdout == path.read_text(encoding="utf-8")


def test_no_collection_while_reading_and_collection_back_on_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cyclic collector makes no pass while the files are read and written out, and is on after, with its
    thresholds as they were."""
    passes: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            passes.append(info["generation"])

    thresholds = gc.get_threshold()
    main.get_command(None, "inspect")  # type: ignore[arg-type]  # NOTE: its import's own passes are not counted
    gc.collect()
    gc.callbacks.append(count)
    try:
        result = _inspect(monkeypatch, "--format", "json")
    finally:
        gc.callbacks.remove(count)
    assert result.exit_code == 0
    assert passes == []
    assert gc.isenabled() and gc.get_threshold() == thresholds and gc.get_freeze_count() == 0


def test_collection_left_off_when_the_host_turned_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    gc.disable()
    try:
        assert _inspect(monkeypatch).exit_code == 0
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_strip_table_is_richs() -> None:
    """What :func:`iisbitness.formats.inspect_text.plain` strips without rich is what rich strips."""
    from rich.control import strip_control_codes

    from iisbitness.formats.inspect_text import STRIP_CONTROL

    every = "".join(map(chr, range(0x3000)))
    assert every.translate(STRIP_CONTROL) == strip_control_codes(every)


def test_fixture_folder_has_what_the_goldens_should_cover() -> None:
    text = (GOLDEN / "fixtures.txt").read_text(encoding="utf-8")
    for what in ("not a PE", "none at run time (reference assembly)", "32BITPREF", "ARM64X", "Notes:"):
        assert what in text, what
    assert Path(REPO / "tests" / "fixtures" / "pe").is_dir()


def test_text_into_a_pipe_imports_neither_rich_nor_the_json_format() -> None:
    """``inspect DIR > file`` imports no module of rich and not the JSON format; ``--format json`` not the text one."""
    from tests.test_cli_lazy import _MODULES_AFTER, _python

    code = _MODULES_AFTER.replace('m.startswith("iisbitness")', 'm.startswith(("iisbitness", "rich"))')
    text = set(json.loads(_python("-c", code, "inspect", str(PE_BIN)).stderr.splitlines()[-1]))
    assert "iisbitness.formats.inspect_text" in text
    assert not {m for m in text if m.split(".")[0] == "rich"} and "iisbitness.formats.inspect_json" not in text, text
    as_json = set(json.loads(_python("-c", code, "inspect", str(PE_BIN), "--format", "json").stderr.splitlines()[-1]))
    assert "iisbitness.formats.inspect_json" in as_json and "iisbitness.formats.inspect_text" not in as_json
