"""The unified diff ``fix`` prints: headers ``patch -p1`` and ``git apply`` read as the file's relative name."""

from __future__ import annotations

import pytest

from iisbitness.fixes.plan import FileChange
from iisbitness.formats.fix_text import unified_diff

BEFORE = b'<configuration>\n  <add name="P" enable32BitAppOnWin64="false" />\n</configuration>\n'


@pytest.mark.parametrize(("shown", "name"), [
    ("Windows/System32/inetsrv/config/applicationHost.config", "Windows/System32/inetsrv/config/applicationHost.config"),
    ("//fs01/IISConfig/applicationHost.config", "fs01/IISConfig/applicationHost.config"),
    ("\\\\fs01\\IISConfig\\applicationHost.config", "fs01\\IISConfig\\applicationHost.config"),
])
def test_a_shared_configurations_file_is_not_an_absolute_path_in_the_headers(shown: str, name: str) -> None:
    """audit10 A6: a shared configuration's copy on \\\\fs01\\IISConfig gave ``--- a///fs01/IISConfig/...``, which
    ``patch -p1`` strips to ``//fs01/...``: an absolute path."""
    change = FileChange(shown, BEFORE, BEFORE.replace(b"false", b"true"), ("line 2",))
    head = unified_diff(change).splitlines()[:2]
    assert head == [f"--- a/{name}", f"+++ b/{name}"], head
