import gzip
import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from newsflow.extractors.reading import list_inbox, read_inbox
from newsflow.extractors.records import parse_datetime
from newsflow.extractors.settings import Limits


REPO = Path(__file__).resolve().parents[1]
FEEDS = Path(__file__).resolve().parents[2] / "shared" / "benchdata" / "feeds" / "realworld"


def _read(inbox, limits=Limits()):
    return read_inbox(inbox, list_inbox(inbox), limits)


def test_sample_text_files_become_one_document_each(samples_dir, tmp_path):
    for path in samples_dir.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    docs, rejections, files = _read(tmp_path)
    assert rejections == []
    assert sorted(d.source_ref for d in docs) == sorted(p.name for p in samples_dir.iterdir())
    assert all(d.media_type == "text" and d.source_kind == "inbox" for d in docs)
    assert all(len(f.document_ids) == 1 for f in files)


def test_hidden_and_partial_files_are_left_alone(tmp_path):
    (tmp_path / ".hidden.txt").write_text("x")
    (tmp_path / "being-written.txt.part").write_text("x")
    (tmp_path / "upload.tmp").write_text("x")
    (tmp_path / "ready.txt").write_text("ready")
    assert [p.name for p in list_inbox(tmp_path)] == ["ready.txt"]


def test_html_by_suffix_and_by_content(tmp_path):
    (tmp_path / "page.html").write_text("<html><body><p>x</p></body></html>")
    (tmp_path / "saved.txt").write_text("<!DOCTYPE html><html><body><p>x</p></body></html>")
    docs, _, _ = _read(tmp_path)
    assert {d.source_ref: d.media_type for d in docs} == {"page.html": "html", "saved.txt": "html"}


def test_jsonl_records_are_split_with_metadata_and_bad_lines_rejected(tmp_path):
    lines = [
        json.dumps({"url": "https://example.com/a", "title": "A", "text": "Body A", "published": "2025-01-21T10:00:00Z", "author": "Ann"}),
        "{not json",
        json.dumps({"url": "https://example.com/c", "title": "C"}),
        json.dumps({"html": "<html><body><p>Body D</p></body></html>"}),
    ]
    (tmp_path / "batch.jsonl").write_text("\n".join(lines))
    docs, rejections, files = _read(tmp_path)
    by_ref = {d.source_ref: d for d in docs}
    assert set(by_ref) == {"batch.jsonl#L1", "batch.jsonl#L2", "batch.jsonl#L3", "batch.jsonl#L4"}
    first = by_ref["batch.jsonl#L1"]
    assert (first.url, first.title, first.author, first.content) == ("https://example.com/a", "A", "Ann", b"Body A")
    assert first.published_at.tzinfo == timezone.utc and first.published_at.hour == 10
    assert by_ref["batch.jsonl#L4"].media_type == "html"
    reasons = {next(d.source_ref for d in docs if d.document_id == r.document_id): r.reason for r in rejections}
    assert reasons == {"batch.jsonl#L2": "json_invalid", "batch.jsonl#L3": "json_no_text"}
    assert len(files[0].document_ids) == 4


def test_invalid_json_file_is_one_rejection(tmp_path):
    (tmp_path / "broken.json").write_text('{"title": "x", ')
    docs, rejections, _ = _read(tmp_path)
    assert len(docs) == 1 and [r.reason for r in rejections] == ["json_invalid"]


def test_too_large_file_is_rejected_unread(tmp_path):
    (tmp_path / "big.txt").write_bytes(b"a" * 2000)
    docs, rejections, _ = _read(tmp_path, Limits(max_file_bytes=1000))
    assert [r.reason for r in rejections] == ["read_too_large"]
    assert docs[0].content == b""


def test_symlinks_are_never_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret article text")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    os.symlink(outside / "secret.txt", inbox / "link.txt")
    os.symlink(outside, inbox / "linkdir")
    docs, rejections, _ = _read(inbox)
    assert sorted(d.source_ref for d in docs) == ["link.txt", "linkdir"]
    assert [r.reason for r in rejections] == ["read_symlink", "read_symlink"]
    assert all(d.content == b"" for d in docs)


def test_subfolders_are_read_and_name_the_site(tmp_path):
    (tmp_path / "example.com").mkdir()
    (tmp_path / "example.com" / "a.txt").write_text("text")
    docs, _, _ = _read(tmp_path)
    assert docs[0].source_ref == "example.com/a.txt" and docs[0].site == "inbox:example.com"


def test_unsupported_suffix_is_rejected(tmp_path):
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    _, rejections, _ = _read(tmp_path)
    assert [r.reason for r in rejections] == ["read_unsupported_type"]


def test_parse_datetime_formats():
    assert parse_datetime("Tue, 21 Jan 2025 10:00:00 +0300").hour == 7
    assert parse_datetime("2025-01-21").tzinfo == timezone.utc
    assert parse_datetime("not a date") is None


def _reasons(docs, rejections) -> dict[str, str]:
    """source_ref -> rejection reason."""
    refs = {d.document_id: d.source_ref for d in docs}
    return {refs[r.document_id]: r.reason for r in rejections}


def test_feed_files_become_one_document_per_entry(tmp_path):
    """Real feeds of each feed suffix: every entry is an HTML document named file#entry-key, with its metadata."""
    counts = {"russcox.atom": 19, "bio.rdf": 30, "EMarley.rss": 10, "davidbau.xml": 15}
    for name in counts:
        shutil.copy(FEEDS / name, tmp_path / name)
    docs, rejections, files = _read(tmp_path)
    assert rejections == []
    assert {f.rel: len(f.document_ids) for f in files} == counts
    assert all(d.media_type == "html" and d.source_kind == "inbox" and d.source_ref.startswith(f"{d.original_path}#")
               for d in docs)
    by_ref = {d.source_ref: d for d in docs}
    tlog = by_ref["russcox.atom#tag:research.swtch.com,2012:research.swtch.com/tlog"]
    assert (tlog.url, tlog.title, tlog.site) == ("http://research.swtch.com/tlog", "Transparent Logs for Skeptical Clients",
                                                 "research.swtch.com")
    assert tlog.published_at == datetime(2019, 3, 1, 16, 0, tzinfo=timezone.utc)
    assert tlog.content.startswith(b"<p>\nSuppose we want to maintain and publish a public, append-only log")
    marley = by_ref["EMarley.rss#https://medium.com/p/c44a41af38d1"]
    assert (marley.title, marley.author) == ("UI Automation & screenshots", "Liz Marley")
    openness = by_ref["davidbau.xml#http://davidbau.com/archives/2024/03/28/the_right_kind_of_openness_for_ai.html"]
    assert openness.content.startswith(b"<p>There is a false dichotomy")


def test_a_json_feed_is_read_as_a_feed_not_as_records(tmp_path):
    """Items keyed by their id, date_published read, a content_text item kept (as records: #0, no date, json_no_text)."""
    shutil.copy(FEEDS / "json_feed_sample.json", tmp_path / "feed.json")
    docs, rejections, files = _read(tmp_path)
    assert rejections == [] and len(files[0].document_ids) == 2
    first, second = docs
    assert (first.source_ref, first.url, first.title, first.author) == (
        "feed.json#https://example.org/item1", "https://example.org/item1", "First JSON Feed Item", "Jane Smith")
    assert first.published_at == datetime(2024, 1, 15, 12, 0, tzinfo=timezone.utc)
    assert first.content == b"<p>This is the first item in our JSON feed.</p>"
    assert (second.source_ref, second.author, second.media_type) == ("feed.json#https://example.org/item2", "John Doe", "html")
    assert second.content == b"<p>This is plain text content for the second item.</p>"


def test_broken_feed_files_are_rejected_with_reasons(tmp_path):
    from tests.test_bad_inputs import BILLION_LAUGHS

    (tmp_path / "malformed.rss").write_text("<rss><channel><title>Broken<item><title>Unclosed")
    (tmp_path / "laughs.xml").write_text(BILLION_LAUGHS)
    shutil.copy(FEEDS / "authors.json", tmp_path / "empty-items.json")  # a JSON Feed whose items have no content
    (tmp_path / "empty.atom").write_bytes(b"")
    docs, rejections, _ = _read(tmp_path)
    assert _reasons(docs, rejections) == {"malformed.rss": "feed_no_entries", "empty-items.json": "feed_no_entries",
                                          "empty.atom": "decode_empty"}
    (laughs,) = [d for d in docs if d.original_path == "laughs.xml"]
    assert laughs.content == b"<p>&amp;lol9</p>"  # the entity is left as text, never expanded


BOMB_READER = """
import json, resource, sys
from pathlib import Path
from newsflow.extractors.reading import list_inbox, read_inbox
from newsflow.extractors.settings import Limits
inbox = Path(sys.argv[1])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
docs, rejections, _ = read_inbox(inbox, list_inbox(inbox), Limits())
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
refs = {d.document_id: d.source_ref for d in docs}
print(json.dumps({"reasons": {refs[r.document_id]: r.reason for r in rejections}, "grown_mb": grown // 1024}))
"""


def test_gzip_bombs_are_refused_by_content_and_never_expanded(tmp_path):
    """Each file holds 200 MB of gzip-compressed NULs in 200 KB; a reader in its own process grows by less than 50 MB."""
    packer = gzip.compress(b"\0" * 10_000_000, compresslevel=9)
    bomb = packer * 20  # concatenated gzip members: one stream of 200 MB for any gunzip
    for name in ("bomb.xml", "bomb.rss", "bomb.atom", "bomb.rdf", "bomb.json", "bomb.jsonl", "bomb.gz"):
        (tmp_path / name).write_bytes(bomb)
    out = subprocess.run([sys.executable, "-c", BOMB_READER, str(tmp_path)], cwd=REPO, capture_output=True, text=True,
                         check=True, timeout=120).stdout
    result = json.loads(out.splitlines()[-1])
    assert result["reasons"] == {"bomb.xml": "decode_binary", "bomb.rss": "decode_binary", "bomb.atom": "decode_binary",
                             "bomb.rdf": "decode_binary", "bomb.json": "decode_binary", "bomb.jsonl": "decode_binary",
                             "bomb.gz": "read_unsupported_type"}
    assert result["grown_mb"] < 50


def test_lone_surrogates_in_json_strings_become_replacement_characters(tmp_path):
    # json.loads turns "\ud800" into a str UTF-8 cannot encode; one such record used to stop the whole batch.
    record = '{"url": "https://example.com/\\ud800a", "title": "Bad \\udc00 title", "author": "Ann \\udfff",'
    (tmp_path / "one.json").write_text(record + ' "text": "Body \\ud800 text"}')
    (tmp_path / "lines.jsonl").write_text(record + ' "text": "Line \\ud800 one"}\n' + record + ' "html": "<p>x\\ud800</p>"}\n')
    (tmp_path / "feed.json").write_text(
        '{"version": "https://jsonfeed.org/version/1.1", "title": "Feed \\ud800", "items": [{"id": "1\\ud800",'
        ' "url": "https://example.com/f\\ud800", "title": "Item \\udc00", "content_text": "Feed \\ud800 body",'
        ' "authors": [{"name": "Bo \\ud800"}]}]}'
    )
    docs, rejections, _ = _read(tmp_path)
    assert rejections == []
    by_ref = {d.source_ref: d for d in docs}
    assert set(by_ref) == {"one.json", "lines.jsonl#L1", "lines.jsonl#L2", "feed.json#1\ufffd"}
    one = by_ref["one.json"]
    assert (one.url, one.title, one.author) == ("https://example.com/\ufffda", "Bad \ufffd title", "Ann \ufffd")
    assert one.content.decode("utf-8") == "Body \ufffd text"
    assert by_ref["lines.jsonl#L1"].content.decode("utf-8") == "Line \ufffd one"
    assert by_ref["lines.jsonl#L2"].content.decode("utf-8") == "<p>x\ufffd</p>"
    item = by_ref["feed.json#1\ufffd"]
    assert (item.url, item.title, item.author) == ("https://example.com/f\ufffd", "Item \ufffd", "Bo \ufffd")
    assert "Feed \ufffd body" in item.content.decode("utf-8")


def test_json_nested_too_deep_is_rejected_json_too_deep(tmp_path):
    deep = "[" * 5000 + "]" * 5000
    (tmp_path / "deep.json").write_text(deep)
    (tmp_path / "deep_field.json").write_text('{"title": "x", "text": ' + deep + "}")
    (tmp_path / "lines.jsonl").write_text(json.dumps({"title": "Fine", "text": "Fine body"}) + "\n" + deep + "\n")
    (tmp_path / "just_deep_enough.json").write_text(json.dumps({"text": "Body", "extra": [[[[[[[[1]]]]]]]]}))
    docs, rejections, _ = _read(tmp_path)
    assert _reasons(docs, rejections) == {
        "deep.json": "json_too_deep", "deep_field.json": "json_too_deep", "lines.jsonl#L2": "json_too_deep",
    }
    assert all("recursion limit" in r.detail for r in rejections)
    assert {d.source_ref for d in docs} >= {"lines.jsonl#L1", "just_deep_enough.json"}


def test_a_number_too_long_to_convert_is_invalid_json(tmp_path):
    (tmp_path / "digits.json").write_text('{"title": "x", "text": "Body", "id": 1' + "0" * 5000 + "}")
    (tmp_path / "digits.jsonl").write_text('{"text": "Body", "id": 1' + "0" * 5000 + "}\n" + json.dumps({"text": "Two"}))
    docs, rejections, _ = _read(tmp_path)
    assert _reasons(docs, rejections) == {"digits.json": "json_invalid", "digits.jsonl#L1": "json_invalid"}
    assert "4300 digits" in rejections[0].detail


def test_a_fifo_is_rejected_without_being_opened(tmp_path):
    os.mkfifo(tmp_path / "pipe.txt")  # opening it for reading would wait for a writer forever
    (tmp_path / "story.txt").write_text("A story")
    docs, rejections, _ = _read(tmp_path)
    assert _reasons(docs, rejections) == {"pipe.txt": "read_not_a_file"}
    assert len(docs) == 2


def test_out_of_range_dates_are_no_dates(tmp_path):
    assert parse_datetime("9999-12-31T23:59:59-14:00") is None  # past the last datetime once in UTC
    assert parse_datetime("0001-01-01T00:00:00+01:00") is None
    (tmp_path / "far.json").write_text(json.dumps({"text": "Body", "published": "9999-12-31T23:59:59-05:00"}))
    docs, rejections, _ = _read(tmp_path)
    assert rejections == [] and docs[0].published_at is None
