"""A search hit's snippet: the stretch of text around the first words matching the query, matches marked."""
from __future__ import annotations

import re
import unicodedata

# Endings a word may have beyond its Porter stem ('talks' -> 'talk', "Putin's" -> 'putin'); display only: ranking is fts's.
_ENDINGS = r"(?:s|es|ed|d|ing|e|er|ers|ly|ion|ions|ies|y|ment|ments|al)?(?:['’]s)?"


def _folded(text: str) -> str:
    """Lower-cased with accents stripped, one character for one (so offsets still index the original)."""
    return "".join(unicodedata.normalize("NFKD", c)[0] if c.isalpha() else c for c in text.lower())


def snippet(text: str, stems: list[str], width: int = 200, mark: str = "**") -> str:
    """About `width` characters of `text` around the first word matching a stem, each match wrapped in `mark`.

    A text where nothing matches (the hit came from the title) gives its opening.
    """
    stems = [s for s in stems if s]
    folded = _folded(text)
    if len(folded) != len(text):  # a character whose lower case is longer: give up on marking, keep the opening
        stems = []
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(s) for s in sorted(stems, key=len, reverse=True)) + r")" + _ENDINGS + r"\b") if stems else None
    first = pattern.search(folded) if pattern else None
    start = 0 if first is None else max(0, first.start() - width // 3)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < first.start() else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > (first.end() if first else start) else end
    pieces, at = [], start
    for match in pattern.finditer(folded, start, end) if pattern else ():
        pieces += [text[at:match.start()], mark, text[match.start():match.end()], mark]
        at = match.end()
    pieces.append(text[at:end])
    body = " ".join("".join(pieces).split())
    return ("…" if start else "") + body + ("…" if end < len(text) else "")
