-- newsflow schema: the tables users query with plain SQL.
-- Created on first use; every statement is idempotent so opening an older file migrates it.
-- Timestamps are TIMESTAMPTZ (stored as UTC).

-- Which version of this file (and views.sql) the database was last migrated to.
CREATE TABLE IF NOT EXISTS newsflow_meta (
    key           VARCHAR PRIMARY KEY,
    value         VARCHAR
);

-- Each flow run.
CREATE TABLE IF NOT EXISTS runs (
    run_id        VARCHAR PRIMARY KEY,
    flow          VARCHAR NOT NULL,          -- ingest-inbox, ingest-feeds, ingest-urls, watch
    started_at    TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ,
    status        VARCHAR,                   -- running, completed, failed, crashed (ended without finishing)
    documents     INTEGER DEFAULT 0,         -- inputs received
    articles      INTEGER DEFAULT 0,         -- new articles
    duplicates    INTEGER DEFAULT 0,
    rejected      INTEGER DEFAULT 0,
    mentions      INTEGER DEFAULT 0,
    error         VARCHAR
);
-- The process running it, so the next start can tell a run whose process is gone (killed) from a live one.
ALTER TABLE runs ADD COLUMN IF NOT EXISTS host VARCHAR;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS pid INTEGER;

-- Each distinct article. A duplicate never adds a row here.
CREATE TABLE IF NOT EXISTS articles (
    article_id    VARCHAR PRIMARY KEY,
    title         VARCHAR,
    text          VARCHAR NOT NULL,          -- the cleaned body only
    url           VARCHAR,
    canonical_url VARCHAR,
    site          VARCHAR,
    author        VARCHAR,
    published_at  TIMESTAMPTZ,
    language      VARCHAR,                   -- ISO 639-1
    attribution   VARCHAR,                   -- "Original Source: ..." and the like, moved out of the body
    word_count    INTEGER,
    text_sha256   VARCHAR,                   -- hash of the normalised body (exact dedup key)
    extractor     VARCHAR,                   -- plain, trafilatura, readability, feed, json
    story_id      VARCHAR,                   -- groups reports of the same event
    first_seen_at TIMESTAMPTZ NOT NULL
);
-- When its event happened, as story linking read it, and from what (published, text_date, dateline, month_day,
-- weekday, relative, holiday, arrival; NULL: none found).
ALTER TABLE articles ADD COLUMN IF NOT EXISTS event_date DATE;
ALTER TABLE articles ADD COLUMN IF NOT EXISTS event_date_source VARCHAR;

-- Why a new article joined an earlier article's story: one row per link, with the evidence that decided it
-- (extractors/story_evidence.py). An article that started its own story has none.
CREATE TABLE IF NOT EXISTS story_links (
    article_id         VARCHAR PRIMARY KEY,
    linked_to          VARCHAR NOT NULL,    -- the earlier article it matched best
    story_id           VARCHAR NOT NULL,
    score              DOUBLE,              -- cosine moved by the evidence; it cleared `threshold`
    threshold          DOUBLE,
    cosine             DOUBLE,              -- TF-IDF cosine of title + lead
    day_gap            INTEGER,             -- days between the two event days, NULL when one is unknown
    day_sources        VARCHAR,             -- where each day came from: "published/arrival"
    shared_kinds       VARCHAR[],           -- kinds of event both name (call, meeting, vote...)
    shared_particulars VARCHAR[],           -- numbers both give (a count, a score, a duration: "95min")
    linked_at          TIMESTAMPTZ NOT NULL
);

-- How the page was read when not plainly (extractors/html.py, decoding.py): an encoding that overruled the
-- declared one, HTML pruned or cut, text capped, which extraction candidate won and why; "; "-separated.
ALTER TABLE articles ADD COLUMN IF NOT EXISTS extraction_notes VARCHAR;
-- The line of the extracted page each paragraph of `text` was (removed_lines.line_no counts the same lines, blank ones
-- included): where the removed lines stood among the kept ones. NULL on rows written before it was kept.
ALTER TABLE articles ADD COLUMN IF NOT EXISTS text_line_nos INTEGER[];

-- Every input received (file, feed entry, page), duplicates and rejects included.
CREATE TABLE IF NOT EXISTS documents (
    document_id   VARCHAR PRIMARY KEY,
    run_id        VARCHAR,
    source_kind   VARCHAR NOT NULL,          -- inbox, feed, sitemap, url
    source_ref    VARCHAR NOT NULL,          -- file path, feed URL#entry, sitemap URL#page URL, page URL
    parent_id     VARCHAR,                   -- the file a feed/jsonl entry was split from
    received_at   TIMESTAMPTZ NOT NULL,
    raw_sha256    VARCHAR,
    raw_size      BIGINT,
    stored_path   VARCHAR,                   -- where the original was kept (archive or quarantine)
    status        VARCHAR NOT NULL,          -- new, duplicate, rejected
    article_id    VARCHAR,                   -- the article it created or duplicates
    dedup_method  VARCHAR,                   -- url, exact, near
    similarity    DOUBLE,
    error         VARCHAR,                   -- snake_case reason when rejected
    error_detail  VARCHAR
);

-- Inbox originals a written batch has still to move: written with the batch's rows, deleted once the file is
-- in place. A run killed in between leaves rows here; the next run moves such a file unread only while it still
-- matches (raw_sha256 and raw_size), and reads anything else as a new input.
CREATE TABLE IF NOT EXISTS inbox_moves (
    source_path   VARCHAR PRIMARY KEY,       -- the file in the inbox (absolute path)
    raw_sha256    VARCHAR NOT NULL,          -- of the whole file ('' when it was not read: a link, too large)
    raw_size      BIGINT NOT NULL,
    stored_path   VARCHAR NOT NULL,          -- where it goes (documents.stored_path)
    note          VARCHAR,                   -- the .error note written beside a quarantined file
    run_id        VARCHAR,
    error         VARCHAR                    -- why the last attempt to move it failed
);

-- Raw bytes of inputs that have no file of their own (feed entries, fetched pages).
CREATE TABLE IF NOT EXISTS raw_content (
    document_id   VARCHAR PRIMARY KEY,
    content       BLOB
);

-- Each canonical entity: one row per real-world entity.
CREATE TABLE IF NOT EXISTS entities (
    entity_id     VARCHAR PRIMARY KEY,
    name          VARCHAR NOT NULL,
    label         VARCHAR NOT NULL,          -- PERSON, ORG, GPE, LOC, NORP, ...
    country_code  VARCHAR                    -- ISO 3166-1 alpha-2 for places and nationalities
);

-- Normalised surface forms that resolve to a canonical entity.
CREATE TABLE IF NOT EXISTS entity_aliases (
    alias         VARCHAR NOT NULL,          -- normalised (casefolded) alias
    label         VARCHAR NOT NULL,
    entity_id     VARCHAR NOT NULL,
    PRIMARY KEY (alias, label)
);

-- The language an alias was written in (ISO 639-1; 'en' for the alias tables; NULL when unknown). An alias starting
-- with '~' is a person's spelling key (transliteration-blind): other spellings of the name find the entity by it.
ALTER TABLE entity_aliases ADD COLUMN IF NOT EXISTS language VARCHAR;

-- Each entity mention in an article; offsets index articles.text.
CREATE TABLE IF NOT EXISTS mentions (
    article_id    VARCHAR NOT NULL,
    entity_id     VARCHAR NOT NULL,
    surface       VARCHAR NOT NULL,
    start_char    INTEGER NOT NULL,
    end_char      INTEGER NOT NULL,
    PRIMARY KEY (article_id, start_char)
);

-- How the mention was found: 'model' (an NER model) or 'dictionary' (names newsflow knows, for languages without one).
ALTER TABLE mentions ADD COLUMN IF NOT EXISTS found_by VARCHAR;

-- Each line the cleaner dropped, and why.
CREATE TABLE IF NOT EXISTS removed_lines (
    document_id   VARCHAR NOT NULL,
    article_id    VARCHAR,
    line_no       INTEGER NOT NULL,
    line          VARCHAR NOT NULL,
    reason        VARCHAR NOT NULL,          -- clean_menu, clean_comment_box, clean_related, ...
    PRIMARY KEY (document_id, line_no)
);

-- Dedup index: every canonical URL an article was seen under.
CREATE TABLE IF NOT EXISTS article_urls (
    canonical_url VARCHAR PRIMARY KEY,
    article_id    VARCHAR NOT NULL
);

-- Dedup index: MinHash signature per article and its LSH band hashes.
CREATE TABLE IF NOT EXISTS article_signatures (
    article_id    VARCHAR PRIMARY KEY,
    minhash       UBIGINT[] NOT NULL
);
CREATE TABLE IF NOT EXISTS article_bands (
    band          SMALLINT NOT NULL,
    band_hash     UBIGINT NOT NULL,
    article_id    VARCHAR NOT NULL
);

-- Site chrome learned across documents of one site: lines seen in several documents.
CREATE TABLE IF NOT EXISTS site_lines (
    site          VARCHAR NOT NULL,
    line_hash     VARCHAR NOT NULL,
    line          VARCHAR NOT NULL,
    doc_count     INTEGER NOT NULL,
    PRIMARY KEY (site, line_hash)
);

-- Feed state for conditional GET and politeness.
CREATE TABLE IF NOT EXISTS sources (
    source_url          VARCHAR PRIMARY KEY,
    kind                VARCHAR,            -- rss, atom, rdf, json; sitemap, news_sitemap, sitemap_index, sitemap_text
    title               VARCHAR,
    etag                VARCHAR,
    last_modified       VARCHAR,
    last_polled_at      TIMESTAMPTZ,
    last_status         INTEGER,
    consecutive_errors  INTEGER DEFAULT 0,
    last_error          VARCHAR
);

-- What each source is, how it was found, and its health (flows/health.py sets status and next_poll_at).
ALTER TABLE sources ADD COLUMN IF NOT EXISTS source_type VARCHAR;        -- feed, sitemap (NULL: not polled yet)
ALTER TABLE sources ADD COLUMN IF NOT EXISTS site VARCHAR;               -- the home page it was discovered from
ALTER TABLE sources ADD COLUMN IF NOT EXISTS found_by VARCHAR;           -- given, link_alternate, common_path, robots_txt
ALTER TABLE sources ADD COLUMN IF NOT EXISTS subscribed BOOLEAN DEFAULT false;  -- polled by every ingest-feeds run with subscribed=True
ALTER TABLE sources ADD COLUMN IF NOT EXISTS added_at TIMESTAMPTZ;
ALTER TABLE sources ADD COLUMN IF NOT EXISTS last_success_at TIMESTAMPTZ; -- last poll that got a usable answer (200 or 304)
ALTER TABLE sources ADD COLUMN IF NOT EXISTS last_new_entry_at TIMESTAMPTZ;
ALTER TABLE sources ADD COLUMN IF NOT EXISTS next_poll_at TIMESTAMPTZ;   -- set while backing off after failures
ALTER TABLE sources ADD COLUMN IF NOT EXISTS status VARCHAR;             -- active, failing, stale, dead

-- One row per poll of a source: what it answered and how many new entries it brought (entries per day).
CREATE TABLE IF NOT EXISTS source_polls (
    source_url    VARCHAR NOT NULL,
    polled_at     TIMESTAMPTZ NOT NULL,
    run_id        VARCHAR,
    http_status   INTEGER,
    ok            BOOLEAN NOT NULL,
    entries       INTEGER,                   -- entries listed (feed items, sitemap URLs)
    entries_new   INTEGER,                   -- of which not seen before
    files         INTEGER,                   -- documents fetched for it: 1, or the sitemaps of an index
    dropped       VARCHAR,                   -- sitemap URLs left out, by reason, as JSON: {"offsite": 84}
    error         VARCHAR,
    PRIMARY KEY (source_url, polled_at)
);

-- The sitemaps under a polled index (its source_url), each with the validators and the <lastmod> the index gave it
-- when it was last read whole: a re-poll skips a sitemap whose lastmod has not changed and asks the others with a
-- conditional GET. Indexes below the top one are not kept (they are read at every poll, as the top one is).
CREATE TABLE IF NOT EXISTS sitemap_files (
    source_url    VARCHAR NOT NULL,
    file_url      VARCHAR NOT NULL,
    etag          VARCHAR,
    last_modified VARCHAR,
    lastmod       TIMESTAMPTZ,               -- as the index listed it at that read
    read_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source_url, file_url)
);

-- Feed entries (by guid or link) and sitemap URLs already seen, so they are not fetched again.
CREATE TABLE IF NOT EXISTS seen_entries (
    source_url    VARCHAR NOT NULL,
    entry_key     VARCHAR NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source_url, entry_key)
);

CREATE INDEX IF NOT EXISTS articles_text_sha256 ON articles (text_sha256);
-- article_bands has no index on purpose: 41 rows per article make an ART index the costliest thing in a
-- batch (commit and checkpoint rewrite it: ~1 s per batch at 100k articles), while the batch's band join
-- reads one integer column (benchmarks/results/dedup.md). Older files lose the indexes they had.
DROP INDEX IF EXISTS article_bands_lookup;
DROP INDEX IF EXISTS article_bands_hash;
CREATE INDEX IF NOT EXISTS documents_raw ON documents (source_ref, raw_sha256);
