"""``scan --format sarif -o FILE`` writes the log a result at a time (issue 25) into a temporary file beside FILE and
renames it over FILE only when the log is whole: a failure while rendering leaves FILE as it was (never a truncated,
invalid log that a pipeline would upload), and no temporary file behind."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from iisbitness.cli import main
from iisbitness.formats import scan_sarif
from tests.conftest import DEMO

IMAGE = str(DEMO / "contoso-iis10")


def _failing_after(n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make rendering raise at the ``n``-th result, after the run and ``n - 1`` results are written."""
    real = scan_sarif._result
    calls = [0]

    def result(*args: Any, **kwargs: Any) -> dict[str, Any]:
        calls[0] += 1
        if calls[0] >= n:
            raise RuntimeError("rendering failed")
        return real(*args, **kwargs)

    monkeypatch.setattr(scan_sarif, "_result", result)


@pytest.mark.parametrize("existing", [True, False])
def test_a_failure_while_rendering_leaves_the_file_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             existing: bool) -> None:
    out = tmp_path / "iisbitness.sarif"
    if existing:
        out.write_text("the previous log\n", encoding="utf-8")
    _failing_after(3, monkeypatch)
    res = CliRunner().invoke(main, ["scan", IMAGE, "--format", "sarif", "-o", str(out)])
    assert isinstance(res.exception, RuntimeError)
    assert [p.name for p in tmp_path.iterdir()] == ([out.name] if existing else [])  # NOTE: no temporary file left
    if existing:
        assert out.read_text(encoding="utf-8") == "the previous log\n"


def test_the_file_replaced_keeps_its_mode_and_a_link_is_followed(tmp_path: Path) -> None:
    """A whole log replaces the file: an existing file's permission bits kept; ``-o`` naming a symbolic link writes
    the file it names (the link stays a link)."""
    out = tmp_path / "logs" / "iisbitness.sarif"
    out.parent.mkdir()
    out.write_text("old\n", encoding="utf-8")
    os.chmod(out, 0o640)
    link = tmp_path / "link.sarif"
    link.symlink_to(out)
    res = CliRunner().invoke(main, ["scan", IMAGE, "--format", "sarif", "-o", str(link)])
    assert res.exit_code in (0, 1), res.output
    assert link.is_symlink() and stat.S_IMODE(out.stat().st_mode) == 0o640
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["version"] == "2.1.0" and doc["runs"][0]["results"]
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]
