"""Entities in other languages against a hand-made gold set (benchmarks/data/ner_multilingual_gold.json).

For each gold page (../shared/benchdata), newsflow extracts and cleans the page, takes the lead (first 1,000
characters, cut at a space) and runs the entity stage with the gold language. Reported per language: entity
precision and recall (an entity is right when its label and one of its names or surfaces match a gold entity),
the share of mentions found by the dictionary and by a model, how many entities merged into an English canonical
entity (no surface of the article spells the canonical name), and the dictionary pass's cost per article.

Run: .venv/bin/python benchmarks/bench_ner_multilingual.py   (writes benchmarks/results/ner_multilingual.md)
"""
from __future__ import annotations

import hashlib
import json
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from newsflow.extractors.cleaning import clean_drafts  # noqa: E402
from newsflow.extractors.entities import dictionary_mentions, extract_entities  # noqa: E402
from newsflow.extractors.entity_names import name_key  # noqa: E402
from newsflow.extractors.extraction import extract_one  # noqa: E402
from newsflow.extractors.records import Article, RawDocument  # noqa: E402
from newsflow.extractors.settings import Limits, Ner  # noqa: E402

BENCHDATA = REPO.parent / "shared" / "benchdata"
GOLD = REPO / "benchmarks" / "data" / "ner_multilingual_gold.json"
RESULTS = REPO / "benchmarks" / "results" / "ner_multilingual.md"
LEAD_CHARS = 1000
PLACE = {"GPE": "PLACE", "LOC": "PLACE", "FAC": "PLACE", "PERSON": "PERSON", "ORG": "ORG"}
TIMING_ROUNDS = 20


def cleaned_body(path: Path) -> str:
    """The article body newsflow keeps from one page."""
    raw = path.read_bytes()
    doc = RawDocument(document_id="d", source_kind="inbox", source_ref=str(path), content=raw, media_type="html",
                      received_at=datetime.now(timezone.utc), raw_sha256=hashlib.sha256(raw).hexdigest(), site=path.name)
    articles, _ = clean_drafts([extract_one(doc, Limits())], {}, Limits())
    return articles[0].text if articles else ""


def lead(text: str) -> str:
    """The first LEAD_CHARS characters, cut at a space."""
    return text if len(text) <= LEAD_CHARS else text[: text.rfind(" ", 0, LEAD_CHARS)]


def score(mentions, gold: list) -> tuple[int, int, int, int]:
    """(predicted entities, right ones, gold entities, found ones) of one article."""
    predicted: dict[str, tuple[str, set[str]]] = {}
    for m in mentions:
        kind = PLACE.get(m.label)
        if kind is None:
            continue
        names = predicted.setdefault(m.entity_id, (kind, set()))[1]
        names.update({name_key(m.name), name_key(m.surface)})
    gold_keys = [(kind, {name_key(a) for a in aliases}) for kind, aliases in gold]
    right = sum(any(k == g and names & keys for g, keys in gold_keys) for k, names in predicted.values())
    found = sum(any(k == g and names & keys for k, names in predicted.values()) for g, keys in gold_keys)
    return len(predicted), right, len(gold_keys), found


def main() -> None:
    gold = json.loads(GOLD.read_text(encoding="utf-8"))["articles"]
    ner = Ner()
    by_language: dict[str, Counter] = defaultdict(Counter)
    rows, bodies = [], []
    for item in gold:
        body = cleaned_body(BENCHDATA / item["file"])
        text = lead(body)
        language = item["language"]
        bodies.append((body, language))
        article = Article(document_id=item["file"], title="", text=text, article_id=item["file"], language=language)
        mentions = extract_entities([article], ner)
        predicted, right, total, found = score(mentions, item["entities"])
        counts = by_language[language]
        counts.update(predicted=predicted, right=right, gold=total, found=found, articles=1)
        counts.update(Counter(f"by_{m.found_by}" for m in mentions))
        merged = {m.entity_id for m in mentions} - {m.entity_id for m in mentions if name_key(m.surface) == name_key(m.name)}
        counts.update(merged=len(merged), entities=len({m.entity_id for m in mentions}))
        rows.append((item["outlet"], language, predicted, right, total, found, hashlib.sha256(text.encode()).hexdigest()[:12],
                     sorted({f"{m.surface}->{m.name} ({m.label}, {m.found_by})" for m in mentions})))
    # The dictionary pass alone over whole bodies (not leads), warm: its cost per article.
    for body, language in bodies:
        dictionary_mentions("t", body, language)
    rounds = []  # (wall, CPU) ms per article of each round: the machine is shared, the best round is the cost
    for _ in range(TIMING_ROUNDS):
        wall, cpu = time.perf_counter(), time.process_time()
        for body, language in bodies:
            dictionary_mentions("t", body, language)
        rounds.append(((time.perf_counter() - wall) * 1000 / len(bodies), (time.process_time() - cpu) * 1000 / len(bodies)))
    mean_chars = sum(len(b) for b, _ in bodies) / len(bodies)
    write(rows, by_language, rounds, mean_chars)


def write(rows, by_language, rounds: list[tuple[float, float]], mean_chars: float) -> None:
    lines = ["# Entities in other languages (bench_ner_multilingual.py)", "",
             f"Gold: {GOLD.relative_to(REPO)} ({len(rows)} leads of real pages from ../shared/benchdata: trafilatura_eval, "
             "trafilatura's evaluation corpus, Apache-2.0; extraction_aeb, Scrapinghub's article-extraction-benchmark, MIT; "
             "the texts are read from there, not copied). Indonesian: the shared data hold no Indonesian news page, only a "
             "religious blog (kabarislamia.com), reported apart from the news languages.", "",
             "Precision: entities found that match a gold entity (label and a name or surface); recall: gold entities found. "
             "fr runs fr_core_news_sm plus the dictionary's known names; de, es, id the dictionary alone.", "",
             "| language | articles | precision | recall | gold entities | mentions by dictionary | by model | entities merged into an English one |",
             "|---|---|---|---|---|---|---|---|"]
    for language, c in sorted(by_language.items()):
        p = c["right"] / c["predicted"] if c["predicted"] else 0.0
        r = c["found"] / c["gold"] if c["gold"] else 0.0
        n = c["by_dictionary"] + c["by_model"]
        lines.append(f"| {language} | {c['articles']} | {p:.2f} ({c['right']}/{c['predicted']}) | {r:.2f} ({c['found']}/{c['gold']}) "
                     f"| {c['gold']} | {c['by_dictionary']} ({c['by_dictionary'] / n:.0%}) | {c['by_model']} ({c['by_model'] / n:.0%}) "
                     f"| {c['merged']} of {c['entities']} |" if n else f"| {language} | {c['articles']} | - | - | {c['gold']} | 0 | 0 | 0 |")
    wall = sorted(w for w, _ in rounds)
    cpu = sorted(c for _, c in rounds)
    lines += ["", f"Dictionary pass (mentions with canonical entities, per article; the {len(rows)} whole cleaned bodies, mean "
                  f"{mean_chars:,.0f} characters, warm, {TIMING_ROUNDS} rounds on a shared 2-core machine): best round "
                  f"{wall[0]:.2f} ms wall / {cpu[0]:.2f} ms CPU, median {wall[len(wall) // 2]:.2f} ms wall / "
                  f"{cpu[len(cpu) // 2]:.2f} ms CPU.", "", "## Per article", ""]
    for outlet, language, predicted, right, total, found, digest, found_names in rows:
        lines.append(f"- {outlet} ({language}, lead sha256 {digest}): {right}/{predicted} right, {found}/{total} found — "
                     + "; ".join(found_names))
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
