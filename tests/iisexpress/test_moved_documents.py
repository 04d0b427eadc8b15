"""The per-user IIS Express configuration (``UseGlobalApplicationHostFile``) below a Documents folder that was moved
(OneDrive's Known Folder Move, folder redirection): live, Windows names the folder (SHGetKnownFolderPath, in
image/windows.py) and the offline look-up reads below it; these tests give that path to the offline code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from iisbitness.config.iisexpress import live_documents, per_user_config
from iisbitness.image.server_image import ServerImage
from tests.iisexpress.solution import GANESH, corpus_file


def _machine(tmp_path: Path) -> tuple[Path, Path]:
    """C: with a profile whose Documents holds no IIS Express folder, D: with the moved Documents holding the file."""
    c, d = tmp_path / "c", tmp_path / "d"
    (c / "Users" / "dev" / "Documents").mkdir(parents=True)
    moved = d / "OneDrive - Contoso" / "Documents" / "IISExpress" / "config"
    moved.mkdir(parents=True)
    shutil.copyfile(corpus_file(GANESH), moved / "applicationhost.config")
    return c, d


def test_the_per_user_config_is_read_below_the_documents_folder_given(tmp_path: Path) -> None:
    c, d = _machine(tmp_path)
    img = ServerImage.offline(c, {"D": d})
    found = per_user_config(img, "D:\\OneDrive - Contoso\\Documents")
    assert found is not None
    assert found[0] == d / "OneDrive - Contoso" / "Documents" / "IISExpress" / "config" / "applicationhost.config"
    # NOTE: without the known folder, the profile's own Documents is all there is: the moved one is missed
    assert per_user_config(img, None) is None


def test_a_documents_folder_given_that_holds_no_config_is_not_replaced_by_another_profile_s(tmp_path: Path) -> None:
    c, d = _machine(tmp_path)
    other = c / "Users" / "other" / "Documents" / "IISExpress" / "config"
    other.mkdir(parents=True)
    shutil.copyfile(corpus_file(GANESH), other / "applicationhost.config")
    img = ServerImage.offline(c, {"D": d})
    assert per_user_config(img, "C:\\Users\\dev\\Documents") is None
    assert per_user_config(img, None) is not None  # NOTE: offline, the only profile holding one


def test_live_documents_falls_back_to_the_profile_where_windows_names_none(monkeypatch: pytest.MonkeyPatch) -> None:
    from iisbitness.image import windows

    if windows.documents_folder() is not None:
        pytest.skip("Windows names the Documents folder here")
    monkeypatch.setenv("USERPROFILE", "C:\\Users\\dev")
    assert live_documents() == "C:\\Users\\dev\\Documents"
    monkeypatch.delenv("USERPROFILE")
    assert live_documents() is None
