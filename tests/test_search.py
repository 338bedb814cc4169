"""Full-text search: BM25 over title and text in a side index that each search brings up to date."""
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from newsflow.storage.db import attach_read_only, connection
from newsflow.storage.search import index_path, query_terms, refresh, search, side_index

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)


def add(db, article_id, title, text, published_at=None):
    with connection(db) as con:
        con.execute("INSERT INTO articles (article_id, title, text, published_at, first_seen_at) VALUES (?, ?, ?, ?, ?)",
                    [article_id, title, text, published_at, T0])


def run_search(db, query, **options):
    with side_index(db) as index:
        attach_read_only(index, db, "source")
        added = refresh(index, "source")
        index.execute("DETACH source")
        return added, search(index, query, **options)


def test_articles_rank_by_bm25_over_title_and_text(tmp_path):
    db = tmp_path / "news.duckdb"
    add(db, "both", "Summit in Moscow", "Xi met Putin for talks on trade and energy.")
    add(db, "putin", "Kremlin statement", "Putin spoke about the economy and the weather in the capital.")
    add(db, "title", "Xi travels abroad", "The president left for a state visit on Monday morning.")
    add(db, "none", "Football results", "The home side won the cup final after extra time.")
    added, hits = run_search(db, "Xi Putin")
    assert added == 4
    assert hits[0].article_id == "both"  # both words beat one
    assert {h.article_id for h in hits} == {"both", "putin", "title"}  # a title match counts; no match, no hit
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:]))
    assert run_search(db, "zyzzyva")[1] == []
    # Stems: "talking" finds "talks"; stopwords alone find nothing.
    assert [h.article_id for h in run_search(db, "talking")[1]] == ["both"]
    assert run_search(db, "the and")[1] == []


def test_the_index_follows_new_articles_and_filled_dates(tmp_path):
    db = tmp_path / "news.duckdb"
    add(db, "a1", "Old news", "Putin spoke on Monday.")
    assert [h.article_id for h in run_search(db, "putin")[1]] == ["a1"]
    assert run_search(db, "putin")[0] == 0  # nothing new: the index is read as it is
    add(db, "a2", "New news", "Putin spoke again on Tuesday.", datetime(2025, 6, 1, tzinfo=timezone.utc))
    added, hits = run_search(db, "putin")
    assert added == 1 and {h.article_id for h in hits} == {"a1", "a2"}
    since = datetime(2025, 3, 1, tzinfo=timezone.utc)
    assert [h.article_id for h in run_search(db, "putin", since=since)[1]] == ["a2"]
    with connection(db) as con:  # a later duplicate fills a1's date (storage.dedup_index.fill_missing_metadata)
        con.execute("UPDATE articles SET published_at = TIMESTAMPTZ '2025-07-01 00:00:00+00' WHERE article_id = 'a1'")
    assert {h.article_id for h in run_search(db, "putin", since=since)[1]} == {"a1", "a2"}
    assert len(run_search(db, "putin", limit=1)[1]) == 1


def test_the_side_index_is_its_own_file_and_the_database_stays_untouched(tmp_path):
    db = tmp_path / "news.duckdb"
    add(db, "a1", "Title", "Putin spoke.")
    run_search(db, "putin")
    assert index_path(db) == tmp_path / "news.search.duckdb" and index_path(db).is_file()
    con = duckdb.connect(str(db), read_only=True)
    schemas = {r[0] for r in con.execute("SELECT schema_name FROM duckdb_schemas() WHERE database_name = 'news'").fetchall()}
    assert not any(s.startswith("fts_") for s in schemas)
    assert index_path("ducklake:sqlite:/data/lake.sqlite") == Path("/data/lake.sqlite.search.duckdb")
    assert index_path("ducklake:postgres:dbname=news host=db1").name.endswith(".search.duckdb")


def test_query_terms_are_read_as_the_index_reads_text(tmp_path):
    add(tmp_path / "n.duckdb", "a", "t", "x")
    with side_index(tmp_path / "n.duckdb") as index:
        assert query_terms(index, "Talking, Zürich's TALKS! 2025") == ["talk", "zurich"]
