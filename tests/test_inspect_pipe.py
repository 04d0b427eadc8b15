"""``inspect`` into a pipe or file: aligned columns, one file a line, nothing folded or cut (issue 14)."""

from __future__ import annotations

from click.testing import CliRunner

from iisbitness.cli import main
from tests.conftest import PE_BIN


def test_piped_table_is_one_line_per_file() -> None:
    res = CliRunner().invoke(main, ["inspect", str(PE_BIN)], env={"COLUMNS": "80"})
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("File "))
    cols = [lines[header].index(c) for c in ("Kind", "Target", "Loads in", "Machine", "PE ", "CLR", "CorFlags")]
    files = sorted(p.name for p in PE_BIN.rglob("*") if p.is_file())
    rows = [line for line in lines[header + 1:] if line.split(" ", 1)[0] in files]
    shown = {r.split(" ", 1)[0] for r in rows}
    assert len(rows) == len(shown) >= 20  # each file once, on its own line
    for row in rows:  # the columns line up: every cell starts where its header does (Kind is never empty)
        assert row[cols[0] - 2:cols[0]] == "  " and row[cols[0]] != " ", row
        assert all(row[c - 2:c] == "  " for c in cols if c < len(row)), row
    assert "│" not in res.output and "┃" not in res.output  # no box drawing, no folded cells
