"""extract_drafts: text and pages to drafts, in-process or on the worker pool, with the same results."""
import hashlib
from dataclasses import replace
from datetime import datetime, timezone

from newsflow.extractors.extraction import extract_drafts
from newsflow.extractors.records import Draft, RawDocument
from newsflow.extractors.settings import Limits
from newsflow.extractors.workers import MIN_ITEMS_FOR_POOL


def raw(doc_id, content, media_type):
    return RawDocument(doc_id, "inbox", f"{doc_id}.x", content, media_type, datetime.now(timezone.utc),
                       hashlib.sha256(content).hexdigest())


def test_pool_and_in_process_give_the_same_drafts(shared_dir):
    pages = sorted((shared_dir / "benchdata" / "extraction_aeb" / "html").glob("*.html"))[:MIN_ITEMS_FOR_POOL]
    docs = [raw(f"p{i}", p.read_bytes(), "html") for i, p in enumerate(pages)]
    docs.append(raw("t", "A title\n\nSome text".encode(), "text"))
    docs.append(raw("bin", b"\x00\x01\x02" * 100, "html"))
    serial = extract_drafts(docs, replace(Limits(), extract_processes=1))
    pooled = extract_drafts(docs, replace(Limits(), extract_processes=2))
    assert [(d.document_id, d.text, d.title) for d in serial[0]] == [(d.document_id, d.text, d.title) for d in pooled[0]]
    assert [(r.document_id, r.reason) for r in pooled[1]] == [("bin", "decode_binary")]
    assert sum(1 for d in pooled[0] if d.extractor in {"trafilatura", "readability"}) >= MIN_ITEMS_FOR_POOL - 1


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
