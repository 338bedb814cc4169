"""Raw documents to drafts: decode text, extract HTML pages; one rejection per unreadable document."""
from __future__ import annotations

from newsflow.extractors.decoding import DecodeError, declared_charset, decode_bytes
from newsflow.extractors.isolation import failure_detail
from newsflow.extractors.records import Draft, RawDocument, Rejection, web_url
from newsflow.extractors.settings import Limits


def extract_one(doc: RawDocument, limits: Limits) -> Draft | Rejection:
    """Decode one document and pull out its text and metadata."""
    is_html = doc.media_type == "html"
    try:
        text, encoding = decode_bytes(doc.content, declared_charset(doc.content) if is_html else None)
    except DecodeError as exc:
        return Rejection(doc.document_id, exc.reason, exc.detail)
    # Only an encoding that is not what the bytes plainly say is worth a note: declared and overruled, detected.
    notes = (f"charset {encoding}",) if " " in encoding and "BOM" not in encoding else ()
    if is_html:
        # HTML is not cut here: extract_html bounds the parse work itself, and the text it extracts is capped.
        from dataclasses import replace

        from newsflow.extractors.html import extract_html

        result = extract_html(doc, text, limits)
        return replace(result, notes=notes + result.notes) if notes and isinstance(result, Draft) else result
    if len(text) > limits.max_text_chars:
        notes += (f"text capped at {limits.max_text_chars} of {len(text)} chars",)
        text = text[: limits.max_text_chars]
    return Draft(
        document_id=doc.document_id,
        text=text,
        title=doc.title,
        url=web_url(doc.url),
        site=doc.site,
        author=doc.author,
        published_at=doc.published_at,
        language=doc.language,
        extractor="plain",
        title_given=bool(doc.title),
        notes=notes,
    )


def live_documents(docs: list[RawDocument], rejections: list[Rejection]) -> list[RawDocument]:
    """The documents not already rejected (by the reader)."""
    rejected = {r.document_id for r in rejections}
    return [d for d in docs if d.document_id not in rejected]


def extract_drafts(docs: list[RawDocument], limits: Limits) -> tuple[list[Draft], list[Rejection]]:
    """Decode each document and pull out its text and metadata; a document that fails is rejected `extract_error`."""
    drafts: list[Draft] = []
    rejections: list[Rejection] = []
    for doc in docs:
        try:
            result = extract_one(doc, limits)
        except Exception as exc:  # noqa: BLE001 - one document's problem, even a bug: the rest goes on
            result = Rejection(doc.document_id, "extract_error", failure_detail(exc))
        (rejections if isinstance(result, Rejection) else drafts).append(result)
    return drafts, rejections
