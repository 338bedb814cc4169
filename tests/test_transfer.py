"""Export and import: a whole database as one Parquet file per table, across files, lakes and DuckDB versions."""
from pathlib import Path

import pytest

from newsflow.storage.db import connection
from newsflow.storage.transfer import ImportRefused, export_tables, import_tables

EXPORT_2_0 = Path(__file__).parent / "data" / "export_by_duckdb_2.0.1"


def fill(path):
    with connection(path) as con:
        con.execute("INSERT INTO articles (article_id, title, text, first_seen_at) VALUES ('a1', 'T', 'body', now()), ('a2', 'U', 'more', now())")
        con.execute("INSERT INTO documents (document_id, source_kind, source_ref, received_at, status, article_id) "
                    "VALUES ('d1', 'inbox', 'a.txt', now(), 'new', 'a1'), ('d2', 'inbox', 'b.txt', now(), 'new', 'a2')")
        con.execute("INSERT INTO article_signatures VALUES ('a1', [1, 2, 3]::UBIGINT[])")


def test_export_then_import_moves_every_row(tmp_path):
    fill(tmp_path / "old.duckdb")
    with connection(tmp_path / "old.duckdb", read_only=True) as con:
        exported = export_tables(con, tmp_path / "export")
    assert exported["articles"] == 2 and exported["documents"] == 2 and exported["article_signatures"] == 1
    assert "newsflow_meta" not in exported
    with connection(tmp_path / "new.duckdb") as con:
        imported = import_tables(con, tmp_path / "export")
        assert imported == exported
        assert con.execute("SELECT minhash FROM article_signatures").fetchone() == ([1, 2, 3],)
        assert con.execute("SELECT article_id, title FROM articles ORDER BY 1").fetchall() == [("a1", "T"), ("a2", "U")]


def test_an_export_written_by_duckdb_2_imports_into_the_pinned_duckdb(tmp_path):
    with connection(tmp_path / "moved.duckdb") as con:
        imported = import_tables(con, EXPORT_2_0)
        assert imported["articles"] == 1 and imported["documents"] == 1
        assert con.execute("SELECT title, text FROM articles").fetchone() == ("Written by 2.0", "A body written by DuckDB 2.0.1.")


def test_import_fills_only_an_empty_database_and_only_from_an_export(tmp_path):
    fill(tmp_path / "full.duckdb")
    with connection(tmp_path / "full.duckdb") as con:
        with pytest.raises(ImportRefused, match="already holds articles and documents"):
            import_tables(con, EXPORT_2_0)
        with pytest.raises(ImportRefused, match="not an export of a newsflow database"):
            import_tables(con, tmp_path)
        assert con.execute("SELECT count(*) FROM articles").fetchone() == (2,)
