"""extract_drafts: text and pages to drafts, one rejection per unreadable document."""
import hashlib
import re
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


ARTICLE = " ".join(f"Paragraph {i} tells how the council voted on the new budget for the harbour district." for i in range(40))


def page(head: str, charset: str = "utf-8") -> str:
    paragraphs = "".join(f"<p>{sentence}.</p>" for sentence in ARTICLE.split(". "))
    return (f"<html><head><meta charset='{charset}'><title>Council passes harbour budget</title>{head}</head>"
            f"<body><article><h1>Council passes harbour budget</h1>{paragraphs}</article></body></html>")


def test_a_page_over_a_megabyte_whose_article_starts_late_keeps_it():
    scripts = "".join(f"<script>var x{i} = '{'y' * 1000}';</script><!-- {'z' * 500} -->" for i in range(1500))
    html = page(scripts + '<script type="application/ld+json">{"@type": "NewsArticle"}</script>')
    assert len(html) > 2_000_000
    (draft,), rejections = extract_drafts([raw("big", html.encode(), "html")], Limits())
    assert rejections == []
    assert "Paragraph 39 tells how the council voted" in draft.text
    (note,) = [n for n in draft.notes if n.startswith("html pruned")]
    before, after = (int(n) for n in re.fullmatch(r"html pruned from (\d+) to (\d+) chars", note).groups())
    assert before == len(html) and after < 100_000  # the scripts and comments went, the JSON-LD and the text stayed


def test_a_page_declared_latin1_written_in_utf8_reads_right_and_says_so():
    html = page("", charset="iso-8859-1").replace("harbour", "Hafen in Zürich")
    (draft,), rejections = extract_drafts([raw("mojibake", html.encode("utf-8"), "html")], Limits())
    assert rejections == []
    assert "Hafen in Zürich" in draft.text and "ZÃ¼rich" not in draft.text
    assert "charset utf-8 over declared iso-8859-1" in draft.notes


def test_a_long_text_is_capped_and_the_cap_recorded():
    doc = raw("long", ("word " * 1000).encode(), "text")
    (draft,), _ = extract_drafts([doc], replace(Limits(), max_text_chars=100))
    assert draft.notes == ("text capped at 100 of 5000 chars",)
