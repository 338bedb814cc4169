"""Input never reaches a shell, eval or a path outside the configured folders."""
import json
import os
import re
import shutil
from pathlib import Path

import duckdb

from tests.dbrows import rows

REPO = Path(__file__).resolve().parents[1]
CODE = [p for folder in ("flows", "extractors", "storage") for p in (REPO / folder).rglob("*.py")]


def test_no_shell_eval_or_pickle_of_input_in_the_code():
    dangerous = re.compile(r"\b(eval|exec)\(|shell\s*=\s*True|os\.system\(|os\.popen\(|pickle\.loads?\(|yaml\.load\(")
    offenders = [f"{p.relative_to(REPO)}:{n}" for p in CODE for n, line in enumerate(p.read_text().splitlines(), 1)
                 if dangerous.search(line)]
    assert offenders == []


def test_names_inside_records_never_become_paths(prefect_harness, tmp_path, samples_dir):
    """A JSON record's url/title full of ../ lands as data; originals stay under archive/ by their inbox name."""
    from newsflow.flows.ingest import ingest_inbox

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    body = (samples_dir / sorted(p.name for p in samples_dir.iterdir())[0]).read_text()
    record = {"url": "../../../../etc/passwd", "title": "../../escape/../me", "text": body, "author": "/etc/shadow"}
    (inbox / "evil.json").write_text(json.dumps(record))
    ingest_inbox(inbox=str(inbox), db=str(tmp_path / "news.duckdb"))
    everything = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert {p for p in everything if not p.startswith(("archive/", "news.duckdb"))} == set()
    assert any(p.startswith("archive/") and p.endswith("/evil.json") for p in everything)
    con = duckdb.connect(str(tmp_path / "news.duckdb"), read_only=True)
    assert con.execute("SELECT title FROM articles").fetchone()[0] == "../../escape/../me"
    con.close()
    shutil.rmtree(inbox)


def news_database(path: Path) -> Path:
    """A real database file with one article mentioning one entity."""
    from newsflow.storage.db import connection

    with connection(path) as con:
        con.execute("INSERT INTO articles (article_id, title, text, first_seen_at) VALUES ('a1', 'Rain', 'Rain in Oslo.', now())")
        con.execute("INSERT INTO entities VALUES ('e1', 'Oslo', 'GPE', 'NO')")
        con.execute("INSERT INTO mentions (article_id, entity_id, surface, start_char, end_char) VALUES ('a1', 'e1', 'Oslo', 8, 12)")
    return path


def sql(db: Path, query: str, *options: str, cwd: Path | None = None):
    """`newsflow sql` as a user runs it, in a real process."""
    from tests.test_cli import newsflow

    return newsflow("sql", query, "--db", str(db), "--format", "csv", *options, cwd=cwd, check=False)


def assert_refused(result, *words: str) -> None:
    """Exit 1, no output, one message on stderr naming `words`, no traceback."""
    assert result.returncode == 1 and result.stdout == "", result.stdout + result.stderr
    assert result.stderr.startswith("newsflow: ") and "Traceback" not in result.stderr, result.stderr
    assert all(word in result.stderr for word in words), result.stderr


def test_sql_reads_the_database_and_no_file_of_the_machine(tmp_path):
    db = news_database(tmp_path / "news.duckdb")
    (tmp_path / "secret.csv").write_text("password\nhunter2\n")
    views = sql(db, "SELECT name, articles, mentions FROM top_entities")  # the views still answer
    assert views.returncode == 0 and views.stdout.splitlines() == ["name,articles,mentions", "Oslo,1,1"], views.stderr
    for query in ["SELECT * FROM read_csv('/etc/passwd')", "SELECT content FROM read_text('/etc/passwd')",
                  "SELECT content FROM read_blob('/etc/hostname')", "SELECT * FROM glob('/root/*')",
                  "SELECT * FROM glob('/tmp/*')", f"SELECT * FROM '{tmp_path}/secret.csv'",
                  "SELECT * FROM read_parquet('http://127.0.0.1:9/x.parquet')"]:
        assert_refused(sql(db, query), "file system operations are disabled", "--allow-files")


def test_sql_writes_no_file_and_no_database(tmp_path):
    db = news_database(tmp_path / "news.duckdb")
    other = news_database(tmp_path / "other.duckdb")
    os.link(db, tmp_path / "same.duckdb")  # the open database under another name
    attacks = {
        "COPY (SELECT 1) TO 'x.csv'": "COPY", f"COPY articles TO '{tmp_path / 'y.csv'}'": "COPY",
        f"EXPORT DATABASE '{tmp_path / 'dump'}'": "EXPORT",
        "EXPLAIN ANALYZE COPY (SELECT 1) TO 'x.csv'": "EXPLAIN",
        f"ATTACH '{other}' AS o": "ATTACH", f"ATTACH '{other}' AS o; DELETE FROM o.articles": "2 statements",
        f"ATTACH '{tmp_path / 'same.duckdb'}' AS s; DELETE FROM s.articles": "2 statements",
        "DELETE FROM articles": "DELETE", "CREATE TABLE x AS SELECT 1": "CREATE", "CHECKPOINT; DROP TABLE mentions": "2 statements",
        f"IMPORT DATABASE '{tmp_path}'": "IMPORT", "INSTALL httpfs": "INSTALL", "LOAD httpfs": "LOAD",
    }
    for query in list(attacks)[:2] + list(attacks)[5:7]:
        assert_refused(sql(db, query, cwd=tmp_path), "read-only statement")
    for query, word in attacks.items():
        # Files under --allow-files are readable, never writable: the statement itself is refused.
        assert_refused(sql(db, query, "--allow-files", str(tmp_path), cwd=tmp_path), "read-only statement", word)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["news.duckdb", "other.duckdb", "same.duckdb"]
    for path in (db, other):
        assert rows(path, "SELECT count(*) FROM articles") == [(1,)]
        assert rows(path, "SELECT count(*) FROM mentions") == [(1,)]


def test_sql_takes_no_setting_and_one_statement(tmp_path):
    db = news_database(tmp_path / "news.duckdb")
    for query in ["SET enable_external_access = true", "SET threads = 1", "RESET threads", "PRAGMA threads = 1",
                  "SET VARIABLE x = 1", "USE memory"]:
        assert_refused(sql(db, query), "read-only statement")
    assert_refused(sql(db, "SELECT 1; SELECT * FROM read_csv('/etc/passwd')"), "2 statements")
    assert_refused(sql(db, "  -- nothing\n"), "no statements")
    one = sql(db, "SELECT title FROM articles;")
    assert one.returncode == 0 and one.stdout.splitlines() == ["title", "Rain"], one.stderr


def test_sql_stops_a_long_query_at_its_timeout(tmp_path):
    import time

    db = news_database(tmp_path / "news.duckdb")
    started = time.monotonic()
    result = sql(db, "SELECT count(*) FROM range(1000000000) a, range(1000000000) b", "--timeout", "1")
    assert_refused(result, "query timed out after 1 s", "--timeout")
    assert time.monotonic() - started < 30  # the query itself would take hours


def test_allow_files_opens_one_folder_to_reading(tmp_path):
    db = news_database(tmp_path / "news.duckdb")
    exports, elsewhere = tmp_path / "exports", tmp_path / "exports2"
    for folder in (exports, elsewhere):
        folder.mkdir()
        (folder / "sources.csv").write_text("site,n\nexample.com,3\n")
    (exports / "passwd.csv").symlink_to("/etc/passwd")
    allowed = sql(db, "SELECT site, n FROM read_csv('exports/sources.csv')", "--allow-files", str(exports), cwd=tmp_path)
    assert allowed.returncode == 0 and allowed.stdout.splitlines() == ["site,n", "example.com,3"], allowed.stderr
    listed = sql(db, f"SELECT file FROM glob('{exports}/*.csv') ORDER BY 1", "--allow-files", str(exports))
    assert listed.stdout.splitlines()[1:] == [f"{exports}/passwd.csv", f"{exports}/sources.csv"], listed.stderr
    for query in [f"SELECT * FROM read_csv('{elsewhere}/sources.csv')",  # a folder whose name starts the same
                  "SELECT * FROM read_csv('exports/../exports2/sources.csv')",
                  "SELECT * FROM read_csv('exports/passwd.csv')",  # a link inside leading out
                  "SELECT * FROM read_csv('news.duckdb.csv')"]:
        assert_refused(sql(db, query, "--allow-files", str(exports), cwd=tmp_path), "file system operations are disabled")
    missing = sql(db, "SELECT 1", "--allow-files", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "--allow-files" in missing.stderr and "no such folder" in missing.stderr


def test_import_database_is_refused_before_duckdb_reads_the_folder(tmp_path):
    """DuckDB 1.5 expands IMPORT DATABASE while parsing, from the folder's schema.sql and load.sql."""
    db = news_database(tmp_path / "news.duckdb")
    export = tmp_path / "export"
    export.mkdir()
    (export / "schema.sql").write_text(f"COPY (SELECT 1) TO '{tmp_path / 'written.csv'}';\n")
    (export / "load.sql").write_text("")
    for query in (f"IMPORT DATABASE '{export}'", f"/* x */ import database '{export}'", f"SELECT 1; IMPORT DATABASE '{export}'"):
        assert_refused(sql(db, query, "--allow-files", str(tmp_path)), "IMPORT is refused")
    assert not (tmp_path / "written.csv").exists()
