"""The move journal: inbox originals a written batch has still to move (`inbox_moves`), so a killed run is finished, not reread."""
from __future__ import annotations

import duckdb

from newsflow.extractors.records import Move
from newsflow.storage.bulk import insert_rows

COLUMNS = ("source_path", "raw_sha256", "raw_size", "stored_path", "note", "run_id")


def record_moves(con: duckdb.DuckDBPyConnection, moves: list[Move], run_id: str) -> None:
    """Note the batch's moves; call it inside the batch's transaction, so rows and journal commit together."""
    insert_rows(
        con,
        "inbox_moves",
        COLUMNS,
        # A name UTF-8 cannot encode cannot be a row: such a file is not journalled (after a kill it is read again).
        [(m.source, m.raw_sha256, m.size, m.target, m.note, run_id) for m in moves if _encodable(m.source, m.target)],
        key=("source_path",),
        update="""raw_sha256 = excluded.raw_sha256, raw_size = excluded.raw_size, stored_path = excluded.stored_path,
                  note = excluded.note, run_id = excluded.run_id, error = NULL""",
    )


def _encodable(*paths: str) -> bool:
    """Whether every path encodes as UTF-8 (a file name's undecodable bytes come back as lone surrogates)."""
    try:
        for path in paths:
            path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def pending_moves(con: duckdb.DuckDBPyConnection) -> list[Move]:
    """Moves a killed or failed batch left unfinished."""
    rows = con.execute(
        "SELECT source_path, raw_sha256, raw_size, stored_path, note FROM inbox_moves ORDER BY source_path"
    ).fetchall()
    return [Move(*row) for row in rows]


def settle_moves(con: duckdb.DuckDBPyConnection, finished: list[str], failed: dict[str, str]) -> None:
    """Forget the finished moves (by source path); keep the failed ones, with why, for the next batch to retry."""
    finished = [f for f in finished if _encodable(f)]
    failed = {k: v for k, v in failed.items() if _encodable(k)}
    if finished:
        con.execute("DELETE FROM inbox_moves WHERE source_path IN (SELECT unnest($1))", [finished])
    if failed:
        con.execute(
            """UPDATE inbox_moves SET error = f.error
               FROM (SELECT unnest($1) AS source_path, unnest($2) AS error) f
               WHERE inbox_moves.source_path = f.source_path""",
            [list(failed), list(failed.values())],
        )
