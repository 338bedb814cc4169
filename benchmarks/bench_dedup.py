"""Dedup quality and cost: `.venv/bin/python benchmarks/bench_dedup.py [--quick]`.

Quality: a labelled pair set built from the samples, the extraction_aeb gold bodies and SemEval same-story
pairs (re-scrapes with other chrome, syndicated edits, truncations vs. different reports of one event,
nearest-neighbour articles); precision/recall per threshold, per kind, per LSH band layout; the baseline
is exact shingle-set similarity (no MinHash). Cost: keys + find_candidates + find_duplicates + add_to_index
per new article with 10k and 100k articles stored in a DuckDB file; baselines datasketch MinHash and a
band hash-join scan. Figures go to benchmarks/results/dedup.md.
"""
from __future__ import annotations

import json
import random
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from newsflow.extractors.dedup import Candidates, compute_keys, find_duplicates, shingle_hashes  # noqa: E402
from newsflow.extractors.records import Article, DedupKeys  # noqa: E402
from newsflow.extractors.settings import Dedup  # noqa: E402
from newsflow.storage.dedup_index import _lookup, add_to_index, find_candidates  # noqa: E402

SHARED = REPO.parent / "shared"
RESULTS = REPO / "benchmarks" / "results" / "dedup.md"
CHROME = [
    ["Menu", "Home | World | Business | Tech | Sport", "Subscribe", "Sign in"],
    ["Mode Gelap", "Baca Juga", "Tinggalkan Balasan", "Perbesar", "Trending"],
    ["Share this article", "Facebook", "Twitter", "Email", "Related stories:", "More from this section"],
    ["Leave a comment", "Your email address will not be published.", "Comments are closed.", "Advertisement"],
    ["Inicio", "Noticias", "Compartir", "Artículos relacionados", "Publicidad"],
]
# Read by hand: both texts are one Reuters story (same paragraphs, a few words changed, one dropped):
# a syndicated copy, so a duplicate, although SemEval only labels it "same story".
SEMEVAL_WIRE_COPIES = {"1484011049_1484074948"}
SWAPS = ["notably", "reportedly", "officials", "yesterday", "major", "recent", "several", "new"]


@dataclass(slots=True)
class Pair:
    kind: str
    label: bool  # True: the second text is a duplicate of the first
    a: str
    b: str


def paragraphs(text: str) -> list[str]:
    """Non-empty lines of a body."""
    return [p.strip() for p in text.split("\n") if p.strip()]


def load_bodies() -> list[str]:
    """Gold bodies: the 3 samples (boilerplate removed by gold) and the extraction_aeb gold texts."""
    bodies = []
    for gold_path in sorted((SHARED / "samples" / "gold").glob("*.json")):
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        lines = (SHARED / "samples" / "inbox" / f"{gold_path.stem}.txt").read_text(encoding="utf-8").split("\n")
        drop = set(gold["boilerplate"]) | set(gold["either"]) | set(gold["title_lines"])
        bodies.append("\n".join(line for i, line in enumerate(lines) if i not in drop and line.strip()))
    for path in sorted((SHARED / "benchdata" / "extraction_aeb" / "gold").glob("*.txt")):
        bodies.append("\n".join(paragraphs(path.read_text(encoding="utf-8"))))
    return [b for b in bodies if len(b.split()) >= 150 and len(paragraphs(b)) >= 4]


def edit_words(text: str, n: int, rng: random.Random) -> str:
    """Change n words of the text."""
    words = text.split(" ")
    for i in rng.sample(range(len(words)), min(n, len(words))):
        words[i] = rng.choice(SWAPS)
    return " ".join(words)


def syndicate(body: str, rng: random.Random) -> str:
    """A syndicated copy: two paragraphs dropped (not the lead), a few words changed."""
    paras = paragraphs(body)
    drop = set(rng.sample(range(1, len(paras)), 2))
    return edit_words("\n".join(p for i, p in enumerate(paras) if i not in drop), rng.randint(3, 6), rng)


def rescrape(body: str, rng: random.Random) -> tuple[str, str]:
    """The same body under two different site chromes the cleaner let through."""
    one, two = rng.sample(CHROME, 2)
    paras = paragraphs(body)
    mid = len(paras) // 2
    a = "\n".join(one[:2] + paras[:mid] + one[2:3] + paras[mid:] + one[3:])
    b = "\n".join(two[:1] + paras[:mid] + two[1:3] + paras[mid:] + two[3:])
    return a, b


def word_set(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def build_pairs(bodies: list[str], rng: random.Random) -> list[Pair]:
    """Labelled pairs: duplicates of four kinds and distinct-but-similar articles of three kinds."""
    pairs = []
    for body in bodies:
        paras = paragraphs(body)
        pairs.append(Pair("rescrape_other_chrome", True, *rescrape(body, rng)))
        pairs.append(Pair("syndicated_edit", True, body, syndicate(body, rng)))
        pairs.append(Pair("truncated_half", True, body, "\n".join(paras[: max(2, len(paras) // 2)])))
        pairs.append(Pair("case_quote_variant", True, body, body.upper().replace("\u2019", "'")))
    sets = [word_set(b) for b in bodies]
    nearest = set()
    for i, s in enumerate(sets):  # each article against its most word-similar other article
        _, j = max((len(s & t) / len(s | t), j) for j, t in enumerate(sets) if j != i)
        nearest.add((min(i, j), max(i, j)))
    pairs.extend(Pair("nearest_other_article", False, bodies[i], bodies[j]) for i, j in sorted(nearest))
    semeval = SHARED / "benchdata" / "same_story_semeval" / "pairs_en_en_original.jsonl"
    for line in semeval.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["pair_id"] in SEMEVAL_WIRE_COPIES:
            pairs.append(Pair("semeval_wire_copy", True, row["text1"].strip(), row["text2"].strip()))
        elif row["overall"] <= 1.5:
            pairs.append(Pair("same_event_other_outlet", False, row["text1"].strip(), row["text2"].strip()))
    for i in range(3):
        for j in range(i + 1, 3):
            pairs.append(Pair("same_topic_samples", False, bodies[i], bodies[j]))
    return pairs


def pair_similarity(pair: Pair, settings: Dedup) -> tuple[str, float, bool]:
    """(method, similarity, band hit) of the second text against the first, through find_duplicates."""
    arts = [Article(document_id="a", title="t", text=pair.a), Article(document_id="b", title="t2", text=pair.b)]
    keys = compute_keys(arts, settings)
    hit = bool(set(enumerate(keys[0].bands)) & set(enumerate(keys[1].bands)))
    decision = find_duplicates(arts, keys, Candidates(), replace(settings, near_threshold=0.0))[1]
    if decision.status == "new":
        return "new", 0.0, hit
    return decision.method, decision.similarity, hit


def exact_similarity(pair: Pair, shingle_words: int) -> float:
    """Baseline without MinHash: max(Jaccard, containment) of the exact shingle sets."""
    a, b = shingle_hashes(pair.a, shingle_words), shingle_hashes(pair.b, shingle_words)
    inter = len(np.intersect1d(a, b, assume_unique=True))
    if not len(a) or not len(b):
        return 0.0
    return max(inter / (len(a) + len(b) - inter), inter / min(len(a), len(b)))


def prf(labels: list[bool], predicted: list[bool]) -> tuple[float, float, int, int]:
    tp = sum(1 for y, p in zip(labels, predicted) if y and p)
    fp = sum(1 for y, p in zip(labels, predicted) if not y and p)
    fn = sum(1 for y, p in zip(labels, predicted) if y and not p)
    return tp / max(tp + fp, 1), tp / max(tp + fn, 1), fp, fn


def quality(pairs: list[Pair], out: list[str]) -> None:
    """Threshold sweep, per-kind results and band layouts."""
    base = Dedup()
    labels = [p.label for p in pairs]
    measured = [pair_similarity(p, base) for p in pairs]
    exact = [exact_similarity(p, base.shingle_words) for p in pairs]
    out.append(f"## Quality: {sum(labels)} duplicate pairs, {len(labels) - sum(labels)} distinct pairs\n")
    out.append("| threshold | precision | recall | false pos | false neg | exact-sets baseline P | R |")
    out.append("|---|---|---|---|---|---|---|")
    for t in [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]:
        pred = [m in ("exact", "url") or (m == "near" and s >= t) for m, s, _ in measured]
        p, r, fp, fn = prf(labels, pred)
        bp, br, _, _ = prf(labels, [s >= t for s in exact])
        mark = " (chosen)" if t == base.near_threshold else ""
        out.append(f"| {t:.1f}{mark} | {p:.3f} | {r:.3f} | {fp} | {fn} | {bp:.3f} | {br:.3f} |")
    for i, (pair, (m, sim, _)) in enumerate(zip(pairs, measured)):
        judged = m in ("exact", "url") or sim >= base.near_threshold
        if judged != pair.label:  # errors go to stdout only, for inspection
            print(f"ERROR {pair.kind} label={pair.label} sim={sim:.3f} exact={exact[i]:.3f}: "
                  f"{pair.a[:80]!r} | {pair.b[:80]!r}")
    out.append(f"\nPer kind at threshold {base.near_threshold} (similarity: median, min/max):\n")
    out.append("Pairs never compared (no shared band) have similarity 0; the exact-set columns show the true "
               "max(Jaccard, containment) of every pair, which is what places the threshold.\n")
    out.append("| kind | label | pairs | judged duplicate | median sim | min | max | exact-set min | exact-set max |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    kinds = sorted({p.kind for p in pairs}, key=lambda k: (not any(q.label for q in pairs if q.kind == k), k))
    for kind in kinds:
        idx = [i for i, p in enumerate(pairs) if p.kind == kind]
        sims = [measured[i][1] for i in idx]
        dup = sum(1 for i in idx if measured[i][0] in ("exact", "url") or measured[i][1] >= base.near_threshold)
        ex = [exact[i] for i in idx]
        out.append(f"| {kind} | {'dup' if pairs[idx[0]].label else 'distinct'} | {len(idx)} | {dup} | "
                   f"{np.median(sims):.3f} | {min(sims):.3f} | {max(sims):.3f} | {min(ex):.3f} | {max(ex):.3f} |")
    out.append("\nLSH band layouts (plus the lead band): share of pairs compared at all, and the result\n")
    out.append("| bands x rows | dup pairs found as candidates | distinct pairs as candidates | P | R |")
    out.append("|---|---|---|---|---|")
    for perms, bands in ((128, 16), (128, 32), (120, 40), (128, 64)):
        settings = replace(base, num_perm=perms, num_bands=bands)
        res = [pair_similarity(p, settings) for p in pairs]
        pos = [r[2] or r[0] == "exact" for r, y in zip(res, labels) if y]
        neg = [r[2] for r, y in zip(res, labels) if not y]
        pred = [m in ("exact", "url") or (m == "near" and s >= base.near_threshold) for m, s, _ in res]
        p, r, _, _ = prf(labels, pred)
        mark = " (chosen)" if (perms, bands) == (base.num_perm, base.num_bands) else ""
        out.append(f"| {bands} x {perms // bands}{mark} | {np.mean(pos):.3f} | {np.mean(neg):.3f} | {p:.3f} | {r:.3f} |")


def synthetic_store(path: Path, n: int, settings: Dedup, band_index: bool = False) -> None:
    """A DuckDB file holding n synthetic articles with signatures, bands and URLs (bulk SQL); band_index adds
    the ART index on article_bands.band_hash of the index-lookup variant."""
    con = duckdb.connect(str(path))
    con.execute((REPO / "storage" / "schema.sql").read_text(encoding="utf-8"))
    con.execute(f"""INSERT INTO articles (article_id, title, text, text_sha256, canonical_url, first_seen_at)
        SELECT printf('%016x', i), 'synthetic ' || i, 'synthetic body ' || i, sha256(i::VARCHAR),
               'https://synthetic.example/a/' || i, now() FROM range({n}) t(i)""")
    con.execute(f"""INSERT INTO article_signatures SELECT printf('%016x', i),
        list_transform(range({settings.num_perm}), lambda x: hash(i * 1000 + x)) FROM range({n}) t(i)""")
    con.execute(f"""INSERT INTO article_bands SELECT (j % {settings.num_bands})::SMALLINT, hash(j + 7777777777),
        printf('%016x', j // {settings.num_bands}) FROM range({n * settings.num_bands}) t(j)""")
    con.execute(f"""INSERT INTO article_urls SELECT 'https://synthetic.example/a/' || i, printf('%016x', i)
        FROM range({n}) t(i)""")
    if band_index:
        con.execute("CREATE INDEX article_bands_hash ON article_bands (band_hash)")
    con.close()


def find_candidates_art(con, keys: list[DedupKeys]) -> Candidates:
    """The index-lookup variant: band hashes as a constant IN list over an ART index on band_hash."""
    candidates = find_candidates(con, [replace(k, bands=[]) for k in keys])
    sql = "SELECT band, band_hash, article_id FROM article_bands WHERE band_hash IN ({inlist})"
    for band, band_hash, article_id in _lookup(con, sql, [int(v) for k in keys for v in k.bands]):
        candidates.by_band.setdefault((int(band), int(band_hash)), []).append(article_id)
    hit_ids = sorted({aid for ids in candidates.by_band.values() for aid in ids})
    if hit_ids:
        sql = "SELECT article_id, text FROM articles WHERE article_id IN ({inlist})"
        candidates.texts = dict(_lookup(con, sql, hit_ids))
    return candidates


def stream(bodies: list[str], rng: random.Random) -> list[Article]:
    """New arrivals: the gold bodies and SemEval texts (all distinct), plus a syndicated copy and a re-scrape
    of each gold body, shuffled."""
    docs = [Article(f"o{i}", "t", body, url=f"https://news.example/{i}") for i, body in enumerate(bodies)]
    semeval = SHARED / "benchdata" / "same_story_semeval" / "pairs_en_en_original.jsonl"
    texts = {json.loads(line)[k].strip() for line in semeval.read_text(encoding="utf-8").splitlines() for k in ("text1", "text2")}
    docs += [Article(f"e{i}", "t", text) for i, text in enumerate(sorted(texts))]
    for i, body in enumerate(bodies):
        docs.append(Article(f"s{i}", "t", syndicate(body, rng)))
        docs.append(Article(f"r{i}", "t", rescrape(body, rng)[1], url=f"https://m.news.example/{i}?utm_source=x"))
    rng.shuffle(docs)
    return docs


def run_stream(path: Path, docs: list[Article], settings: Dedup, batch: int, lookup=find_candidates) -> dict[str, float]:
    """CPU seconds per stage over the stream (all threads of this process: steadier than wall time on a
    shared machine), opening the file per batch as the pipeline does (so commit, checkpoint on close and
    cold pages are paid per batch, as in production); "wall" is the wall time of the whole stream."""
    times = dict.fromkeys(("keys", "find_candidates", "find_duplicates", "add_to_index"), 0.0)
    new = 0
    wall = time.perf_counter()
    for start in range(0, len(docs), batch):
        arts = [replace(a) for a in docs[start : start + batch]]
        t0 = time.process_time()
        keys = compute_keys(arts, settings)
        times["keys"] += time.process_time() - t0
        with duckdb.connect(str(path)) as con:
            t0 = time.process_time()
            cands = lookup(con, keys)
            times["find_candidates"] += time.process_time() - t0
        t0 = time.process_time()
        decisions = find_duplicates(arts, keys, cands, settings)
        times["find_duplicates"] += time.process_time() - t0
        con = duckdb.connect(str(path))
        con.execute("BEGIN")
        rows = [(a.article_id, a.text, a.text_sha256) for a, d in zip(arts, decisions) if d.status == "new"]
        if rows:  # the lead's article insert (not timed): later batches need the rows for exact lookups
            con.execute("INSERT INTO articles (article_id, text, text_sha256, first_seen_at) "
                        "SELECT unnest($1::VARCHAR[]), unnest($2::VARCHAR[]), unnest($3::VARCHAR[]), now()",
                        [list(c) for c in zip(*rows)])
        t0 = time.process_time()
        add_to_index(con, arts, keys, decisions)
        con.execute("COMMIT")
        con.close()  # the checkpoint on close is part of what a batch costs
        times["add_to_index"] += time.process_time() - t0
        new += sum(d.status == "new" for d in decisions)
    times["new"] = new
    times["wall"] = time.perf_counter() - wall
    return times


VARIANTS = {"join": (False, find_candidates), "art_index": (True, find_candidates_art)}


def costs(sizes: tuple[int, ...], docs: list[Article], settings: Dedup, workdir: Path, batch: int = 200,
          repeats: int = 3) -> dict[tuple[str, int], dict[str, float]]:
    """ms per arrival for each stage, per (variant, store size): the best of `repeats` runs, each on a fresh
    copy of the store, all interleaved so that load on the shared machine hits every case alike."""
    bases = {}
    for variant, (band_index, _) in VARIANTS.items():
        for n in sizes:
            bases[variant, n] = workdir / f"store_{variant}_{n}.duckdb"
            synthetic_store(bases[variant, n], n, settings, band_index)
    best: dict[tuple[str, int], dict[str, float]] = {case: {} for case in bases}
    for _ in range(repeats):
        for (variant, n), base in bases.items():
            path = workdir / "run.duckdb"
            shutil.copyfile(base, path)
            times = run_stream(path, docs, settings, batch, VARIANTS[variant][1])
            path.unlink()
            best[variant, n] = {k: min(v, best[variant, n].get(k, v)) for k, v in times.items()}
    out = {}
    for case, times in best.items():
        out[case] = {k: 1000 * v / len(docs) for k, v in times.items() if k != "new"}
        out[case]["new"] = times["new"]
    return out


def datasketch_keys_ms(bodies: list[str], settings: Dedup) -> tuple[float, float]:
    """ms per document: datasketch MinHash over the same shingles vs ours."""
    from datasketch import MinHash

    from newsflow.extractors.dedup import minhash, normalize_text

    t0 = time.perf_counter()
    for body in bodies:
        words = re.findall(r"\w+", normalize_text(body))
        m = MinHash(num_perm=settings.num_perm)
        m.update_batch([" ".join(words[i : i + 5]).encode() for i in range(max(len(words) - 4, 1))])
    t1 = time.perf_counter()
    for body in bodies:
        minhash(shingle_hashes(body, settings.shingle_words), settings.num_perm)
    t2 = time.perf_counter()
    return 1000 * (t1 - t0) / len(bodies), 1000 * (t2 - t1) / len(bodies)


def main() -> None:
    quick = "--quick" in sys.argv
    rng = random.Random(7)
    bodies = load_bodies()
    out = ["# Dedup benchmark", "", f"Bodies: {len(bodies)} (3 samples + extraction_aeb gold, >= 150 words). "
           f"Settings: {Dedup()}", ""]
    quality(build_pairs(bodies, rng), out)
    settings = Dedup()
    ds_ms, our_ms = datasketch_keys_ms(bodies, settings)
    out.append(f"\n## Signature speed (per document, mean {np.mean([len(b.split()) for b in bodies]):.0f} words)\n")
    out.append("| implementation | ms/doc |\n|---|---|")
    out.append(f"| datasketch MinHash (baseline) | {ds_ms:.2f} |\n| numpy vectorised (ours) | {our_ms:.2f} |")
    docs = stream(bodies, rng)
    sizes = (2_000, 20_000) if quick else (10_000, 100_000)
    out.append(f"\n## Cost per arrival ({len(docs)} arrivals, {2 * len(bodies)} of them copies, in batches of 200; "
               "the DuckDB file is reopened per batch as the pipeline does; CPU ms per arrival, best of 3 interleaved runs; "
               "wall = wall-clock ms per arrival of the whole run, which on this shared machine includes waiting)\n")
    out.append("Ours: band join on an unindexed article_bands. Variant: ART index on band_hash + constant IN lists.\n")
    out.append("| variant | stored articles | keys | find_candidates | find_duplicates | add_to_index + commit + close | "
               "total CPU ms | wall ms | new articles |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        measured = costs(sizes, docs, settings, Path(tmp))
    totals = {}
    for (variant, n), per in measured.items():
        total = per["keys"] + per["find_candidates"] + per["find_duplicates"] + per["add_to_index"]
        totals[variant, n] = total
        name = "ours: band join" if variant == "join" else "ART index lookups"
        out.append(f"| {name} | {n:,} | {per['keys']:.3f} | {per['find_candidates']:.3f} | {per['find_duplicates']:.3f} | "
                   f"{per['add_to_index']:.3f} | {total:.3f} | {per['wall']:.3f} | {per['new']} |")
    for variant in VARIANTS:
        out.append(f"\n{variant}: ratio {sizes[1]:,} / {sizes[0]:,} stored = "
                   f"{totals[variant, sizes[1]] / totals[variant, sizes[0]]:.2f}x (target <= 1.3x)")
    text = "\n".join(out) + "\n"
    print(text)
    if not quick:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
