"""An article's text cut into pieces for the page: mentions to highlight, removed lines put back among kept ones."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Piece:
    """A run of the cleaned text, with the mention it is (None for plain text)."""

    text: str
    mention: dict | None = None


@dataclass(slots=True)
class Line:
    """A line of the page as the cleaner read it: kept (reason None) or removed with its reason."""

    text: str
    reason: str | None = None
    line_no: int | None = None


def highlighted(text: str, mentions: list[dict]) -> list[Piece]:
    """The text as plain pieces and mention pieces, by the mentions' character offsets (overlaps: first wins)."""
    pieces, at = [], 0
    for m in sorted(mentions, key=lambda m: m["start_char"]):
        start, end = m["start_char"], m["end_char"]
        if start < at or end > len(text) or start >= end:
            continue
        if start > at:
            pieces.append(Piece(text[at:start]))
        pieces.append(Piece(text[start:end], m))
        at = end
    if at < len(text):
        pieces.append(Piece(text[at:]))
    return pieces


def original_lines(text: str, removed: list[dict], line_nos: list[int] | None = None) -> list[Line]:
    """Kept paragraphs and removed lines in the order the cleaner read them.

    The cleaner numbered every line of the extracted page, blank ones included, and kept each non-blank line it did
    not remove as one paragraph; `line_nos` (articles.text_line_nos) is each paragraph's number, so both merge by it.
    Rows written before it was kept have none: then a removed line goes before the kept paragraphs whose count, plus
    the removed lines before it, reaches its line number (exact when the page had no blank lines between them)."""
    kept = [p for p in text.split("\n\n") if p.strip()]
    documents = {r["document_id"] for r in removed}
    if line_nos is not None and len(line_nos) == len(kept) and len(documents) <= 1:
        merged = [(no, Line(p, None, no)) for no, p in zip(line_nos, kept)]
        merged += [(r["line_no"], Line(r["line"], r["reason"], r["line_no"])) for r in removed]
        return [line for _, line in sorted(merged, key=lambda pair: pair[0])]
    lines: list[Line] = []
    used = 0
    ordered = sorted(removed, key=lambda r: (r["document_id"], r["line_no"]))
    for i, r in enumerate(ordered):
        while used < len(kept) and used + i < r["line_no"]:
            lines.append(Line(kept[used]))
            used += 1
        lines.append(Line(r["line"], r["reason"], r["line_no"]))
    lines.extend(Line(p) for p in kept[used:])
    return lines
