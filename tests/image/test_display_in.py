"""ServerImage names an entry of a folder from the folder's name (issue 25): always as ``display`` names it.

``locate`` shows each file it finds by its folder's name worked out once plus the file's own name, instead of a
``Path.relative_to`` per file; here every entry of every folder of an image (drives, shares, a label root, the
folders holding them, a WOW64 Python's Sysnative, a folder outside the image) is named both ways.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from iisbitness.image.server_image import ServerImage


def _tree(root: Path) -> list[Path]:
    for rel in ("c/inetpub/site/bin", "c/Windows/Sysnative/inetsrv", "c/Windows/SysnativeX", "d/apps/bin",
                "shares/srv/share/bin", "outside/bin"):
        (root / rel).mkdir(parents=True)
        (root / rel / "a.dll").write_bytes(b"MZ")
    return [p for p in sorted(root.rglob("*")) if p.is_dir()] + [root, root.parent]


@pytest.mark.parametrize("label", [False, True])
@pytest.mark.parametrize("sysnative", [False, True])
def test_entry_named_as_display_names_it(tmp_path: Path, label: bool, sysnative: bool) -> None:
    folders = _tree(tmp_path)
    image = ServerImage(drives={"C": tmp_path / "c", "D": tmp_path / "d"}, shares=tmp_path / "shares",
                        sysnative=sysnative, label_root=tmp_path / "c" / "inetpub" if label else None)
    compared = 0
    for folder in folders:
        for name in [*(p.name for p in folder.iterdir()), "x.dll"]:
            host = folder / name
            assert image._display_in(folder, host) == image.display(host), host
            compared += 1
    assert compared > 30


def test_the_short_way_is_taken(tmp_path: Path) -> None:
    """Entries of an ordinary folder are named without display (the per-folder parts are remembered)."""
    _tree(tmp_path)
    image = ServerImage(drives={"C": tmp_path / "c"})
    folder = tmp_path / "c" / "inetpub" / "site" / "bin"
    assert image._display_in(folder, folder / "a.dll") == "inetpub/site/bin/a.dll"
    assert image._shown[folder] == ("", "inetpub/site/bin")
    assert image._display_in(tmp_path / "c", tmp_path / "c" / "a.dll") == "a.dll"
    assert image._display_parts(tmp_path) is None  # NOTE: holds the C: folder itself
