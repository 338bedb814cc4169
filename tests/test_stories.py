"""Same-story grouping on real articles: SemEval same-story pairs and the Xi/Putin samples."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from newsflow.extractors.records import Article, Decision
from newsflow.extractors.settings import Dedup
from newsflow.extractors.stories import StoryDoc, batch_story_docs, cosines, link_stories, story_ids, story_terms, tfidf_weights
from newsflow.storage.stories import load_story_pool
from tests.semeval import load_pairs, split_title

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"
SETTINGS = Dedup()
T0 = datetime(2020, 1, 2, 12, 0, tzinfo=timezone.utc)


def semeval_pair(pair_id: str) -> tuple[dict, tuple[str, str], tuple[str, str]]:
    """One SemEval 2022 task 8 pair: the row and both texts split into (title, body)."""
    for row in load_pairs():
        if row["pair_id"] == pair_id:
            return row, split_title(row["text1"]), split_title(row["text2"])
    raise AssertionError(f"pair {pair_id} not found")


def sample(name: str) -> tuple[str, str]:
    """Title and body of a sample inbox article (gold boilerplate removed)."""
    lines = (SHARED / "samples" / "inbox" / f"{name}.txt").read_text(encoding="utf-8").split("\n")
    gold = json.loads((SHARED / "samples" / "gold" / f"{name}.json").read_text(encoding="utf-8"))
    drop = set(gold["boilerplate"]) | set(gold["either"]) | set(gold["title_lines"])
    return gold["title"], "\n".join(line for i, line in enumerate(lines) if i not in drop and line.strip())


# Kubica joins Alfa Romeo as reserve driver, two outlets (overall 1.0: same story).
SAME = "1484188248_1483931201"


@pytest.fixture(scope="module")
def unrelated_pair() -> tuple[tuple[str, str], tuple[str, str]]:
    for row in load_pairs():
        if row["overall"] >= 4.0:
            return split_title(row["text1"]), split_title(row["text2"])
    raise AssertionError("no unrelated pair")


def doc(article_id: str, title_body: tuple[str, str], at: datetime | None = T0, story_id: str | None = None) -> StoryDoc:
    return StoryDoc(article_id, title_body[0], title_body[1], at, story_id)


def linked(new: list[StoryDoc], pool: list[StoryDoc], settings: Dedup = SETTINGS) -> dict[str, str]:
    """article_id -> story_id as link_stories decides them."""
    return story_ids(link_stories(new, pool, settings))


def test_story_terms_keep_content_words_of_title_and_lead():
    terms = story_terms("Apple strikes a new deal", "The 2 companies said on Monday that they had agreed " * 50, 10)
    # the title's content words, then those of the first 10 body words only; no stop words or numbers
    assert terms == ["apple", "strikes", "new", "deal", "companies", "monday", "agreed"]


def test_cosines_equal_the_dense_product_of_the_tfidf_vectors():
    rows = load_pairs()[:40]
    texts = [split_title(row[key]) for row in rows for key in ("text1", "text2")] + [("", "")]  # an empty one too
    tfidf = tfidf_weights([story_terms(title, body, SETTINGS.story_lead_words) for title, body in texts])
    dense = np.zeros(tfidf.shape)
    dense[tfidf.rows, tfidf.cols] = tfidf.values  # one entry per (row, term)
    first = len(texts) - 25
    got = cosines(tfidf, first)
    assert got.shape == (25, len(texts))
    assert np.allclose(got, dense[first:] @ dense.T, rtol=0, atol=1e-12)
    assert np.allclose(np.diag(got[:, first:])[:-1], 1.0)  # unit vectors; the empty text has none
    assert not got[-1].any() and not got[:, -1].any()
    assert 0.0 < got[:-1, : first].max() < 1.0


def test_two_outlets_reporting_one_event_share_a_story():
    row, a, b = semeval_pair(SAME)
    assert row["overall"] <= 1.5
    assigned = linked([doc("a", a), doc("b", b, T0 + timedelta(hours=5))], [], SETTINGS)
    assert assigned == {"a": "a", "b": "a"}


def test_unrelated_articles_get_their_own_stories(unrelated_pair):
    a, b = unrelated_pair
    assert linked([doc("a", a), doc("b", b)], [], SETTINGS) == {"a": "a", "b": "b"}


def test_reports_too_far_apart_in_time_are_not_linked():
    _, a, b = semeval_pair(SAME)
    far = T0 + timedelta(days=SETTINGS.story_window_days + 1)
    assert linked([doc("b", b, far)], [doc("a", a, T0, "story-a")], SETTINGS) == {"b": "b"}
    near = T0 + timedelta(days=SETTINGS.story_window_days - 1)
    assert linked([doc("b", b, near)], [doc("a", a, T0, "story-a")], SETTINGS) == {"b": "story-a"}


def test_links_join_the_story_of_the_most_similar_earlier_article():
    _, a, b = semeval_pair(SAME)
    pool = [doc("x", ("Apple", "Apple said nothing."), T0, "story-x"), doc("a", a, T0, "story-a")]
    assert linked([doc("b", b)], pool, SETTINGS) == {"b": "story-a"}


def test_xi_putin_samples_on_their_dates_are_three_stories():
    # New Year's Eve message, the call after the inauguration, the May Moscow summit: one topic, three
    # events. Their texts alone come close to the threshold; their publication dates keep them apart.
    names = ["001_9e2f585d2e5eedc9", "000_b865db9ad46887ed", "002_5171715639db08b2"]
    dates = [datetime(2024, 12, 31, tzinfo=timezone.utc), datetime(2025, 1, 21, tzinfo=timezone.utc),
             datetime(2025, 5, 8, tzinfo=timezone.utc)]
    docs = [doc(n, sample(n), at=d) for n, d in zip(names, dates)]
    assert linked(docs, [], SETTINGS) == {n: n for n in names}


def test_xi_putin_samples_dropped_together_without_dates_are_three_stories():
    # No date anywhere, one arrival: only what happened tells them apart (a video call, a New Year message, talks
    # in Moscow ending in a declaration), not the names and words every article on these two leaders shares.
    names = ["001_9e2f585d2e5eedc9", "000_b865db9ad46887ed", "002_5171715639db08b2"]
    docs = [StoryDoc(n, *sample(n), T0, None, None, T0) for n in names]
    decisions = link_stories(docs, [], SETTINGS)
    assert story_ids(decisions) == {n: n for n in names}
    assert [(d.event_date_source, d.linked_to) for d in decisions] == [("holiday", None), ("arrival", None), ("arrival", None)]


def event_reports() -> list[dict]:
    path = REPO / "benchmarks" / "data" / "story_events.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def as_published(report: dict, article_id: str) -> StoryDoc:
    published = datetime.fromisoformat(report["published_at"]) if report["published_at"] else None
    seen = datetime.fromisoformat(report["seen_at"]) if report["seen_at"] else published
    return StoryDoc(article_id, report["title"], report["text"], published or seen, None, published, seen)


def test_reports_of_one_event_share_a_story_and_other_events_of_the_same_people_never_do():
    reports = event_reports()
    same, other = [], []
    for i, a in enumerate(reports):
        for j in range(i + 1, len(reports)):
            b = reports[j]
            if a["group"] == b["group"]:
                joined = len(set(linked([as_published(a, "a"), as_published(b, "b")], []).values())) == 1
                (same if a["event"] == b["event"] else other).append(joined)
    assert (len(same), len(other)) == (20, 40)
    assert not any(other)
    assert sum(same) >= 18  # >= 90 %


def test_a_link_carries_its_evidence_and_every_decision_its_event_day():
    a, b = (r for r in event_reports() if r["event"] == "2024-12-16 confidence vote")
    decisions = link_stories([as_published(a, "a"), as_published(b, "b")], [], SETTINGS)
    first, second = decisions
    assert (first.story_id, first.event_date, first.event_date_source, first.evidence) == ("a", date(2024, 12, 16), "published", None)
    assert (second.story_id, second.linked_to, second.event_date_source) == ("a", "a", "arrival")
    evidence = second.evidence
    assert (evidence.day_gap, evidence.day_sources, evidence.shared_kinds, evidence.shared_particulars) == (
        1, "arrival/published", ("vote",), ("207", "394"))
    assert evidence.score >= evidence.threshold and evidence.veto is None




def article(article_id: str, title_body: tuple[str, str], published: datetime | None) -> Article:
    return Article(document_id=f"doc-{article_id}", title=title_body[0], text=title_body[1], published_at=published,
                   article_id=article_id)


def new(*articles: Article) -> list[Decision]:
    return [Decision(a.document_id, a.article_id, "new") for a in articles]


def store(con, a: Article, story_id: str, first_seen: datetime = T0) -> None:
    """An articles row as a batch write leaves it."""
    con.execute(
        "INSERT INTO articles (article_id, title, text, published_at, first_seen_at, story_id) VALUES (?, ?, ?, ?, ?, ?)",
        [a.article_id, a.title, a.text, a.published_at, first_seen, story_id],
    )


def link(con, articles: list[Article], decisions: list[Decision], settings: Dedup = SETTINGS) -> dict[str, str]:
    """What flows.pipeline.link_stories does before a batch is written: the new articles against the stored pool."""
    docs, dated = batch_story_docs(articles, decisions, T0)
    return linked(docs, load_story_pool(con, docs, settings, dated), settings)


def test_new_articles_join_stories_stored_by_earlier_batches(unrelated_pair, fresh_db):
    _, a, b = semeval_pair(SAME)
    con = fresh_db()
    first = [article("a", a, T0), article("u", unrelated_pair[0], T0)]
    assert link(con, first, new(*first)) == {"a": "a", "u": "u"}
    for x in first:
        store(con, x, x.article_id)
    # same text, outside the window: its own story
    second = [article("b", b, T0 + timedelta(days=1)), article("old", b, T0 - timedelta(days=30))]
    assert link(con, second, new(*second)) == {"b": "a", "old": "old"}


def test_only_the_batch_new_articles_get_stories_dated_by_their_duplicates_else_first_seen(fresh_db):
    _, a, b = semeval_pair(SAME)
    kept, copy, undated = article("a", a, None), article("a", a, T0 - timedelta(days=9)), article("u", b, None)
    copy.document_id = "doc-copy"
    decisions = new(kept) + [Decision("doc-copy", "a", "duplicate", "exact", 1.0)] + new(undated)
    docs, dated = batch_story_docs([kept, copy, undated], decisions, T0)
    assert [(d.article_id, d.at) for d in docs] == [("a", T0 - timedelta(days=9)), ("u", T0)]  # as the write fills
    assert dated == {"a": T0 - timedelta(days=9)}
    assert link(fresh_db(), [kept, copy, undated], decisions) == {"a": "a", "u": "u"}  # 9 days apart
    assert link(fresh_db(), [kept, undated], new(kept, undated)) == {"a": "a", "u": "a"}
    assert link(fresh_db(), [kept, undated], new(kept, undated), replace(SETTINGS, story_threshold=1.01)) == {"a": "a", "u": "u"}


def test_a_date_the_batch_gives_a_stored_article_counts_as_the_write_will_fill_it(fresh_db):
    """A stored article without a date, first seen long ago: a dated copy in the batch brings it into the window."""
    _, a, b = semeval_pair(SAME)
    con = fresh_db()
    store(con, article("a", a, None), "a", first_seen=T0 - timedelta(days=60))
    copy = article("a", a, T0)
    copy.document_id = "doc-copy"
    report = article("b", b, T0 + timedelta(hours=3))
    decisions = [Decision("doc-copy", "a", "duplicate", "exact", 1.0)] + new(report)
    assert link(con, [copy, report], decisions) == {"b": "a"}
    assert link(con, [report], new(report)) == {"b": "b"}  # without the copy, "a" lies 60 days back
