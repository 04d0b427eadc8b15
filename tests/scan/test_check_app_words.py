"""check-app's words for a build folder checked alone (audit7 F8): not "the image", which the user never gave, and no
"listed at the end" over an empty list."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from iisbitness.cli import main
from tests.conftest import fixture

HANDLER = ('<?xml version="1.0" encoding="utf-8"?>\n<configuration>\n  <system.webServer>\n    <handlers>\n'
           '      <add name="PrintAgent" path="*.print" verb="*" modules="IsapiModule" scriptProcessor="{dll}" '
           'resourceType="Unspecified" />\n    </handlers>\n  </system.webServer>\n</configuration>\n')


def _note(tmp_path: Path, dll: str) -> str:
    pub = tmp_path / "pub1"
    pub.mkdir()
    shutil.copyfile(fixture("ManagedApp.dll"), pub / "PrintAgent.dll")
    (pub / "web.config").write_text(HANDLER.format(dll=dll), encoding="utf-8")
    res = CliRunner().invoke(main, ["check-app", str(pub), "--pool-arch", "x64", "--runtime", "none"])
    assert res.exit_code == 0, res.output
    return " ".join(res.output.split())


@pytest.mark.parametrize(("dll", "listed"), [("C:\\Program Files\\PrintAgent\\agent.dll", True),
                                             ("C:\\Windows\\System32\\inetsrv\\agent.dll", False)])
def test_the_config_only_note_speaks_of_the_build_folder(tmp_path: Path, dll: str, listed: bool) -> None:
    text = _note(tmp_path, dll)
    assert "The image" not in text and "configuration files only" not in text, text
    assert "note The build folder holds none of the binaries its configuration names" in text, text
    assert ("the rest are listed at the end" in text) is listed
    assert ("binary-missing not in the build folder" in text) is listed
