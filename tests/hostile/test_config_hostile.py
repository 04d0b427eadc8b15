"""Hostile and broken configuration files (issue 7): refused or parsed safely, never followed.

Each attack is tried as applicationHost.config (nothing to analyse: exit 2 with a clear message)
and as a site's web.config (the scan goes on: a problem naming the file, the rest analysed).
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_helpers import APPHOST_REL, CONFIG_CORPUS, PE_BIN, apphost, healthy, make_image, run

from iisbitness.config.xml import MAX_CONFIG_BYTES, MAX_DEPTH

SECRET = "TOP-SECRET-7f3a9c"


@pytest.fixture
def listener() -> Iterator[tuple[str, list[bytes]]]:
    """A local TCP server; the list collects anything that connects (it must stay empty)."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)
    srv.settimeout(0.2)
    hits: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            hits.append(conn.recv(1024))
            conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.getsockname()[1]}/evil.dtd", hits
    time.sleep(0.3)
    stop.set()
    t.join(2)
    srv.close()


def _secret_file(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "passwd"
    secret.write_text(SECRET)
    return secret


def _attacks(tmp_path: Path, url: str) -> dict[str, str]:
    secret = _secret_file(tmp_path)
    body = "<system.webServer><handlers><add name='h' path='*.x' verb='*' modules='IsapiModule' scriptProcessor='&x;'/></handlers></system.webServer>"
    laughs = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    return {
        "billion-laughs": f'<?xml version="1.0"?><!DOCTYPE configuration [<!ENTITY l0 "lol">{laughs}<!ENTITY x "&l9;">]><configuration>{body}</configuration>',
        "xxe-local-file": f'<?xml version="1.0"?><!DOCTYPE configuration [<!ENTITY x SYSTEM "file://{secret}">]><configuration>{body}</configuration>',
        "xxe-url": f'<?xml version="1.0"?><!DOCTYPE configuration [<!ENTITY x SYSTEM "{url}">]><configuration>{body}</configuration>',
        "external-dtd": f'<?xml version="1.0"?><!DOCTYPE configuration SYSTEM "{url}"><configuration/>',
        "parameter-entity": f'<?xml version="1.0"?><!DOCTYPE configuration [<!ENTITY % p SYSTEM "{url}"> %p;]><configuration/>',
        "xinclude": f'<?xml version="1.0"?><configuration xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="file://{secret}" parse="text"/><xi:include href="{url}"/></configuration>',
        "deep-nesting": "<configuration>" + "<a>" * 100_000 + "</a>" * 100_000 + "</configuration>",
        "deep-nesting-under-libxml-limit": "<configuration>" + "<a>" * 300 + "</a>" * 300 + "</configuration>",
    }


ATTACKS = ["billion-laughs", "xxe-local-file", "xxe-url", "external-dtd", "parameter-entity", "xinclude",
           "deep-nesting", "deep-nesting-under-libxml-limit"]


@pytest.mark.parametrize("attack", ATTACKS)
def test_attack_as_apphost(tmp_path: Path, listener: tuple[str, list[bytes]], attack: str) -> None:
    url, hits = listener
    text = _attacks(tmp_path, url)[attack]
    image = make_image(tmp_path / "img", text)
    t0 = time.monotonic()
    r = run("scan", image, "--format", "json")
    assert time.monotonic() - t0 < 10
    assert SECRET not in r.output and SECRET not in (r.stderr or "")
    assert hits == [], f"the parser reached the network: {hits!r}"
    if attack == "xinclude":  # XInclude is never processed: the elements are simply unknown
        # NOTE: what is left is a <configuration> without <system.applicationHost>: named as not an
        # applicationHost.config (exit 2) instead of scanned as an empty server (issue 12)
        assert r.exit_code == 2 and "without <system.applicationHost>" in r.output, r.output
        return
    assert r.exit_code == 2, r.output
    assert "applicationHost.config" in r.output
    assert any(w in r.output for w in ("DTD", "DOCTYPE", "nest", "depth", "Excessive", "entity")), r.output


@pytest.mark.parametrize("attack", ATTACKS)
def test_attack_as_webconfig(tmp_path: Path, listener: tuple[str, list[bytes]], attack: str) -> None:
    url, hits = listener
    text = _attacks(tmp_path, url)[attack]
    image = make_image(tmp_path / "img")
    (image / "inetpub/main/web.config").write_text(text)
    r = run("scan", image, "--format", "json")
    assert r.exit_code == 1, r.output
    assert SECRET not in r.output
    assert hits == []
    report = json.loads(r.output)
    assert healthy(report)
    if attack != "xinclude":
        probs = [p for p in report["problems"] if p["file"].endswith("web.config")]
        assert probs, report["problems"]
        assert "left out" in probs[0]["message"]


def _sparse(path: Path, size: int, head: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(size)


def test_500mb_apphost_refused_without_reading(tmp_path: Path) -> None:
    image = make_image(tmp_path / "img")
    _sparse(image / APPHOST_REL, 500 << 20, apphost().encode())
    t0 = time.monotonic()
    r = run("scan", image)
    assert time.monotonic() - t0 < 5
    assert r.exit_code == 2
    assert f"{MAX_CONFIG_BYTES:,}-byte limit; not read" in r.output


def test_500mb_webconfig_left_out(tmp_path: Path) -> None:
    image = make_image(tmp_path / "img")
    _sparse(image / "inetpub/main/web.config", 500 << 20, b"<configuration>")
    t0 = time.monotonic()
    r = run("scan", image, "--format", "json")
    assert time.monotonic() - t0 < 5
    report = json.loads(r.output)
    assert healthy(report)
    assert any("limit; not read" in p["message"] and p["file"] == "inetpub/main/web.config" for p in report["problems"])


def test_depth_limit_is_enforced_by_us(tmp_path: Path) -> None:
    """Nesting just past the limit (ours and libxml2's are both 256) is refused with its line."""
    depth = MAX_DEPTH + 10
    text = "<configuration>\n" + "<a>\n" * depth + "</a>" * depth + "</configuration>"
    image = make_image(tmp_path / "img", text)
    r = run("scan", image)
    assert r.exit_code == 2
    assert f"deeper than {MAX_DEPTH}" in r.output or f"Excessive depth in document: {MAX_DEPTH}" in r.output
    assert f"applicationHost.config:{MAX_DEPTH + 1}:" in r.output  # the line where the limit was crossed


# -- broken files and odd encodings ----------------------------------------------------------------

def test_apphost_not_xml_corpus_exits_2(tmp_path: Path) -> None:
    src = CONFIG_CORPUS / "PrestaShopCorp__skrill__applicationhost.config"
    image = make_image(tmp_path / "img", src.read_bytes())
    r = run("scan", image)
    assert r.exit_code == 2
    assert "applicationHost.config" in r.output and "not well-formed XML" in r.output


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "utf-16-le-bom", "utf-16-be-bom"])
def test_notepad_encodings_apphost(tmp_path: Path, encoding: str) -> None:
    text = apphost().replace('encoding="UTF-8"', 'encoding="utf-16"' if "16" in encoding else 'encoding="utf-8"')
    if encoding == "utf-16-le-bom":
        data = b"\xff\xfe" + text.encode("utf-16-le")
    elif encoding == "utf-16-be-bom":
        data = b"\xfe\xff" + text.encode("utf-16-be")
    else:
        data = text.encode(encoding)
    image = make_image(tmp_path / "img", data)
    r = run("scan", image, "--format", "json")
    assert r.exit_code == 1, r.output
    assert healthy(json.loads(r.output))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig"])
def test_notepad_encodings_webconfig(tmp_path: Path, encoding: str) -> None:
    image = make_image(tmp_path / "img")
    wc = ('<?xml version="1.0"?>\n<configuration><system.webServer><handlers>'
          '<add name="Ext32" path="*.dll" verb="*" modules="IsapiModule" scriptProcessor="C:\\inetpub\\main\\ext.dll" />'
          '</handlers></system.webServer></configuration>')
    shutil.copy(PE_BIN / "isapi_ext_x86.dll", image / "inetpub/main/ext.dll")
    (image / "inetpub/main/web.config").write_bytes(wc.encode(encoding))
    r = run("scan", image, "--format", "json")
    report = json.loads(r.output)
    assert healthy(report)
    assert not [p for p in report["problems"] if "web.config" in p["file"]], report["problems"]
    handlers = [f for f in report["findings"] if f["rule"] == "isapi-extension-arch"]
    assert handlers, "the UTF-16/BOM web.config was not read"


@pytest.mark.parametrize("content", [
    b"this is not xml at all\r\n",
    b"\x00\x01\x02\xff\xfe garbage",
    b"",
    b'<?xml version="1.0" encoding="utf-8"?>\n<configuration>\n<system.webServer>\n<handlers>\n</configuration>',
    b'<?xml version="1.0" encoding="utf-8"?>\n<configuration attr="caf\xe9"/>',  # Latin-1 byte in a UTF-8 file
    b'<?xml version="1.0" encoding="x-no-such-encoding"?><configuration/>',
    b"<?xml version='1.0' encoding='utf-16'?><configuration/>",  # declaration lies
    b"\xef\xbb\xbf" + "<configuration/>".encode("utf-16-le"),  # UTF-8 BOM, UTF-16 body
])
def test_broken_webconfig_does_not_stop_scan(tmp_path: Path, content: bytes) -> None:
    image = make_image(tmp_path / "img")
    (image / "inetpub/main/web.config").write_bytes(content)
    r = run("scan", image, "--format", "json")
    assert r.exit_code == 1, r.output
    report = json.loads(r.output)
    assert healthy(report)
    probs = [p for p in report["problems"] if p["file"] == "inetpub/main/web.config"]
    assert len(probs) == 1 and probs[0]["message"].endswith("this web.config is left out"), report["problems"]
    assert probs[0]["line"] or content == b""


def test_broken_webconfig_reports_line(tmp_path: Path) -> None:
    image = make_image(tmp_path / "img")
    (image / "inetpub/main/web.config").write_text("<configuration>\n<system.webServer>\n<handlers>\n</configuration>\n")
    report = json.loads(run("scan", image, "--format", "json").output)
    probs = [p for p in report["problems"] if p["file"] == "inetpub/main/web.config"]
    assert probs and probs[0]["line"] in (3, 4), probs


@pytest.mark.parametrize("src", sorted(p.name for p in CONFIG_CORPUS.glob("*") if "web" in p.name.lower() and p.suffix == ".config"))
def test_every_corpus_webconfig_is_data(tmp_path: Path, src: str) -> None:
    """Each real web.config from the corpus dropped into a healthy server: the scan always finishes."""
    image = make_image(tmp_path / "img")
    (image / "inetpub/main/web.config").write_bytes((CONFIG_CORPUS / src).read_bytes())
    r = run("scan", image, "--format", "json")
    assert r.exit_code in (0, 1), r.output
    assert healthy(json.loads(r.output))


def test_location_naming_no_site(tmp_path: Path) -> None:
    extra = ('<location path="NoSuchSite/app"><system.webServer><handlers>'
             '<add name="Ghost" path="*.g" verb="*" modules="IsapiModule" scriptProcessor="C:\\ghost.dll"/>'
             "</handlers></system.webServer></location>")
    image = make_image(tmp_path / "img", apphost(extra=extra))
    r = run("scan", image, "--format", "json")
    assert r.exit_code == 1, r.output
    report = json.loads(r.output)
    assert healthy(report)
    assert "Ghost" not in json.dumps(report["findings"])
    probs = [p for p in report["problems"] if "NoSuchSite" in p["message"]]
    assert probs and probs[0]["file"].endswith("applicationHost.config") and probs[0]["line"], report["problems"]


@pytest.mark.parametrize(("physical", "why"), [
    ("\\\\fileserver\\share\\site", "UNC"),
    ("C:\\..\\..\\..\\etc", None),
    ("Q:\\sites\\x", "drive Q: is not mapped"),
    ("relative\\folder", "relative"),
    ("%NOPE%\\site", "%NOPE%"),
])
def test_site_physical_path_out_of_image(tmp_path: Path, physical: str, why: str | None) -> None:
    site = (f'<site name="Odd" id="9"><application path="/" applicationPool="Pool32">'
            f'<virtualDirectory path="/" physicalPath="{physical}" /></application></site>')
    image = make_image(tmp_path / "img", apphost(extra_sites=site))
    r = run("scan", image, "--format", "json")
    assert r.exit_code == 1, r.output
    report = json.loads(r.output)
    assert healthy(report)
    if why:
        probs = [p for p in report["problems"] if why in p["message"]]
        assert probs and probs[0]["line"], report["problems"]


@pytest.mark.parametrize("folder", ["%2F%", "50%off%sale", "%NOT_A_VARIABLE%"])
def test_literal_percent_text_in_a_physical_path_is_left_as_it_is(tmp_path: Path, folder: str) -> None:
    """IIS leaves an unknown %NAME% as it is (ExpandEnvironmentStrings): a folder named so literally is the site's
    folder, its bin is checked and its web.config read (issue 26), and a global module there is read too."""
    site = (f'<site name="Pct" id="9"><application path="/" applicationPool="Pool64">'
            f'<virtualDirectory path="/" physicalPath="C:\\inetpub\\{folder}" /></application></site>')
    module = f'<add name="PctModule" image="C:\\inetpub\\{folder}\\native\\mod.dll" />'
    image = make_image(tmp_path / "img", apphost(extra_sites=site, extra_modules=module))
    (image / "inetpub" / folder / "bin").mkdir(parents=True)
    (image / "inetpub" / folder / "native").mkdir()
    shutil.copy(PE_BIN / "managed_x86.dll", image / "inetpub" / folder / "bin" / "Pct.dll")
    shutil.copy(PE_BIN / "module_x64.dll", image / "inetpub" / folder / "native" / "mod.dll")
    # NOTE: below the root, so that the application still runs (a root web.config IIS refuses leaves nothing of it
    # loaded, and its bin unanalysed); the problem about it says the folder's web.config files were read
    (image / "inetpub" / folder / "sub").mkdir()
    (image / "inetpub" / folder / "sub" / "web.config").write_text(
        "<configuration><system.webServer><broken></configuration>")
    report = json.loads(run("scan", image, "--format", "json").output)
    assert healthy(report)
    assert any(f["rule"] == "managed-assembly-arch" and (f["binary"] or "").endswith("Pct.dll") and f["site"] == "Pct"
               for f in report["findings"]), report["findings"]
    assert any(p["file"] == f"inetpub/{folder}/sub/web.config" for p in report["problems"]), report["problems"]
    assert not any("is not known" in p["message"] or "not an environment variable" in json.dumps(p)
                   for p in report["problems"])
    assert not any("PctModule" in json.dumps(f) for f in report["findings"])  # read: a 64-bit module, no finding
