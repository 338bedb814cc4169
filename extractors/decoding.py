"""Bytes to text: BOM, UTF-8 (over a declaration the bytes contradict), the declared charset, charset-normalizer's
confident guess, cp1252/latin-1; binary is refused with a reason."""
from __future__ import annotations

import codecs
import re
import unicodedata

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
# json.loads accepts an escaped lone surrogate ("\ud800") and returns a str that UTF-8 cannot encode.
_SURROGATE = re.compile("[\ud800-\udfff]")
_ASCII = bytes(range(128))
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13)) + b"\x7f"


class DecodeError(ValueError):
    """The bytes are not text we can read; `reason` is the snake_case rejection reason."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _utf16_without_bom(raw: bytes) -> str | None:
    """UTF-16 text without a BOM shows NULs in every other byte for ASCII-heavy text."""
    sample = raw[:4000]
    if len(sample) < 8:
        return None
    even_nuls = sample[0::2].count(0) / (len(sample) / 2)
    odd_nuls = sample[1::2].count(0) / (len(sample) / 2)
    encoding = "utf-16-le" if odd_nuls > 0.3 and even_nuls < 0.05 else "utf-16-be" if even_nuls > 0.3 and odd_nuls < 0.05 else None
    if encoding is None:
        return None
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        return None


def _finish(text: str) -> str:
    """Normalise newlines and compose to NFC."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


def decode_text(raw: bytes, declared: str | None = None) -> str:
    """Decode bytes to NFC text or raise DecodeError (`decode_empty`, `decode_binary`)."""
    return decode_bytes(raw, declared)[0]


# Declarations browsers read as a superset (WHATWG Encoding): a page labelled latin-1 is written in windows-1252
# far more often than not, and GB2312/GBK pages use GB18030 characters.
_SUPERSETS = {"iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252",
              "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030"}
# Invalid UTF-8 sequences per 1,000 non-ASCII bytes up to which a page declared UTF-8 is UTF-8 with a few bad bytes.
_STRAY_UTF8 = 5
MIN_DETECT_BYTES = 64  # non-ASCII bytes charset-normalizer needs before its guess is worth taking


def _codec(label: str) -> str | None:
    """Python's codec name for a declared charset label, or None if Python has none."""
    label = label.strip().lower()
    try:
        return codecs.lookup(_SUPERSETS.get(label, label)).name
    except LookupError:
        return None


def _mostly_utf8(raw: bytes) -> bool:
    """Valid UTF-8 but for a few stray bytes (a page assembled from parts, one of them in another encoding)."""
    high = len(raw.translate(None, _ASCII)) or 1
    bad = raw.decode("utf-8", errors="replace").count("\ufffd") - raw.count(b"\xef\xbf\xbd")
    return bad * 1000 <= _STRAY_UTF8 * high


def _detected(raw: bytes) -> str | None:
    """The encoding charset-normalizer finds for the bytes, when it is confident (little chaos, one clear pick)."""
    from charset_normalizer import from_bytes

    if len(raw[:200_000].translate(None, _ASCII)) < MIN_DETECT_BYTES:
        return None  # too few non-ASCII bytes to tell one code page from another
    best = from_bytes(raw[:200_000]).best()
    if best is None or best.chaos > 0.1:
        return None
    return _codec(best.encoding)


def _latin_script(text: str) -> bool:
    """Most of the text's non-ASCII letters are Latin ones."""
    letters = [c for c in text[:100_000] if not c.isascii() and c.isalpha()]
    latin = sum("LATIN" in unicodedata.name(c, "") for c in letters)
    return latin * 2 >= len(letters)


def decode_bytes(raw: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode bytes to NFC text, and the encoding that won ("utf-8", or "utf-8 over declared iso-8859-1" when the
    bytes overrule a declaration); raise DecodeError (`decode_empty`, `decode_binary`)."""
    if not raw.strip():
        raise DecodeError("decode_empty", "the input is empty or only whitespace")
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                return _finish(raw[len(bom):].decode(encoding)), f"{encoding} (BOM)"
            except UnicodeDecodeError as exc:
                raise DecodeError("decode_binary", f"starts with a {encoding} BOM but does not decode: {exc}") from exc
    if b"\x00" in raw[:4000]:
        text = _utf16_without_bom(raw)
        if text is not None:
            return _finish(text), "utf-16"
        raise DecodeError("decode_binary", "contains NUL bytes: binary data, not text")
    codec = _codec(declared) if declared else None
    try:
        # Bytes with non-ASCII characters that decode cleanly as UTF-8 are UTF-8 whatever the declaration: text
        # in a single-byte encoding almost never forms valid multi-byte sequences, so this cannot misread one.
        text = raw.decode("utf-8")
        over = f" over declared {declared.lower()}" if codec not in (None, "utf-8") and not raw.isascii() else ""
        return _finish(text), f"utf-8{over}"
    except UnicodeDecodeError:
        pass
    if codec == "utf-8" and _mostly_utf8(raw):
        return _finish(raw.decode("utf-8", errors="replace")), "utf-8 (stray bytes replaced)"
    if codec not in (None, "utf-8"):
        try:
            return _finish(raw.decode(codec)), codec
        except UnicodeDecodeError:
            pass  # a wrong declaration is common; fall through to detection
    sample = raw[:20000]
    control = sum(sample.count(bytes([b])) for b in _CONTROL)
    if control / len(sample) > 0.01:
        raise DecodeError("decode_binary", f"{control} control bytes in the first {len(sample)}: binary data, not text")
    found = _detected(raw)
    if found and found != "utf-8":
        try:
            text = raw.decode(found)
        except UnicodeDecodeError:
            text = None
        # Latin-script text in some single-byte code page reads as the detector's pick or as windows-1252 alike,
        # bar a few symbols; the detector's guess between Latin code pages is weak, windows-1252 the common one.
        if text is not None and not _latin_script(text):
            return _finish(text), f"{found} (detected" + (f" over declared {declared.lower()})" if declared else ")")
    try:
        return _finish(raw.decode("cp1252")), "cp1252 (fallback)"
    except UnicodeDecodeError:
        return _finish(raw.decode("latin-1")), "latin-1 (fallback)"


def valid_text(text: str) -> str:
    """The text with each lone surrogate (from a JSON escape) replaced by U+FFFD, so it encodes as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


def declared_charset(raw: bytes) -> str | None:
    """The charset an HTML or XML document declares in its first 4 KB."""
    head = raw[:4096]
    match = _META_CHARSET.search(head) or re.search(rb"""<\?xml[^>]+encoding=["']([A-Za-z0-9_\-.]+)""", head)
    return match.group(1).decode("ascii", "replace") if match else None
