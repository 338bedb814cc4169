"""The small typed records that cross each stage of the pipeline."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from urllib.parse import urlsplit

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):(?!\d)")  # "example.com:8080/a" is a port, not a scheme
_BARE_HOST = re.compile(r"[^/\s:]+\.[^/\s:]+(:\d+)?(/|$)")  # "www.example.com/news/1", written without its scheme


def web_url(value: str | None) -> str | None:
    """value as an absolute http(s) URL, or None: an article's address is a web page's, never a javascript:,
    data:, file: or mailto: URL, a relative path or junk. "//host/path" and "host.tld/path" get https."""
    if not isinstance(value, str) or not value.strip():
        return None
    url = value.strip()
    scheme = _SCHEME.match(url)
    if scheme is None:
        bare = url.removeprefix("//")
        if not (url.startswith("//") or _BARE_HOST.match(bare)):
            return None
        url = "https://" + bare
    elif scheme.group(1).lower() not in ("http", "https"):
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return None
    return url if host and not any(c.isspace() for c in host) else None


def parse_datetime(value: str | None) -> datetime | None:
    """ISO 8601 or RFC 2822 dates to aware UTC datetimes; None when unparseable."""
    if not value:
        return None
    from email.utils import parsedate_to_datetime

    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:  # 9999-12-31T23:00-05:00 is past the last datetime in UTC
        return None


@dataclass(slots=True)
class RawDocument:
    """One input as received: the raw bytes plus where they came from."""

    document_id: str
    source_kind: str  # 'inbox' | 'feed' | 'sitemap' | 'url'
    source_ref: str  # inbox path, feed URL + entry id, or page URL
    content: bytes
    media_type: str  # 'text' | 'html' | 'json' | 'feed'
    received_at: datetime
    raw_sha256: str
    site: str | None = None  # site key for learning chrome: domain, feed or inbox sub-folder
    url: str | None = None
    title: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    original_path: str | None = None  # the inbox file this came from, if any
    parent_id: str | None = None  # a document split out of another (feed file entry, jsonl record)
    language: str | None = None  # ISO 639-1 as the source declared it (a news sitemap); detection wins over it


@dataclass(slots=True)
class Draft:
    """Text and metadata pulled out of a raw document, before line cleaning."""

    document_id: str
    text: str
    title: str | None = None
    url: str | None = None
    site: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    language: str | None = None
    extractor: str = "plain"  # 'plain' | 'trafilatura' | 'readability' | 'feed' | 'json' (see extractors/html.py)
    title_given: bool = False  # True when the title came from metadata, not from the text
    notes: tuple[str, ...] = ()  # how it was read, when not plainly: encoding overruled, caps applied, candidates


@dataclass(slots=True)
class RemovedLine:
    """A line the cleaner dropped, with the reason it was dropped."""

    line_no: int
    line: str
    reason: str


@dataclass(slots=True)
class Article:
    """A cleaned article: the body only, with removed lines recorded."""

    document_id: str
    title: str
    text: str
    url: str | None = None
    canonical_url: str | None = None
    site: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    language: str | None = None
    attribution: str | None = None
    extractor: str = "plain"
    notes: tuple[str, ...] = ()  # the draft's notes (articles.extraction_notes)
    word_count: int = 0
    text_sha256: str = ""
    article_id: str = ""  # set by dedup: a new id, or the id of the article it duplicates
    removed: list[RemovedLine] = field(default_factory=list)
    line_nos: list[int] = field(default_factory=list)  # the page line each paragraph of `text` was (RemovedLine.line_no)


@dataclass(slots=True)
class Rejection:
    """A document that could not become an article, and why (snake_case reason)."""

    document_id: str
    reason: str
    detail: str = ""


@dataclass(slots=True)
class DedupKeys:
    """Signatures computed after cleaning, used to find duplicates."""

    document_id: str
    canonical_url: str | None
    text_sha256: str
    minhash: list[int]  # permutation minima, uint64
    bands: list[int]  # one hash per LSH band, uint64


@dataclass(slots=True)
class Decision:
    """What dedup decided for one article: new, or a duplicate of article_id."""

    document_id: str
    article_id: str
    status: str  # 'new' | 'duplicate'
    method: str | None = None  # 'url' | 'exact' | 'near'
    similarity: float | None = None


@dataclass(slots=True)
class Mention:
    """One entity mention in an article, keyed to its canonical entity."""

    article_id: str
    entity_id: str
    name: str  # canonical name
    label: str  # PERSON, ORG, GPE, LOC, NORP, ...
    surface: str
    start_char: int
    end_char: int
    country_code: str | None = None
    found_by: str = "model"  # 'model' (an NER model) | 'dictionary' (extractors/entity_dictionary.py)
    language: str | None = None  # the article's language: the language of the alias its surface becomes


@dataclass(slots=True)
class Entity:
    """A canonical entity as a batch writes it, with the alias keys it claims (an alias keeps its first entity)."""

    entity_id: str
    name: str
    label: str
    country_code: str | None = None
    aliases: list[tuple[str, str | None]] = field(default_factory=list)  # (normalised name that finds it, language)


@dataclass(slots=True)
class EntityMerge:
    """A short-form entity ("Putin") that an article resolved to a full name: its alias and mentions move there."""

    alias: str
    label: str
    old_id: str  # the short form's own entity
    new_id: str  # the full name's


@dataclass(slots=True)
class Move:
    """One inbox file's planned move, recorded with its batch so a killed run can finish it without rereading."""

    source: str  # the file in the inbox (absolute path)
    raw_sha256: str  # of the whole file; '' when it was not read (a link, a file over the size limit)
    size: int
    target: str  # its place in the archive or quarantine (documents.stored_path)
    note: str | None = None  # the `.error` note written beside a quarantined file


@dataclass(slots=True)
class Evidence:
    """One pair's score, the threshold it had to clear, and what moved them; `veto` names a refusal."""

    score: float
    threshold: float
    cosine: float
    day_gap: int | None
    day_sources: str  # "published/arrival": where each side's day came from
    shared_kinds: tuple[str, ...]
    shared_particulars: tuple[str, ...]
    veto: str | None = None

    @property
    def links(self) -> bool:
        return self.veto is None and self.score >= self.threshold


@dataclass(slots=True)
class StoryDecision:
    """A new article's story: an earlier article's (`linked_to`, with the evidence that decided it: a `story_links`
    row) or its own, and the event day read for it (`articles.event_date`, `event_date_source`)."""

    article_id: str
    story_id: str
    event_date: date | None
    event_date_source: str
    linked_to: str | None = None
    evidence: Evidence | None = None


@dataclass(slots=True)
class Batch:
    """Everything one micro-batch writes, in one transaction."""

    run_id: str
    documents: list[RawDocument]
    rejections: list[Rejection] = field(default_factory=list)
    articles: list[Article] = field(default_factory=list)  # cleaned, one per non-rejected document
    keys: list[DedupKeys] = field(default_factory=list)  # parallel to articles
    decisions: list[Decision] = field(default_factory=list)  # parallel to articles
    mentions: list[Mention] = field(default_factory=list)  # for new articles only
    site_lines: list[tuple[str, str, str]] = field(default_factory=list)  # (site, line_hash, line) observed
    stored_paths: dict[str, str] = field(default_factory=dict)  # document_id -> where its original is kept
    moves: list[Move] = field(default_factory=list)  # inbox originals to move once the batch is written
    # Decided against what is stored, before the write (flows.pipeline link_stories, resolve_entities):
    seen_at: datetime | None = None  # first_seen_at of its new articles
    stories: list[StoryDecision] = field(default_factory=list)  # one per new article
    entities: list[Entity] = field(default_factory=list)  # the canonical entities of its mentions
    merges: list[EntityMerge] = field(default_factory=list)  # short forms folded into full names
