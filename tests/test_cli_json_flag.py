"""``--json`` is ``--format json`` on every command that prints JSON (what a pipeline types first: it was "No such
option: --json", exit 2), and asking for two formats at once is a usage error, not a silent pick of one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from iisbitness.cli import main
from tests.conftest import DEMO, PE_BIN


def _build(tmp_path: Path) -> Path:
    pub = tmp_path / "publish"
    (pub / "bin").mkdir(parents=True)
    shutil.copyfile(PE_BIN / "managed_x86.dll", pub / "bin" / "App.dll")
    return pub


def _commands(tmp_path: Path) -> dict[str, list[str]]:
    demo = str(DEMO / "contoso-iis10")
    return {
        "scan": ["scan", demo],
        "demo": ["demo"],
        "check-app": ["check-app", str(_build(tmp_path)), "--pool-arch", "x64"],
        "inspect": ["inspect", str(PE_BIN / "managed_x86.dll"), str(PE_BIN / "managed_anycpu.dll")],
        "explain": ["explain", "HTTP Error 500.0 - %1 is not a valid Win32 application. 0x800700c1"],
        "fix": ["fix", demo],
    }


@pytest.mark.parametrize("command", ["scan", "demo", "check-app", "inspect", "explain", "fix"])
def test_json_is_format_json(tmp_path: Path, command: str) -> None:
    args = _commands(tmp_path)[command]
    runner = CliRunner()
    long = runner.invoke(main, [*args, "--format", "json"])
    short = runner.invoke(main, [*args, "--json"])
    assert short.exit_code == long.exit_code and short.exit_code != 2, short.output
    assert short.stdout == long.stdout
    assert short.stdout.lstrip().startswith(("{", "["))


@pytest.mark.parametrize("command", ["scan", "check-app", "inspect", "explain", "fix"])
def test_json_with_another_format_is_a_usage_error(tmp_path: Path, command: str) -> None:
    r = CliRunner().invoke(main, [*_commands(tmp_path)[command], "--json", "--format", "text"])
    assert r.exit_code == 2
    assert "--json and --format text ask for two formats" in r.output


def test_json_with_format_json_is_no_error(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, [*_commands(tmp_path)["inspect"], "--json", "--format", "json"])
    assert r.exit_code == 0, r.output
