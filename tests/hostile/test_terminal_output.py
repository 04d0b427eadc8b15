"""Text meant for a terminal never carries a control sequence taken from the input (file names, event texts):
an OSC/CSI escape in a bin file's name would set the window title, recolour or hide output, or (OSC 52) write
the clipboard on some terminals. They are shown as escapes instead."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from iisbitness.cli import main
from iisbitness.formats.table import printable
from tests.conftest import apphost, make_image, site

EVIL = "\x1b]0;pwn\x07\x1b[31mX.dll"
SHOWN = "\\x1b]0;pwn\\x07\\x1b[31mX.dll"


def _image(tmp_path: Path) -> Path:
    return make_image(tmp_path, apphost('<add name="P" managedRuntimeVersion="v4.0" />', site("S", 1, "P", r"C:\s")),
                      {f"s/bin/{EVIL}": "managed_x86.dll"})


def test_printable() -> None:
    assert printable(EVIL) == SHOWN
    assert printable("a\u202eexe.dll") == "a\\u202eexe.dll"  # a right-to-left override would show 'alld.exe'
    assert printable("C:\\Program Files (x86)\\Ümlaut 中文\tx.dll") == "C:\\Program Files (x86)\\Ümlaut 中文\tx.dll"


def test_load_map_text(tmp_path: Path) -> None:
    out = CliRunner().invoke(main, ["scan", str(_image(tmp_path)), "-q", "--loads"]).output
    assert "\x1b" not in out and "\x07" not in out
    assert f"s/bin/{SHOWN}" in out


def test_inspect_table(tmp_path: Path) -> None:
    out = CliRunner().invoke(main, ["inspect", str(_image(tmp_path) / "s" / "bin")]).output
    assert "\x1b" not in out and "\x07" not in out
    assert out.splitlines()[-1].startswith(SHOWN)


def test_explain_text() -> None:
    out = CliRunner().invoke(main, ["explain", f"Unable to load DLL '{EVIL}': (Exception from HRESULT: 0x8007007E)"]).output
    assert "\x1b" not in out and "\x07" not in out
    assert f"Unable to load DLL '{SHOWN}'" in out


def test_scan_text(tmp_path: Path) -> None:
    """The scan report names the bin file (a managed-assembly-arch finding): escaped, in colour or not."""
    for args in ([], ["--color"], ["-v"]):
        out = CliRunner().invoke(main, ["scan", str(_image(tmp_path)), "-q", *args]).output
        assert "\x07" not in out and "\x1b]" not in out and "\x1b[31mX" not in out
        assert SHOWN in out


def test_a_file_name_byte_that_is_not_utf8_shows_as_that_byte() -> None:
    assert printable("bad\udcff\udcfe.dll") == "bad\\xff\\xfe.dll"  # os.fsdecode of b"bad\xff\xfe.dll" (PEP 383)
