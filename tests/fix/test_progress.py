"""`fix` shows where it is on stderr when that is a terminal, as `scan` does, and `--quiet` turns it off.

Before, `fix` printed nothing until it was done: on a server of 300 pools, each application with an x86 assembly
and a native x86 DLL in its bin (benchmarks/bench_pools.py --shape bin), the scan took 29 s and `fix` 11 minutes
(verifying 300 fixes together), all of it silent; and `fix` had no `--quiet` that scan, collect and demo have.
Real input: a copy of the demo server; stderr is a pseudo-terminal, so the progress display is on."""

from __future__ import annotations

import os
import pty
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import DEMO, REPO


def _fix(image: Path, *args: str) -> tuple[int, str, str]:
    """Run ``iisbitness fix IMAGE ARGS`` with stderr on a pseudo-terminal: (exit code, stdout, stderr)."""
    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "COLUMNS": "200"}
    proc = subprocess.Popen([sys.executable, "-m", "iisbitness", "fix", str(image), *args], stdout=subprocess.PIPE,
                            stderr=slave, env=env)
    os.close(slave)
    err = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # NOTE: Linux raises EIO once the child closed the terminal
            break
        if not chunk:
            break
        err += chunk
    out = proc.stdout.read() if proc.stdout else b""
    os.close(master)
    return proc.wait(), out.decode(), err.decode(errors="replace")


def test_fix_shows_its_stages_on_a_terminal_and_quiet_turns_them_off(tmp_path: Path) -> None:
    image = tmp_path / "contoso"
    shutil.copytree(DEMO / "contoso-iis10", image)
    code, out, err = _fix(image)
    assert code == 0 and "Dry run: nothing written." in out
    # NOTE: the display is redrawn ten times a second; the last stage is drawn when it stops, whatever the speed
    assert "planning the file changes" in err and re.search(r"[1-9][0-9]* binaries read", err)
    code, quiet_out, quiet_err = _fix(image, "--quiet")
    assert (code, quiet_out, quiet_err) == (0, out, "")


def test_fix_apply_shows_the_second_scan(tmp_path: Path) -> None:
    image = tmp_path / "contoso"
    shutil.copytree(DEMO / "contoso-iis10", image)
    code, out, err = _fix(image, "--apply")
    assert code == 0 and "every targeted finding is gone" in out
    assert "second scan: " in err
