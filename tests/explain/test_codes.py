"""Error numbers in every spelling, and no false positives from bare numbers."""

from __future__ import annotations

import re
import tracemalloc

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iisbitness.explain.codes import (
    CodeForm,
    Confidence,
    code_from_event_binary,
    find_codes,
    format_code,
    has_code,
    hresult_from_win32,
)
from iisbitness.explain.kb import CODE_CUE, KnowledgeBase
from iisbitness.explain.match import cues_in, match_text
from iisbitness.explain.spans import haystack


@pytest.mark.parametrize(("text", "code", "form"), [
    ("0x800700C1", 0x800700C1, CodeForm.HEX),
    ("0x800700c1", 0x800700C1, CodeForm.HEX),
    ("hr=800700C1", 0x800700C1, CodeForm.HEX),
    ("-2147024703", 0x800700C1, CodeForm.SIGNED_DECIMAL),
    ("2147942593", 0x800700C1, CodeForm.DECIMAL),
    ("Data: c1 00 00 00", 0x800700C1, CodeForm.DATA_BYTES),
    ("<Binary>02000780</Binary>", 0x80070002, CodeForm.DATA_BYTES),
    ("System error 193", 0x800700C1, CodeForm.WIN32),
    ("error 0xC1", 0x800700C1, CodeForm.WIN32),
    ("Win32 error 11", 0x8007000B, CodeForm.WIN32),
    ("HRESULT 8007041d", 0x8007041D, CodeForm.HEX),
    ("-2147024882", 0x8007000E, CodeForm.SIGNED_DECIMAL),
    ("0xC000007B", 0xC000007B, CodeForm.HEX),
    ("#define E_BADFORMAT 0x800700C1L", 0x800700C1, CodeForm.HEX),
    ("hr = 0x8007000bUL", 0x8007000B, CodeForm.HEX),
    ("Data:\n0000: 000000c1", 0x800700C1, CodeForm.DATA_WORDS),
    ("Handleriisnode Error Code0x8007000d", 0x8007000D, CodeForm.HEX),
    ("Error Code\t0x00000005", 0x80070005, CodeForm.WIN32),
])
def test_spellings(text: str, code: int, form: CodeForm) -> None:
    assert any(h.code == code and h.form == form for h in find_codes(text)), find_codes(text)


def test_win32_to_hresult() -> None:
    assert hresult_from_win32(193) == 0x800700C1
    assert hresult_from_win32(126) == 0x8007007E
    assert hresult_from_win32(0x800700C1) == 0x800700C1
    assert format_code(0x8007041D) == "0x8007041D"


def test_event_binary() -> None:
    assert code_from_event_binary("c1000000") == 0x800700C1
    assert code_from_event_binary("C1000780") == 0x800700C1
    assert code_from_event_binary("7E 00 00 00") == 0x8007007E
    assert code_from_event_binary("00000000") is None
    assert code_from_event_binary("zz") is None


def test_confidence_depends_on_form() -> None:
    by_form = {h.form: h.confidence for h in find_codes("0x800700C1 and error 193 and c1 00 00 00")}
    assert by_form[CodeForm.HEX] is Confidence.HIGH
    assert by_form[CodeForm.WIN32] is Confidence.MEDIUM
    assert by_form[CodeForm.DATA_BYTES] is Confidence.MEDIUM
    assert find_codes("Data: c1 00 00 00")[0].confidence is Confidence.HIGH


@pytest.mark.parametrize("text", ["193", "11", "port 193", "Line 11", "126 files", "took 1053 ms", "id=193"])
def test_bare_numbers_are_not_codes(text: str) -> None:
    assert find_codes(text) == []


_NEUTRAL = ["the", "site", "request", "port", "line", "took", "ms", "items", "build", "of", "worker", "pool",
            "193", "11", "126", "1053", "2274", "503", "500", "32", "C1", "7E", "x86", "AMD64", ":", "=", "(", ")"]


@pytest.mark.property
@given(st.lists(st.sampled_from(_NEUTRAL), max_size=30))
def test_no_signal_without_error_context(kb: KnowledgeBase, words: list[str]) -> None:
    """Numbers mixed with neutral words never fire: an error word, 'event' or 'HTTP' must come first. The one
    exception: an input that is nothing but "503" is the short form of HTTP 503 people paste (issue 23)."""
    text = " ".join(words)
    if text.strip() == "503":
        assert {s.entry_id for s in match_text(text, kb)} == {"http-503-pool"}
        return
    assert match_text(text, kb) == ()


@pytest.mark.property
@given(st.text(max_size=400))
def test_find_codes_never_raises(text: str) -> None:
    for hit in find_codes(text):
        assert 0 <= hit.code <= 0xFFFFFFFF


@pytest.mark.parametrize("text", ["Win32 error 193", "OSError: [WinError 193]", "System error 193 has occurred",
                                  "failed with error 193 (0xc1)", "status 0xC1 (193)", "win32 status: 193"])
def test_a_number_named_a_win32_error_is_high(text: str) -> None:
    assert any(h.code == 0x800700C1 and h.confidence is Confidence.HIGH for h in find_codes(text)), find_codes(text)


@pytest.mark.parametrize("text", ["error 193", "code: 193", "hr 0xC1"])
def test_a_number_after_a_plain_error_word_stays_medium(text: str) -> None:
    hits = [h for h in find_codes(text) if h.code == 0x800700C1]
    assert hits and all(h.confidence is Confidence.MEDIUM for h in hits)


def test_decimal_and_hex_pair_counts_only_after_an_error_word_and_when_they_agree() -> None:
    """Windows tools print an error as "193 (0xc1)": HIGH after an error word; a pair in a dump is a value, and a
    pair that disagrees is two numbers."""
    assert [(h.code, h.confidence) for h in find_codes("copy failed: 193 (0xc1)")] == [(0x800700C1, Confidence.HIGH)]
    assert find_codes("byte at offset 12: 193 (0xC1)") == []
    assert all(h.confidence is Confidence.MEDIUM for h in find_codes("error: 193 (0xc2)"))


def test_a_suffix_needs_0x_and_words_need_the_data_offset() -> None:
    """``800700C1L`` is not a C literal (no ``0x``); an eight-digit word reads as a Win32 error only after ``0000:``."""
    assert find_codes("800700C1L") == []
    assert not any(h.form == CodeForm.DATA_WORDS for h in find_codes("build 000000c1 of the file"))


@pytest.mark.parametrize("text", ["Keywords 0x00000005", "<Opcode>0x00000001</Opcode>", "abc0x800700c1",
                                  "id0x8007000d", "Version 0x00000002"])
def test_no_code_from_a_glued_or_unlabelled_small_hex(text: str) -> None:
    """Only an error label may touch a glued 0x code ("Error Code0x8007000d", a table copied without its cell
    breaks), and a small 0x0000xxxx is a Win32 error only right after one."""
    assert not [h for h in find_codes(text) if h.code & 0x80000000], find_codes(text)


def test_has_code_leaves_out_hits_that_overlap_a_match_of_the_patterns_it_is_given() -> None:
    status, c1 = re.compile(r"\b50\d\b"), re.compile("C1")
    assert has_code("HTTP Error 503 0x800700C1") and has_code("503 0x800700C1", [status])
    assert not has_code("code: 503", [status]) and not has_code("0x800700C1", [c1])
    assert has_code("status 503 error 193", [status]) and not has_code("status 503 error 193",
                                                                       [status, re.compile("error 193")])


@pytest.mark.parametrize("text", ["status 503.0 11", "code: 502.3 193", "HTTP Error 500.19"])
def test_an_http_status_is_no_error_code_nor_is_the_number_after_it(text: str, kb: KnowledgeBase) -> None:
    """The statuses are left out of the text as it is (hits that overlap one), not blanked out of a copy: blanked,
    "status 503.0 11" read as "status  11", Win32 error 11, and "code: 502.3 193" as error 193."""
    assert CODE_CUE not in cues_in(text, kb)
    assert CODE_CUE in cues_in(text + " 0x800700C1", kb)


def test_the_code_cue_of_a_large_paste_copies_nothing(kb: KnowledgeBase) -> None:
    """has_code reads the paste itself: before, the paste with its HTTP statuses blanked out (two copies) and that
    copy's own prepared text (a folded copy) were made, 16 times the paste's size at the peak for a paste without a
    code; now the statuses' offsets, a third of it."""
    text = ("HTTP Error 503. The service is unavailable.\nThe application pool stopped after repeated failures.\n"
            * 20_000)
    assert haystack(text).line_breaks()  # NOTE: as match_text has prepared it before cues_in asks
    tracemalloc.start()
    try:
        found = cues_in(text, kb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert CODE_CUE not in found and peak < len(text), (peak, len(text))  # NOTE: less than one copy (1 byte a character)


def test_module_load_data_is_read_near_its_event_only() -> None:
    """"The Module DLL ... failed to load ... 0000007f" is Win32 error 127 (tjanczuk/iisnode issue #47); an eight-digit
    hex word far from such a line in a large paste is not that event's data (one "Module DLL" anywhere made every
    small hex word a Win32 error)."""
    event = "The Module DLL C:\\Program Files\\iisnode\\iisnode.dll failed to load.  The data is the error.\n0000007f"
    near = [h for h in find_codes(event) if h.form is CodeForm.DATA_WORDS]
    assert [h.code for h in near] == [hresult_from_win32(127)]
    far = event + "\n" + "log line without codes\n" * 100 + "build 00000123 done"
    assert [h.text for h in find_codes(far) if h.form is CodeForm.DATA_WORDS] == ["0000007f"]
