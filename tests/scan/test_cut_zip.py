"""A zip cut short in transit (the first part of `iisbitness collect`'s web01.zip) is named as such, exit 2.

Before: "web01.zip: not a folder (...) nor a zip made by iisbitness collect", of the very zip collect made; the
support engineer was not told that the copy was incomplete. Real input: the zip `collect` writes of the demo server,
its first 5,000 bytes."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from iisbitness.cli import main
from tests.conftest import DEMO


def test_a_zip_cut_short_is_said_to_be_cut_short(tmp_path: Path) -> None:
    whole = tmp_path / "web01.zip"
    r = CliRunner().invoke(main, ["collect", str(DEMO / "contoso-iis10"), "-o", str(whole), "--quiet"])
    assert r.exit_code == 0, r.output
    cut = tmp_path / "web 01 (copy).zip"
    cut.write_bytes(whole.read_bytes()[:5000])
    for command in ("scan", "fix"):
        r = CliRunner().invoke(main, [command, str(cut)])
        assert r.exit_code == 2
        assert r.stderr.startswith(f"iisbitness: error: {cut}: a zip that cannot be read: cut short or damaged"), r.stderr
        assert "Traceback" not in r.output
    r = CliRunner().invoke(main, ["scan", str(whole), "--quiet"])  # NOTE: the whole zip still scans
    assert r.exit_code == 1 and "16 findings" in r.stdout
    r = CliRunner().invoke(main, ["fix", str(whole)])  # NOTE: and fix still says to unzip a whole one
    assert r.exit_code == 2 and "fix writes to a folder: unzip it and give the folder" in r.stderr
