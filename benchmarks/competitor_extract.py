"""Extract the extraction_aeb pages with newspaper4k or news-please; prints {"seconds": s, "texts": {id: text}}.

Runs in a separate virtual environment that has those packages, never the project's
(bench_competitors.py creates it). Network fetches are off: newspaper4k would download images.
"""
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "shared" / "benchdata" / "extraction_aeb"


def main() -> None:
    tool = sys.argv[1]
    rows = [json.loads(line) for line in (ROOT / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]
    pages = [(row, (ROOT / row["html"]).read_text(encoding="utf-8", errors="replace")) for row in rows]
    texts = {}
    start = time.perf_counter()
    if tool == "newspaper4k":
        import newspaper

        for row, html in pages:
            article = newspaper.Article(row["url"], fetch_images=False)  # images would be fetched over the network
            try:
                article.download(input_html=html)
                article.parse()
                texts[row["id"]] = article.text or ""
            except Exception:  # a failure on one page scores 0 for that page
                texts[row["id"]] = ""
    elif tool == "news-please":
        from newsplease import NewsPlease

        for row, html in pages:
            try:
                article = NewsPlease.from_html(html, url=row["url"], fetch_images=False)
                texts[row["id"]] = (article.maintext or "") if article else ""
            except Exception:  # same: scored 0
                texts[row["id"]] = ""
    else:
        raise SystemExit(f"unknown tool {tool}")
    print(json.dumps({"seconds": time.perf_counter() - start, "texts": texts}))


if __name__ == "__main__":
    main()
