"""Read a small JSON file that may be hostile (``launchSettings.json``, a ``--baseline`` file).

Only a regular file is opened (a FIFO would block the read, a device never end it), at most ``limit`` bytes
are read, the text must be UTF-8 (a BOM is allowed, as Visual Studio writes one), and every way the decoder
can fail (bad syntax, bytes that are not UTF-8, nesting deeper than Python's recursion allows, an integer of
more than 4,300 digits) is one :class:`~iisbitness.errors.ConfigError` naming the file and, where known, the
line. Never a traceback (issue 26).

``launchSettings.json`` is read as Visual Studio and ``dotnet run`` read it: ``//`` and ``/* */`` comments and a
comma before a closing ``}`` or ``]`` are allowed (dotnet/cli#11860 and dotnet/sdk#36744 made ``dotnet run``
accept them, as Visual Studio's reader does: dotnet/project-system#8168 treats their rejection as a bug), and
are blanked out, character for character, before the strict decoder reads the text, so lines stay where they
were.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from iisbitness.config.xml import read_bounded
from iisbitness.errors import ConfigError

_COMMENT_OR_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"?|//[^\n]*|/\*(?:.*?\*/|.*\Z)', re.DOTALL)
"""A string (kept; an unterminated one runs to its line's end), a line comment, or a block comment (an
unterminated one runs to the end): each alternative always matches, so the scan is linear."""
_TRAILING_COMMA_OR_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"?|,(?=\s*[}\]])')


def _blanked(m: re.Match[str]) -> str:
    text = m.group()
    return text if text.startswith('"') else re.sub(r"[^\r\n]", " ", text)


def _without_comments(text: str) -> str:
    """``text`` with its comments and trailing commas (before ``}`` or ``]``) turned into spaces, strings
    untouched: the same length and the same lines, strict JSON when the rest is."""
    text = _COMMENT_OR_STRING.sub(_blanked, text)
    return _TRAILING_COMMA_OR_STRING.sub(_blanked, text)


def read_json(path: Path, shown: str, limit: int, what: str, comments: bool = False) -> tuple[object, str]:
    """The JSON document in ``path``, and its text (for finding lines; with ``comments``, comments blanked).

    Args:
        path: the file. shown: the file as the user names it. limit: the largest file read, in bytes.
        what: what the file is, for messages ("launch settings", "baseline").
        comments: allow comments and trailing commas, as Visual Studio does in ``launchSettings.json``
            (module docstring).

    Raises:
        ConfigError: the file cannot be read, is not a regular file, is over ``limit``, or is not UTF-8 JSON.
    """
    data = read_bounded(path, shown, limit, what)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise ConfigError(shown, f"{what} is not UTF-8 text (byte {data[e.start]:#04x} at offset {e.start})",
                          line) from None
    if comments:
        text = _without_comments(text)
    try:
        return json.loads(text), text
    except json.JSONDecodeError as e:
        raise ConfigError(shown, f"{what} is not JSON: {e.msg}", e.lineno) from None
    except RecursionError:
        raise ConfigError(shown, f"{what} nests arrays or objects too deep to read; not read") from None
    except ValueError as e:  # NOTE: e.g. an integer longer than sys.get_int_max_str_digits()
        raise ConfigError(shown, f"{what} is not JSON that can be read: {e}") from None
