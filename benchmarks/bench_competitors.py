"""newsflow's HTML path against bare trafilatura, newspaper4k and news-please on the 181 extraction_aeb pages.

    .venv/bin/python benchmarks/bench_competitors.py [--venv benchmarks/out/cmpvenv]

Same token metric as bench_cleaning.py; extraction time only (page HTML already in memory, one process each).
newspaper4k and news-please run in a separate virtual environment, never the project's: created on first
use with the versions measured below (see competitor_extract.py).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
COMPETITORS = ["newspaper4k==0.9.6", "news-please==1.6.16", "lxml_html_clean>=0.4"]
sys.path.insert(0, str(HERE))
from bench_cleaning import load_aeb, run_baseline, run_newsflow, score  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", default=str(HERE / "out" / "cmpvenv"), help="virtual environment with newspaper4k and news-please")
    args = parser.parse_args()
    python = Path(args.venv) / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", args.venv], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *COMPETITORS], check=True)
    pages = load_aeb()
    rows = []
    out, secs = run_baseline(pages)
    rows.append(("bare trafilatura.extract", score(out, pages), secs))
    out, secs, _, _ = run_newsflow(pages)
    rows.append(("newsflow extract_html + clean_drafts", score(out, pages), secs))
    for tool in ("newspaper4k", "news-please"):
        result = subprocess.run([str(python), str(HERE / "competitor_extract.py"), tool],
                                capture_output=True, text=True, check=True)
        data = json.loads(result.stdout.strip().splitlines()[-1])
        rows.append((tool, score([data["texts"].get(row["id"], "") for row, _h, _g in pages], pages), data["seconds"]))
    lines = ["| system | precision | recall | F1 | pages/s |", "|---|---|---|---|---|"]
    for name, s, secs in rows:
        lines.append(f"| {name} | {s['precision']:.4f} | {s['recall']:.4f} | {s['f1']:.4f} | {len(pages) / secs:.1f} |")
    text = (f"# HTML extraction against other tools\n\nRun {date.today()}: `.venv/bin/python benchmarks/bench_competitors.py`, "
            f"{len(pages)} extraction_aeb pages, token-level scores as in bench_cleaning.py, one process each, "
            "extraction time only.\n\n" + "\n".join(lines) + "\n")
    print(text)
    (HERE / "results" / "competitors.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
