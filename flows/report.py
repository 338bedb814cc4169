"""What a command prints: the summary of an ingest run, and a query's result as a table, CSV or JSON."""
from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path


def print_summary(db: str, totals: dict[str, int]) -> None:
    """What landed, and a query to try next."""
    from newsflow.storage.db import connection
    from newsflow.storage.queries import top_entities

    if "feeds" in totals:
        extra = "".join(f"  {label}: {totals[key]}" for key, label in (
            ("sitemaps", "sitemaps"), ("sitemap_files", "sitemap files read"),
            ("entries_skipped_old", "old entries skipped"), ("sources_backed_off", "backing off")) if totals.get(key))
        print(
            f"feeds: {totals['feeds']} ({totals.get('feeds_not_modified', 0)} unchanged, {totals.get('feeds_failed', 0)} failed)  "
            f"new entries: {totals.get('entries_new', 0)}  pages fetched: {totals.get('pages_fetched', 0)}{extra}"
        )
    elif "files" in totals:
        print(f"files: {totals['files']}")
    print(
        f"documents: {totals['documents']}  new articles: {totals['articles']}  "
        f"duplicates: {totals['duplicates']}  rejected: {totals['rejected']}  mentions: {totals['mentions']}"
    )
    with connection(db, read_only=True) as con:
        top = top_entities(con, 10)
        count = con.execute("SELECT count(*) FROM articles").fetchone()[0]
    print(f"articles in {db}: {count}")
    if top:
        print("top entities: " + ", ".join(f"{name} ({label}, {n})" for name, label, n in top))
    print(f"try: {_invoked_as()} sql \"SELECT title, word_count, language FROM articles ORDER BY first_seen_at DESC LIMIT 5\" --db {db}")


SOURCES_QUERY = """
SELECT status, source_type AS type, kind, entries_per_day AS per_day, consecutive_errors AS failures,
       strftime(last_success_at, '%Y-%m-%d %H:%M') AS last_success, strftime(last_new_entry_at, '%Y-%m-%d %H:%M') AS last_new,
       found_by, source_url
FROM source_health
ORDER BY subscribed DESC, site NULLS LAST, source_type, source_url
"""


def print_sources(db: str) -> None:
    """The `source_health` view as a table: one line per feed or sitemap."""
    from newsflow.storage.db import connection

    with connection(db, read_only=True) as con:
        if not con.execute("SELECT count(*) FROM sources").fetchone()[0]:
            print(f"no sources in {db} yet: newsflow sources add https://example.com/")
            return
    print_query(db, SOURCES_QUERY)


def _invoked_as() -> str:
    """How the user called us (e.g. .venv/bin/newsflow), so the suggested command works as printed."""
    called = sys.argv[0] if sys.argv else ""
    return called if called.endswith("newsflow") and "/" in called else "newsflow"


def print_query(db: str, query: str, fmt: str = "table", timeout_s: float | None = 60.0, wait_s: float = 30.0,
                allow_files: list[str] = ()) -> None:
    """Print a query's result as a table, CSV or JSON (storage.readonly: what the query can reach)."""
    import csv
    import json

    import duckdb

    from newsflow.storage.db import DatabaseLocked
    from newsflow.storage.readonly import QueryRefused, read_only_connection, run_query

    for folder in allow_files:
        if not Path(folder).is_dir():
            raise FileNotFoundError(f"--allow-files {folder}: no such folder")
    try:
        with read_only_connection(db, allow_files=allow_files, wait_s=wait_s) as con:
            columns, rows = run_query(con, query, timeout_s)
    except duckdb.PermissionException as exc:  # DuckDB's own text, then what can be read
        raise QueryRefused(f"{str(exc).splitlines()[0]}: newsflow sql reads the database only, and the files under "
                           "the folders given with --allow-files DIR") from exc
    except DatabaseLocked as exc:
        raise DatabaseLocked(f"{db} is busy: another process (newsflow ingest or watch, or a duckdb shell) kept it "
                             f"open for writing for {wait_s:g} s; retry, give a longer --wait SECONDS, or stop the writer") from exc
    if fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
    elif fmt == "json":
        print(json.dumps([dict(zip(columns, row)) for row in rows], default=str, ensure_ascii=False, indent=1))
    else:
        widths = [min(60, max([len(c)] + [len(_cell(r[i])) for r in rows])) for i, c in enumerate(columns)]
        print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
        print("  ".join("-" * w for w in widths))
        for row in rows:
            print("  ".join(_cell(v)[:w].ljust(w) for v, w in zip(row, widths)))
        print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")


def _cell(value: object) -> str:
    return "NULL" if value is None else str(value).replace("\n", " ")


def print_transfer(command: str, db: str, folder: str) -> None:
    """`newsflow export DIR` (the database read-only) or `newsflow import DIR` (an empty database), and the rows moved."""
    from newsflow.storage.db import check_database, connection, writer_lock
    from newsflow.storage.transfer import export_tables, import_tables

    if command == "export":
        check_database(db, write=False)
        with connection(db, read_only=True) as con:
            counts = export_tables(con, folder)
    else:
        if not Path(folder).is_dir():
            raise FileNotFoundError(f"{folder}: no such folder")
        with writer_lock(db), connection(db) as con:
            counts = import_tables(con, folder)
    rows = ", ".join(f"{table} {n}" for table, n in counts.items() if n)
    print(f"{'exported' if command == 'export' else 'imported'} {sum(counts.values())} rows ({rows or 'none'}) "
          f"{'to' if command == 'export' else 'from'} {folder}")


def print_search(db: str, query: str, since: datetime | None = None, limit: int = 10, wait_s: float = 30.0) -> None:
    """Rank articles for `query` (storage.search: the side index, brought up to date first) and print each with a snippet."""
    from newsflow.extractors.snippets import snippet
    from newsflow.storage.db import attach_read_only, check_database
    from newsflow.storage.search import query_terms, refresh, search, side_index

    check_database(db, write=False)
    with side_index(db) as index:
        attach_read_only(index, db, "source", wait_s=wait_s)
        try:
            refresh(index, "source")
        finally:
            index.execute("DETACH source")  # the writers' file is free again before the query runs
        hits = search(index, query, since, limit)
        stems = query_terms(index, query)
    for n, hit in enumerate(hits, 1):
        when = hit.seen_at.date().isoformat() if hit.seen_at else "undated"
        print(f"{n}. {hit.title or '(no title)'}  [{when}  score {hit.score:.2f}  {hit.article_id}]")
        if hit.url:
            print(f"   {hit.url}")
        print(f"   {snippet(hit.text, stems)}")
    print(f"({len(hits)} article{'s' if len(hits) != 1 else ''} for {query!r}{' since ' + since.date().isoformat() if since else ''})")
