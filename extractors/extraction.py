"""Raw documents to drafts: decode text, extract HTML pages; one rejection per unreadable document."""
from __future__ import annotations

from extractors.decoding import DecodeError, declared_charset, decode_text
from extractors.records import Draft, RawDocument, Rejection
from extractors.settings import Limits


def extract_drafts(docs: list[RawDocument], limits: Limits) -> tuple[list[Draft], list[Rejection]]:
    """Decode each document and pull out its text and metadata."""
    from extractors.html import extract_html

    drafts: list[Draft] = []
    rejections: list[Rejection] = []
    for doc in docs:
        try:
            text = decode_text(doc.content, declared_charset(doc.content) if doc.media_type == "html" else None)
        except DecodeError as exc:
            rejections.append(Rejection(doc.document_id, exc.reason, exc.detail))
            continue
        if len(text) > limits.max_text_chars * (4 if doc.media_type == "html" else 1):
            text = text[: limits.max_text_chars * (4 if doc.media_type == "html" else 1)]
        if doc.media_type == "html":
            result = extract_html(doc, text, limits)
            (rejections if isinstance(result, Rejection) else drafts).append(result)
        else:
            drafts.append(
                Draft(
                    document_id=doc.document_id,
                    text=text,
                    title=doc.title,
                    url=doc.url,
                    site=doc.site,
                    author=doc.author,
                    published_at=doc.published_at,
                    extractor="plain",
                    title_given=bool(doc.title),
                )
            )
    return drafts, rejections
