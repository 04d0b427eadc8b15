"""The first string argument of a custom-attribute blob (ECMA-335 II.23.3): prolog 0x0001, then a SerString
(compressed length, UTF-8 bytes; 0xFF is the null string). It names an assembly's target framework."""

from __future__ import annotations

import pytest

from iisbitness.pe.metadata import _first_string_arg


@pytest.mark.parametrize(("blob", "text"), [
    (b"\x01\x00\x1a.NETFramework,Version=v4.8\x00\x00", ".NETFramework,Version=v4.8"),
    (b"\x01\x00\x00\x00\x00", ""),
    (b"\x01\x00\x80\x03abc", "abc"),  # NOTE: a two-byte compressed length (0x80 0x03 = 3)
    (b"\x01\x00\xff\x00\x00", None),  # the null string
    (b"\x02\x00\x03abc", None),  # no prolog
    (b"\x01\x00\x05ab", None),  # cut short
    (b"\x01\x00\xc0\x00\x00\x03abc", None),  # a four-byte length: not a framework name
    (b"\x01\x00", None),
])
def test_first_string_arg(blob: bytes, text: str | None) -> None:
    assert _first_string_arg(blob) == text
