"""Feed parsing over the real-world and conformance feeds in ../shared/benchdata/feeds; source lists; entry documents."""
from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from newsflow.extractors.feeds import count_words, entry_documents, judge_full, parse_feed, read_sources

SHARED = Path(__file__).resolve().parents[2] / "shared"
REALWORLD = SHARED / "benchdata" / "feeds" / "realworld"
CONFORMANCE = SHARED / "benchdata" / "feeds" / "conformance"
PAGES = SHARED / "benchdata" / "extraction_aeb" / "html"
FEED_FILES = sorted(p for p in REALWORLD.iterdir() if p.is_file() and p.suffix in {".xml", ".rss", ".atom", ".rdf", ".json"})
EXPECTED = sorted((REALWORLD / "expected").glob("*.json"))
RECEIVED = datetime(2026, 11, 23, 18, 0, tzinfo=timezone.utc)


def source_of(expected: Path) -> Path:
    stem = expected.name.removesuffix(".json").removesuffix(".expected")
    return next(p for p in FEED_FILES if p.stem == stem)


@pytest.mark.parametrize("path", FEED_FILES, ids=lambda p: p.name)
def test_every_realworld_feed_parses_with_entries(path):
    feed = parse_feed(path.read_bytes())
    assert feed.kind in {"rss", "atom", "rdf", "json"}
    assert feed.entries
    assert all(isinstance(e.key, str) and e.key for e in feed.entries)  # keys may repeat: ScriptingNews does
    for entry in feed.entries:
        assert entry.published_at is None or entry.published_at.utcoffset().total_seconds() == 0


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda p: p.name)
def test_matches_the_expected_parse(expected):
    gold = json.loads(expected.read_text(encoding="utf-8"))
    feed = parse_feed(source_of(expected).read_bytes())
    assert feed.title == gold["feed"]["title"]
    assert len(feed.entries) == len(gold["entries"])
    for entry, want in zip(feed.entries, gold["entries"]):
        assert entry.title == want.get("title")
        assert entry.url == want.get("link")
        assert entry.key == (want.get("id") or want.get("link"))
        if want.get("published"):
            assert entry.published_at == datetime.fromisoformat(want["published"])


def test_kinds():
    kinds = {p.name: parse_feed(p.read_bytes()).kind for p in FEED_FILES}
    assert kinds["russcox.atom"] == "atom"
    assert kinds["bio.rdf"] == "rdf"
    assert kinds["davidbau.xml"] == "rdf"
    assert kinds["atp.rss"] == "rss"
    assert kinds["DaringFireball.json"] == "json"


def test_json_feed_matches_the_same_feed_in_atom():
    atom = parse_feed((REALWORLD / "DaringFireball.atom").read_bytes())
    js = parse_feed((REALWORLD / "DaringFireball.json").read_bytes())
    assert [e.title for e in js.entries] == [e.title for e in atom.entries]
    assert [e.published_at for e in js.entries] == [e.published_at for e in atom.entries]
    assert js.entries[0].author == "John Gruber"


def test_json_feed_authors_v1_and_v1_1():
    feed = parse_feed((REALWORLD / "authors.json").read_bytes())
    assert [e.author for e in feed.entries] == [
        "Root Author 1, Root Author 2", "Legacy Item Author", "Item Author 1, Item Author 2", "Item Author 1, Item Author 2",
    ]
    assert entry_documents(feed, "feed", "u", RECEIVED) == []  # every item has an empty content_html


def test_a_truncated_json_feed_keeps_its_complete_items():
    feed = parse_feed((REALWORLD / "allthis-partial.json").read_bytes())
    assert feed.title == "And now it’s all this"
    assert len(feed.entries) == 2
    assert feed.problem.startswith("truncated: kept 2 complete items")


def test_rss_written_as_json():
    feed = parse_feed((REALWORLD / "ScriptingNews.json").read_bytes())
    assert (feed.kind, feed.title, len(feed.entries)) == ("json", "Scripting News", 50)
    assert feed.entries[1].key == "http://scripting.com/2017/06/26.html#a030658"
    assert feed.entries[1].published_at == datetime(2017, 6, 26, 19, 40, 58, tzinfo=timezone.utc)


def test_a_broken_feed_keeps_what_parsed_and_says_what_was_wrong():
    osm = parse_feed((REALWORLD / "osm-pl.xml").read_bytes())
    assert len(osm.entries) == 8
    assert "unclosed CDATA" in osm.problem
    repaired = parse_feed((REALWORLD / "malformed_rss_namespaced.xml").read_bytes())
    assert [e.title for e in repaired.entries] == ["Test Entry 1", "Test Entry 2"]
    assert repaired.problem.startswith("repaired: ")


def test_leading_whitespace_before_the_xml_declaration_is_not_a_problem():
    feed = parse_feed((REALWORLD / "kagi.xml").read_bytes())
    assert feed.problem is None and len(feed.entries) == 35


@pytest.mark.parametrize("content", [b"", b"   ", b"<html><body><p>Just a page</p></body></html>", b"{\"a\": 1}", b"\xff\xfe\x00garbage"])
def test_not_a_feed(content):
    feed = parse_feed(content)
    assert feed.kind is None
    assert feed.entries == []
    assert feed.problem


def test_a_real_page_is_not_a_feed():
    page = sorted(PAGES.glob("*.html"))[0]
    feed = parse_feed(page.read_bytes())
    assert feed.entries == [] and feed.problem


def _conformance_cases():
    cases = []
    for path in sorted(CONFORMANCE.rglob("*.xml")):
        text = path.read_bytes().decode("latin-1")
        expect = re.search(r"Expect:\s*(not bozo|bozo)\b", text)
        if expect:
            header = re.search(r"Header:\s*Content-type:\s*(.+)", text, re.IGNORECASE)
            cases.append((path, expect.group(1) == "bozo", header.group(1).strip() if header else None))
    return cases


@pytest.mark.parametrize("path, bozo, content_type", _conformance_cases(), ids=lambda v: v.name if isinstance(v, Path) else "")
def test_conformance_problem_reported_exactly_when_feedparser_expects_bozo(path, bozo, content_type):
    feed = parse_feed(path.read_bytes(), content_type=content_type)
    assert bool(feed.problem) == bozo, feed.problem


@pytest.mark.parametrize("name, text", [
    ("encoding/demoronize-1.xml", "don\u2019t"),
    ("encoding/euc-kr-item.xml", "\ub144"),
])
def test_conformance_encodings_decode(name, text):
    feed = parse_feed((CONFORMANCE / name).read_bytes())
    assert feed.entries[0].summary_html == text


def test_base_url_resolves_relative_links():
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>/</link>
    <item><title>A</title><link>/2026/a.html</link><description>x</description></item></channel></rss>"""
    feed = parse_feed(rss, base_url="https://news.example.org/feed.xml")
    assert feed.entries[0].url == "https://news.example.org/2026/a.html"
    assert feed.entries[0].key == "https://news.example.org/2026/a.html"


def test_full_content_versus_a_teaser():
    long_body = "<p>" + " ".join(["word"] * 200) + ".</p>"
    assert judge_full(long_body, None)
    assert not judge_full("<p>" + " ".join(["word"] * 200) + " [&#8230;]</p>", None)
    assert not judge_full("<p>" + " ".join(["word"] * 200) + ' <a href="/x">Continue reading &rarr;</a></p>', None)
    assert not judge_full("<p>A short teaser about the story.</p>", None)
    assert count_words("東京都の新しい政策") == 10  # one token plus nine CJK characters


def test_realworld_full_judgement():
    russ = parse_feed((REALWORLD / "russcox.atom").read_bytes())
    assert all(e.is_full for e in russ.entries)  # whole essays in <content>
    teasers = parse_feed((REALWORLD / "livemint.xml").read_bytes())
    assert not any(e.is_full for e in teasers.entries)  # one-paragraph descriptions


def test_entry_documents():
    feed = parse_feed((REALWORLD / "russcox.atom").read_bytes())
    docs = entry_documents(feed, "feed", "https://research.swtch.com/feed.atom", RECEIVED)
    assert len(docs) == len(feed.entries)
    doc, entry = docs[0], feed.entries[0]
    assert doc.source_kind == "feed"
    assert doc.source_ref == f"https://research.swtch.com/feed.atom#{entry.key}"
    assert doc.media_type == "html"
    assert doc.content == entry.content_html.encode("utf-8")
    assert doc.raw_sha256 == hashlib.sha256(doc.content).hexdigest()
    assert (doc.url, doc.title, doc.published_at) == (entry.url, entry.title, entry.published_at)
    assert doc.site == "research.swtch.com"
    assert doc.received_at == RECEIVED
    assert len({d.document_id for d in docs}) == len(docs)
    again = entry_documents(feed, "feed", "x", RECEIVED, site="inbox:feeds")
    assert {d.site for d in again} == {"inbox:feeds"}
    assert not {d.document_id for d in docs} & {d.document_id for d in again}


def test_read_sources_urls_text_files_and_opml(tmp_path):
    listing = tmp_path / "feeds.txt"
    listing.write_text("# my feeds\nhttps://a.example/feed.xml\n\n  https://b.example/rss  \nhttps://a.example/feed.xml\n")
    urls = read_sources(["https://c.example/atom", str(listing), str(REALWORLD / "Subs.opml")])
    assert urls[:3] == ["https://c.example/atom", "https://a.example/feed.xml", "https://b.example/rss"]
    assert urls[3] == "http://daringfireball.net/feeds/main"
    assert len(urls) == 3 + 207
    assert read_sources([str(REALWORLD / "SubsNoTitleAttributes.opml")]) == urls[3:]


def test_read_sources_refuses_what_it_cannot_read(tmp_path):
    with pytest.raises(FileNotFoundError, match="neither an http"):
        read_sources([str(tmp_path / "missing.txt")])


def test_plain_text_entries_become_paragraphs():
    feed = parse_feed((REALWORLD / "ScriptingNews.json").read_bytes())
    docs = entry_documents(feed, "feed", "http://scripting.com/rss.json", RECEIVED)
    assert docs[0].content.decode("utf-8").startswith("<p>Good morning students and teachers!")
    assert b"<a href" in docs[1].content  # HTML stays as the feed gave it


def test_read_more_links_mark_a_teaser():
    long = " ".join(["word"] * 200)
    assert not judge_full(f"<p>{long}</p><p>Read more at The Visible Net.</p>", None)
    assert not judge_full(f"<p>{long}… Continue reading on »</p>", None)
    assert judge_full(f"<p>{long}. The end.</p>", None)
    davidbau = parse_feed((REALWORLD / "davidbau.xml").read_bytes())
    teasers = [e for e in davidbau.entries if "Read more at" in e.body_html]
    assert len(teasers) == 2 and not any(e.is_full for e in teasers)


def test_a_character_reference_to_a_lone_surrogate_is_a_replacement_character():
    # feedparser's fallback parser raised UnicodeEncodeError on &#xD800;, and the whole feed was lost.
    rss = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>T &#xD800;</title><item><title>One &#55296; x'
           b'</title><link>https://example.com/a&#xdc00;</link><description>Body &#xDFFF; text</description>'
           b'</item></channel></rss>')
    feed = parse_feed(rss)
    (entry,) = feed.entries
    assert (feed.title, entry.title, entry.url) == ("T \ufffd", "One \ufffd x", "https://example.com/a\ufffd")
    (doc,) = entry_documents(feed, "feed", "https://example.com/feed", datetime.now(timezone.utc))
    assert "Body \ufffd text" in doc.content.decode("utf-8")
