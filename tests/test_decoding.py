import os

import pytest

from newsflow.extractors.decoding import DecodeError, declared_charset, decode_text

TEXT = "Café owners in Zürich say “prices” rose – again"


@pytest.mark.parametrize(
    "raw",
    [
        TEXT.encode("utf-8"),
        b"\xef\xbb\xbf" + TEXT.encode("utf-8"),
        TEXT.encode("utf-16"),  # with BOM
        TEXT.encode("utf-16-le"),  # no BOM
        TEXT.encode("utf-16-be"),
        TEXT.encode("cp1252"),
    ],
    ids=["utf8", "utf8-bom", "utf16-bom", "utf16le", "utf16be", "cp1252"],
)
def test_decodes_common_encodings(raw):
    assert decode_text(raw) == TEXT


def test_latin1_bytes_undefined_in_cp1252_still_decode():
    assert decode_text("abc \x81 déf".encode("latin-1")) == "abc \x81 déf"


def test_normalises_to_nfc_and_unix_newlines():
    decomposed = "Cafe\u0301\r\nline two"
    assert decode_text(decomposed.encode()) == "Café\nline two"


def test_random_binary_is_rejected_as_binary():
    with pytest.raises(DecodeError) as info:
        decode_text(os.urandom(20000))
    assert info.value.reason == "decode_binary"


def test_binary_without_nul_bytes_is_rejected_as_binary():
    raw = bytes(b for b in os.urandom(40000) if b != 0)
    with pytest.raises(DecodeError) as info:
        decode_text(raw)
    assert info.value.reason == "decode_binary"


@pytest.mark.parametrize("raw", [b"", b"   \n\t  "])
def test_empty_input_is_rejected_as_empty(raw):
    with pytest.raises(DecodeError) as info:
        decode_text(raw)
    assert info.value.reason == "decode_empty"


def test_declared_charset_is_read_from_meta_and_xml():
    assert declared_charset(b'<html><head><meta charset="windows-1252">') == "windows-1252"
    assert declared_charset(b'<?xml version="1.0" encoding="ISO-8859-1"?><rss>') == "ISO-8859-1"
    assert declared_charset(b"<html><body>no declaration") is None
    page = '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"><p>Ça va</p>'
    assert "Ça va" in decode_text(page.encode("latin-1"), declared_charset(page.encode("latin-1")))
