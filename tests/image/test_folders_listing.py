"""image.folders: a folder's listing tells files, folders and links apart from the listing itself, and an entry
whose type cannot be known (a link loop: its stat fails) is neither a file nor a folder, the rest listed as usual."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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


def test_real_paths_of_entries_are_their_folders_and_links_resolved(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """``Folders.real`` of an entry of a listed folder whose real path is known is that path and its name, without a
    ``realpath`` (issue 25: every site folder and bin); a link, a name in another case, an absent entry or a folder
    not listed are resolved as ``Path.resolve`` does (None for a loop)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    top = tmp_path / "link-to-top"
    (tmp_path / "top").mkdir()
    top.symlink_to(tmp_path / "top", target_is_directory=True)  # NOTE: the folder's own real path is elsewhere
    (top / "site").mkdir()
    (top / "site" / "bin").mkdir()
    (top / "App.dll").write_bytes(b"MZ")
    (top / "out").symlink_to(outside, target_is_directory=True)
    (top / "loop").symlink_to(top / "loop")
    entries = ["site", "App.dll", "out", "loop", "APP.DLL", "absent", "site/bin"]
    expected: dict[str, Path | None] = {}
    for name in entries:
        try:
            expected[name] = (top / name).resolve()
        except (OSError, RuntimeError):
            expected[name] = None
    resolved: list[Path] = []
    resolve = Path.resolve
    monkeypatch.setattr(Path, "resolve", lambda self, *a, **k: resolved.append(self) or resolve(self, *a, **k))
    folders = Folders()
    assert folders.real(top) == tmp_path / "top"
    folders.listing(top)
    folders.listing(top / "site")
    for name in entries:
        assert folders.real(top / name) == expected[name], name
    assert top / "site" not in resolved and top / "App.dll" not in resolved and top / "site/bin" not in resolved
    assert {top / n for n in ("out", "loop", "APP.DLL", "absent")} <= set(resolved), "links and others: resolved"
