"""Bytes to text: BOM, UTF-8, UTF-16 without BOM, cp1252/latin-1; binary is refused with a reason."""
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
    if not raw.strip():
        raise DecodeError("decode_empty", "the input is empty or only whitespace")
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                return _finish(raw[len(bom):].decode(encoding))
            except UnicodeDecodeError as exc:
                raise DecodeError("decode_binary", f"starts with a {encoding} BOM but does not decode: {exc}") from exc
    if b"\x00" in raw[:4000]:
        text = _utf16_without_bom(raw)
        if text is not None:
            return _finish(text)
        raise DecodeError("decode_binary", "contains NUL bytes: binary data, not text")
    if declared:
        try:
            return _finish(raw.decode(declared))
        except (LookupError, UnicodeDecodeError):
            pass  # a wrong declaration is common; fall through to detection
    try:
        return _finish(raw.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    sample = raw[:20000]
    control = sum(sample.count(bytes([b])) for b in _CONTROL)
    if control / len(sample) > 0.01:
        raise DecodeError("decode_binary", f"{control} control bytes in the first {len(sample)}: binary data, not text")
    try:
        return _finish(raw.decode("cp1252"))
    except UnicodeDecodeError:
        return _finish(raw.decode("latin-1"))


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
