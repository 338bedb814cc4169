"""Entity names: normalised keys and ids, initials, and the title/alias/demonym tables in extractors/data."""
from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"

_SPACES = re.compile(r"\s+")
_ACRONYM = re.compile(r"^(?:[A-Z]\.?){2,6}$")
_NAME_WORD = re.compile(r"[^\W\d_][\w'’]*")
_ACRONYM_SKIP = frozenset({"of", "the", "and", "for", "on", "in", "de", "du", "des", "la", "le", "del"})


def normalise(name: str) -> str:
    """Casefold a name and unify quotes, dashes and spaces: the key aliases are matched on."""
    name = name.replace("’", "'").replace("‘", "'").replace("–", "-").replace("—", "-")
    return _SPACES.sub(" ", name).strip().casefold()


def name_key(name: str) -> str:
    """The identity key of a name: normalised, accents dropped, hyphens read as spaces ("Kim Jong-un")."""
    folded = "".join(ch for ch in unicodedata.normalize("NFKD", normalise(name)) if not unicodedata.combining(ch))
    return _SPACES.sub(" ", folded.replace("-", " ")).strip()


def entity_id(label: str, name: str) -> str:
    """Deterministic id of a canonical entity: first 16 hex of sha256("LABEL:<name_key(name)>")."""
    return hashlib.sha256(f"{label}:{name_key(name)}".encode()).hexdigest()[:16]


def is_acronym_of(short: str, full: str) -> bool:
    """True when short is the initials of full's words ("WHO" of "World Health Organization")."""
    if not _ACRONYM.match(short):
        return False
    words = [w for w in _NAME_WORD.findall(full) if w.casefold() not in _ACRONYM_SKIP]
    return len(words) >= 2 and "".join(w[0] for w in words).upper() == short.replace(".", "")


def abbreviates(short: str, full: str, label: str) -> bool:
    """True when short is a short form of full: a person's first or last name(s), or other names' initials."""
    if label == "PERSON":
        s, f = name_key(short).split(), name_key(full).split()
        return 0 < len(s) < len(f) and (f[:len(s)] == s or f[-len(s):] == s)
    return is_acronym_of(short, full)


def _data_lines(filename: str) -> list[list[str]]:
    """Tab-separated fields of a data file, comments and blank lines skipped."""
    rows = []
    for line in (DATA_DIR / filename).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            rows.append([field.strip() for field in line.split("\t")])
    return rows


@lru_cache(maxsize=1)
def load_titles() -> tuple[tuple[str, ...], ...]:
    """Titles and roles as token tuples, longest first so "prime minister" beats "minister"."""
    titles = {tuple(normalise(row[0]).split()) for row in _data_lines("titles.txt")}
    return tuple(sorted(titles, key=len, reverse=True))


@lru_cache(maxsize=1)
def load_aliases() -> dict[str, tuple[str, str]]:
    """Normalised alias -> (canonical name, label), canonical names included as their own alias."""
    aliases: dict[str, tuple[str, str]] = {}
    for alias, canonical, label in _data_lines("entity_aliases.tsv"):
        aliases[normalise(alias)] = (canonical, label)
        aliases.setdefault(normalise(canonical), (canonical, label))
    return aliases


@lru_cache(maxsize=1)
def alias_rows() -> tuple[tuple[str, str, str], ...]:
    """(alias as written, canonical name, label) rows of entity_aliases.tsv."""
    return tuple((alias, canonical, label) for alias, canonical, label in _data_lines("entity_aliases.tsv"))


@lru_cache(maxsize=1)
def load_demonyms() -> dict[str, str]:
    """Normalised nationality word (and its plural) -> ISO 3166-1 alpha-2 code."""
    demonyms: dict[str, str] = {}
    for word, code in _data_lines("entity_demonyms.tsv"):
        demonyms[normalise(word)] = code
        if not word.endswith(("s", "sh", "ch", "ese")):
            demonyms.setdefault(normalise(word) + "s", code)
    return demonyms



# Spelling rules that tell transliterations of one name apart (German, French, Spanish and English renderings of
# Russian and Ukrainian names): applied to both sides, so "Wladimir"/"Vladimir", "Mischustin"/"Mishustin" and
# "Selenskyj"/"Zelensky" meet on one key.
_TRANSLITERATION = (
    (re.compile(r"tsch"), "ch"), (re.compile(r"sch"), "sh"), (re.compile(r"[ck]h"), "h"), (re.compile(r"w"), "v"),
    (re.compile(r"z"), "s"), (re.compile(r"[jy]"), "i"), (re.compile(r"(\w)\1"), r"\1"),
)


def person_key(name: str) -> str:
    """The transliteration-blind key of a person's name: name_key with spelling variants unified."""
    key = name_key(name)
    for pattern, replacement in _TRANSLITERATION:
        key = pattern.sub(replacement, key)
    return key


@lru_cache(maxsize=1)
def _i18n_rows() -> tuple[tuple[str, str, str, str], ...]:
    """(alias, canonical, label, language) rows of entity_aliases_i18n.tsv; language '*' is every language."""
    return tuple((alias, canonical, label, language) for alias, canonical, label, language in _data_lines("entity_aliases_i18n.tsv"))


@lru_cache(maxsize=16)
def load_i18n_aliases(language: str) -> dict[str, tuple[str, str]]:
    """Alias (as written) -> (canonical English name, label) for one language, the all-language rows included."""
    return {alias: (canonical, label) for alias, canonical, label, lang in _i18n_rows() if lang in (language, "*")}


@lru_cache(maxsize=16)
def load_person_titles(language: str) -> frozenset[str]:
    """Casefolded words that stand before a person's name in this language."""
    return frozenset(word.casefold() for word, lang in _data_lines("person_titles_i18n.tsv") if lang == language)


@lru_cache(maxsize=16)
def load_name_heads(language: str) -> dict[str, str]:
    """Casefolded words that start an organisation's or a place's name in this language -> its label."""
    return {word.casefold(): label for word, label, lang in _data_lines("name_heads_i18n.tsv") if lang == language}
