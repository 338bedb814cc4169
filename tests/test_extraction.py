"""extract_drafts: text and pages to drafts, one rejection per unreadable document."""
import hashlib
from dataclasses import replace
from datetime import datetime, timezone

from newsflow.extractors.extraction import extract_drafts
from newsflow.extractors.records import Draft, RawDocument
from newsflow.extractors.settings import Limits


def raw(doc_id, content, media_type):
    return RawDocument(doc_id, "inbox", f"{doc_id}.x", content, media_type, datetime.now(timezone.utc),
                       hashlib.sha256(content).hexdigest())


def test_a_chunk_of_pages_text_and_binary_gives_drafts_and_one_rejection(shared_dir):
    pages = sorted((shared_dir / "benchdata" / "extraction_aeb" / "html").glob("*.html"))[:8]
    docs = [raw(f"p{i}", p.read_bytes(), "html") for i, p in enumerate(pages)]
    docs.append(raw("t", "A title\n\nSome text".encode(), "text"))
    docs.append(raw("bin", b"\x00\x01\x02" * 100, "html"))
    drafts, rejections = extract_drafts(docs, Limits())
    assert [(r.document_id, r.reason) for r in rejections] == [("bin", "decode_binary")]
    assert [d.document_id for d in drafts] == [f"p{i}" for i in range(8)] + ["t"]
    assert sum(1 for d in drafts if d.extractor in {"trafilatura", "readability"}) >= 7


def test_plain_text_keeps_given_metadata():
    doc = raw("t", "Body line one\n\nBody line two".encode(), "text")
    doc.title, doc.url = "Given title", "https://example.com/a"
    (draft,), rejections = extract_drafts([doc], Limits())
    assert rejections == [] and isinstance(draft, Draft)
    assert (draft.title, draft.title_given, draft.url, draft.extractor) == ("Given title", True, "https://example.com/a", "plain")


def test_text_is_cut_at_the_limit():
    doc = raw("long", ("word " * 1000).encode(), "text")
    (draft,), _ = extract_drafts([doc], replace(Limits(), max_text_chars=100))
    assert len(draft.text) == 100


def test_only_http_urls_are_kept_as_the_documents_address():
    docs = []
    for i, url in enumerate(["data:text/plain,hello", "file:///etc/passwd", "www.example.com/news/1", "http://example.com/b"]):
        doc = raw(f"t{i}", "Body line one\n\nBody line two".encode(), "text")
        doc.url = url
        docs.append(doc)
    drafts, _ = extract_drafts(docs, Limits())
    assert [d.url for d in drafts] == [None, None, "https://www.example.com/news/1", "http://example.com/b"]
