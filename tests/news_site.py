"""A news site on disk for tests and benchmarks: article pages, a news sitemap in the published format
(https://www.google.com/schemas/sitemap-news/0.9), an RSS feed listing some of them, a home page, robots.txt.

    site = build_site(tmp_path, "http://127.0.0.1:8000", articles=200, in_feed=20)
"""
from __future__ import annotations

import html
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

GOLD = Path(__file__).resolve().parents[2] / "shared" / "benchdata" / "extraction_aeb" / "gold"


def vocabulary() -> list[str]:
    """Real words from the benchmark's gold texts, so pages read like prose to the extractor and cleaner."""
    words = set()
    for path in sorted(GOLD.glob("*.txt"))[:40]:
        words.update(w.lower() for w in re.findall(r"[A-Za-z]{3,12}", path.read_text(encoding="utf-8")))
    return sorted(words)


@dataclass
class Site:
    root: Path
    base: str
    pages: list[str]  # URL of every article, newest first
    sitemap: str  # URL of the news sitemap
    feed: str  # URL of the feed


def article_html(title: str, words: list[str], rng: random.Random) -> str:
    paragraphs = []
    for _ in range(6):
        sentences = [" ".join(rng.choice(words) for _ in range(rng.randint(8, 14))).capitalize() + "." for _ in range(3)]
        paragraphs.append(f"<p>{' '.join(sentences)}</p>")
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
            f"<body><nav><a href='/'>Home</a></nav><article><h1>{html.escape(title)}</h1>{''.join(paragraphs)}</article>"
            f"<footer>Copyright Example News</footer></body></html>")


def news_sitemap(entries: list[tuple[str, datetime, str]], name: str = "Example News", language: str = "en") -> bytes:
    """A news sitemap of (url, publication date, title) entries."""
    items = "".join(
        f"<url><loc>{html.escape(u)}</loc><news:news><news:publication><news:name>{name}</news:name>"
        f"<news:language>{language}</news:language></news:publication>"
        f"<news:publication_date>{d.isoformat(timespec='seconds')}</news:publication_date>"
        f"<news:title>{html.escape(t)}</news:title></news:news></url>\n"
        for u, d, t in entries)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n{items}</urlset>\n').encode()


def rss(entries: list[tuple[str, datetime, str]], base: str) -> bytes:
    items = "".join(f"<item><title>{html.escape(t)}</title><link>{html.escape(u)}</link><guid>{html.escape(u)}</guid>"
                    f"<description>Teaser of {html.escape(t)}.</description></item>" for u, _, t in entries)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Example News</title><link>{base}/</link>'
            f"{items}</channel></rss>").encode()


def build_site(root: Path, base: str, articles: int, in_feed: int = 20, old: int = 0, seed: int = 7,
               now: datetime | None = None, page_files: bool = True, listed_from: int = 0) -> Site:
    """`articles` pages published 5 minutes apart up to `now` (newest first) and `old` more from weeks ago, in the
    news sitemap from the `listed_from`-th newest on (the newer ones are not published yet); the feed lists the
    newest `in_feed` of those. page_files=False writes no article pages."""
    now = now or datetime.now(timezone.utc)
    rng = random.Random(seed)
    words = vocabulary()
    entries = []
    for i in range(articles + old):
        age = timedelta(minutes=5 * i) if i < articles else timedelta(days=20, minutes=i)
        path = f"/news/{(now - age):%Y/%m/%d}/story-{i}.html"
        title = f"Story {i}: " + " ".join(rng.choice(words) for _ in range(5)).capitalize()
        entries.append((base + path, now - age, title))
        if page_files:
            file = root / path.lstrip("/")
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(article_html(title, words, rng), encoding="utf-8")
    root.mkdir(parents=True, exist_ok=True)
    listed = entries[listed_from:]
    (root / "news-sitemap.xml").write_bytes(news_sitemap(listed))
    (root / "feed.xml").write_bytes(rss(listed[:in_feed], base))
    (root / "robots.txt").write_text(f"User-agent: *\nDisallow: /private/\nSitemap: {base}/news-sitemap.xml\n")
    (root / "index.html").write_text(
        "<!doctype html><html><head><title>Example News</title>"
        f"<link rel='alternate' type='application/rss+xml' title='RSS' href='/feed.xml'></head>"
        f"<body><h1>Example News</h1>{''.join(f'<a href={u}>{html.escape(t)}</a>' for u, _, t in listed[:10])}</body></html>",
        encoding="utf-8")
    return Site(root, base, [u for u, _, _ in entries], base + "/news-sitemap.xml", base + "/feed.xml")
