"""scan's command line: exit codes, messages that name the file, JSON stability."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from iisbitness.cli import main
from tests.conftest import apphost, make_image, site

OK = apphost('<add name="P" managedRuntimeVersion="v4.0" />', site("S", 1, "P", r"C:\s"))


def test_clean_server_exits_0(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["scan", str(make_image(tmp_path, OK))])
    assert res.exit_code == 0 and "0 findings from 0 causes (0 errors, 0 warnings)" in res.output


def test_config_not_xml_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    img = make_image(tmp_path, "<configuration>\n  <system.webServer>\n    <oops & >\n</configuration>\n")
    res = CliRunner().invoke(main, ["scan", str(img)])
    assert res.exit_code == 2
    assert "applicationHost.config:3" in res.output and "not well-formed XML" in res.output


def test_no_config_exits_2(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["scan", str(tmp_path)])
    assert res.exit_code == 2 and "applicationHost.config" in res.output


def test_broken_web_config_is_reported_and_rest_analysed(tmp_path: Path) -> None:
    text = apphost('<add name="P" managedRuntimeVersion="v4.0" />', site("S", 1, "P", r"C:\s") + site("T", 2, "P", r"C:\t"))
    img = make_image(tmp_path, text, {"s/web.config": "this is not xml", "t/bin/X.dll": "managed_x86.dll"})
    res = CliRunner().invoke(main, ["scan", str(img), "--format", "json"])
    doc = json.loads(res.output)
    assert res.exit_code == 1
    assert any(p["file"] == "s/web.config" and "not well-formed" in p["message"] for p in doc["problems"])
    assert any(f["rule"] == "managed-assembly-arch" for f in doc["findings"])


def test_json_is_stable(tmp_path: Path) -> None:
    img = make_image(tmp_path, OK, {"s/bin/X.dll": "managed_x86.dll"})
    a = CliRunner().invoke(main, ["scan", str(img), "--format", "json"]).output
    b = CliRunner().invoke(main, ["scan", str(img), "--format", "json"]).output
    assert a == b and json.loads(a)["schema"] == "iisbitness/scan/2"


def test_error_fails_the_default_gate(tmp_path: Path) -> None:
    img = make_image(tmp_path, OK, {"s/bin/X.dll": "managed_x86.dll"})
    # Managed x86 in a 64-bit pool is an error; the default --fail-on error exits 1.
    assert CliRunner().invoke(main, ["scan", str(img)]).exit_code == 1


def test_fail_on_warning(tmp_path: Path) -> None:
    """A warning-only server (an x86 native DLL in a 64-bit pool's bin that a bin assembly P/Invokes) passes the
    default gate and fails ``--fail-on warning``; ``--fail-on never`` never fails on findings."""
    img = make_image(tmp_path, OK, {"s/bin/nativelib.dll": "nativelib_x86.dll", "s/bin/ManagedApp.dll": "ManagedApp.dll"})
    res = CliRunner().invoke(main, ["scan", str(img), "--format", "json"])
    counts = json.loads(res.output)["summary"]
    assert counts["error"] == 0 and counts["warning"] >= 1
    assert res.exit_code == 0
    assert CliRunner().invoke(main, ["scan", str(img), "--fail-on", "warning"]).exit_code == 1
    assert CliRunner().invoke(main, ["scan", str(img), "--fail-on", "never"]).exit_code == 0


def test_drive_option_and_bad_value(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["scan", str(make_image(tmp_path, OK)), "--drive", "nonsense"])
    assert res.exit_code == 2 and "--drive" in res.output
