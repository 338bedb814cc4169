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
