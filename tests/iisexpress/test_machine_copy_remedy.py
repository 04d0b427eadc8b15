"""An IIS Express scan's image is the solution folder and the developer machine's ``--drive C=`` folder: a folder of
C: missing from a partial copy of that machine is to be copied into the ``--drive C=`` folder, not "into the image"
(there is no image folder of the user's to copy into)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import fixture
from tests.iisexpress.solution import classic_solution, scan_json


def test_a_partial_copy_of_iis_express_folder_is_completed_in_the_drive_c_folder(tmp_path: Path) -> None:
    sol = classic_solution(tmp_path / "sol", use64="false")
    machine = tmp_path / "c"
    folder = machine / "Program Files (x86)" / "IIS Express"
    folder.mkdir(parents=True)
    (machine / "Windows" / "SysWOW64").mkdir(parents=True)
    shutil.copyfile(fixture("module_x86.dll"), folder / "cachuri.dll")
    _, doc = scan_json(sol, "--drive", f"C={machine}", "--fail-on", "never")
    [app] = doc["coverage"]["applications"]
    assert app["status"] == "partly-checked"
    assert app["remedy"] == ("copy C:\\Program Files (x86)\\IIS Express into the --drive C= folder as "
                             "Program Files (x86)/IIS Express"), app["remedy"]
