"""Generate benchmark corpora from ../shared/benchdata: distinct ~700-word articles with boilerplate."""
from __future__ import annotations

import json
import random
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"
BENCH = SHARED / "benchdata"

# Site chrome of the kinds the cleaner must remove, in several UI languages.
HEADERS = [
    ["Menu", "Search", "Dark mode", "Home", "World", "Politics", "Business"],
    ["Menu", "Mode Gelap", "Cari", "Beranda", "Internasional"],
    ["Startseite", "Suche", "Politik", "Wirtschaft", "Anmelden"],
    ["Accueil", "Rechercher", "Se connecter", "International"],
    ["Inicio", "Buscar", "Suscríbete", "Internacional"],
]
FOOTERS = [
    ["Share this:", "Facebook", "Twitter", "Leave a Reply", "Your email address will not be published. Required fields are marked *",
     "Related Posts", "Markets close higher as investors weigh rate outlook", "5 July 2025 - 10:12", "Trending"],
    ["Tinggalkan Balasan", "Alamat email Anda tidak akan dipublikasikan. Ruas yang wajib ditandai *", "Baca Lainnya",
     "Harga minyak naik di tengah ketegangan global", "4 Juli 2025 - 22:13 WIB", "Trending di Internasional"],
    ["Kommentar verfassen", "Ihre E-Mail-Adresse wird nicht veröffentlicht.", "Das könnte Sie auch interessieren",
     "Newsletter abonnieren", "Cookie-Einstellungen"],
    ["Laisser un commentaire", "Votre adresse e-mail ne sera pas publiée.", "À lire aussi", "Les plus lus",
     "Abonnez-vous à notre newsletter"],
]


def paragraphs() -> list[str]:
    """Every paragraph of 25+ words from the benchmark bodies, in a fixed order."""
    found: list[str] = []
    for path in sorted((BENCH / "extraction_aeb" / "gold").glob("*.txt")):
        found += [p.strip() for p in path.read_text(encoding="utf-8").split("\n") if len(p.split()) >= 25]
    for line in (BENCH / "same_story_semeval" / "pairs_en_en_original.jsonl").read_text(encoding="utf-8").splitlines():
        pair = json.loads(line)
        for key in ("text1", "text2"):
            words = pair[key].split()
            found += [" ".join(words[i:i + 80]) for i in range(0, len(words) - 40, 80)]
    seen, unique = set(), []
    for p in found:
        if p not in seen:
            seen.add(p)
            unique.append(p)
    return unique


def make_articles(count: int, words: int = 700, seed: int = 7) -> list[tuple[str, str]]:
    """(title, body) pairs: each body a distinct draw of paragraphs, about `words` long."""
    pool = paragraphs()
    rng = random.Random(seed)
    order = list(range(len(pool)))
    rng.shuffle(order)
    articles, cursor = [], 0
    for i in range(count):
        body, n = [], 0
        while n < words:
            p = pool[order[cursor % len(order)]]
            cursor += 1
            body.append(p)
            n += len(p.split())
        if cursor >= len(order):  # second pass: reshuffle so no two articles share a run of paragraphs
            rng.shuffle(order)
            cursor = 0
        title = " ".join(body[0].split()[:9]).rstrip(",.;:") + f" ({i})"
        articles.append((title, "\n\n".join(body)))
    return articles


def write_text_inbox(folder: Path, count: int, words: int = 700, seed: int = 7) -> list[str]:
    """Write `count` text files with site chrome around each body; returns the clean bodies."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    bodies = []
    for i, (title, body) in enumerate(make_articles(count, words, seed)):
        header, footer = rng.choice(HEADERS), rng.choice(FOOTERS)
        text = "\n\n".join(header + [title, body] + footer) + "\n"
        (folder / f"article_{i:05d}.txt").write_text(text, encoding="utf-8")
        bodies.append(body)
    return bodies


def html_pages() -> list[Path]:
    """The extraction_aeb news pages."""
    return sorted((BENCH / "extraction_aeb" / "html").glob("*.html"))


def write_html_variants(folder: Path, copies: int, seed: int = 13) -> list[Path]:
    """The extraction_aeb pages plus `copies` variants of each: the same markup and chrome, with every paragraph
    of 10+ words replaced by another benchmark paragraph and the page's own URLs made unique, so each variant is
    a distinct article of the same site (a larger HTML corpus whose pages cost what real ones cost)."""
    import lxml.html

    folder.mkdir(parents=True, exist_ok=True)
    pool = paragraphs()
    rng = random.Random(seed)
    order = list(range(len(pool)))
    rng.shuffle(order)
    cursor = 0
    written = []
    for page in html_pages():
        raw = page.read_bytes()
        (folder / page.name).write_bytes(raw)
        written.append(folder / page.name)
        for k in range(1, copies + 1):
            tree = lxml.html.document_fromstring(raw)
            for p in tree.iter("p"):
                if len(p.text_content().split()) >= 10:
                    for child in list(p):
                        p.remove(child)
                    p.text = pool[order[cursor]]
                    cursor += 1
                    if cursor == len(order):
                        rng.shuffle(order)
                        cursor = 0
            for element in tree.iter("link", "meta"):
                for attr in ("href", "content"):
                    value = element.get(attr) or ""
                    if value.startswith("http") and ("canonical" in (element.get("rel") or "") or
                                                    (element.get("property") or element.get("name") or "").endswith(":url")):
                        element.set(attr, value.split("?")[0].rstrip("/") + f"-v{k}")
            path = folder / f"{page.stem}-v{k}.html"
            path.write_bytes(lxml.html.tostring(tree, encoding="utf-8", doctype="<!DOCTYPE html>"))
            written.append(path)
    return written
