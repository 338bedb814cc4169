"""English text through cleaning and NER: this checkout against another one (main), in the same run.

The multilingual work (issue #21) must leave English ingest as fast as it was. Each round runs, in a fresh process per
checkout and interleaved, `clean_drafts` over generated English articles and `extract_entities` over the CoNLL++ test
documents (the model part of ingest), and reports rates per CPU second (best and median round).

Run: .venv/bin/python benchmarks/bench_english_cost.py BASE_SRC   (BASE_SRC: an export of main, e.g. `git archive main`)
Writes benchmarks/results/english_cost.md.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONLL = REPO.parent / "shared" / "benchdata" / "ner_conll2003" / "test_docs_conllpp.jsonl"
RESULTS = REPO / "benchmarks" / "results" / "english_cost.md"
ROUNDS = 5
ARTICLES = 300

# Runs inside the checkout under test (its `newsflow` package first on sys.path).
WORKER = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[2])
from corpus import make_articles
from newsflow.extractors.cleaning import clean_drafts
from newsflow.extractors.entities import extract_entities, load_ner
from newsflow.extractors.records import Article, Draft
from newsflow.extractors.settings import Limits, Ner
docs = [json.loads(line) for line in open(sys.argv[3], encoding="utf-8")]
texts = [" ".join(d["tokens"]) if "tokens" in d else d["text"] for d in docs]
words = sum(len(t.split()) for t in texts)
drafts = [Draft(f"d{i}", text) for i, (_, text) in enumerate(make_articles(int(sys.argv[4])))]
load_ner(Ner())
clean_drafts(drafts[:5], {}, Limits())
start = time.process_time()
articles, _ = clean_drafts(drafts, {}, Limits())
clean_s = time.process_time() - start
batch = [Article(document_id=str(i), title="", text=t, article_id=str(i), language="en") for i, t in enumerate(texts)]
extract_entities(batch[:5], Ner())
start = time.process_time()
mentions = extract_entities(batch, Ner())
ner_s = time.process_time() - start
print(json.dumps({"clean_articles_per_s": len(drafts) / clean_s, "ner_words_per_s": words / ner_s,
                  "mentions": len(mentions), "words": words, "kept": len(articles)}))
"""


def shim(src: Path, root: Path) -> Path:
    """A folder whose `newsflow` package is the checkout at src (its flows/, extractors/, storage/)."""
    package = root / "newsflow"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for name in ("flows", "extractors", "storage"):
        (package / name).symlink_to(src / name)
    return root


def run(shim_dir: Path, worker: Path) -> dict:
    out = subprocess.run([sys.executable, str(worker), str(shim_dir), str(REPO / "benchmarks"), str(CONLL), str(ARTICLES)],
                         capture_output=True, text=True, check=True, cwd=shim_dir)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    base_src = Path(sys.argv[1]).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        worker = tmp_path / "worker.py"
        worker.write_text(WORKER)
        checkouts = {"main": shim(base_src, tmp_path / "main"), "this branch": shim(REPO, tmp_path / "branch")}
        results: dict[str, list[dict]] = {name: [] for name in checkouts}
        for _ in range(ROUNDS):
            for name, shim_dir in checkouts.items():
                results[name].append(run(shim_dir, worker))
    lines = ["# English cleaning and NER: main against this branch (bench_english_cost.py)", "",
             f"Same run, interleaved, {ROUNDS} rounds, one fresh process per checkout and round; rates per CPU second "
             "(process time: the machine is shared, wall time swings with the other jobs), best and median round. "
             f"Cleaning: {ARTICLES} generated English articles (benchmarks/corpus.py); NER: `extract_entities` over the "
             "CoNLL++ test documents with language 'en' (model part of ingest). Shared 2-core machine.", "",
             "| checkout | cleaning articles/CPU s (best, median) | NER words/CPU s (best, median) | mentions | articles kept |",
             "|---|---|---|---|---|"]
    for name, rounds in results.items():
        clean = sorted((r["clean_articles_per_s"] for r in rounds), reverse=True)
        ner = sorted((r["ner_words_per_s"] for r in rounds), reverse=True)
        lines.append(f"| {name} | {clean[0]:,.0f}, {clean[len(clean) // 2]:,.0f} | {ner[0]:,.0f}, {ner[len(ner) // 2]:,.0f} "
                     f"| {rounds[0]['mentions']} | {rounds[0]['kept']} |")
    lines += ["", "All rounds: " + json.dumps({k: [(round(r["clean_articles_per_s"]), round(r["ner_words_per_s"])) for r in v]
                                               for k, v in results.items()})]
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
