"""Learned site chrome in DuckDB: counted per document, filtered by site and threshold, kept across restarts."""
from __future__ import annotations

import duckdb

from newsflow.storage.db import apply_schema
from newsflow.storage.site_lines import load_site_lines, record_site_lines


def test_counts_add_up_per_document(db):
    record_site_lines(db, [("a.example", "h1", "Menu"), ("a.example", "h2", "Share")])
    record_site_lines(db, [("a.example", "h1", "Menu"), ("b.example", "h1", "Menu")])
    record_site_lines(db, [("a.example", "h1", "Menu")])
    rows = db.execute("SELECT site, line_hash, line, doc_count FROM site_lines ORDER BY ALL").fetchall()
    assert rows == [("a.example", "h1", "Menu", 3), ("a.example", "h2", "Share", 1), ("b.example", "h1", "Menu", 1)]


def test_one_batch_may_repeat_a_line_across_documents(db):
    # Three documents of one site in one batch: one statement, no "same row twice" conflict.
    record_site_lines(db, [("a.example", "h1", "Menu")] * 3)
    assert load_site_lines(db, ["a.example"]) == {"a.example": {"h1"}}


def test_load_filters_sites_and_threshold(db):
    record_site_lines(db, [("a.example", "h1", "Menu"), ("a.example", "h2", "Share"), ("b.example", "h3", "x")])
    record_site_lines(db, [("a.example", "h1", "Menu"), ("b.example", "h3", "x")])
    assert load_site_lines(db, ["a.example", "b.example"], min_docs=2) == {"a.example": {"h1"}, "b.example": {"h3"}}
    assert load_site_lines(db, ["a.example"], min_docs=1) == {"a.example": {"h1", "h2"}}
    assert load_site_lines(db, ["c.example"]) == {}
    assert load_site_lines(db, []) == {}


def test_learned_lines_survive_a_restart(tmp_path):
    path = str(tmp_path / "news.duckdb")
    con = duckdb.connect(path)
    apply_schema(con)
    con.execute("BEGIN")
    record_site_lines(con, [("a.example", "h1", "Menu")] * 3)
    con.execute("COMMIT")
    con.close()
    con = duckdb.connect(path)
    assert load_site_lines(con, ["a.example"]) == {"a.example": {"h1"}}
    con.close()
