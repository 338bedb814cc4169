"""Entities resolved across articles, written, and the entity views, on a real in-memory DuckDB fed by the real model."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from newsflow.extractors.entities import extract_entities, load_ner, resolve_mentions
from newsflow.extractors.entity_resolution import lookup_keys, resolve_entities
from newsflow.extractors.records import Article
from newsflow.extractors.settings import Ner
from newsflow.storage.entity_store import create_views, load_entities, write_entities
from tests.test_entities import sample_bodies
from tests.test_entity_resolution import person_mentions

REPO = Path(__file__).resolve().parents[1]
DATES = {
    "000_b865db9ad46887ed": datetime(2025, 1, 21, tzinfo=timezone.utc),
    "001_9e2f585d2e5eedc9": datetime(2025, 1, 1, tzinfo=timezone.utc),
    "002_5171715639db08b2": datetime(2025, 5, 8, tzinfo=timezone.utc),
}


@pytest.fixture(scope="session")
def sample_articles() -> list[Article]:
    load_ner(Ner())
    return [
        Article(document_id=key, title=f"title {key}", text=text, article_id=key, published_at=DATES[key])
        for key, text in sample_bodies().items()
    ]


@pytest.fixture(scope="session")
def sample_mentions(sample_articles):
    return extract_entities(sample_articles, Ner())


@pytest.fixture()
def con(db, sample_articles):
    """Schema from storage/schema.sql, the views, and the three sample articles; on each target (conftest.db)."""
    con = db
    for a in sample_articles:
        con.execute(
            "INSERT INTO articles (article_id, title, text, published_at, first_seen_at) VALUES (?, ?, ?, ?, ?)",
            [a.article_id, a.title, a.text, a.published_at, datetime(2026, 1, 1, tzinfo=timezone.utc)],
        )
    yield con
    con.close()


def land(con, mentions) -> None:
    """What a batch does: resolve its mentions against the stored entities (flows.pipeline), then write them."""
    write_entities(con, *resolve_entities(mentions, load_entities(con, lookup_keys(mentions))))


def test_write_entities_stores_one_row_per_entity_and_every_mention(con, sample_mentions):
    land(con, sample_mentions)
    assert con.execute("SELECT count(*) FROM mentions").fetchone()[0] == len(sample_mentions)
    assert con.execute("SELECT count(*) FROM entities").fetchone()[0] == len({m.entity_id for m in sample_mentions})
    rows = con.execute("SELECT name, label, country_code FROM entities WHERE name IN ('Vladimir Putin', 'Moscow', 'China')").fetchall()
    assert sorted(rows) == [("China", "GPE", "CN"), ("Moscow", "GPE", "RU"), ("Vladimir Putin", "PERSON", None)]
    # Every mention points at an entity, and the offsets index articles.text.
    orphans = con.execute("SELECT count(*) FROM mentions LEFT JOIN entities USING (entity_id) WHERE entities.name IS NULL")
    assert orphans.fetchone()[0] == 0
    bad = con.execute(
        "SELECT count(*) FROM mentions JOIN articles USING (article_id) WHERE substr(text, start_char + 1, end_char - start_char) <> surface"
    )
    assert bad.fetchone()[0] == 0


def test_write_entities_is_idempotent_and_aliases_resolve(con, sample_mentions):
    land(con, sample_mentions)
    land(con, sample_mentions)
    assert con.execute("SELECT count(*) FROM mentions").fetchone()[0] == len(sample_mentions)
    aliases = dict(con.execute(
        "SELECT alias, name FROM entity_aliases JOIN entities USING (entity_id) WHERE alias IN ('u.s.', 'usa', 'america', 'putin', 'xi', 'chinese', 'kiev')"
    ).fetchall())
    assert aliases == {
        "u.s.": "United States", "usa": "United States", "america": "United States",
        "putin": "Vladimir Putin", "xi": "Xi Jinping", "chinese": "China", "kiev": "Kyiv",
    }


def test_an_entity_gains_a_country_code_written_later(con):
    text = "Georgia voted."
    land(con, [m for m in resolve_mentions("x1", text, [(0, 7, "ORG")])])
    land(con, [m for m in resolve_mentions("x2", text, [(0, 7, "GPE")])])
    assert con.execute("SELECT name, label, country_code FROM entities").fetchall() == [("Georgia", "GPE", "GE")]


def test_views_answer_the_common_questions(con, sample_mentions):
    land(con, sample_mentions)
    per_article = con.execute(
        "SELECT name, mentions FROM article_entities WHERE article_id = '002_5171715639db08b2' ORDER BY mentions DESC, name LIMIT 3"
    ).fetchall()
    assert {name for name, _ in per_article} == {"Russia", "Vladimir Putin", "China"}
    january = con.execute(
        """SELECT name, count(DISTINCT article_id) AS articles FROM entity_mentions_dated
           WHERE seen_at < TIMESTAMPTZ '2025-02-01' GROUP BY ALL HAVING articles = 2 ORDER BY name"""
    ).fetchall()
    assert {"Vladimir Putin", "Xi Jinping", "China", "Russia", "United States"} <= {n for n, _ in january}
    assert "Kyiv" not in {n for n, _ in january}
    top = con.execute("SELECT name, articles FROM top_entities ORDER BY articles DESC, mentions DESC LIMIT 1").fetchone()
    assert top == ("Russia", 3)
    pair = con.execute(
        """SELECT articles FROM entity_pairs WHERE (name_a, name_b) IN
           (('Vladimir Putin', 'Xi Jinping'), ('Xi Jinping', 'Vladimir Putin'))"""
    ).fetchall()
    assert pair == [(3,)]
    by_alias = con.execute("SELECT DISTINCT article_id FROM entity_articles WHERE alias = lower('America') ORDER BY 1").fetchall()
    assert [a for (a,) in by_alias] == sorted(DATES)
    kiev = con.execute("SELECT DISTINCT name, article_id FROM entity_articles WHERE alias = 'kiev'").fetchall()
    assert kiev == [("Kyiv", "002_5171715639db08b2")]


def test_a_short_form_alone_in_an_article_joins_the_full_name_across_articles(con):
    land(con, person_mentions("x1", "Putin spoke.", "Putin"))
    assert con.execute("SELECT name FROM entities").fetchall() == [("Putin",)]
    land(con, person_mentions("x2", "Vladimir Putin spoke. Putin left.", "Vladimir Putin", "Putin"))
    land(con, person_mentions("x3", "Putin returned.", "Putin"))
    assert con.execute("SELECT name FROM entities").fetchall() == [("Vladimir Putin",)]
    rows = con.execute("SELECT article_id, name FROM mentions JOIN entities USING (entity_id) ORDER BY ALL").fetchall()
    assert rows == [("x1", "Vladimir Putin"), ("x2", "Vladimir Putin"), ("x2", "Vladimir Putin"), ("x3", "Vladimir Putin")]
    assert con.execute("SELECT e.name FROM entity_aliases JOIN entities e USING (entity_id) WHERE alias = 'putin'").fetchall() == [
        ("Vladimir Putin",)
    ]


def test_a_short_form_in_the_same_batch_joins_the_full_name(con):
    batch = person_mentions("y1", "Xi arrived.", "Xi") + person_mentions("y2", "Xi Jinping and Xi.", "Xi Jinping", "Xi")
    land(con, batch)
    assert con.execute("SELECT name FROM entities").fetchall() == [("Xi Jinping",)]
    assert con.execute("SELECT count(DISTINCT entity_id), count(*) FROM mentions").fetchone() == (1, 3)


def test_initials_alone_in_a_later_article_join_the_full_name(con):
    text = "The World Health Organization (WHO) warned."
    start = text.index("World")
    land(con, resolve_mentions("z1", text, [(start, start + 25, "ORG"), (text.index("WHO"), text.index("WHO") + 3, "ORG")]))
    land(con, resolve_mentions("z2", "WHO data.", [(0, 3, "ORG")]))
    assert con.execute("SELECT name FROM entities").fetchall() == [("World Health Organization",)]
    assert con.execute("SELECT count(DISTINCT entity_id), count(*) FROM mentions").fetchone() == (1, 3)


def test_an_indonesian_a_german_and_an_english_article_share_their_entity_rows(con, sample_articles):
    from tests.test_entity_dictionary import GERMAN, INDONESIAN

    source = next(a for a in sample_articles if a.article_id == "000_b865db9ad46887ed")
    english = Article(document_id="en1", title="", text=source.text, article_id="en1", language="en")
    indonesian = Article(document_id="id1", title="", text=INDONESIAN, article_id="id1", language="id")
    german = Article(document_id="de1", title="", text=GERMAN, article_id="de1", language="de")
    land(con, extract_entities([english, indonesian, german], Ner()))
    shared = con.execute(
        """SELECT e.name, count(*) OVER (PARTITION BY e.name), list(DISTINCT m.article_id ORDER BY m.article_id)
           FROM entities e JOIN mentions m USING (entity_id)
           WHERE e.name IN ('Vladimir Putin', 'Xi Jinping', 'Russia', 'Moscow') GROUP BY e.entity_id, e.name ORDER BY 1"""
    ).fetchall()
    assert shared == [(name, 1, ["de1", "en1", "id1"]) for name in ("Moscow", "Russia", "Vladimir Putin", "Xi Jinping")]
    # No second row under another language's spelling.
    assert con.execute(
        "SELECT count(*) FROM entities WHERE name IN ('Rusia', 'Russland', 'Wladimir Putin', 'Moskow', 'Moskau', 'Tiongkok')"
    ).fetchone()[0] == 0
    found_by = con.execute("SELECT article_id, list(DISTINCT found_by) FROM mentions GROUP BY 1 ORDER BY 1").fetchall()
    assert found_by == [("de1", ["dictionary"]), ("en1", ["model"]), ("id1", ["dictionary"])]
    languages = dict(con.execute(
        "SELECT alias, language FROM entity_aliases WHERE alias IN ('rusia', 'russland', 'moskau', 'wladimir putin', 'moscow')"
    ).fetchall())
    assert languages == {"rusia": "id", "russland": "de", "moskau": "de", "wladimir putin": "de", "moscow": "en"}


def test_known_names_are_people_and_organisations_of_two_articles_or_more(con, sample_mentions):
    from newsflow.storage.entity_store import known_names

    land(con, sample_mentions)
    names = known_names(con)
    assert ("Vladimir Putin", "PERSON") in names and ("Xi Jinping", "PERSON") in names
    assert all(label in ("PERSON", "ORG") for _, label in names)
    assert all(" " in name for name, label in names if label == "PERSON")
    assert ("Igor Morgulov", "PERSON") not in names  # one article only
    assert known_names(con, limit=1) == names[:1]
