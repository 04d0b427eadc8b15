"""Every command `explain` prints pastes into the one shell its "Next steps" heading names, cmd.exe.

The knowledge base's commands are cmd.exe forms (%windir%, `iisbitness explain < error.txt`); two rules' checks
were a bare PowerShell `Get-ItemProperty IIS:\\AppPools\\POOL -Name enable32BitAppOnWin64`, printed among them
without a word of which shell: it is no command in cmd.exe, and in PowerShell the IIS: drive exists only after
`Import-Module WebAdministration`. A real paste ("incorrect format" of Oracle.DataAccess) printed it."""

from __future__ import annotations

import re
import subprocess
import sys

from iisbitness.explain.kb import KnowledgeBase
from iisbitness.formats.explain_text import NEXT_STEPS
from tests.conftest import REPO

# NOTE: a PowerShell cmdlet (Verb-Noun) or the IIS:\ provider drive at the start of a command, not behind powershell -c
_POWERSHELL_ONLY = re.compile(r"^(?:[A-Z][a-z]+-[A-Z][A-Za-z]+\b|.*\bIIS:\\)")


def test_every_command_of_the_knowledge_base_is_a_cmd_exe_form(kb: KnowledgeBase) -> None:
    steps = [s for e in kb.entries for s in (*e.read_next, *e.steps)]
    steps += [s for info in kb.rules.values() for s in info.checks]
    assert steps
    bare = [s.command for s in steps
            if not s.command.lower().startswith("powershell ") and _POWERSHELL_ONLY.match(s.command)]
    assert bare == []


def test_next_steps_say_their_shell_and_the_pool_check_is_appcmd() -> None:
    text = ("Could not load file or assembly 'Oracle.DataAccess' or one of its dependencies. An attempt was made to "
            "load a program with an incorrect format.")
    out = subprocess.run([sys.executable, "-m", "iisbitness", "explain", text], capture_output=True, text=True,
                         env={"PYTHONPATH": str(REPO / "src"), "COLUMNS": "200"}, check=True).stdout
    assert NEXT_STEPS.startswith("Next steps (commands for cmd.exe") and NEXT_STEPS in out
    assert '%windir%\\system32\\inetsrv\\appcmd list apppool "POOL" /text:enable32BitAppOnWin64' in out
    assert "Get-ItemProperty" not in out
