"""Dedup keys and decisions: canonical URL, exact hash of the normalised body, MinHash + LSH bands.

Keys are computed after cleaning, over the body only (titles change when a story is syndicated).
Precedence is url, then exact, then near; storage/dedup_index.py looks the keys up in DuckDB.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np

from newsflow.extractors.records import Article, Decision, DedupKeys, web_url
from newsflow.extractors.settings import Dedup

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_SEED = 0x6E657773  # fixed: signatures stored in DuckDB must stay comparable across runs
_CHUNK = 4096  # shingles per block, bounds memory at num_perm x 4096 x 8 bytes

_QUOTES = dict.fromkeys(map(ord, "\u2018\u2019\u201a\u201b\u2032\u00b4`"), "'")
_QUOTES.update(dict.fromkeys(map(ord, "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"), '"'))
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"), "-")
_FOLD = {**_QUOTES, **_DASHES, 0x00AD: None, 0x200B: None, 0x200C: None, 0x200D: None, 0xFEFF: None}
# str.replace per character is ~40x faster than str.translate with a dict; no replacement is itself a key.
_FOLD_PAIRS = tuple((chr(key), value or "") for key, value in _FOLD.items())
_WORD = re.compile(r"\w+")

# Query parameters that select a rendering of the page, not the article itself.
_RENDER_PARAMS = {"amp", "outputtype", "output", "mobile", "m", "view", "share", "rss", "feed", "cmpid", "ito"}
_VARIANT_HOSTS = ("www.", "m.", "mobile.", "amp.", "www1.", "www2.")
_PATH_RULES = (  # AMP and index variants of an article path
    (re.compile(r"/amp/?$"), "/"),
    (re.compile(r"^/amp/"), "/"),
    (re.compile(r"\.amp(\.html?)$"), r"\1"),
    (re.compile(r"/index\.html?$"), "/"),
    (re.compile(r"/{2,}"), "/"),
)


@dataclass(slots=True)
class Candidates:
    """What the index already holds for one batch's keys."""

    by_url: dict[str, str] = field(default_factory=dict)  # canonical_url -> article_id
    by_sha: dict[str, str] = field(default_factory=dict)  # text_sha256 -> article_id
    by_band: dict[tuple[int, int], list[str]] = field(default_factory=dict)  # (band, band_hash) -> article_ids
    texts: dict[str, str] = field(default_factory=dict)  # band hit article_id -> its body, for exact verification


def canonicalize_url(url: str | None) -> str | None:
    """The URL without tracking parameters, fragment, AMP/mobile variants, www or scheme differences.

    None when there is no usable URL (empty, malformed, or not http(s): see web_url): it is then simply not
    a dedup key.
    """
    raw = web_url(url)
    if raw is None:
        return None
    import courlan  # only when URLs are present

    try:
        normal = courlan.normalize_url(raw, strict=False)
    except (ValueError, AttributeError):  # courlan raises on some malformed URLs; carry on with ours
        normal = raw
    try:
        parts = urlsplit(normal)
        host = (parts.hostname or "").lower().rstrip(".")
        query = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return None
    if not host or not host.isprintable() or any(c.isspace() for c in host):  # NUL: an unusable key
        return None
    stripped = True
    while stripped:
        stripped = False
        for prefix in _VARIANT_HOSTS:
            if host.startswith(prefix) and host.count(".") >= 2:
                host, stripped = host[len(prefix) :], True
    path = parts.path or "/"
    for pattern, repl in _PATH_RULES:
        path = pattern.sub(repl, path)
    if len(path) > 1:
        path = path.rstrip("/")
    kept = sorted((k, v) for k, v in query if k.lower() not in _RENDER_PARAMS)
    return urlunsplit(("https", host, path, urlencode(kept), ""))


def is_article_url(canonical: str | None) -> bool:
    """False for a bare site root, which names a front page rather than one article."""
    if not canonical:
        return False
    parts = urlsplit(canonical)
    return parts.path not in ("", "/") or bool(parts.query)


def normalize_text(text: str) -> str:
    """Body folded for exact comparison: NFKC, case, quotes, dashes and whitespace."""
    folded = unicodedata.normalize("NFKC", text)
    for char, replacement in _FOLD_PAIRS:
        if char in folded:
            folded = folded.replace(char, replacement)
    return " ".join(folded.casefold().split())


def text_digest(text: str) -> str:
    """sha256 hex of the normalised body: the exact-duplicate key."""
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, vectorised: spreads every input bit over the 64 output bits (arrays wrap silently)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@lru_cache(maxsize=8)
def _permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """Fixed odd multipliers and offsets of the num_perm hash functions."""
    rng = np.random.default_rng(_SEED)
    a = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)
    return a, b


def shingle_hashes(text: str, shingle_words: int) -> np.ndarray:
    """Sorted unique 64-bit hashes of the word shingles of the normalised body."""
    return _shingles(_WORD.findall(normalize_text(text)), shingle_words)


def _shingles(words: list[str], shingle_words: int) -> np.ndarray:
    """Sorted unique 64-bit hashes of consecutive word groups (one group when the text is shorter)."""
    if not words:
        return np.empty(0, dtype=np.uint64)
    # Each distinct word is hashed once; its first-seen index maps every occurrence to that hash.
    vocab = {w: i for i, w in enumerate(dict.fromkeys(words))}
    ids = np.fromiter(map(vocab.__getitem__, words), dtype=np.int64, count=len(words))
    word_hashes = np.frombuffer(
        b"".join(hashlib.blake2b(w.encode("utf-8"), digest_size=8).digest() for w in vocab), dtype="<u8"
    )
    token = word_hashes[ids]
    k = min(shingle_words, len(token))
    n = len(token) - k + 1
    acc = np.zeros(n, dtype=np.uint64)
    for j in range(k):  # order-sensitive combination, fully mixed after each word
        acc = _mix(acc * np.uint64(0x9E3779B97F4A7C15) + token[j : j + n])
    return np.unique(acc)


def minhash(hashes: np.ndarray, num_perm: int) -> np.ndarray:
    """MinHash signature (uint64, num_perm values) of a set of 64-bit shingle hashes."""
    a, b = _permutations(num_perm)
    sig = np.full(num_perm, _MASK64, dtype=np.uint64)
    for start in range(0, len(hashes), _CHUNK):
        block = hashes[start : start + _CHUNK, None]
        np.minimum(sig, (block * a + b).min(axis=0), out=sig)
    return sig


def band_hashes(sig: np.ndarray, num_bands: int) -> np.ndarray:
    """One 64-bit hash per LSH band of the signature (rows = num_perm // num_bands)."""
    rows = len(sig) // num_bands
    grid = sig[: rows * num_bands].reshape(num_bands, rows)
    acc = np.arange(1, num_bands + 1, dtype=np.uint64)  # the band number is folded in: band_hash alone is a key
    for r in range(rows):
        acc = _mix(acc * np.uint64(0x9E3779B97F4A7C15) + grid[:, r])
    return acc


def lead_hash(words: list[str], lead_words: int, band: int) -> int:
    """The extra band: a hash of the body's first words, shared by an article and its truncations."""
    digest = hashlib.blake2b(" ".join(words[:lead_words]).encode("utf-8"), digest_size=8).digest()
    return int(_mix(np.frombuffer(digest, dtype="<u8") ^ np.uint64(band + 1))[0])


@dataclass(slots=True)
class TextKeys:
    """The body's half of an article's dedup keys, computed where the body is cleaned (on a worker)."""

    text_sha256: str
    shingles: np.ndarray  # sorted unique shingle hashes, reused to verify band hits
    signature: list[int]
    bands: list[int]  # num_bands MinHash bands and, last, the lead band (see lead_hash)


def text_keys(text: str, settings: Dedup) -> TextKeys:
    """Exact hash, shingle set, MinHash signature and LSH bands of a body."""
    normal = normalize_text(text)
    digest = hashlib.sha256(normal.encode("utf-8")).hexdigest()
    words = _WORD.findall(normal)
    hashes = _shingles(words, settings.shingle_words)
    if not len(hashes):  # no words: nothing to compare, only url/exact keys apply
        return TextKeys(digest, hashes, [], [])
    sig = minhash(hashes, settings.num_perm)
    bands = band_hashes(sig, settings.num_bands).tolist()
    bands.append(lead_hash(words, settings.lead_words, settings.num_bands))
    return TextKeys(digest, hashes, sig.tolist(), bands)


def compute_keys(
    articles: list[Article], settings: Dedup, shingles: dict[str, np.ndarray] | None = None,
    known: dict[str, TextKeys] | None = None,
) -> list[DedupKeys]:
    """Dedup keys per article (same order); also sets article.canonical_url and article.text_sha256.

    `known` holds TextKeys already computed for some bodies (by document_id); the rest are computed here.
    Given a `shingles` dict, each article's shingle set is kept in it by document_id, for find_duplicates to reuse.
    """
    keys = []
    for article in articles:
        canonical = canonicalize_url(article.canonical_url or article.url)
        if canonical and not is_article_url(canonical):
            canonical = None  # a front page URL would merge every story of the site
        article.canonical_url = canonical or article.canonical_url
        body = (known or {}).get(article.document_id) or text_keys(article.text, settings)
        article.text_sha256 = body.text_sha256
        if shingles is not None:
            shingles[article.document_id] = body.shingles
        keys.append(DedupKeys(article.document_id, canonical, body.text_sha256, body.signature, body.bands))
    return keys


def shingle_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """max(Jaccard, containment of the smaller set in the larger) of two sorted unique shingle sets."""
    if not len(a) or not len(b):
        return 0.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return max(inter / (len(a) + len(b) - inter), inter / min(len(a), len(b)))


def find_duplicates(
    articles: list[Article], keys: list[DedupKeys], candidates: Candidates, settings: Dedup,
    batch_shingles: dict[str, np.ndarray] | None = None,
) -> list[Decision]:
    """One Decision per article (same order), precedence url > exact > near; sets article.article_id.

    Near: LSH band hits are verified on the exact shingle sets (similarity = max(Jaccard, containment)),
    so the band layout only decides what is compared. Copies inside the batch are caught too: the first
    becomes new, later ones point at it. `batch_shingles` (from compute_keys) spares computing the batch's
    own shingle sets again.
    """
    own = batch_shingles or {}
    by_url = dict(candidates.by_url)
    by_sha = dict(candidates.by_sha)
    bands = {k: list(v) for k, v in candidates.by_band.items()}  # grows with this batch's new articles
    texts = dict(candidates.texts)
    shingles: dict[str, np.ndarray] = {}  # article_id -> shingle set, computed only when compared
    decisions = []
    for article, key in zip(articles, keys):
        decision = _match_key(key, by_url, by_sha)
        if decision is None:
            decision = _match_near(article, key, bands, texts, shingles, settings, own.get(key.document_id))
        article.article_id = decision.article_id
        decisions.append(decision)
        if key.canonical_url:
            by_url.setdefault(key.canonical_url, decision.article_id)
        by_sha.setdefault(key.text_sha256, decision.article_id)
        if decision.status == "new" and key.bands:
            texts[decision.article_id] = article.text
            if key.document_id in own:
                shingles[decision.article_id] = own[key.document_id]
            for band, value in enumerate(key.bands):
                bands.setdefault((band, value), []).append(decision.article_id)
    return decisions


def _match_key(key: DedupKeys, by_url: dict[str, str], by_sha: dict[str, str]) -> Decision | None:
    """A url or exact duplicate, or None when neither key is known."""
    if key.canonical_url and key.canonical_url in by_url:
        return Decision(key.document_id, by_url[key.canonical_url], "duplicate", "url", None)
    if key.text_sha256 in by_sha:
        return Decision(key.document_id, by_sha[key.text_sha256], "duplicate", "exact", 1.0)
    return None


def top_band_hits(key: DedupKeys, bands: dict[tuple[int, int], list[str]], limit: int) -> list[str]:
    """Articles sharing a band with the key, most shared bands first (then by id), at most limit."""
    hits: dict[str, int] = {}
    for band, value in enumerate(key.bands):
        for aid in bands.get((band, value), ()):
            hits[aid] = hits.get(aid, 0) + 1
    return sorted(hits, key=lambda aid: (-hits[aid], aid))[:limit]


def _match_near(article, key, bands, texts, shingles, settings, mine=None) -> Decision:
    """The most similar band hit at or above the threshold, else a new article."""
    pool = [aid for aid in top_band_hits(key, bands, settings.max_candidates) if aid in texts]
    best_id, best = None, -1.0  # (an article whose text is gone cannot be verified)
    if pool:
        if mine is None:
            mine = shingle_hashes(article.text, settings.shingle_words)
        for aid in sorted(pool):  # sorted: ties resolve the same way on every run
            if aid not in shingles:
                shingles[aid] = shingle_hashes(texts[aid], settings.shingle_words)
            sim = shingle_similarity(mine, shingles[aid])
            if sim > best:
                best_id, best = aid, sim
    if best_id is not None and best >= settings.near_threshold:
        return Decision(key.document_id, best_id, "duplicate", "near", round(best, 4))
    return Decision(key.document_id, new_article_id(key), "new", None, None)


def new_article_id(keys: DedupKeys) -> str:
    """A new article's id: the first 16 hex chars of its normalised-body hash (stable across re-runs)."""
    return keys.text_sha256[:16]


FILLABLE = ("url", "canonical_url", "published_at", "author", "attribution", "site")


def metadata_fills(articles: list[Article], decisions: list[Decision]) -> dict[str, dict[str, object]]:
    """What the batch's duplicates can give the article each points at: article_id -> {field: value} for the
    FILLABLE fields, first non-empty value wins (the write keeps a value the stored article already has)."""
    fills: dict[str, dict[str, object]] = {}
    for article, decision in zip(articles, decisions):
        if decision.status != "duplicate":
            continue
        row = fills.setdefault(decision.article_id, {})
        for name in FILLABLE:
            value = getattr(article, name)
            if value not in (None, "") and name not in row:
                row[name] = value
    return {aid: row for aid, row in fills.items() if row}
