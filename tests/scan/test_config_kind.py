"""config/kind.py: what a file given as applicationHost.config really is (issue 12)."""

from __future__ import annotations

import pytest

from iisbitness.config.kind import ConfigKind, classify, require_apphost
from iisbitness.config.xml import parse_bytes
from iisbitness.errors import ConfigError

CASES = [
    (b"<configuration><system.applicationHost/></configuration>", ConfigKind.APPHOST),
    (b"<configuration><system.webServer><globalModules/></system.webServer></configuration>", ConfigKind.APPHOST),
    ((b'<configuration xmlns:xdt="http://schemas.microsoft.com/XML-Document-Transform"><system.webServer '
     b'xdt:Transform="InsertIfMissing"/></configuration>'), ConfigKind.XDT),
    (b'<configuration><configurationRedirection enabled="true" path="\\\\fs\\iis"/></configuration>',
     ConfigKind.REDIRECTION),
    (b"<configuration><moduleProviders/></configuration>", ConfigKind.ADMINISTRATION),
    (b"<configuration><system.web/></configuration>", ConfigKind.WEB_CONFIG),
    (b'<site name="S"/>', ConfigKind.FRAGMENT),
    (b"<configuration/>", ConfigKind.OTHER),
]


@pytest.mark.parametrize(("xml", "kind"), CASES, ids=[k.name for _, k in CASES])
def test_classify(xml: bytes, kind: ConfigKind) -> None:
    root = parse_bytes(xml, "f.config")
    assert classify(root)[0] is kind
    if kind is ConfigKind.APPHOST:
        require_apphost(root, "f.config")
    else:
        with pytest.raises(ConfigError) as e:
            require_apphost(root, "f.config")
        assert e.value.path == "f.config" and e.value.line == 1 and "not an applicationHost.config" in e.value.message


def test_redirection_names_the_shared_path() -> None:
    root = parse_bytes(b'<configuration><configurationRedirection enabled="true" path="\\\\fs\\iis"/></configuration>',
                       "redirection.config")
    with pytest.raises(ConfigError) as e:
        require_apphost(root, "redirection.config")
    assert "shared configuration is on" in e.value.message and "\\\\fs\\iis" in e.value.message
