"""The command line imports a command's module only when that command runs (issue 25), and
``python -m iisbitness`` is the same command line as the ``iisbitness`` script."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from iisbitness.cli import COMMANDS, main
from tests.conftest import DEMO, PE_BIN, REPO

# NOTE: run in a fresh interpreter, then list the iisbitness modules it imported (stderr, last line)
_MODULES_AFTER = """
import atexit, json, sys
atexit.register(lambda: print(json.dumps(sorted(m for m in sys.modules if m.startswith("iisbitness"))),
                              file=sys.stderr))
from iisbitness.cli import main
main(sys.argv[1:], prog_name="iisbitness")
"""


def _python(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), COLUMNS="100")
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def _imported(*args: str) -> set[str]:
    res = _python("-c", _MODULES_AFTER, *args)
    return set(json.loads(res.stderr.splitlines()[-1]))


def test_inspect_imports_pe_reading_and_its_formats_only() -> None:
    """``inspect`` runs without the scan pipeline, the rules, the findings or any other command's module."""
    modules = _imported("inspect", str(PE_BIN), "--format", "json")
    assert {"iisbitness.cli.inspect", "iisbitness.pe.walk", "iisbitness.formats.inspect_json"} <= modules
    assert not {m for m in modules if (m.split(".") + [""])[1] in ("scan", "api", "rules", "findings", "loadplan", "explain",
                                                          "config", "report", "fixes")}, modules
    assert {m for m in modules if m.startswith("iisbitness.cli.")} <= {
        "iisbitness.cli.inspect", "iisbitness.cli.options", "iisbitness.cli.exitcodes"}


@pytest.mark.parametrize("fmt", ["json", "text", "sarif", "html"])
def test_scan_imports_the_format_it_writes_only(fmt: str) -> None:
    """A scan of a folder imports its one format, not the others, nor the event log reader (without --event-log),
    the collected zip's scan or ``inspect``'s walk (issue 25: the command's start-up)."""
    modules = _imported("scan", str(DEMO / "w2003-iis6"), "-q", "--format", fmt, "-o", os.devnull)
    formats = {"iisbitness.formats.scan_json", "iisbitness.formats.scan_text", "iisbitness.formats.scan_sarif",
               "iisbitness.formats.scan_html", "iisbitness.formats.loads_json", "iisbitness.formats.loads_text"}
    assert modules & formats == {f"iisbitness.formats.scan_{fmt}"}, modules & formats
    assert not modules & {"iisbitness.explain.observe", "iisbitness.scan.collect", "iisbitness.pe.walk"}, modules


def test_help_and_version_import_no_command() -> None:
    for args in (["--help"], ["--version"]):
        modules = _imported(*args)
        assert not {m for m in modules if m.startswith("iisbitness.cli.")} - {"iisbitness.cli.exitcodes"}, modules


@pytest.mark.parametrize("width", ["60", "80", "100", "200"])
def test_help_lists_each_command_as_click_would_from_the_command_itself(width: str) -> None:
    """The summaries kept in ``COMMANDS`` give the same ``--help`` as the commands themselves: a group holding
    every command, loaded, prints the same text (click shortens each command's help to fit ``width``)."""
    eager = click.Group("main", help=main.help, params=main.params, context_settings=main.context_settings)
    for name in main.list_commands(click.Context(main)):
        loaded = main.get_command(click.Context(main), name)
        assert loaded is not None and loaded.help is not None
        assert loaded.help.split("\n\n", 1)[0] == COMMANDS[name].summary
        eager.add_command(loaded, name)
    lazy = CliRunner().invoke(main, ["--help"], env={"COLUMNS": width}, prog_name="iisbitness")
    expected = CliRunner().invoke(eager, ["--help"], env={"COLUMNS": width}, prog_name="iisbitness")
    assert lazy.exit_code == 0 and lazy.output == expected.output
    assert "Commands:\n  check-app  " in lazy.output


def test_a_mistyped_command_is_still_named_with_its_nearest_match() -> None:
    res = CliRunner().invoke(main, ["inpsect", "x"], prog_name="iisbitness")
    assert res.exit_code == 2 and "No such command 'inpsect'. Did you mean 'inspect'?" in res.output
    assert main.get_command(click.Context(main), "no-such") is None


def test_python_m_iisbitness_is_the_iisbitness_command() -> None:
    res = _python("-m", "iisbitness", "inspect", str(PE_BIN), "--format", "json")
    same = CliRunner().invoke(main, ["inspect", str(PE_BIN), "--format", "json"], env={"COLUMNS": "100"})
    assert res.returncode == same.exit_code == 0 and res.stdout == same.stdout
    usage = _python("-m", "iisbitness", "inspect")
    assert usage.returncode == 2 and usage.stderr.startswith("Usage: iisbitness inspect [OPTIONS] PATHS...")
    assert _python("-m", "iisbitness", "--version").stdout == "iisbitness, version 0.1.0\n"
