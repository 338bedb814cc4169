"""Bad inputs dropped in the inbox: each lands or is rejected with a reason, its original kept, the rest lands."""
import gzip
import json
import os
import shutil

import duckdb
import pytest

ARTICLE = (
    "The city council approved the new transit budget on Tuesday after a long debate about bus routes, "
    "fares and the maintenance backlog that has delayed repairs on the northern line for three years. "
    "Council members said the plan would add twelve routes and extend evening service in the suburbs. "
    "Opponents argued that the fare increase would hurt commuters who rely on buses to reach work, "
    "and asked the transit agency to publish a detailed report on ridership before the next vote. "
)

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title>
<item><title>Laughs</title><description>&lol9;</description></item></channel></rss>
"""


def bad_inputs(inbox, outside):
    """Write every kind of bad input; return file name -> expected outcome ('rejected' or 'landed')."""
    expected = {}

    def put(name, data, outcome):
        path = inbox / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        expected[name] = outcome

    put("empty.txt", b"", "rejected")
    put("random.txt", os.urandom(30000), "rejected")
    put("only boilerplate.txt", "Menu\nSearch\nDark mode\nShare on Facebook\nLeave a Reply\nRead more\n", "rejected")
    put("cp1252.txt", ("Café prices in München – a report\n\n" + ARTICLE).encode("cp1252"), "landed")
    put("utf16.txt", ("Zürich’s lakefront plan\n\n" + ARTICLE.replace("city", "lake city")).encode("utf-16"), "landed")
    put("nobody.html", "<html><head><title>Nothing here</title></head></html>", "rejected")
    put("truncated.html", f"<html><head><title>Budget vote</title></head><body><article><h1>Budget vote</h1><p>{ARTICLE.replace('council', 'board')}</p><p>More te", "landed")
    put("invalid.json", '{"title": "x", "text": ', "rejected")
    put("notext.json", json.dumps({"title": "A headline only", "url": "https://example.com/x"}), "rejected")
    put("malformed.rss", "<rss><channel><title>Broken<item><title>Unclosed", "rejected")
    put("laughs.xml", BILLION_LAUGHS, "rejected")
    put("bomb.gz", gzip.compress(b"\0" * 50_000_000), "rejected")
    put("bomb.xml", gzip.compress(b"<rss>" + b"\0" * 50_000_000), "rejected")  # a gzip file posing as a feed
    items = "".join(f"<item><guid>https://example.com/{key}</guid><title>{title}</title><description><![CDATA[<p>{text}</p>]]>"
                    f"</description></item>" for key, title, text in [
                        ("ferry", "Ferry fares", ARTICLE.replace("transit", "ferry")),
                        ("tram", "Tram plan", ARTICLE.replace("bus", "tram"))])
    put("feed.rss", f"<?xml version='1.0'?><rss version='2.0'><channel><title>City</title>{items}</channel></rss>", "landed")
    put("feed.json", json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "City", "items": [
        {"id": "rail-1", "title": "Rail vote", "content_text": ARTICLE.replace("bus", "rail")}]}), "landed")
    put("naïve ünïcode name with spaces.txt", "Ünïcode title for a story\n\n" + ARTICLE.replace("council", "assembly"), "landed")
    put("sub folder/nested.txt", "Nested folder story about ports\n\n" + ARTICLE.replace("transit", "harbour"), "landed")
    (outside / "secret.txt").write_text("Secret outside the inbox\n\n" + ARTICLE)
    os.symlink(outside / "secret.txt", inbox / "link.txt")
    expected["link.txt"] = "rejected"
    return expected


def test_every_bad_input_is_accounted_for_and_kept(prefect_harness, tmp_path, samples_dir):
    from newsflow.flows.ingest import ingest_inbox

    inbox, outside = tmp_path / "inbox", tmp_path / "outside"
    inbox.mkdir()
    outside.mkdir()
    expected = bad_inputs(inbox, outside)
    for path in samples_dir.iterdir():
        shutil.copy(path, inbox)
        expected[path.name] = "landed"
    big = inbox / "huge.txt"
    with big.open("wb") as out:
        out.write(b"A very long file\n\n" + (ARTICLE.encode() * 110_000))  # ~50 MB
    expected["huge.txt"] = "rejected"

    db = tmp_path / "news.duckdb"
    ingest_inbox(inbox=str(inbox), db=str(db))

    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("SELECT source_ref, status, error, stored_path FROM documents").fetchall()
    feeds = dict(con.execute("SELECT source_ref, status FROM documents WHERE source_ref LIKE 'feed.%'").fetchall())
    sizes = dict(con.execute("SELECT split_part(source_ref, '#', 1), max(raw_size) FROM documents GROUP BY 1").fetchall())
    con.close()
    by_file = {}
    for ref, status, error, stored in rows:
        by_file.setdefault(ref.split("#")[0], []).append((status, error, stored))
    assert set(by_file) == set(expected)
    for name, outcome in expected.items():
        statuses = {s for s, _, _ in by_file[name]}
        if outcome == "landed":
            assert statuses <= {"new", "duplicate"}, (name, by_file[name])
        else:
            assert statuses == {"rejected"}, (name, by_file[name])
            assert all(error and error == error.lower() and " " not in error for _, error, _ in by_file[name]), name
        for _, _, stored in by_file[name]:
            assert stored and (os.path.lexists(stored)), f"{name}: original not kept at {stored}"
    # nothing left behind, nothing outside touched, the link itself quarantined (not its target)
    assert [p for p in inbox.rglob("*") if p.is_file() or p.is_symlink()] == []
    assert (outside / "secret.txt").read_text().startswith("Secret")
    reasons = {name: by_file[name][0][1] for name in expected if expected[name] == "rejected"}
    assert reasons["empty.txt"] == "decode_empty"
    assert reasons["random.txt"] == "decode_binary"
    assert reasons["huge.txt"] == "read_too_large"
    assert reasons["link.txt"] == "read_symlink"
    assert reasons["invalid.json"] == "json_invalid"
    assert reasons["notext.json"] == "json_no_text"
    assert reasons["bomb.gz"] == "read_unsupported_type"
    assert reasons["malformed.rss"] == "feed_no_entries"
    assert reasons["laughs.xml"] == "clean_too_short"  # its one entry, the entity left as the text "&lol9"
    assert reasons["bomb.xml"] == "decode_binary"  # by content, not by name: the feed parser never saw it
    # each feed entry is a document of its own, named by its guid or id
    assert sorted(feeds) == ["feed.json#rail-1", "feed.rss#https://example.com/ferry", "feed.rss#https://example.com/tram"]
    # nothing was expanded: the laughs entry is a few bytes, the bomb is kept as the 50 KB it was
    assert sizes["laughs.xml"] < 100
    assert sizes["bomb.xml"] == len(gzip.compress(b"<rss>" + b"\0" * 50_000_000)) < 100_000
