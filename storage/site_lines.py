"""Site chrome learned across documents: lines that recur in several documents of one site."""
from __future__ import annotations

from collections import Counter

import duckdb

from newsflow.storage.bulk import insert_rows


def load_site_lines(con: duckdb.DuckDBPyConnection, sites: list[str], min_docs: int = 3) -> dict[str, set[str]]:
    """Hashes of the lines seen in at least `min_docs` documents, per site, for the given sites."""
    wanted = sorted({s for s in sites if s})
    if not wanted:
        return {}
    rows = con.execute(
        "SELECT site, line_hash FROM site_lines WHERE site IN (SELECT unnest($1)) AND doc_count >= $2",
        [wanted, min_docs],
    ).fetchall()
    learned: dict[str, set[str]] = {}
    for site, line_hash in rows:
        learned.setdefault(site, set()).add(line_hash)
    return learned


def record_site_lines(con: duckdb.DuckDBPyConnection, rows: list[tuple[str, str, str]]) -> None:
    """Count each (site, line_hash, line) observation once more; runs inside the caller's transaction."""
    counts = Counter((site, line_hash) for site, line_hash, _line in rows)
    lines = {(site, line_hash): line for site, line_hash, line in rows}
    # One row per key: an upsert cannot touch the same row twice in one statement.
    insert_rows(
        con,
        "site_lines",
        ("site", "line_hash", "line", "doc_count"),
        [(site, h, lines[(site, h)], n) for (site, h), n in counts.items()],
        key=("site", "line_hash"), update="doc_count = site_lines.doc_count + excluded.doc_count",
    )
