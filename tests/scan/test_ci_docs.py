"""docs/ci.md: the GitHub Actions and Azure Pipelines examples parse as YAML, and every iisbitness
command in them (and in docs/fix.md, docs/sarif.md) names a real subcommand and real options."""

from __future__ import annotations

import re
import shlex

import pytest

from iisbitness.cli import main
from tests.conftest import REPO


def _commands(text: str) -> list[list[str]]:
    out = []
    for line in text.replace(">\n", "\n").splitlines():
        m = re.search(r"\biisbitness ((?:check-app|scan|fix|demo|inspect|explain)(?=[ \n]|$)[^>#|&`]*)", line)
        if m and "pip install" not in line:
            out.append(shlex.split(m.group(1).replace("$(", "").replace(")", "")))
    return out


def test_ci_installs_from_the_repository() -> None:
    """The package is not on a package index: ``pip install iisbitness`` would fail (issue 24)."""
    text = (REPO / "docs" / "ci.md").read_text()
    installs = re.findall(r"pip install (\S+)", text)
    assert installs and all(i.startswith('"git+') for i in installs), installs


def test_ci_yaml_parses() -> None:
    yaml = pytest.importorskip("yaml")
    blocks = re.findall(r"```yaml\n(.*?)```", (REPO / "docs" / "ci.md").read_text(), re.DOTALL)
    assert len(blocks) == 2
    for block in blocks:
        doc = yaml.safe_load(block)
        assert isinstance(doc, dict) and ("jobs" in doc or "steps" in doc)


@pytest.mark.parametrize("page", ["ci.md", "fix.md", "sarif.md"])
def test_documented_commands_exist(page: str) -> None:
    text = (REPO / "docs" / page).read_text()
    # folded YAML scalars continue a command on the next lines
    text = re.sub(r"\n\s+(--)", r" \1", text)
    commands = _commands(text)
    assert commands
    for args in commands:
        cmd = main.commands[args[0]]
        options = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)}
        for a in args[1:]:
            if a.startswith("--"):
                assert a.split("=")[0] in options, f"{page}: iisbitness {args[0]} has no {a}"
