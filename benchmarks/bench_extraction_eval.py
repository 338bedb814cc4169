"""Extraction on pages newsflow was never tuned on: `.venv/bin/python benchmarks/bench_extraction_eval.py`.

Two sets, scored in the same run with the same three systems:
  - trafilatura_eval (../shared/benchdata/trafilatura_eval, 949 multilingual pages): segment scoring as
    trafilatura's own evaluation does it (README there): each "with" segment found in the output is a true
    positive, each missing one a false negative; each "without" segment found a false positive, each absent
    one a true negative; summed over pages, then precision, recall, F1 and accuracy. Matching is on
    whitespace-normalised text. A rejected page has an empty output.
  - extraction_aeb (181 news pages): the token-level scores of bench_cleaning.py (mean per page).
Systems: bare `trafilatura.extract` with library defaults; bare `trafilatura.extract` with the options newsflow
passes to trafilatura (NEWSFLOW_OPTIONS); newsflow (`extract_one` from the page's bytes + `clean_drafts`, as
`ingest` runs them; bench_cleaning.run_newsflow). pages/s: one process, files already in memory.

Options: --every N scores every N-th page of each set (iteration; the figures in results/ are full runs);
--cache keeps the bare outputs in benchmarks/out/ and reuses them (iteration only: their timings are then
old); --throughput adds the whole-process comparison over the 949 pages: `newsflow ingest inbox --no-entities`
against benchmarks/bare_trafilatura.py, alternating, median of --repeats.
Writes benchmarks/results/extraction_eval.md (not with --every or --cache).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_cleaning import SHARED, load_aeb, prf, run_baseline, run_newsflow, score  # noqa: E402

EVAL = SHARED / "benchdata" / "trafilatura_eval"
RESULTS = HERE / "results" / "extraction_eval.md"
CACHE = HERE / "out" / "extraction_eval_cache"
# What extractors/html.py passes to trafilatura for its main (recall) run.
NEWSFLOW_OPTIONS = {"include_comments": False, "favor_recall": True, "include_tables": True}


def load_eval(every: int = 1) -> list[tuple[dict, bytes, dict]]:
    """(row with id, url and the page's bytes as "raw", the bytes again for the baseline, gold segments)."""
    data = json.loads((EVAL / "evaldata.json").read_text(encoding="utf-8"))
    pages = []
    for index, (url, item) in enumerate(sorted(data.items(), key=lambda kv: kv[1]["file"])):
        if index % every:
            continue
        raw = (EVAL / "pages" / item["file"]).read_bytes()
        pages.append(({"id": item["file"], "url": url, "raw": raw}, raw, item))
    return pages


def _flat(text: str) -> str:
    return " ".join(text.split())


def segment_counts(output: str, gold: dict) -> tuple[int, int, int, int]:
    """(TP, FN, FP, TN) of one page's output against its "with" and "without" segments."""
    text = _flat(output)
    if not text:
        return 0, len(gold["with"]), 0, len(gold["without"])
    found_with = sum(_flat(s) in text for s in gold["with"])
    found_without = sum(_flat(s) in text for s in gold["without"])
    return found_with, len(gold["with"]) - found_with, found_without, len(gold["without"]) - found_without


def segment_scores(outputs: list[str], pages) -> dict[str, float]:
    """Summed segment counts of a system over the set, and its precision, recall, F1, accuracy."""
    tp = fn = fp = tn = 0
    for out, (_row, _raw, gold) in zip(outputs, pages):
        a, b, c, d = segment_counts(out, gold)
        tp, fn, fp, tn = tp + a, fn + b, fp + c, tn + d
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "accuracy": (tp + tn) / (tp + fn + fp + tn),
            "tp": tp, "fn": fn, "fp": fp, "tn": tn}


def cached_baseline(name: str, pages, use_cache: bool, **options) -> tuple[list[str], float]:
    """run_baseline, or its outputs from an earlier run with --cache."""
    path = CACHE / f"{name}.json"
    ids = [row["id"] for row, _h, _g in pages]
    if use_cache and path.exists():
        stored = json.loads(path.read_text(encoding="utf-8"))
        if all(i in stored["texts"] for i in ids):
            return [stored["texts"][i] for i in ids], stored["seconds"] * len(ids) / len(stored["texts"])
    out, seconds = run_baseline(pages, **options)
    if use_cache:
        CACHE.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"texts": dict(zip(ids, out)), "seconds": seconds}), encoding="utf-8")
    return out, seconds


def why_missed(segment: str, detail: dict) -> str:
    """Where newsflow lost a "with" segment: not extracted, or the cleaner's reason for the line holding it."""
    if not detail.get("draft"):
        return f"rejected {detail.get('outcome')}"
    flat = _flat(segment)
    if flat not in _flat(detail["draft"]):
        return "not extracted"
    for line in detail["removed"]:
        if flat[:60] in _flat(line.line) or _flat(line.line) in flat:
            return line.reason
    return "split across lines"


def losses(pages, ours: list[str], base: list[str], details: dict, top: int = 10) -> list[str]:
    """Table rows of the pages where newsflow loses most segments against bare trafilatura (defaults)."""
    rows = []
    for out, theirs, (row, _raw, gold) in zip(ours, base, pages):
        a = segment_counts(out, gold)
        b = segment_counts(theirs, gold)
        loss = (b[0] - a[0]) + (a[2] - b[2])  # segments they find and we miss, plus noise we keep and they drop
        if loss > 0:
            detail = details.get(row["id"], {})
            missed = [why_missed(s, detail) for s in gold["with"]
                      if _flat(s) in _flat(theirs) and _flat(s) not in _flat(out)]
            noise = [s for s in gold["without"] if _flat(s) in _flat(out) and _flat(s) not in _flat(theirs)]
            rows.append((loss, row["id"], detail.get("outcome"), len(out.split()), len(theirs.split()), missed, noise))
    rows.sort(key=lambda r: (-r[0], r[1]))
    return [f"| {file} | {loss} | {outcome} | {ow} / {tw} | {'; '.join(missed) or '-'} | "
            f"{'; '.join(s[:40] for s in noise) or '-'} |" for loss, file, outcome, ow, tw, missed, noise in rows[:top]]


def rejected_but_extracted(pages, ours: list[str], base: list[str], details: dict) -> list[str]:
    """Pages newsflow rejects while bare trafilatura (defaults) extracts text: 'file (reason)'."""
    return [f"{row['id']} ({details.get(row['id'], {}).get('outcome')})" for out, theirs, (row, _r, _g) in zip(ours, base, pages)
            if not out.strip() and theirs.strip()]


def throughput(repeats: int) -> list[str]:
    """Whole process over the 949 pages: bare_trafilatura.py against `newsflow ingest inbox --no-entities`."""
    import shutil
    from statistics import median

    from bench_throughput import OUT, PYTHON, ingest, timed

    work = OUT / "eval949"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(EVAL / "pages", work / "pages")
    bare, ours = [], []
    for _ in range(repeats):
        wall, out, _rss = timed([PYTHON, str(HERE / "bare_trafilatura.py"), str(work / "pages")])
        bare.append((wall, int(out.split()[0]), int(out.split()[1])))
        shutil.rmtree(work / "inbox", ignore_errors=True)
        shutil.copytree(work / "pages", work / "inbox")
        ours.append(ingest(work / "inbox", work / "news.duckdb", "--no-entities"))
    pages = bare[0][1]
    base_s, ours_s = median(b[0] for b in bare), median(o[0] for o in ours)
    spread = lambda xs: f"{min(xs):.1f}-{max(xs):.1f} s"  # noqa: E731
    return [
        f"## Whole process over the {pages} trafilatura_eval pages (median of {repeats}, alternating)",
        "",
        "| run | articles | words | seconds | pages/s | ratio |",
        "|---|---:|---:|---:|---:|---:|",
        f"| bare trafilatura.extract (benchmarks/bare_trafilatura.py), {spread([b[0] for b in bare])} | {pages} | "
        f"{bare[0][2]:,} | {base_s:.1f} | {pages / base_s:.1f} | 1.00 |",
        f"| newsflow ingest inbox --no-entities, {spread([o[0] for o in ours])} | {ours[0][1]} | {ours[0][2]:,} | "
        f"{ours_s:.1f} | {pages / ours_s:.1f} | {base_s / ours_s:.2f} |",
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=1)
    parser.add_argument("--cache", action="store_true")
    parser.add_argument("--throughput", action="store_true")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args()

    sets = {"trafilatura_eval": load_eval(args.every), "extraction_aeb": load_aeb()[:: args.every]}
    run_newsflow(sets["extraction_aeb"][:5])  # warm-up: imports, lexicon and language model loading
    report = [
        "# Extraction on held-out pages",
        "",
        f"Run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC with `.venv/bin/python benchmarks/bench_extraction_eval.py"
        f"{' '.join([''] + sys.argv[1:])}`. All systems in the same run, one process, pages in memory.",
        "",
    ]
    for name, pages in sets.items():
        base_out, base_s = cached_baseline(f"{name}-default-{args.every}", pages, args.cache)
        opts_out, opts_s = cached_baseline(f"{name}-newsflow-options-{args.every}", pages, args.cache, **NEWSFLOW_OPTIONS)
        details: dict = {}
        ours_out, ours_s, outcomes, removed = run_newsflow(pages, details)
        systems = [("bare `trafilatura.extract` (defaults)", base_out, base_s),
                   (f"bare `trafilatura.extract` ({', '.join(f'{k}={v}' for k, v in NEWSFLOW_OPTIONS.items())})", opts_out, opts_s),
                   ("newsflow: `extract_one` + `clean_drafts`", ours_out, ours_s)]
        if name == "trafilatura_eval":
            report += [f"## trafilatura_eval: segment scoring ({len(pages)} pages)", "",
                       "| system | precision | recall | F1 | accuracy | TP | FN | FP | TN | pages/s |",
                       "|---|---|---|---|---|---|---|---|---|---|"]
            for label, out, secs in systems:
                s = segment_scores(out, pages)
                report.append(f"| {label} | {s['precision']:.4f} | {s['recall']:.4f} | {s['f1']:.4f} | {s['accuracy']:.4f} | "
                              f"{s['tp']} | {s['fn']} | {s['fp']} | {s['tn']} | {len(pages) / secs:.1f} |")
            report += ["", f"Pages where newsflow loses most against bare defaults (top {args.top}): segments lost, "
                       "outcome, words ours / theirs, why each missed segment went, noise kept:", "",
                       "| page | loss | outcome | words | missed because | noise kept |", "|---|---|---|---|---|---|",
                       *losses(pages, ours_out, base_out, details, args.top)]
        else:
            report += [f"## extraction_aeb: token-level scores of the body ({len(pages)} pages, mean per page)", "",
                       "| system | precision | recall | F1 | pages/s |", "|---|---|---|---|---|"]
            for label, out, secs in systems:
                s = score(out, pages)
                report.append(f"| {label} | {s['precision']:.4f} | {s['recall']:.4f} | {s['f1']:.4f} | {len(pages) / secs:.1f} |")
            worse = sum(prf(o, g)[2] + 1e-9 < prf(b, g)[2] for o, b, (_r, _h, g) in zip(ours_out, base_out, pages))
            report += ["", f"Pages where newsflow's F1 is below bare defaults: {worse}."]
        rejected = rejected_but_extracted(pages, ours_out, base_out, details)
        report += ["", f"Outcomes: {', '.join(f'{k} {v}' for k, v in sorted(outcomes.items()))}.",
                   f"Rejected by newsflow but extracted by bare trafilatura: {len(rejected)}"
                   + (f" ({', '.join(rejected)})" if rejected else "") + ".",
                   f"Lines removed by the cleaner: {', '.join(f'{k} {v}' for k, v in removed.most_common())}.", ""]
        print("\n".join(report[-12:]), flush=True)
    if args.throughput:
        report += throughput(args.repeats)
    text = "\n".join(report) + "\n"
    print(text)
    if args.every == 1 and not args.cache:
        RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
