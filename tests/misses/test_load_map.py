"""``scan --loads``: the whole map, text and JSON (issue 12 §3)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from click.testing import CliRunner

from iisbitness.cli import main
from tests.conftest import DEMO, REPO, apphost, make_image, site

SCHEMA = json.loads((REPO / "src/iisbitness/formats/schema/loads-1.json").read_text())
POOLS = ('<add name="P64" managedRuntimeVersion="v4.0" />'
         '<add name="P32" managedRuntimeVersion="v4.0" enable32BitAppOnWin64="true" />')
GM = ('<globalModules><add name="Own" image="%windir%\\System32\\inetsrv\\own.dll" />'
      '<add name="Only32" image="C:\\Vendor\\v32.dll" preCondition="bitness32" /></globalModules>'
      '<security><isapiCgiRestriction notListedIsapisAllowed="false" /></security>')
LOC = ('<handlers><add name="Ext" path="*.e" verb="*" modules="IsapiModule" scriptProcessor="C:\\Ext\\e.dll" />'
       "</handlers>")


def _image(tmp_path: Path) -> Path:
    return make_image(tmp_path, apphost(POOLS, site("A", 1, "P64", r"C:\a") + site("B", 2, "P32", r"C:\b"), GM, LOC),
                      {"Windows/System32/inetsrv/own.dll": "module_x64.dll",
                       "Windows/SysWOW64/inetsrv/cachuri.dll": "module_x86.dll",
                       "Vendor/v32.dll": "module_x86.dll", "Ext/e.dll": "isapi_ext_x64.dll",
                       "a/bin/App.dll": "managed_x86.dll"})


def _map(tmp_path: Path) -> dict[str, object]:
    res = CliRunner().invoke(main, ["scan", str(_image(tmp_path)), "--loads", "--format", "json", "--fail-on", "never"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    jsonschema.validate(data, SCHEMA)
    return data


def _verdicts(data: dict[str, object]) -> set[tuple[str | None, str, str]]:
    return {(e["pool"], e["name"], e["verdict"]) for e in data["loads"]}  # type: ignore[index, union-attr]


def test_every_verdict_with_its_reason(tmp_path: Path) -> None:
    got = _verdicts(_map(tmp_path))
    assert ("P64", "Own", "loads") in got
    assert ("P32", "Own", "missing") in got              # only in System32: SysWOW64\inetsrv holds other binaries
    assert ("P64", "Only32", "skipped") in got           # preCondition bitness32 in a 64-bit worker
    assert ("P32", "Only32", "loads") in got
    assert ("P64", "Ext", "skipped") in got              # isapiCgiRestriction: 404.2
    assert ("P64", "App.dll", "cannot-load") in got      # x86 assembly in a 64-bit pool
    assert (None, "App.dll", "cannot-load") in got       # and in IIS Manager (inetmgr.exe, x64)


def test_reasons_say_why(tmp_path: Path) -> None:
    data = _map(tmp_path)
    by = {(e["pool"], e["name"]): e for e in data["loads"]}  # type: ignore[union-attr, index]
    # a skipped handler is named with the application it is mapped in, not as a server-level entry
    assert (by[("P64", "Ext")]["site"], by[("P64", "Ext")]["application"]) == ("A", "/")
    assert "token 'bitness32' is false" in by[("P64", "Only32")]["reason"]
    assert "404.2" in by[("P64", "Ext")]["reason"]
    assert "Windows/SysWOW64/inetsrv" in by[("P32", "Own")]["reason"]
    assert by[("P64", "App.dll")]["config"]["file"] == "a/bin/App.dll"
    assert data["summary"]["missing"] == 1  # type: ignore[index]


def test_text_map_groups_by_process_and_never_cuts(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["scan", str(_image(tmp_path)), "--loads"])
    lines = res.output.splitlines()
    assert "w3wp.exe of pool 'P64' (x64, 64-bit)" in lines and "w3wp.exe of pool 'P32' (x86, 32-bit)" in lines
    assert "inetmgr.exe (x64, 64-bit)" in lines
    assert any("MISS" in ln and "own.dll" in ln for ln in lines)
    assert res.exit_code == 1  # the scan's findings still gate


def test_demo_images_map_validates(tmp_path: Path) -> None:
    for image in sorted(p for p in DEMO.iterdir() if p.is_dir()):
        res = CliRunner().invoke(main, ["scan", str(image), "--loads", "--format", "json", "--fail-on", "never"])
        data = json.loads(res.output)
        jsonschema.validate(data, SCHEMA)
        assert data["loads"] and data["summary"]["loads"] > 0


def test_loads_refuses_formats_it_does_not_have(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["scan", str(_image(tmp_path)), "--loads", "--format", "sarif"])
    assert res.exit_code == 2 and "--loads" in res.output


def test_bin_in_a_no_managed_code_pool_is_skipped_with_its_reason(tmp_path: Path) -> None:
    """A No Managed Code pool starts no CLR: its application's x86 bin assembly is no finding in the 64-bit
    worker, and the load map says so for that application instead of leaving it out."""
    img = make_image(tmp_path, apphost('<add name="NoClr" managedRuntimeVersion="" />', site("A", 1, "NoClr", r"C:\a")),
                     {"a/bin/App.dll": "managed_x86.dll"})
    res = CliRunner().invoke(main, ["scan", str(img), "--loads", "--format", "json", "--fail-on", "never"])
    data = json.loads(res.output)
    jsonschema.validate(data, SCHEMA)
    [entry] = [e for e in data["loads"] if e["pool"] == "NoClr"]
    assert (entry["name"], entry["kind"], entry["verdict"]) == ("App.dll", "bin-assembly", "skipped")
    assert (entry["site"], entry["application"], entry["binary_arch"]) == ("A", "/", ["x86"])
    assert "No Managed Code" in entry["reason"] and "never loaded" in entry["reason"]
    res = CliRunner().invoke(main, ["scan", str(img), "--format", "json"])
    assert [f["rule"] for f in json.loads(res.output)["findings"]] == ["iis-manager-32bit-assembly"]


def test_a_skipped_entry_names_its_kind_of_reason(tmp_path: Path) -> None:
    """The kind of reason a skipped entry has (a false preCondition, the restriction list, ...) was only words in
    ``reason``: a pipeline had to match English. Now ``skip_reason`` holds it, on skipped entries only, and the
    schema's list is the plan's :class:`SkipReason` values."""
    from iisbitness.loadplan.plan import SkipReason

    data = _map(tmp_path)
    by = {(e["pool"], e["name"]): e for e in data["loads"]}  # type: ignore[union-attr, index]
    assert by[("P64", "Only32")]["skip_reason"] == "precondition"
    assert by[("P64", "Ext")]["skip_reason"] == "restricted"
    assert all(("skip_reason" in e) == (e["verdict"] == "skipped") for e in data["loads"])  # type: ignore[union-attr, index]
    listed = SCHEMA["$defs"]["entry"]["properties"]["skip_reason"]["enum"]
    assert sorted(listed) == sorted(r.value for r in SkipReason)
