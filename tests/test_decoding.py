import os

import pytest

from newsflow.extractors.decoding import DecodeError, declared_charset, decode_bytes, decode_text

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


def test_utf8_bytes_overrule_a_declared_legacy_charset_and_say_so():
    page = f'<meta charset="iso-8859-1"><p>{TEXT}</p>'.encode("utf-8")
    text, how = decode_bytes(page, declared_charset(page))
    assert TEXT in text
    assert how == "utf-8 over declared iso-8859-1"


def test_an_ascii_page_keeps_its_declaration_quietly():
    page = b'<meta charset="iso-8859-1"><p>plain words</p>'
    assert decode_bytes(page, declared_charset(page)) == ('<meta charset="iso-8859-1"><p>plain words</p>', "utf-8")


def test_declared_utf8_with_a_stray_legacy_byte_stays_utf8():
    page = (f"<meta charset='utf-8'><p>{TEXT}</p>" * 40).encode("utf-8") + "<p>Gr\xfc\xdfe</p>".encode("latin-1")
    text, how = decode_bytes(page, declared_charset(page))
    assert text.count(TEXT) == 40  # not read as cp1252 mojibake ("CafÃ©")
    assert how == "utf-8 (stray bytes replaced)"


def test_gb2312_is_read_as_gb18030():
    chinese = "北京今天天气很好，市民纷纷外出。𠀀"  # the last character exists in GB18030 only
    page = f'<meta charset="gb2312"><p>{chinese}</p>'.encode("gb18030")
    text, how = decode_bytes(page, declared_charset(page))
    assert chinese in text and how == "gb18030"


def test_undeclared_cyrillic_is_detected():
    russian = ("Правительство объявило о новых мерах поддержки малого бизнеса. Министр финансов сообщил, что "
               "налоговые каникулы продлятся до конца следующего года, а кредиты станут доступнее для фермеров.")
    text, how = decode_bytes(russian.encode("cp1251"))
    assert text == russian
    assert how == "cp1251 (detected)"


def test_short_undeclared_legacy_text_falls_back_to_cp1252():
    assert decode_bytes("Café – Zürich".encode("cp1252")) == ("Café – Zürich", "cp1252 (fallback)")
