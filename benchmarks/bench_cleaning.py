"""Cleaning quality and speed: `.venv/bin/python benchmarks/bench_cleaning.py`.

(a) Samples: line-level precision/recall of boilerplate removal over ../shared/samples (a gold
    boilerplate or title line counts as boilerplate; "either" lines are not scored; blank lines neither).
(b) extraction_aeb (181 news pages): token-level precision, recall and F1 of the article body
    against the gold body, averaged over pages. Tokens are lowercase `\\w+` word tokens compared as
    bags (multisets): overlap = sum of min(count in output, count in gold). A page our pipeline
    rejects scores an empty body. Systems, measured in the same run:
      - baseline: bare `trafilatura.extract(html)` (library defaults)
      - newsflow: `extract_one` (decoding, extraction) then `clean_drafts` over the whole set as one batch,
        site = domain
    Speed: pages per second, single process, page HTML already in memory.
Figures are printed and written to benchmarks/results/cleaning.md.
"""
from __future__ import annotations

import json
import re
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from newsflow.extractors.cleaning import clean_drafts  # noqa: E402
from newsflow.extractors.extraction import extract_one  # noqa: E402
from newsflow.extractors.records import Draft, RawDocument, Rejection  # noqa: E402
from newsflow.extractors.settings import Limits  # noqa: E402

SHARED = REPO.parent / "shared"
RESULTS = REPO / "benchmarks" / "results" / "cleaning.md"
_TOKEN = re.compile(r"\w+")


def bag(text: str) -> Counter:
    """Lowercase word tokens as a multiset."""
    return Counter(_TOKEN.findall((text or "").lower()))


def prf(predicted: str, gold: str) -> tuple[float, float, float]:
    """Bag-of-tokens precision, recall and F1 of one page."""
    got, want = bag(predicted), bag(gold)
    overlap = sum((got & want).values())
    precision = overlap / sum(got.values()) if got else (1.0 if not want else 0.0)
    recall = overlap / sum(want.values()) if want else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def bench_samples() -> dict[str, float]:
    """Line-level scores of boilerplate removal on the three samples."""
    tp = fp = fn = 0
    titles = 0
    names = sorted((SHARED / "samples" / "inbox").glob("*.txt"))
    for path in names:
        gold = json.loads((SHARED / "samples" / "gold" / f"{path.stem}.json").read_text(encoding="utf-8"))
        text = path.read_text(encoding="utf-8")
        articles, _ = clean_drafts([Draft(path.stem, text)], {}, Limits())
        removed = {r.line_no for r in articles[0].removed} if articles else set(range(len(text.split("\n"))))
        titles += bool(articles) and articles[0].title == gold["title"]
        boiler = set(gold["boilerplate"]) | set(gold["title_lines"])
        for no, line in enumerate(text.split("\n")):
            if not line.strip() or no in gold["either"]:
                continue
            if no in removed:
                tp, fp = tp + (no in boiler), fp + (no not in boiler)
            else:
                fn += no in boiler
    return {
        "documents": len(names),
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "false_removals": fp,
        "missed": fn,
        "titles_right": titles,
    }


def load_aeb() -> list[tuple[dict, str, str]]:
    """(manifest row with the page's bytes as "raw", html, gold body) for every extraction_aeb page."""
    root = SHARED / "benchdata" / "extraction_aeb"
    pages = []
    for line in (root / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        row["raw"] = (root / row["html"]).read_bytes()
        html = row["raw"].decode("utf-8", errors="replace")
        pages.append((row, html, (root / row["gold_text"]).read_text(encoding="utf-8")))
    return pages


def run_baseline(pages, **options) -> tuple[list[str], float]:
    """Bare `trafilatura.extract` of each page's html (library defaults unless `options` are given)."""
    import trafilatura

    start = time.perf_counter()
    out = [trafilatura.extract(html, **options) or "" for _row, html, _gold in pages]
    return out, time.perf_counter() - start


def run_newsflow(pages, details: dict | None = None) -> tuple[list[str], float, Counter, Counter]:
    """newsflow's extraction from the page's bytes (decoding included, as `ingest` runs it) and `clean_drafts` over
    the whole set as one batch: (texts, seconds, outcomes, removed-line reasons). `details`, if given, receives per
    document id its draft text, removed lines and outcome (extractor or rejection reason), for diagnostics."""
    limits = Limits()
    start = time.perf_counter()
    drafts, outcomes, why = [], Counter(), {}
    for row, _html, _gold in pages:
        doc = RawDocument(
            document_id=row["id"], source_kind="url", source_ref=row["url"], content=row["raw"], media_type="html",
            received_at=datetime.now(timezone.utc), raw_sha256="", url=row["url"], site=urlsplit(row["url"]).hostname,
        )
        try:
            result = extract_one(doc, limits)
        except Exception as exc:  # noqa: BLE001 - as extract_drafts records it
            result = Rejection(doc.document_id, "extract_error", repr(exc))
        if isinstance(result, Draft):
            drafts.append(result)
            outcomes[result.extractor] += 1
            why[result.document_id] = result.extractor
        else:
            outcomes[result.reason] += 1
            why[result.document_id] = result.reason
    articles, rejections = clean_drafts(drafts, {}, limits)
    elapsed = time.perf_counter() - start
    outcomes.update(r.reason for r in rejections)
    why.update((r.document_id, r.reason) for r in rejections)
    removed = Counter(r.reason for a in articles for r in a.removed)
    texts = {a.document_id: a.text for a in articles}
    if details is not None:
        lines = {a.document_id: a.removed for a in articles}
        for draft in drafts:
            details[draft.document_id] = {"draft": draft.text, "removed": lines.get(draft.document_id, [])}
        for doc_id, outcome in why.items():
            details.setdefault(doc_id, {"draft": "", "removed": []})["outcome"] = outcome
    return [texts.get(row["id"], "") for row, _html, _gold in pages], elapsed, outcomes, removed


def score(outputs: list[str], pages) -> dict[str, float]:
    scores = [prf(out, gold) for out, (_row, _html, gold) in zip(outputs, pages)]
    n = len(scores)
    return {k: sum(s[i] for s in scores) / n for i, k in enumerate(("precision", "recall", "f1"))}


def main() -> None:
    samples = bench_samples()
    pages = load_aeb()
    run_newsflow(pages[:5])  # warm-up: imports, lexicon and language model loading
    base_out, base_s = run_baseline(pages)
    ours_out, ours_s, outcomes, removed = run_newsflow(pages)
    base, ours = score(base_out, pages), score(ours_out, pages)
    better = sum(prf(o, g)[2] > prf(b, g)[2] + 1e-9 for o, b, (_r, _h, g) in zip(ours_out, base_out, pages))
    worse = sum(prf(o, g)[2] + 1e-9 < prf(b, g)[2] for o, b, (_r, _h, g) in zip(ours_out, base_out, pages))

    lines = [
        "# Cleaning benchmark",
        "",
        f"Run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC with `.venv/bin/python benchmarks/bench_cleaning.py`.",
        "",
        "## (a) Samples: line-level boilerplate removal (../shared/samples, gold line labels)",
        "",
        "| documents | precision | recall | lines removed wrongly | boilerplate lines missed | titles right |",
        "|---|---|---|---|---|---|",
        f"| {samples['documents']} | {samples['precision']:.3f} | {samples['recall']:.3f} | "
        f"{samples['false_removals']} | {samples['missed']} | {samples['titles_right']}/{samples['documents']} |",
        "",
        f"## (b) extraction_aeb: token-level scores of the body ({len(pages)} pages, mean per page)",
        "",
        "Tokens: lowercase `\\w+` words, compared as bags (multiset overlap). Same run, same machine, one process.",
        "",
        "| system | precision | recall | F1 | pages/s |",
        "|---|---|---|---|---|",
        f"| baseline: bare `trafilatura.extract(html)` | {base['precision']:.4f} | {base['recall']:.4f} | "
        f"{base['f1']:.4f} | {len(pages) / base_s:.1f} |",
        f"| newsflow: `extract_one` + `clean_drafts` | {ours['precision']:.4f} | {ours['recall']:.4f} | "
        f"{ours['f1']:.4f} | {len(pages) / ours_s:.1f} |",
        "",
        f"Pages where newsflow's F1 is higher: {better}; lower: {worse}. "
        f"Outcomes: {', '.join(f'{k} {v}' for k, v in sorted(outcomes.items()))}.",
        "",
        "Lines the cleaner removed from the extractor's output, by reason (what `removed_lines` would hold):",
        "",
        "| reason | lines |",
        "|---|---|",
        *(f"| {reason} | {n} |" for reason, n in removed.most_common()),
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
