"""Dedup index in DuckDB: lookups by the keys of one batch, and additions after the batch is decided.

URLs and body hashes are point lookups on indexed columns (constant IN lists, which DuckDB index-scans;
bound parameters it does not). LSH bands are found by a join of this batch's band hashes with
article_bands, which has no index on purpose: 41 rows per article make an ART index cost more to
maintain (rewritten at commit and checkpoint) than the join costs to read one integer column
(both measured in benchmarks/results/dedup.md). Signatures are never compared with all articles:
only band hits are verified.
"""
from __future__ import annotations

from newsflow.extractors.dedup import FILLABLE, Candidates, metadata_fills, top_band_hits
from newsflow.extractors.records import Article, Decision, DedupKeys
from newsflow.extractors.settings import Dedup
from newsflow.storage.bulk import insert_rows

_CHUNK = 1000  # values per IN list: larger lists plan slowly, smaller ones pay per-statement overhead


def _literal(value: str | int) -> str:
    """A SQL literal for an IN list: DuckDB index-scans constant IN lists but not bound parameters."""
    if isinstance(value, int):
        return str(int(value))
    if "\x00" in value:
        raise ValueError("NUL byte in a dedup key")  # cannot be a real URL or hash: a bug upstream
    return "'" + value.replace("'", "''") + "'"


def _lookup(con, sql: str, values: list) -> list[tuple]:
    """Run sql (with one {inlist} slot) over the distinct values in chunks; rows concatenated."""
    rows: list[tuple] = []
    unique = list(dict.fromkeys(values))
    for start in range(0, len(unique), _CHUNK):
        inlist = ", ".join(_literal(v) for v in unique[start : start + _CHUNK])
        rows.extend(con.execute(sql.format(inlist=inlist)).fetchall())
    return rows


def find_candidates(con, keys: list[DedupKeys], max_candidates: int | None = None) -> Candidates:
    """Articles already stored that share a canonical URL, a body hash or an LSH band with these keys.

    Per key, only the max_candidates articles sharing the most bands are kept (default: Dedup()), so a
    band shared by thousands of articles (a templated lead) costs a bounded lookup.
    """
    limit = Dedup().max_candidates if max_candidates is None else max_candidates
    candidates = Candidates()
    urls = [k.canonical_url for k in keys if k.canonical_url]
    if urls:
        sql = "SELECT canonical_url, article_id FROM article_urls WHERE canonical_url IN ({inlist})"
        candidates.by_url = dict(_lookup(con, sql, urls))
    shas = [k.text_sha256 for k in keys if k.text_sha256]
    if shas:
        sql = "SELECT text_sha256, min(article_id) FROM articles WHERE text_sha256 IN ({inlist}) GROUP BY 1"
        candidates.by_sha = dict(_lookup(con, sql, shas))
    band_values = list(dict.fromkeys(int(v) for k in keys for v in k.bands))
    if band_values:
        rows = con.execute(
            "SELECT band, band_hash, article_id FROM article_bands "
            "WHERE band_hash IN (SELECT unnest($1::UBIGINT[]))"  # band_hash folds in the band number
            " QUALIFY row_number() OVER (PARTITION BY band_hash ORDER BY article_id) <= $2",
            [band_values, limit],
        ).fetchall()
        for band, band_hash, article_id in rows:
            candidates.by_band.setdefault((int(band), int(band_hash)), []).append(article_id)
    hit_ids = sorted({aid for key in keys for aid in top_band_hits(key, candidates.by_band, limit)})
    if hit_ids:
        sql = "SELECT article_id, text FROM articles WHERE article_id IN ({inlist})"
        candidates.texts = dict(_lookup(con, sql, hit_ids))
    return candidates


def add_to_index(con, articles: list[Article], keys: list[DedupKeys], decisions: list[Decision]) -> None:
    """Signatures and bands of new articles, canonical URLs of all; inside the caller's transaction."""
    sig_ids, sigs, band_nos, band_vals, band_ids = [], [], [], [], []
    url_rows: dict[str, str] = {}
    for key, decision in zip(keys, decisions):
        if key.canonical_url:
            url_rows.setdefault(key.canonical_url, decision.article_id)
        if decision.status != "new" or not key.minhash:
            continue
        sig_ids.append(decision.article_id)
        sigs.append(key.minhash)
        band_nos.extend(range(len(key.bands)))
        band_vals.extend(key.bands)
        band_ids.extend([decision.article_id] * len(key.bands))
    if sig_ids:
        # Bands have no key of their own: add them only for articles not yet indexed, so a rerun adds nothing.
        con.execute(
            "INSERT INTO article_bands SELECT * FROM (SELECT unnest($1::SMALLINT[]) AS band, "
            "unnest($2::UBIGINT[]) AS band_hash, unnest($3::VARCHAR[]) AS article_id) b "
            "WHERE NOT EXISTS (SELECT 1 FROM article_signatures s WHERE s.article_id = b.article_id)",
            [band_nos, band_vals, band_ids],
        )
        insert_rows(con, "article_signatures", ("article_id", "minhash"),
                    list(zip(sig_ids, sigs)), key=("article_id",), types={"minhash": "UBIGINT[]"})
    if url_rows:
        insert_rows(con, "article_urls", ("canonical_url", "article_id"), list(url_rows.items()), key=("canonical_url",))


def fill_missing_metadata(con, articles: list[Article], decisions: list[Decision]) -> None:
    """Fill what a kept article lacks (url, canonical_url, published_at, author, attribution, site) from its
    duplicates in this batch (extractors.dedup.metadata_fills); inside the caller's transaction."""
    fills = metadata_fills(articles, decisions)
    if not fills:
        return
    ids = list(fills)
    columns = {name: [fills[aid].get(name) for aid in ids] for name in FILLABLE}
    sets = ", ".join(f"{name} = coalesce(nullif(articles.{name}, ''), f.{name})" for name in FILLABLE)
    sets = sets.replace("nullif(articles.published_at, '')", "articles.published_at")
    con.execute(
        f"""UPDATE articles SET {sets}
        FROM (SELECT unnest($1::VARCHAR[]) AS article_id, unnest($2::VARCHAR[]) AS url,
                     unnest($3::VARCHAR[]) AS canonical_url, unnest($4::TIMESTAMPTZ[]) AS published_at,
                     unnest($5::VARCHAR[]) AS author, unnest($6::VARCHAR[]) AS attribution,
                     unnest($7::VARCHAR[]) AS site) AS f
        WHERE articles.article_id = f.article_id""",
        [ids, *(columns[name] for name in FILLABLE)],
    )
