-- newsflow views: the questions users ask about entities, as plain SQL over the tables in schema.sql.
-- Every statement is CREATE OR REPLACE, so applying this file again is safe.

-- Entities of an article: one row per (article, entity), most mentioned first.
--   SELECT name, label, country_code, mentions FROM article_entities WHERE article_id = '...' ORDER BY mentions DESC;
CREATE OR REPLACE VIEW article_entities AS
SELECT
    m.article_id,
    a.title,
    e.entity_id,
    e.name,
    e.label,
    e.country_code,
    count(*)                        AS mentions,
    min(m.start_char)               AS first_char,
    list(DISTINCT m.surface)        AS surfaces
FROM mentions m
JOIN entities e USING (entity_id)
JOIN articles a USING (article_id)
GROUP BY ALL;

-- Every mention with its article's dates, for time windows. seen_at is the publication time,
-- or when newsflow first saw the article if it carried no date.
--   SELECT name, label, count(DISTINCT article_id) AS articles FROM entity_mentions_dated
--   WHERE seen_at >= now() - INTERVAL 7 DAY GROUP BY ALL ORDER BY articles DESC LIMIT 20;
CREATE OR REPLACE VIEW entity_mentions_dated AS
SELECT
    m.article_id,
    e.entity_id,
    e.name,
    e.label,
    e.country_code,
    m.surface,
    m.start_char,
    m.end_char,
    a.published_at,
    a.first_seen_at,
    coalesce(a.published_at, a.first_seen_at) AS seen_at,
    a.site
FROM mentions m
JOIN entities e USING (entity_id)
JOIN articles a USING (article_id);

-- Top entities over all time; filter entity_mentions_dated instead for a window.
--   SELECT name, label, articles, mentions FROM top_entities ORDER BY articles DESC LIMIT 20;
CREATE OR REPLACE VIEW top_entities AS
SELECT
    entity_id,
    name,
    label,
    country_code,
    count(DISTINCT article_id) AS articles,
    count(*)                   AS mentions,
    min(seen_at)               AS first_seen,
    max(seen_at)               AS last_seen
FROM entity_mentions_dated
GROUP BY ALL;

-- Co-occurrence: each pair of entities mentioned in the same article, one row per article
-- (entity_a_id < entity_b_id), with the article's date for time windows.
--   SELECT name_a, name_b, count(*) AS articles FROM entity_cooccurrences
--   WHERE seen_at >= TIMESTAMPTZ '2025-01-01' GROUP BY ALL ORDER BY articles DESC LIMIT 20;
CREATE OR REPLACE VIEW entity_cooccurrences AS
WITH per_article AS (
    SELECT DISTINCT article_id, entity_id, name, label, seen_at FROM entity_mentions_dated
)
SELECT
    x.article_id,
    x.seen_at,
    x.entity_id AS entity_a_id,
    x.name      AS name_a,
    x.label     AS label_a,
    y.entity_id AS entity_b_id,
    y.name      AS name_b,
    y.label     AS label_b
FROM per_article x
JOIN per_article y ON x.article_id = y.article_id AND x.entity_id < y.entity_id;

-- Co-occurring pairs over all time, by the number of articles they share.
--   SELECT name_a, name_b, articles FROM entity_pairs WHERE 'Vladimir Putin' IN (name_a, name_b) ORDER BY articles DESC;
CREATE OR REPLACE VIEW entity_pairs AS
SELECT
    entity_a_id, name_a, label_a,
    entity_b_id, name_b, label_b,
    count(*)     AS articles,
    max(seen_at) AS last_seen
FROM entity_cooccurrences
GROUP BY ALL;

-- Articles mentioning an entity under any of its aliases (aliases are stored casefolded).
--   SELECT DISTINCT article_id, title, published_at FROM entity_articles WHERE alias = lower('Kiev');
CREATE OR REPLACE VIEW entity_articles AS
SELECT
    al.alias,
    e.entity_id,
    e.name,
    e.label,
    a.article_id,
    a.title,
    a.url,
    coalesce(a.published_at, a.first_seen_at) AS seen_at,
    count(*) AS mentions
FROM entity_aliases al
JOIN entities e USING (entity_id)
JOIN mentions m USING (entity_id)
JOIN articles a ON a.article_id = m.article_id
GROUP BY ALL;

-- Health of each source (feed or sitemap): when it last answered and last brought something new, new entries
-- per day over the last 7 days (or since it was added), and its status (active, failing, stale, dead).
--   SELECT source_url, status, entries_per_day, consecutive_errors FROM source_health WHERE status <> 'active';
CREATE OR REPLACE VIEW source_health AS
WITH recent AS (
    SELECT source_url, sum(entries_new) AS new_7d, count(*) AS polls_7d, count(*) FILTER (WHERE NOT ok) AS failed_7d,
           min(polled_at) AS first_poll
    FROM source_polls
    WHERE polled_at >= now() - INTERVAL 7 DAY
    GROUP BY source_url
)
SELECT
    s.source_url,
    s.source_type,
    s.kind,
    s.site,
    s.found_by,
    s.subscribed,
    coalesce(s.status, 'new')                           AS status,
    s.last_polled_at,
    s.last_success_at,
    s.last_new_entry_at,
    round(coalesce(r.new_7d, 0) / greatest(1.0, least(7.0,
          date_diff('second', coalesce(s.added_at, r.first_poll, now()), now()) / 86400.0)), 1) AS entries_per_day,
    coalesce(r.polls_7d, 0)                             AS polls_7d,
    coalesce(r.failed_7d, 0)                            AS failed_polls_7d,
    s.consecutive_errors,
    s.next_poll_at,
    s.last_error
FROM sources s
LEFT JOIN recent r USING (source_url);
