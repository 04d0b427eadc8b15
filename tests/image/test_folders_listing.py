"""image.folders: a folder's listing tells files, folders and links apart from the listing itself, and an entry
whose type cannot be known (a link loop: its stat fails) is neither a file nor a folder, the rest listed as usual."""

from __future__ import annotations

import os
from pathlib import Path

from iisbitness.image.folders import Folders


def test_a_link_loop_among_files_and_folders(tmp_path: Path) -> None:
    (tmp_path / "App.dll").write_bytes(b"MZ")
    (tmp_path / "x64").mkdir()
    os.symlink(tmp_path / "b", tmp_path / "a")
    os.symlink(tmp_path / "a", tmp_path / "b")
    os.symlink(tmp_path / "App.dll", tmp_path / "Link.dll")
    listing = Folders().listing(tmp_path)
    assert listing.error is None
    assert dict(listing.names) == {"app.dll": "App.dll", "x64": "x64", "a": "a", "b": "b", "link.dll": "Link.dll"}
    assert listing.folders == {"x64"}
    assert listing.links == {"a", "b", "Link.dll"}
    assert dict(listing.files) == {"app.dll": "App.dll", "link.dll": "Link.dll"}


def test_plain_files_only(tmp_path: Path) -> None:
    for name in ("B.dll", "a.dll"):
        (tmp_path / name).write_bytes(b"MZ")
    listing = Folders().listing(tmp_path)
    assert dict(listing.files) == {"a.dll": "a.dll", "b.dll": "B.dll"} and not listing.folders and not listing.links
