"""Full-text search: BM25 over title and text in a side index that each search brings up to date."""
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from newsflow.storage.db import attach_read_only, connection
from newsflow.storage.search import index_path, query_terms, refresh, search, side_index

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)


def add(db, article_id, title, text, published_at=None, seen=T0):
    with connection(db) as con:
        con.execute("INSERT INTO articles (article_id, title, text, published_at, first_seen_at) VALUES (?, ?, ?, ?, ?)",
                    [article_id, title, text, published_at, seen])


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
    # A writer that commits late (its batch began a day ago): not among the recent rows, still found.
    add(db, "late", "Late news", "Putin spoke a day ago.", seen=datetime(2024, 12, 31, tzinfo=timezone.utc))
    added, hits = run_search(db, "putin")
    assert added == 1 and "late" in {h.article_id for h in hits}


def test_merging_the_appended_postings_into_the_sorted_ones_changes_no_result(tmp_path, monkeypatch):
    import shutil

    import newsflow.storage.search as search_module

    words = ["putin", "xi", "summit", "trade", "energy", "weather", "football", "election"]
    db = tmp_path / "news.duckdb"
    for i in range(40):
        add(db, f"a{i:02d}", f"Report {i}", " ".join(words[(i * k) % len(words)] for k in range(1, 4 + i % 5)))
    run_search(db, "putin")  # indexed, all in the tail
    for i in range(40, 50):
        add(db, f"a{i:02d}", f"Report {i}", "summit energy putin")
    shutil.copy(db, tmp_path / "copy.duckdb")  # the same articles, indexed in one go and never merged
    monkeypatch.setattr(search_module, "MERGE_MIN_ROWS", 0)
    run_search(db, "summit")  # this refresh merges: its tail is past 25 % of nothing sorted
    with side_index(db) as index:
        assert index.execute("SELECT count(*) FROM search_postings_tail").fetchone() == (0,)
        assert index.execute("SELECT count(*) FROM search_postings").fetchone()[0] > 100
    monkeypatch.setattr(search_module, "MERGE_MIN_ROWS", 10**9)
    for q in ["putin trade", "xi", "football election weather", "summit"]:
        merged = [(h.article_id, round(h.score, 9)) for h in run_search(db, q, limit=50)[1]]
        assert merged and merged == [(h.article_id, round(h.score, 9)) for h in run_search(tmp_path / "copy.duckdb", q, limit=50)[1]]

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


def test_scores_are_the_bm25_of_ftss_own_match_bm25(tmp_path):
    """The same corpus indexed by fts (create_fts_index, the same stopwords) gives the same scores."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from corpus import make_articles

    from newsflow.storage.search import stopwords

    db = tmp_path / "news.duckdb"
    # Letters and single spaces only: fts's own tokenizer keeps typographic quotes on words (“action), which this
    # one does not. fts also counts some empty tokens in a document's length (1-3 % here), hence the tolerance.
    import re

    def letters(text):
        return re.sub(r"[^A-Za-z]+", " ", text).strip()

    articles = [(letters(t), letters(b)) for t, b in make_articles(60, 120)]
    with connection(db) as con:
        con.execute("INSERT INTO articles (article_id, title, text, first_seen_at) SELECT unnest($1), unnest($2), unnest($3), now()",
                    [[f"a{i:02d}" for i in range(60)], [t for t, _ in articles], [b for _, b in articles]])
    queries = ["government said", "minister election results", "police"]
    with side_index(db) as index:
        attach_read_only(index, db, "source")
        refresh(index, "source")
        ours = {q: {h.article_id: h.score for h in search(index, q, limit=100)} for q in queries}
        index.execute("CREATE TABLE sw AS SELECT unnest($1::VARCHAR[]) AS sw", [stopwords()])
        index.execute("CREATE TABLE fts_docs AS SELECT article_id, coalesce(title, '') || ' ' || text AS body FROM source.articles")
        index.execute("PRAGMA create_fts_index('fts_docs', 'article_id', 'body', stemmer = 'porter', stopwords = 'sw', "
                      "strip_accents = 1, lower = 1)")
        for q in queries:
            theirs = dict(index.execute("SELECT article_id, fts_main_fts_docs.match_bm25(article_id, ?) AS s FROM fts_docs "
                                        "WHERE s IS NOT NULL", [q]).fetchall())
            assert len(theirs) > 3 and ours[q].keys() == theirs.keys()
            assert all(abs(ours[q][k] - theirs[k]) <= 0.05 * theirs[k] for k in theirs), q
            assert sorted(ours[q], key=ours[q].get)[-5:] == sorted(theirs, key=theirs.get)[-5:]  # the same top five
